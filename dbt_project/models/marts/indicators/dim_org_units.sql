-- The org units indicators are reported for: missions, their sectors and their sites, each
-- with its parent (site -> sector -> mission) and the population it covers.
with

missions as (
    select * from {{ ref('dim_missions') }}
),

sectors as (
    select * from {{ ref('dim_sectors') }}
),

sites as (
    select * from {{ ref('dim_sites') }}
),

org_units as (
    select
        mission_id,
        'mission' as level,
        mission_id as org_unit_id,
        mission_name as org_unit_name,
        cast(null as varchar) as parent_level,
        cast(null as varchar) as parent_org_unit_id,
        cast(population as bigint) as population
    from missions

    union all

    select
        mission_id,
        'sector' as level,
        sector_id as org_unit_id,
        sector_name as org_unit_name,
        'mission' as parent_level,
        mission_id as parent_org_unit_id,
        cast(population as bigint) as population
    from sectors

    union all

    select
        mission_id,
        'site' as level,
        site_id as org_unit_id,
        site_name as org_unit_name,
        'sector' as parent_level,
        sector_id as parent_org_unit_id,
        cast(population as bigint) as population
    from sites
)

select
    -- ids
    mission_id,
    level,
    org_unit_id,
    parent_level,
    parent_org_unit_id,

    -- descriptions
    org_unit_name,

    -- numerics
    population,

    -- flags
    level = 'mission' as is_mission

from org_units
