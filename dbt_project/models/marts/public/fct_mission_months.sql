-- One row per configured mission and month of its personnel series (first to last reported
-- month): UN police (individual and formed units), troops and other uniformed personnel, the
-- same a month earlier, and civilian deaths from UCDP GED. Months missing from the series have
-- NULL strength (and their successors NULL lags): nothing is carried over or interpolated.
-- GED counts are zero in covered months without events and NULL outside GED's coverage.
with

personnel as (
    select * from {{ ref('int_personnel_months_aggregated') }}
),

spans as (
    select mission_id, min(month_start) as first_month, max(month_start) as last_month
    from personnel
    group by mission_id
),

spine as (
    select
        mission_id,
        cast(unnest(generate_series(
            cast(first_month as timestamp), cast(last_month as timestamp), interval 1 month
        )) as date) as month_start
    from spans
),

covered as (
    select month_start from {{ ref('int_ged_months_covered') }}
),

events as (
    select
        mission_id,
        month_start,
        count(*) as ged_events,
        count(*) filter (where type_of_violence = 3) as one_sided_events,
        coalesce(sum(deaths_civilians) filter (where type_of_violence = 3), 0)::bigint
            as one_sided_civilian_deaths,
        coalesce(sum(deaths_civilians), 0)::bigint as civilian_deaths,
        coalesce(sum(deaths_best), 0)::bigint as ged_deaths,
        count(*) filter (where location_level = 'site') as events_at_sites,
        count(*) filter (where location_level = 'admin1') as events_in_admin1_only,
        count(*) filter (where location_level = 'country') as events_in_country_only
    from {{ ref('int_ged_events_located') }}
    group by mission_id, month_start
),

joined as (
    select
        spine.mission_id,
        spine.month_start,
        personnel.month_start is not null as strength_reported,
        personnel.individual_police,
        personnel.formed_police,
        personnel.individual_police + personnel.formed_police as police,
        personnel.individual_police_female + personnel.formed_police_female as police_female,
        personnel.experts_on_mission,
        personnel.staff_officers,
        personnel.troops,
        personnel.counted_from,
        previous.individual_police + previous.formed_police as police_lag1,
        previous.individual_police as individual_police_lag1,
        previous.formed_police as formed_police_lag1,
        previous.troops as troops_lag1,
        covered.month_start is not null as ged_covered
    from spine
    left join personnel
        on spine.mission_id = personnel.mission_id
        and spine.month_start = personnel.month_start
    left join personnel as previous
        on spine.mission_id = previous.mission_id
        and spine.month_start = cast(previous.month_start + interval 1 month as date)
    left join covered on spine.month_start = covered.month_start
)

select
    -- ids
    joined.mission_id,

    -- numerics: personnel (NULL when the month is missing from the series)
    joined.individual_police,
    joined.formed_police,
    joined.police,
    joined.police_female,
    joined.experts_on_mission,
    joined.staff_officers,
    joined.troops,
    joined.police_lag1,
    joined.individual_police_lag1,
    joined.formed_police_lag1,
    joined.troops_lag1,

    -- numerics: UCDP GED (NULL outside its coverage)
    case when joined.ged_covered then coalesce(events.ged_events, 0) end as ged_events,
    case when joined.ged_covered then coalesce(events.one_sided_events, 0) end
        as one_sided_events,
    case when joined.ged_covered then coalesce(events.one_sided_civilian_deaths, 0) end
        as one_sided_civilian_deaths,
    case when joined.ged_covered then coalesce(events.civilian_deaths, 0) end
        as civilian_deaths,
    case when joined.ged_covered then coalesce(events.ged_deaths, 0) end as ged_deaths,
    case when joined.ged_covered then coalesce(events.events_at_sites, 0) end
        as events_at_sites,
    case when joined.ged_covered then coalesce(events.events_in_admin1_only, 0) end
        as events_in_admin1_only,
    case when joined.ged_covered then coalesce(events.events_in_country_only, 0) end
        as events_in_country_only,

    -- descriptions
    {{ month_label('joined.month_start') }} as month_label,
    joined.counted_from,

    -- flags
    joined.strength_reported,
    joined.ged_covered,

    -- dates
    joined.month_start

from joined
left join events
    on joined.mission_id = events.mission_id and joined.month_start = events.month_start
