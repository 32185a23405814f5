with

source as (
    select * from {{ source('raw', 'trainings') }}
),

renamed as (
    select
        -- ids
        session_id,
        mission as mission_id,
        site_id,
        _file_id as file_id,

        -- descriptions
        course,
        topic,
        host_police_unit,

        -- numerics
        participants,
        women,
        certified,
        pre_test_score,
        post_test_score,
        post_test_score - pre_test_score as test_gain,
        date_diff('day', start_date, end_date) + 1 as duration_days,

        -- dates
        start_date,
        end_date,
        cast(date_trunc('week', start_date) as date) as week_start,
        _loaded_at as loaded_at

    from source
)

select * from renamed
