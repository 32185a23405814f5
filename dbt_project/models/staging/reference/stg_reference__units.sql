with

source as (
    select * from {{ ref('units') }}
),

renamed as (
    select
        -- ids
        unit_id,
        mission_id,
        sector_id,
        base_site_id,

        -- descriptions
        unit_type,

        -- dates
        deployed_from,
        withdrawn_on

    from source
)

select * from renamed
