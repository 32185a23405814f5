-- GED events and civilian deaths per mission, month and area: a configured site, an admin-1
-- area as GED names it, or the mission's country when GED places the event no better.
select
    mission_id,
    month_start,
    location_level,
    site_id,
    admin1,
    count(*) as events,
    count(*) filter (where type_of_violence = 3) as one_sided_events,
    sum(deaths_civilians)::bigint as civilian_deaths,
    coalesce(sum(deaths_civilians) filter (where type_of_violence = 3), 0)::bigint
        as one_sided_civilian_deaths
from {{ ref('int_ged_events_located') }}
group by mission_id, month_start, location_level, site_id, admin1
