-- Indicator values with their baseline, target, status and (survey shares) 95% confidence
-- interval; still unsuppressed. A target set for the exact period applies; otherwise, for
-- indicators that are not sums (shares, rates, medians), the target of the fiscal year
-- holding the period applies to its weeks, months and quarters too.
-- Status: on track within var status_on_track_within of the target (or beyond the target in
-- the good direction), at risk within var status_at_risk_within, off track beyond; the
-- distance is relative to the target and reversed for down-is-good indicators. A sum over a
-- period the data covers only in part (a fiscal year in progress) gets no status.
-- Incremental by fiscal year (macros/incremental_by_fiscal_year.sql).
-- depends_on: {{ ref('int_indicator_fiscal_years_changed') }} {{ ref('dim_periods') }} (incremental builds)
{{ config(
    materialized="incremental",
    on_schema_change="sync_all_columns",
    pre_hook="{{ delete_changed_fiscal_years() }}",
) }}

with

computed as (
    select * from {{ ref('int_indicator_values') }}
    where {{ changed_fiscal_years_only('fiscal_year_label') }}
),

indicators as (
    select * from {{ ref('dim_indicators') }}
),

targets as (
    select * from {{ ref('int_indicator_targets') }}
),

with_targets as (
    select
        computed.*,
        indicators.direction,
        indicators.unit,
        indicators.aggregation,
        coalesce(exact.baseline, yearly.baseline) as baseline,
        coalesce(exact.target, yearly.target) as target
    from computed
    inner join indicators on computed.indicator_code = indicators.indicator_code
    left join targets as exact
        on computed.disaggregation = 'total'
        and computed.indicator_code = exact.indicator_code
        and computed.mission_id = exact.mission_id
        and computed.level = exact.level
        and computed.org_unit_id = exact.org_unit_id
        and computed.period_type = exact.period_type
        and computed.period_label = exact.period_label
    left join targets as yearly
        on computed.disaggregation = 'total'
        and indicators.aggregation <> 'sum'
        and yearly.period_type = 'fiscal_year'
        and computed.indicator_code = yearly.indicator_code
        and computed.mission_id = yearly.mission_id
        and computed.level = yearly.level
        and computed.org_unit_id = yearly.org_unit_id
        -- the fiscal year the period is reported in (a week by its Thursday: the week of
        -- Monday 30 June 2025 is in FY2025-26), not the one holding its first day
        and computed.fiscal_year_label = yearly.period_label
),

with_distance as (
    select
        *,
        case
            when value is null or target is null or target = 0 then null
            when direction = 'up' then round((target - value) / abs(target), 9)
            else round((value - target) / abs(target), 9)
        end as shortfall
    from with_targets
),

with_interval as (
    -- Wilson score interval on the Kish effective sample size, for weighted survey shares
    select
        *,
        case
            when aggregation = 'weighted_ratio' and unit = 'percent' and effective_n > 0
                and value is not null
            then 1.96 * sqrt(value * (1 - value) / effective_n
                             + 1.96 * 1.96 / (4 * effective_n * effective_n))
                 / (1 + 1.96 * 1.96 / effective_n)
        end as ci_half_width,
        case
            when aggregation = 'weighted_ratio' and unit = 'percent' and effective_n > 0
                and value is not null
            then (value + 1.96 * 1.96 / (2 * effective_n)) / (1 + 1.96 * 1.96 / effective_n)
        end as ci_centre
    from with_distance
)

select
    -- ids
    indicator_code,
    mission_id,
    level,
    org_unit_id,
    parent_level,
    parent_org_unit_id,
    period_type,
    period_label,
    parent_period_label,
    fiscal_year_label,
    disaggregation,
    disaggregation_value,

    -- dates
    period_start,
    period_end,

    -- numerics
    value,
    numerator,
    denominator,
    observations,
    effective_n,
    -- (greatest and least skip NULLs: keep the interval NULL where there is none). The
    -- Wilson interval always holds the share; bounding by the value only removes rounding
    -- residue (at a share of 0, centre - half width is 1e-17, not 0)
    case when ci_centre is not null
        then least(greatest(ci_centre - ci_half_width, 0), value) end as ci_low,
    case when ci_centre is not null
        then greatest(least(ci_centre + ci_half_width, 1), value) end as ci_high,
    baseline,
    target,

    -- descriptions
    is_partial_period,
    case
        when value is null or target is null then null
        -- a sum over part of its period is not compared with the whole period's target
        when aggregation = 'sum' and is_partial_period then null
        when target = 0 then
            case
                when (direction = 'up' and value >= 0) or (direction = 'down' and value <= 0)
                    then 'on_track'
                else 'off_track'
            end
        when shortfall <= {{ var('status_on_track_within') }} then 'on_track'
        when shortfall <= {{ var('status_at_risk_within') }} then 'at_risk'
        else 'off_track'
    end as status

from with_interval
