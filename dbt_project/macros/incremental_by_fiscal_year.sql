{#- The indicator chain (int_indicator_values_computed -> int_indicator_values ->
    int_indicator_values_scored -> fct_indicator_values) is incremental by UN fiscal year.
    A fiscal year is a clean partition: weeks belong to months by the four-day rule, months
    to quarters to fiscal years, and complementary suppression works within an indicator,
    mission and fiscal year. int_indicator_fiscal_years_changed lists the fiscal years whose
    inputs changed since the values were last published (all of them when reference data,
    catalogue, targets, settings or the chain's code changed); an incremental build deletes
    those fiscal years' rows (pre-hook delete_changed_fiscal_years) and inserts them again
    (filter changed_fiscal_years_only); a full refresh rebuilds everything and gives the same
    table. -#}

{#- Subquery: the fiscal year labels to rebuild in this run. -#}
{% macro changed_fiscal_years() -%}
    (select fiscal_year_label from {{ ref('int_indicator_fiscal_years_changed') }})
{%- endmacro %}

{#- A period's fiscal year, from its dim_periods row (alias `periods`): a fiscal year's own. -#}
{% macro period_fiscal_year(periods) -%}
    coalesce({{ periods }}.fiscal_year_label, {{ periods }}.period_label)
{%- endmacro %}

{#- A semi join keeping the rows of `rows` (an alias; with period_type and period_label) whose
    period lies in a fiscal year to rebuild. -#}
{% macro semi_join_changed_fiscal_years(rows) -%}
    semi join {{ ref('dim_periods') }} as periods
        on {{ rows }}.period_type = periods.period_type
        and {{ rows }}.period_label = periods.period_label
        and {{ period_fiscal_year('periods') }} in {{ changed_fiscal_years() }}
{%- endmacro %}

{#- A WHERE/AND condition: `fiscal_year` (an SQL expression) is a fiscal year to rebuild;
    true on a full build. -#}
{% macro changed_fiscal_years_only(fiscal_year) -%}
    {%- if is_incremental() -%}
    {{ fiscal_year }} in {{ changed_fiscal_years() }}
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{#- An AND condition on a source mart's date column (an SQL expression) on an incremental
    build: from the first to the last day of the fiscal years to rebuild, a week either side
    (a week lies in the fiscal year of its Thursday), as literals, so that DuckDB skips the
    row groups of other years by their min/max instead of joining every row to the calendar
    first. One range (DuckDB ran out of memory on an OR of ranges, one per fiscal year), a
    superset: changed_fiscal_years_only still decides which rows are rebuilt. Empty on a full
    build. -#}
{% macro changed_fiscal_years_dates(date_column) -%}
    {%- if is_incremental() and execute -%}
    {%- set bounds = run_query(
        "select cast(min(period_start) - 7 as varchar), cast(max(period_end) + 7 as varchar) "
        ~ "from " ~ ref('dim_periods') ~ " where period_type = 'fiscal_year' "
        ~ "and period_label in " ~ changed_fiscal_years()).rows[0] -%}
    {%- if bounds[0] is none -%}
    and false
    {%- else -%}
    and {{ date_column }} between date '{{ bounds[0] }}' and date '{{ bounds[1] }}'
    {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook: delete the model's rows of the fiscal years to rebuild. Without a
    fiscal_year_label column, a row's fiscal year is its period's (dim_periods). -#}
{% macro delete_changed_fiscal_years(has_fiscal_year_column=true) -%}
    {%- if is_incremental() -%}
    {%- if has_fiscal_year_column -%}
    delete from {{ this }} where fiscal_year_label in {{ changed_fiscal_years() }}
    {%- else -%}
    delete from {{ this }} as t using {{ ref('dim_periods') }} as p
    where t.period_type = p.period_type and t.period_label = p.period_label
        and {{ period_fiscal_year('p') }} in {{ changed_fiscal_years() }}
    {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The fiscal year label of a source mart's row once the reporting calendar is joined
    (macro indicator_periods_join). -#}
{% macro indicator_fiscal_year(grain) -%}
    {%- if grain == 'week_or_month' -%}
    coalesce(cal_week.fiscal_year_label, cal_month.fiscal_year_label)
    {%- else -%}
    cal.fiscal_year_label
    {%- endif -%}
{%- endmacro %}

{#- The first day of a source mart's row's week (or month) once the calendar is joined. -#}
{% macro indicator_period_start(grain) -%}
    {%- if grain == 'week_or_month' -%}
    coalesce(cal_week.week_start, cal_month.period_start)
    {%- elif grain == 'week' -%}
    cal.week_start
    {%- else -%}
    cal.period_start
    {%- endif -%}
{%- endmacro %}

{#- A hash of a source mart's row (alias src) for int_indicator_inputs_fingerprinted. A mart
    incremental by file (a file_id column: a loaded file's rows never change) is hashed by its
    file; others by every column, doubles rounded to single precision: a sum of doubles
    rebuilt in parallel may differ in its last bits from run to run, which must not count as
    a change (a real change below 1e-7 relative is missed). -#}
{% macro indicator_row_hash(relation) -%}
    {%- set columns = adapter.get_columns_in_relation(relation) if execute else [] -%}
    {%- set names = columns | map(attribute='name') | list -%}
    {%- if 'file_id' in names -%}
    hash(src.file_id)
    {%- elif columns -%}
    hash(
        {%- for column in columns -%}
        {%- if column.dtype | lower in ['double', 'float', 'real'] -%}
        cast(src."{{ column.name }}" as float)
        {%- else -%}
        src."{{ column.name }}"
        {%- endif -%}
        {{- ', ' if not loop.last -}}
        {%- endfor -%}
    )
    {%- else -%}
    hash(src)
    {%- endif -%}
{%- endmacro %}
