-- Incremental by file (macros/incremental_by_file.sql): a weekly run inserts the new
-- files' rows and deletes the rows of files superseded since, instead of copying
-- millions of rows again.
{{ config(
    materialized="incremental",
    on_schema_change="fail",
    pre_hook="{{ delete_retired_files(ref('stg_pocmon__patrols')) }}",
) }}

select
    patrol_id,
    mission_id,
    unit_id,
    unit_type,
    site_id,
    alert_id,
    mode,
    patrol_range,
    joint_with,
    purpose,
    is_planned,
    persons,
    women,
    host_police_persons,
    duration_hours,
    person_hours,
    women_person_hours,
    start_time,
    end_time,
    patrol_date,
    week_start,
    file_id
from {{ ref('stg_pocmon__patrols') }}
{{ new_files_only(ref('stg_pocmon__patrols')) }}
