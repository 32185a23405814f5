select
    unit_id,
    mission_id,
    unit_type,
    sector_id,
    base_site_id,
    deployed_from,
    withdrawn_on
from {{ ref('stg_reference__units') }}
