with

source as (
    select * from {{ ref('country_bounds') }}
),

renamed as (
    select
        -- ids
        country_iso3,

        -- numerics (decimal degrees)
        min_latitude,
        max_latitude,
        min_longitude,
        max_longitude

    from source
)

select * from renamed
