select
    mission_id,
    month_start,
    unit_type,
    authorized,
    deployed,
    women,
    fpu_operational_days,
    {{ safe_divide('deployed', 'authorized') }} as deployment_rate,
    {{ safe_divide('women', 'deployed') }} as women_share,
    file_id
from {{ ref('stg_pocmon__strength') }}
