with

source as (
    select * from {{ source('raw', 'strength') }}
),

renamed as (
    select
        -- ids
        mission as mission_id,
        unit_type,
        _file_id as file_id,

        -- numerics
        authorized,
        deployed,
        women,
        fpu_operational_days,

        -- dates
        month as month_start,
        _loaded_at as loaded_at

    from source
)

select * from renamed
