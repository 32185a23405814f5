select * from {{ ref('sites') }}
