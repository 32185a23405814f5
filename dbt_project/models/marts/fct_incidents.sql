-- No narrative and no reporter pseudonym: those never leave ingestion and staging.
-- Incremental by file (macros/incremental_by_file.sql): a weekly run inserts the new
-- files' rows and deletes the rows of files superseded since, instead of copying
-- millions of rows again.
{{ config(
    materialized="incremental",
    on_schema_change="fail",
    pre_hook="{{ delete_retired_files(ref('stg_pocmon__incidents')) }}",
) }}

select
    incident_id,
    mission_id,
    site_id,
    alert_id,
    category,
    perpetrator_type,
    source_type,
    box,
    victims,
    fatalities,
    response_minutes,
    reporting_delay_hours,
    referral_hours,
    occurred_at,
    reported_at,
    alert_received_at,
    response_arrived_at,
    referred_at,
    occurred_date,
    week_start,
    file_id
from {{ ref('stg_pocmon__incidents') }}
{{ new_files_only(ref('stg_pocmon__incidents')) }}
