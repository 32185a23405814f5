-- UCDP GED events in the missions' countries in pocmon's incident vocabulary, located no more
-- precisely than GED locates them (site, admin-1 area or country), without coordinates.
select
    event_id,
    mission_id,
    site_id,
    admin1,
    location_level,
    where_prec,
    date_prec,
    violence_type,
    incident_category,
    perpetrator_type,
    harmed_civilians,
    conflict_name,
    side_a,
    side_b,
    deaths_civilians,
    deaths_best,
    deaths_low,
    deaths_high,
    date_start,
    date_end,
    month_start,
    file_id
from {{ ref('int_ged_events_located') }}
