-- Every indicator of the catalogue at every level (mission, sector, site) and period (ISO
-- week, month, quarter, UN fiscal year) where it makes sense, in total and by each allowed
-- disaggregation, from the values computed per source mart (int_indicator_values_computed).
-- Sums are zero-filled over the org units of a mission for the periods the source has rows
-- for the mission, so a site without events shows 0, not "no data".
-- Not published as is: fct_indicator_values adds targets and small-cell suppression.
-- Incremental by fiscal year (macros/incremental_by_fiscal_year.sql): the coverage of the data
-- is read from every fiscal year, the values of the changed ones only.
-- depends_on: {{ ref('int_indicator_fiscal_years_changed') }} {{ ref('dim_periods') }} (incremental builds)
{{ config(
    materialized="incremental",
    on_schema_change="sync_all_columns",
    pre_hook="{{ delete_changed_fiscal_years() }}",
) }}

with

all_computed as (
    select * from {{ ref('int_indicator_values_computed') }}
),

computed as (
    select all_computed.*
    from all_computed
    {%- if is_incremental() %}
    {{ semi_join_changed_fiscal_years('all_computed') }}
    {%- endif %}
),

indicators as (
    select * from {{ ref('dim_indicators') }}
),

org_units as (
    select * from {{ ref('dim_org_units') }}
),

covered_periods as (
    -- the periods a sum indicator has rows for, per mission
    select distinct computed.indicator_code, computed.source_mart, computed.mission_id,
        computed.period_type, computed.period_label
    from computed
    inner join indicators on computed.indicator_code = indicators.indicator_code
    where indicators.aggregation = 'sum'
        and computed.level = 'mission'
        and computed.disaggregation = 'total'
),

zero_filled as (
    select
        covered.indicator_code,
        covered.source_mart,
        covered.mission_id,
        org_units.level,
        org_units.org_unit_id,
        covered.period_type,
        covered.period_label,
        'total' as disaggregation,
        'total' as disaggregation_value,
        coalesce(computed.value, 0) as value,
        coalesce(computed.numerator, 0) as numerator,
        cast(null as double) as denominator,
        coalesce(computed.observations, 0) as observations,
        cast(null as double) as effective_n
    from covered_periods as covered
    inner join indicators on covered.indicator_code = indicators.indicator_code
    inner join org_units
        on covered.mission_id = org_units.mission_id
        and list_contains(string_split(indicators.levels, '|'), org_units.level)
    left join computed
        on covered.indicator_code = computed.indicator_code
        and covered.mission_id = computed.mission_id
        and org_units.level = computed.level
        and org_units.org_unit_id = computed.org_unit_id
        and covered.period_type = computed.period_type
        and covered.period_label = computed.period_label
        and computed.disaggregation = 'total'
),

coverage as (
    -- the days a mission's data for the indicator covers: its first to its last week (or
    -- month, for monthly sources) with rows
    select
        all_computed.indicator_code,
        all_computed.mission_id,
        coalesce(min(periods.period_start) filter (where all_computed.period_type = 'week'),
                 min(periods.period_start) filter (where all_computed.period_type = 'month'))
            as data_from,
        coalesce(max(periods.period_end) filter (where all_computed.period_type = 'week'),
                 max(periods.period_end) filter (where all_computed.period_type = 'month'))
            as data_through,
        -- weekly data cover a period when they cover its weeks (a week counts in the month
        -- of its Thursday, so June 2025's weeks run 2 to 29 June)
        bool_or(all_computed.period_type = 'week') as by_week
    from all_computed
    inner join {{ ref('dim_periods') }} as periods
        on all_computed.period_type = periods.period_type
        and all_computed.period_label = periods.period_label
    where all_computed.level = 'mission' and all_computed.disaggregation = 'total'
    group by all_computed.indicator_code, all_computed.mission_id
),

all_values as (
    select * from zero_filled
    union all
    select computed.*
    from computed
    inner join indicators on computed.indicator_code = indicators.indicator_code
    where not (indicators.aggregation = 'sum' and computed.disaggregation = 'total')
)

select
    -- ids
    all_values.indicator_code,
    all_values.mission_id,
    all_values.level,
    all_values.org_unit_id,
    org_units.parent_level,
    org_units.parent_org_unit_id,
    all_values.period_type,
    all_values.period_label,
    all_values.disaggregation,
    all_values.disaggregation_value,

    -- dates
    periods.period_start,
    periods.period_end,

    -- descriptions
    all_values.source_mart,
    case all_values.period_type
        when 'week' then periods.month_label
        when 'month' then periods.quarter_label
        when 'quarter' then periods.fiscal_year_label
    end as parent_period_label,
    {{ period_fiscal_year('periods') }} as fiscal_year_label,

    -- numerics
    all_values.value,
    all_values.numerator,
    all_values.denominator,
    all_values.observations,
    all_values.effective_n,

    -- flags
    -- the period runs beyond the data (a fiscal year in progress): a sum is partial
    case
        when coverage.by_week
            then periods.first_week_start < coverage.data_from
                or periods.last_week_end > coverage.data_through
        else periods.period_start < coverage.data_from
            or periods.period_end > coverage.data_through
    end as is_partial_period

from all_values
inner join org_units
    on all_values.mission_id = org_units.mission_id
    and all_values.level = org_units.level
    and all_values.org_unit_id = org_units.org_unit_id
inner join {{ ref('dim_periods') }} as periods
    on all_values.period_type = periods.period_type
    and all_values.period_label = periods.period_label
inner join coverage
    on all_values.indicator_code = coverage.indicator_code
    and all_values.mission_id = coverage.mission_id
