-- One row per deployed police unit and ISO week, from the mission's first to its latest week
-- with a patrol return; reported when the unit appears in that week's patrol rows. A unit
-- counts in a week when it is deployed on the week's Thursday (not yet deployed or already
-- withdrawn units leave the denominator).
with

units as (
    select * from {{ ref('dim_units') }}
),

weeks as (
    select * from {{ ref('dim_weeks') }}
),

patrols as (
    select mission_id, unit_id, week_start, count(*) as patrols
    from {{ ref('fct_patrols') }}
    group by mission_id, unit_id, week_start
),

mission_windows as (
    select mission_id, min(week_start) as first_week, max(week_start) as last_week
    from patrols
    group by mission_id
)

select
    -- ids
    units.mission_id,
    units.unit_id,
    units.unit_type,
    units.sector_id,
    weeks.week_start,
    weeks.week_label,

    -- numerics
    coalesce(patrols.patrols, 0) as patrols,

    -- flags
    patrols.patrols is not null as reported

from units
inner join mission_windows on units.mission_id = mission_windows.mission_id
inner join weeks
    on weeks.week_start between mission_windows.first_week and mission_windows.last_week
    and units.deployed_from <= weeks.week_start + 3
    and (units.withdrawn_on is null or units.withdrawn_on > weeks.week_start + 3)
left join patrols
    on units.mission_id = patrols.mission_id
    and units.unit_id = patrols.unit_id
    and weeks.week_start = patrols.week_start
