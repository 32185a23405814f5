with

source as (
    select * from {{ source('raw', 'patrols') }}
),

renamed as (
    select
        -- ids
        patrol_id,
        mission as mission_id,
        unit_id,
        site_id,
        alert_id,
        _file_id as file_id,

        -- descriptions
        unit_type,
        mode,
        "range" as patrol_range,
        joint_with,
        purpose,
        purpose <> 'alert_response' as is_planned,

        -- numerics
        persons,
        women,
        host_police_persons,
        date_diff('minute', start_time, end_time) / 60.0 as duration_hours,
        persons * date_diff('minute', start_time, end_time) / 60.0 as person_hours,
        women * date_diff('minute', start_time, end_time) / 60.0 as women_person_hours,

        -- timestamps (local time of the mission; _utc twins for cross-mission ordering)
        start_time,
        end_time,
        start_time_utc,
        cast(start_time as date) as patrol_date,
        cast(date_trunc('week', start_time) as date) as week_start,
        _loaded_at as loaded_at

    from source
)

select * from renamed
