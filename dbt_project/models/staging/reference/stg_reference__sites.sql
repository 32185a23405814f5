with

source as (
    select * from {{ ref('sites') }}
),

renamed as (
    select
        -- ids
        site_id,
        mission_id,
        sector_id,

        -- descriptions
        site_name,
        site_type,

        -- numerics (coordinates of the place, never of a source)
        population,
        latitude,
        longitude

    from source
)

select * from renamed
