with

missions as (
    select * from {{ ref('stg_reference__missions') }}
),

sites as (
    select
        mission_id,
        count(*) as sites,
        sum(population) as population
    from {{ ref('stg_reference__sites') }}
    group by mission_id
)

select
    missions.mission_id,
    missions.mission_name,
    missions.country,
    missions.country_iso3,
    missions.timezone,
    missions.language,
    missions.report_deadline_weekday,
    missions.report_deadline_hour,
    coalesce(sites.sites, 0) as sites,
    coalesce(sites.population, 0) as population
from missions
left join sites on missions.mission_id = sites.mission_id
