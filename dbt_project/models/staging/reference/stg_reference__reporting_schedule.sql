with

source as (
    select * from {{ ref('reporting_schedule') }}
),

renamed as (
    select
        -- ids
        source_name,

        -- schedule
        frequency,
        description

    from source
)

select * from renamed
