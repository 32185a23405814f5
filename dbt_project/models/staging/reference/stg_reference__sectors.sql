with

source as (
    select * from {{ ref('sectors') }}
),

renamed as (
    select
        -- ids
        sector_id,
        mission_id,
        hq_site_id,

        -- descriptions
        sector_name

    from source
)

select * from renamed
