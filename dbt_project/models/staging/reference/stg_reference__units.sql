select * from {{ ref('units') }}
