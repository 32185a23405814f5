-- One row per return: each return the reporting schedule expects of a mission (a scheduled
-- source x reporting period, in the periods when the mission has a police unit deployed, from
-- its first to its latest period with any file), received or not, plus every other file
-- received (unscheduled sources such as trainings and surveys, expected = false).
-- A return is on time when its first file arrived by the mission's deadline: the first
-- report_deadline_weekday (ISO, 1 = Monday) after the period ends, at report_deadline_hour
-- local time (received_at is the file's modification time, UTC).
with

schedule as (
    select * from {{ ref('stg_reference__reporting_schedule') }}
),

missions as (
    select * from {{ ref('dim_missions') }}
),

units as (
    select * from {{ ref('dim_units') }}
),

periods as (
    select * from {{ ref('dim_periods') }}
    where period_type in ('week', 'month')
),

files as (
    select
        quality.*,
        periods.period_type,
        periods.period_start,
        periods.period_end
    from {{ ref('fct_data_quality') }} as quality
    left join periods on quality.period_label = periods.period_label
    where quality.mission_id is not null
),

mission_windows as (
    -- from the end of the mission's first period with a file to the start of its latest, so
    -- a month's file does not make the weeks before it due (nor the weeks after it)
    select mission_id, min(period_end) as first_day, max(period_start) as last_day
    from files
    where period_start is not null
    group by mission_id
),

expected as (
    select
        missions.mission_id,
        schedule.source_name,
        periods.period_type as period_grain,
        periods.period_label,
        periods.period_start,
        periods.period_end
    from missions
    inner join mission_windows on missions.mission_id = mission_windows.mission_id
    cross join schedule
    inner join periods
        on schedule.frequency = periods.period_type
        and periods.period_end >= mission_windows.first_day
        and periods.period_start <= mission_windows.last_day
    where exists (
        -- a unit is deployed on the period's middle day (a week's Thursday)
        select 1 from units
        where units.mission_id = missions.mission_id
            and units.deployed_from <= periods.period_start + (periods.days_in_period // 2)
            and (units.withdrawn_on is null
                 or units.withdrawn_on > periods.period_start + (periods.days_in_period // 2))
    )
),

received as (
    select
        mission_id,
        source_name,
        coalesce(period_label, 'received ' || strftime(received_at, '%Y-%m-%d')) as period_label,
        any_value(period_type) as period_type,
        any_value(period_start) as period_start,
        any_value(period_end) as period_end,
        count(*) as files,
        count(*) filter (where status <> 'rejected') as files_readable,
        min(received_at) filter (where status <> 'rejected') as first_received_at,
        -- rows of the files in force, like rows_loaded and rows_quarantined (a superseded
        -- file's rows were replaced by its re-submission's)
        sum(rows_read) filter (where status = 'loaded') as rows_read,
        sum(rows_loaded) filter (where status = 'loaded') as rows_loaded,
        sum(rows_quarantined) filter (where status = 'loaded') as rows_quarantined,
        min(cast(received_at as date)) as first_received_date
    from files
    group by mission_id, source_name, coalesce(period_label, 'received ' || strftime(received_at, '%Y-%m-%d'))
),

returns as (
    select
        coalesce(expected.mission_id, received.mission_id) as mission_id,
        coalesce(expected.source_name, received.source_name) as source_name,
        coalesce(expected.period_label, received.period_label) as period_label,
        -- a file whose period is not a week or month (a survey round) counts in the week it
        -- was received
        coalesce(
            expected.period_grain, received.period_type, 'week'
        ) as period_grain,
        coalesce(
            expected.period_start, received.period_start,
            cast(date_trunc('week', received.first_received_date) as date)
        ) as period_start,
        coalesce(
            expected.period_end, received.period_end,
            cast(date_trunc('week', received.first_received_date) as date) + 6
        ) as period_end,
        expected.mission_id is not null as expected,
        coalesce(received.files_readable, 0) > 0 as received,
        coalesce(received.files, 0) as files,
        received.first_received_at,
        coalesce(received.rows_read, 0) as rows_read,
        coalesce(received.rows_loaded, 0) as rows_loaded,
        coalesce(received.rows_quarantined, 0) as rows_quarantined
    from expected
    full outer join received
        on expected.mission_id = received.mission_id
        and expected.source_name = received.source_name
        and expected.period_label = received.period_label
),

with_deadlines as (
    select
        returns.*,
        -- local deadline, then as UTC
        timezone('UTC', timezone(
            missions.timezone,
            cast(
                returns.period_end + cast(
                    1 + (missions.report_deadline_weekday - isodow(returns.period_end + 1) + 7) % 7
                    as integer)
                as timestamp
            ) + to_hours(missions.report_deadline_hour)
        )) as deadline_at
    from returns
    inner join missions on returns.mission_id = missions.mission_id
)

select
    -- ids
    mission_id,
    source_name,
    period_label,
    period_grain,

    -- dates
    period_start,
    period_end,
    deadline_at,
    first_received_at,

    -- numerics
    files,
    rows_read,
    rows_loaded,
    rows_quarantined,

    -- flags
    expected,
    received,
    received and first_received_at <= deadline_at as on_time

from with_deadlines
