-- One row per alert-raising incident, with the answering patrol and whether it met the target.
-- A view: int_alert_responses_joined already holds the rows (incremental by alert), so a
-- weekly run does not copy a million rows again to add one comparison.
{{ config(materialized="view") }}

select
    -- ids
    incident_id,
    mission_id,
    site_id,
    alert_id,
    response_patrol_id,
    response_unit_id,

    -- descriptions
    category,
    response_unit_type,
    response_mode,
    response_range,

    -- numerics
    response_minutes,
    distance_km,
    response_minutes <= {{ var('response_target_minutes') }} as reached_within_target,

    -- timestamps (local time of the mission)
    alert_received_at,
    response_arrived_at,
    week_start

from {{ ref('int_alert_responses_joined') }}
