with

source as (
    select * from {{ ref('indicators') }}
),

renamed as (
    select
        -- ids
        indicator_code,

        -- descriptions (English and French)
        name_en,
        name_fr,
        definition_en,
        definition_fr,
        cpas_outcome,
        cpas_outcome_fr,

        -- classification
        poc_tier,
        phase,
        police_role,
        kind,

        -- computation (over source_mart)
        source_mart,
        numerator,
        denominator,
        unit,
        direction,
        aggregation,
        disaggregations,
        levels,
        small_cells

    from source
)

select * from renamed
