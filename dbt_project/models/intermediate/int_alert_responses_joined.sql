-- Incidents that raised an alert, with the patrol that answered it (same mission and alert id)
-- and the distance from the responding unit's base to the incident site.
with

incidents as (
    select * from {{ ref('stg_pocmon__incidents') }}
    where alert_id is not null
),

responses as (
    select * from {{ ref('stg_pocmon__patrols') }}
    where purpose = 'alert_response'
),

first_response as (
    select *
    from responses
    qualify row_number() over (
        partition by mission_id, alert_id order by start_time, patrol_id
    ) = 1
),

units as (
    select * from {{ ref('stg_reference__units') }}
),

sites as (
    select * from {{ ref('stg_reference__sites') }}
),

joined as (
    select
        incidents.incident_id,
        incidents.mission_id,
        incidents.site_id,
        incidents.alert_id,
        incidents.category,
        incidents.alert_received_at,
        incidents.response_arrived_at,
        incidents.response_minutes,
        incidents.week_start,
        first_response.patrol_id as response_patrol_id,
        first_response.unit_id as response_unit_id,
        first_response.unit_type as response_unit_type,
        first_response.mode as response_mode,
        first_response.patrol_range as response_range,
        round({{ haversine_km('base.latitude', 'base.longitude',
                              'incident_site.latitude', 'incident_site.longitude') }}, 2)
            as distance_km
    from incidents
    left join first_response
        on incidents.mission_id = first_response.mission_id
        and incidents.alert_id = first_response.alert_id
    left join units on first_response.unit_id = units.unit_id
    left join sites as base on units.base_site_id = base.site_id
    left join sites as incident_site on incidents.site_id = incident_site.site_id
)

select * from joined
