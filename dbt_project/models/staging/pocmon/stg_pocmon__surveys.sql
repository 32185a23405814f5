with

source as (
    select * from {{ source('raw', 'surveys') }}
),

renamed as (
    select
        -- ids (respondent_key is a keyed pseudonym, never the respondent id itself)
        "round" as survey_round,
        mission as mission_id,
        site_id,
        respondent_key,
        _file_id as file_id,

        -- descriptions
        sex,
        age_band,

        -- numerics
        weight,
        feels_safe,
        trust_host_police,
        trust_unpol,
        feels_safe >= 4 as feels_safe_high,
        trust_host_police >= 4 as trusts_host_police,
        trust_unpol >= 4 as trusts_unpol,
        would_report_to_police,

        -- dates
        interview_date,
        _loaded_at as loaded_at

    from source
)

select * from renamed
