select
    sectors.sector_id,
    sectors.mission_id,
    sectors.sector_name,
    sectors.hq_site_id,
    count(sites.site_id) as sites,
    coalesce(sum(sites.population), 0) as population
from {{ ref('stg_reference__sectors') }} as sectors
left join {{ ref('stg_reference__sites') }} as sites on sectors.sector_id = sites.sector_id
group by all
