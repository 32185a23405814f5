-- Incidents that raised an alert, with the patrol that answered it (same mission and alert id).
-- Only raw rows go in: the distance from the unit's base, which comes from reference data, is
-- added by fct_alert_responses, so an edited site or unit list needs no rebuild here.
--
-- Incremental by alert: a weekly run recomputes only the alerts its files reach, instead of
-- ranking every alert_response patrol again. An alert is recomputed when a row of it (its
-- incident or an answering patrol) was loaded after the newest load this model has used
-- (inputs_loaded_at: ingestion stamps every file of a source in a run with the same time,
-- and the files a later run loads get a later one), or when the file of its answering
-- patrol is gone (superseded). Rows of incident files that are gone are deleted first.
-- Recomputing an alert twice gives the same rows, so a full refresh gives the same table.
-- A table an older pocmon built (without these columns) is emptied by the pre-hook and
-- built again whole.
{{ config(
    materialized="incremental",
    incremental_strategy="delete+insert",
    unique_key=["mission_id", "alert_id"],
    on_schema_change="sync_all_columns",
    pre_hook="{{ delete_retired_files(ref('stg_pocmon__incidents')) }}",
) }}

with

incidents as (
    select * from {{ ref('stg_pocmon__incidents') }}
    where alert_id is not null
),

responses as (
    select * from {{ ref('stg_pocmon__patrols') }}
    where purpose = 'alert_response'
),

{% if is_incremental() and not built_without('inputs_loaded_at') %}
used as (
    select coalesce(max(inputs_loaded_at), timestamp '1900-01-01') as loaded_at
    from {{ this }}
),

alerts as (
    select mission_id, alert_id from incidents
    where loaded_at > (select loaded_at from used)
    union
    select mission_id, alert_id from responses
    where loaded_at > (select loaded_at from used) and alert_id is not null
    union
    select mission_id, alert_id from {{ this }}
    where response_file_id not in (
        select distinct file_id from {{ ref('stg_pocmon__patrols') }})
),

alert_incidents as (
    select incidents.* from incidents
    semi join alerts using (mission_id, alert_id)
),

alert_responses as (
    select responses.* from responses
    semi join alerts using (mission_id, alert_id)
),
{% else %}
alert_incidents as (
    select * from incidents
),

alert_responses as (
    select * from responses
),
{% endif %}

first_response as (
    select *
    from alert_responses
    qualify row_number() over (
        partition by mission_id, alert_id order by start_time, patrol_id
    ) = 1
),

joined as (
    select
        alert_incidents.incident_id,
        alert_incidents.mission_id,
        alert_incidents.site_id,
        alert_incidents.alert_id,
        alert_incidents.category,
        alert_incidents.alert_received_at,
        alert_incidents.response_arrived_at,
        alert_incidents.response_minutes,
        alert_incidents.week_start,
        first_response.patrol_id as response_patrol_id,
        first_response.unit_id as response_unit_id,
        first_response.unit_type as response_unit_type,
        first_response.mode as response_mode,
        first_response.patrol_range as response_range,
        alert_incidents.file_id,
        first_response.file_id as response_file_id,
        greatest(alert_incidents.loaded_at, first_response.loaded_at) as inputs_loaded_at
    from alert_incidents
    left join first_response
        on alert_incidents.mission_id = first_response.mission_id
        and alert_incidents.alert_id = first_response.alert_id
)

select * from joined
