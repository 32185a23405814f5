select * from {{ ref('sectors') }}
