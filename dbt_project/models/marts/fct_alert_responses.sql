-- One row per alert-raising incident, with the answering patrol, the distance from its unit's
-- base and whether it met the target. A view: int_alert_responses_joined holds the rows
-- (incremental by alert), so a weekly run does not copy a million rows again to add the
-- distance (from the current reference data) and one comparison.
{{ config(materialized="view") }}

with

responses as (
    select * from {{ ref('int_alert_responses_joined') }}
),

units as (
    select * from {{ ref('dim_units') }}
),

sites as (
    select * from {{ ref('dim_sites') }}
)

select
    -- ids
    responses.incident_id,
    responses.mission_id,
    responses.site_id,
    responses.alert_id,
    responses.response_patrol_id,
    responses.response_unit_id,

    -- descriptions
    responses.category,
    responses.response_unit_type,
    responses.response_mode,
    responses.response_range,

    -- numerics
    responses.response_minutes,
    round({{ haversine_km('base.latitude', 'base.longitude',
                          'incident_site.latitude', 'incident_site.longitude') }}, 2)
        as distance_km,
    responses.response_minutes <= {{ var('response_target_minutes') }}
        as reached_within_target,

    -- timestamps (local time of the mission)
    responses.alert_received_at,
    responses.response_arrived_at,
    responses.week_start

from responses
left join units on responses.response_unit_id = units.unit_id
left join sites as base on units.base_site_id = base.site_id
left join sites as incident_site on responses.site_id = incident_site.site_id
