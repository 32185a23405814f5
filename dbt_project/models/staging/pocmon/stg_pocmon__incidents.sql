-- Reporter pseudonyms (reporter_name_key, reporter_phone_key) are deliberately not selected:
-- nothing downstream needs them, so they stop here.
with

source as (
    select * from {{ source('raw', 'incidents') }}
),

renamed as (
    select
        -- ids
        incident_id,
        mission as mission_id,
        site_id,
        alert_id,
        _file_id as file_id,

        -- descriptions
        category,
        perpetrator_type,
        source_type,
        box,

        -- numerics
        victims,
        fatalities,
        date_diff('minute', alert_received_at, response_arrived_at) as response_minutes,
        date_diff('minute', occurred_at, reported_at) / 60.0 as reporting_delay_hours,
        date_diff('minute', reported_at, referred_at) / 60.0 as referral_hours,

        -- timestamps (local time of the mission)
        occurred_at,
        reported_at,
        alert_received_at,
        response_arrived_at,
        referred_at,
        occurred_at_utc,
        cast(occurred_at as date) as occurred_date,
        cast(date_trunc('week', occurred_at) as date) as week_start,
        _loaded_at as loaded_at

    from source
)

select * from renamed
