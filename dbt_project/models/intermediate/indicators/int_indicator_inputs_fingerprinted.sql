-- What the indicator chain's values are computed from, fingerprinted, so that an incremental
-- build rebuilds only the fiscal years whose inputs changed (int_indicator_fiscal_years_changed,
-- macros/incremental_by_fiscal_year.sql). Three kinds of input:
--   rows:   each source mart's rows of a mission and fiscal year (count and sum of row hashes,
--           macro indicator_row_hash);
--   bounds: each source mart's first and, apart, last week (or month) with rows, per mission:
--           they set is_partial_period, which can change only in the fiscal years holding them;
--   file:   each file of a mart incremental by file (tests of the marts check the keys of the
--           files not yet published against the whole mart: macros/tests/unique_combination.sql);
--   global: everything else the values depend on (reference data, calendar, catalogue,
--           targets, settings and the chain's dbt code): when it changes, every fiscal year.
-- depends_on: {{ ref('dim_indicators') }}
{%- set sources = var('indicator_sources') %}
{%- set chain = ['int_indicator_inputs_fingerprinted', 'int_indicator_fiscal_years_changed',
                 'int_indicator_values_computed', 'int_indicator_values',
                 'int_indicator_values_scored', 'fct_indicator_values'] %}
{%- set code = [] %}
{%- if execute %}
{%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name in chain %}
{%- do code.append(node.name ~ ':' ~ node.checksum.checksum) %}
{%- endfor %}
{%- for macro in [indicator_values, indicator_catalogue_rows, indicator_periods_join,
                  indicator_period_labels, is_additive, sex_substituted,
                  indicator_level_columns, changed_fiscal_years_only,
                  delete_changed_fiscal_years, changed_fiscal_years_dates,
                  period_fiscal_year, semi_join_changed_fiscal_years,
                  indicator_fiscal_year, safe_divide] %}
{%- do code.append(local_md5(macro.macro.macro_sql)) %}
{%- endfor %}
{%- endif %}
{%- set by_file = [] %}
{%- if execute %}
{%- for source_name in sources %}
{%- if 'file_id' in adapter.get_columns_in_relation(ref(source_name)) | map(attribute='name') %}
{%- do by_file.append(source_name) %}
{%- endif %}
{%- endfor %}
{%- endif %}
{%- set settings = tojson({
    'indicator_sources': sources,
    'small_cell_threshold': var('small_cell_threshold'),
    'status_on_track_within': var('status_on_track_within'),
    'status_at_risk_within': var('status_at_risk_within'),
    'code': code | sort,
}) %}

with

{% for source_name in sources %}
{%- set period = sources[source_name]['period'] %}
{{ source_name }}__rows as (
    select
        src.mission_id,
        {{ 'src.period_grain' if period['grain'] == 'week_or_month' else "''" }} as input_key,
        {{ indicator_fiscal_year(period['grain']) }} as fiscal_year_label,
        {{ indicator_period_start(period['grain']) }} as period_start,
        {{ indicator_row_hash(ref(source_name)) }} as row_hash
    from {{ ref(source_name) }} as src
    {{ indicator_periods_join(period['grain'], period['date']) }}
),
{% endfor %}

source_rows as (
    {%- for source_name in sources %}
    select '{{ source_name }}' as source_mart, * from {{ source_name }}__rows
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

rows_fingerprinted as (
    select
        'rows' as input_kind,
        source_mart,
        coalesce(mission_id, '') as mission_id,
        '' as input_key,
        fiscal_year_label,
        count(*) || ':' || sum(cast(row_hash as hugeint)) as fingerprint,
        [fiscal_year_label] as fiscal_years
    from source_rows
    where fiscal_year_label is not null
    group by all
),

bounds as (
    select
        source_mart,
        coalesce(mission_id, '') as mission_id,
        coalesce(input_key, '') as input_key,
        min(period_start) as first_start,
        arg_min(fiscal_year_label, period_start) as first_fiscal_year,
        max(period_start) as last_start,
        arg_max(fiscal_year_label, period_start) as last_fiscal_year
    from source_rows
    where fiscal_year_label is not null
    group by all
),

bounds_fingerprinted as (
    -- the first and the last bound apart: a new week moves the last one only, and the fiscal
    -- year of the first (years back) must then not be rebuilt
    {%- for bound in ['first', 'last'] %}
    select
        'bounds' as input_kind,
        source_mart,
        mission_id,
        ltrim(input_key || ':{{ bound }}', ':') as input_key,
        '' as fiscal_year_label,
        cast({{ bound }}_start as varchar) as fingerprint,
        [{{ bound }}_fiscal_year] as fiscal_years
    from bounds
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

files_fingerprinted as (
    {%- for source_name in by_file %}
    select
        'file' as input_kind,
        '{{ source_name }}' as source_mart,
        '' as mission_id,
        file_id as input_key,
        '' as fiscal_year_label,
        cast(count(*) as varchar) as fingerprint,
        cast([] as varchar[]) as fiscal_years
    from {{ ref(source_name) }}
    group by file_id
    union all
    {%- endfor %}
    select '', '', '', '', '', '', cast([] as varchar[]) where false
),

reference_tables as (
    {%- for table in ['dim_indicators', 'dim_org_units', 'dim_sites', 'dim_weeks',
                      'dim_periods', 'int_indicator_targets'] %}
    select '{{ table }}' as table_name, count(*) || ':' || coalesce(sum(cast(hash(t) as hugeint)), 0) as fingerprint
    from {{ ref(table) }} as t
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

global_fingerprinted as (
    select
        'global' as input_kind,
        '' as source_mart,
        '' as mission_id,
        '' as input_key,
        '' as fiscal_year_label,
        md5(string_agg(table_name || '=' || fingerprint, ';' order by table_name)
            || {{ "'" ~ local_md5(settings) ~ "'" }}) as fingerprint,
        (select list(period_label order by period_label) from {{ ref('dim_periods') }}
         where period_type = 'fiscal_year') as fiscal_years
    from reference_tables
)

select * from rows_fingerprinted
union all
select * from files_fingerprinted
union all
select * from bounds_fingerprinted
union all
select * from global_fingerprinted
