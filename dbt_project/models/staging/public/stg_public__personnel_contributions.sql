-- UN peacekeeping personnel contributions as loaded, with pocmon's mission id (seed
-- public_names, dataset dpo_mission; none for missions not configured) and a flag for the
-- rows that stand for all contributors.
with

source as (
    select * from {{ source('raw', 'personnel') }}
),

names as (
    select name_key, mission_id
    from {{ ref('stg_reference__public_names') }}
    where dataset = 'dpo_mission'
),

renamed as (
    select
        -- ids
        names.mission_id,
        source.mission as published_mission,
        source.contributor,
        source.contributor_iso3,
        source.personnel_type,
        source._file_id as file_id,
        source._source_file as file_name,
        source._row_number as row_number,

        -- numerics
        source.female,
        source.male,
        coalesce(source.total, source.female + source.male) as total,

        -- flags
        {{ name_key("replace(source.contributor, '_', ' ')") }}
            in ('all', 'all contributors', 'total', 'grand total', 'all countries')
            as is_all_contributors,

        -- dates
        source.month as month_start,
        source._loaded_at as loaded_at

    from source
    left join names on {{ name_key('source.mission') }} = names.name_key
)

select * from renamed
