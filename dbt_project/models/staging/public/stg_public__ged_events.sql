-- UCDP GED events as loaded, with the mission of their country (seed public_names); events of
-- other countries have no mission_id. Exact coordinates stay in staging: the intermediate
-- model uses them to find the nearest site and leaves them behind.
with

source as (
    select * from {{ source('raw', 'ged') }}
),

names as (
    select name_key, mission_id
    from {{ ref('stg_reference__public_names') }}
    where dataset = 'ged_country'
),

renamed as (
    select
        -- ids
        source.id as event_id,
        names.mission_id,
        source._file_id as file_id,
        source._source_file as file_name,
        source._row_number as row_number,

        -- descriptions
        source.country,
        source.adm_1,
        source.adm_2,
        source.conflict_name,
        source.side_a,
        source.side_b,

        -- numerics
        source.type_of_violence,
        source.where_prec,
        source.date_prec,
        source.latitude,
        source.longitude,
        source.deaths_a,
        source.deaths_b,
        source.deaths_civilians,
        source.deaths_unknown,
        source.best,
        source.low,
        source.high,

        -- dates
        source.date_start,
        source.date_end,
        cast(date_trunc('month', source.date_start) as date) as month_start,
        source._loaded_at as loaded_at

    from source
    left join names on {{ name_key('source.country') }} = names.name_key
)

select * from renamed
