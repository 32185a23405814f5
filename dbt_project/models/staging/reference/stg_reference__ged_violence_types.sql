with

source as (
    select * from {{ ref('ged_violence_types') }}
),

renamed as (
    select
        -- ids
        type_of_violence,

        -- descriptions
        violence_type,
        incident_category,
        label_en,
        label_fr,

        -- flags
        is_violence_against_civilians

    from source
)

select * from renamed
