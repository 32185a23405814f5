-- The indicator catalogue as published: one row per indicator, with the dbt vars its text
-- names ({response_target_minutes}, ...) replaced by the values this run uses, so a reader
-- sees the target that was actually applied.
{%- set settings = ['response_target_minutes', 'hot_spot_min_patrols', 'hot_spot_lookback_weeks'] %}
{%- set resolved_columns = ['name_en', 'name_fr', 'definition_en', 'definition_fr',
                            'numerator', 'denominator'] %}

with

indicators as (
    select * from {{ ref('stg_reference__indicators') }}
)

select
    -- ids
    indicator_code,
    split_part(indicator_code, '_', 1) as indicator_family,

    -- descriptions (English and French), settings filled in
    {%- for column in resolved_columns %}
    {%- set text = namespace(expression=column) %}
    {%- for setting in settings %}
    {%- set text.expression = "replace(" ~ text.expression ~ ", '{" ~ setting ~ "}', '"
                              ~ var(setting) ~ "')" %}
    {%- endfor %}
    {{ text.expression }} as {{ column }},
    {%- endfor %}
    cpas_outcome,
    cpas_outcome_fr,

    -- classification
    poc_tier,
    phase,
    police_role,
    kind,

    -- computation
    source_mart,
    unit,
    direction,
    aggregation,
    disaggregations,
    levels,
    small_cells,
    len(string_split(disaggregations, '|')) as disaggregation_count,
    case
        when list_contains(string_split(levels, '|'), 'site') then 'site'
        when list_contains(string_split(levels, '|'), 'sector') then 'sector'
        else 'mission'
    end as finest_level,

    -- flags
    kind = 'outcome' as is_outcome,
    denominator is not null as has_denominator

from indicators
