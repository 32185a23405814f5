select * from {{ ref('missions') }}
