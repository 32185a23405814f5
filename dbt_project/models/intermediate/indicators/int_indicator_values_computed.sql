-- The indicator values of every source mart, as computed (macro indicator_values, settings in
-- var indicator_sources): one row per indicator, org unit, period and disaggregation value
-- that has source rows. int_indicator_values zero-fills and flags them. A table of its own so
-- that the four reads of it there stream from disk instead of holding millions of rows in
-- memory. Incremental by fiscal year (macros/incremental_by_fiscal_year.sql).
-- depends_on: {{ ref('dim_indicators') }} (the macro reads the catalogue while compiling)
-- depends_on: {{ ref('int_indicator_fiscal_years_changed') }} {{ ref('dim_periods') }} (incremental builds)
{{ config(
    materialized="incremental",
    on_schema_change="sync_all_columns",
    pre_hook="{{ delete_changed_fiscal_years(has_fiscal_year_column=false) }}",
) }}
{%- set sources = var('indicator_sources') %}

with

{% for source_name in sources %}
{{ indicator_values(source_name) }},
{% endfor %}

computed as (
    {%- for source_name in sources %}
    select * from {{ source_name }}__values
    {{ 'union all' if not loop.last }}
    {%- endfor %}
)

select * from computed
