-- GED events in the missions' countries, each placed no more precisely than GED places it:
-- at the nearest configured site of its mission within var('ged_site_max_km') when its
-- location precision allows (where_prec <= var('ged_site_max_where_prec')), else in its
-- published admin-1 area (where_prec <= var('ged_admin1_max_where_prec')), else only in the
-- mission's country. The exact coordinates stop here: no column below holds them.
with

events as (
    select * from {{ ref('stg_public__ged_events') }}
    where mission_id is not null
),

sites as (
    select site_id, mission_id, latitude, longitude
    from {{ ref('stg_reference__sites') }}
),

distances as (
    select
        events.event_id,
        sites.site_id,
        {{ haversine_km('events.latitude', 'events.longitude',
                        'sites.latitude', 'sites.longitude') }} as distance_km
    from events
    inner join sites on events.mission_id = sites.mission_id
    where events.where_prec <= {{ var('ged_site_max_where_prec') }}
),

nearest as (
    select
        event_id,
        arg_min(site_id, distance_km) as site_id,
        min(distance_km) as distance_km
    from distances
    group by event_id
    having min(distance_km) <= {{ var('ged_site_max_km') }}
),

violence_types as (
    select * from {{ ref('stg_reference__ged_violence_types') }}
)

select
    -- ids
    events.event_id,
    events.mission_id,
    nearest.site_id,
    case
        when events.where_prec <= {{ var('ged_admin1_max_where_prec') }} then events.adm_1
    end as admin1,
    events.file_id,

    -- descriptions
    case
        when nearest.site_id is not null then 'site'
        when events.where_prec <= {{ var('ged_admin1_max_where_prec') }}
            and events.adm_1 is not null then 'admin1'
        else 'country'
    end as location_level,
    violence_types.violence_type,
    violence_types.incident_category,
    case
        when events.type_of_violence = 3 and events.side_a ilike 'government of%'
            then 'host_state_forces'
        when events.type_of_violence = 3 then 'armed_group'
    end as perpetrator_type,
    events.conflict_name,
    events.side_a,
    events.side_b,

    -- numerics
    events.type_of_violence,
    events.where_prec,
    events.date_prec,
    round(nearest.distance_km) as site_distance_km,
    events.deaths_civilians,
    events.best as deaths_best,
    events.low as deaths_low,
    events.high as deaths_high,

    -- flags
    violence_types.is_violence_against_civilians or events.deaths_civilians > 0
        as harmed_civilians,

    -- dates
    events.date_start,
    events.date_end,
    events.month_start

from events
left join nearest on events.event_id = nearest.event_id
left join violence_types on events.type_of_violence = violence_types.type_of_violence
