-- Every configured site of a mission, for every ISO week from the mission's first to its last
-- week of data (patrols or incidents), with the week's patrols and incidents; zero-filled.
with

sites as (
    select * from {{ ref('stg_reference__sites') }}
),

patrols as (
    select * from {{ ref('stg_pocmon__patrols') }}
),

incidents as (
    select * from {{ ref('stg_pocmon__incidents') }}
),

data_weeks as (
    select mission_id, week_start from patrols
    union all
    select mission_id, week_start from incidents
),

bounds as (
    select
        mission_id,
        min(week_start) as first_week,
        max(week_start) as last_week
    from data_weeks
    group by mission_id
),

weeks as (
    select
        mission_id,
        cast(unnest(generate_series(
            cast(first_week as timestamp), cast(last_week as timestamp), interval 7 day
        )) as date) as week_start
    from bounds
),

spine as (
    select
        sites.mission_id,
        sites.sector_id,
        sites.site_id,
        sites.site_type,
        sites.population,
        weeks.week_start
    from sites
    inner join weeks on sites.mission_id = weeks.mission_id
),

patrols_weekly as (
    select
        site_id,
        week_start,
        count(*) as patrols,
        count(*) filter (where is_planned) as planned_patrols,
        count(*) filter (where mode = 'foot') as foot_patrols,
        count(*) filter (where joint_with = 'host_police') as joint_host_police_patrols,
        sum(duration_hours) as patrol_hours,
        sum(person_hours) as person_hours,
        sum(women_person_hours) as women_person_hours
    from patrols
    group by site_id, week_start
),

incidents_weekly as (
    select
        site_id,
        week_start,
        count(*) as incidents,
        sum(victims) as victims,
        sum(fatalities) as fatalities
    from incidents
    group by site_id, week_start
),

joined as (
    select
        spine.mission_id,
        spine.sector_id,
        spine.site_id,
        spine.site_type,
        spine.week_start,
        spine.population,
        coalesce(p.patrols, 0) as patrols,
        coalesce(p.planned_patrols, 0) as planned_patrols,
        coalesce(p.foot_patrols, 0) as foot_patrols,
        coalesce(p.joint_host_police_patrols, 0) as joint_host_police_patrols,
        coalesce(p.patrol_hours, 0) as patrol_hours,
        coalesce(p.person_hours, 0) as person_hours,
        coalesce(p.women_person_hours, 0) as women_person_hours,
        coalesce(i.incidents, 0) as incidents,
        coalesce(i.victims, 0) as victims,
        coalesce(i.fatalities, 0) as fatalities
    from spine
    left join patrols_weekly as p
        on spine.site_id = p.site_id and spine.week_start = p.week_start
    left join incidents_weekly as i
        on spine.site_id = i.site_id and spine.week_start = i.week_start
)

select * from joined
