-- The zero-filled site-week panel, with rates and a hot-spot flag computed from earlier weeks
-- only (var hot_spot_top_share of a mission's sites, over var hot_spot_lookback_weeks weeks).
with

site_weeks as (
    select * from {{ ref('int_site_weeks_aggregated') }}
),

with_history as (
    select
        *,
        -- the spine has every week of every site, so "n rows back" is "n weeks back"
        coalesce(sum(incidents) over (
            partition by site_id order by week_start
            rows between {{ var('hot_spot_lookback_weeks') }} preceding and 1 preceding
        ), 0) as incidents_prior_weeks
    from site_weeks
),

ranked as (
    select
        *,
        rank() over (
            partition by mission_id, week_start order by incidents_prior_weeks desc
        ) as hot_spot_rank,
        count(*) over (partition by mission_id, week_start) as mission_sites
    from with_history
)

select
    -- ids
    mission_id,
    sector_id,
    site_id,
    site_type,
    week_start,

    -- numerics
    population,
    patrols,
    planned_patrols,
    foot_patrols,
    joint_host_police_patrols,
    patrol_hours,
    person_hours,
    women_person_hours,
    incidents,
    victims,
    fatalities,
    {{ safe_divide('incidents * 10000.0', 'population') }} as incidents_per_10k,
    incidents_prior_weeks,

    -- flags
    patrols > 0 as was_patrolled,
    incidents_prior_weeks > 0
    and hot_spot_rank <= ceil(mission_sites * {{ var('hot_spot_top_share') }}) as is_hot_spot

from ranked
