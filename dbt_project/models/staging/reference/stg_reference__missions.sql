with

source as (
    select * from {{ ref('missions') }}
),

renamed as (
    select
        -- ids
        mission_id,

        -- descriptions
        mission_name,
        country,
        country_iso3,
        timezone,
        language,

        -- numerics (weekly report deadline: weekday number and hour, local time)
        report_deadline_weekday,
        report_deadline_hour

    from source
)

select * from renamed
