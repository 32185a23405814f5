-- Baselines and targets by indicator, org unit and period: the indicator_targets seed, plus
-- the CSV named by var indicator_targets_file when set (its rows win for the same indicator,
-- org unit and period). period_label is any label of dim_periods (2025-W14, 2025-09,
-- 2025-Q3, FY2025-26).
{%- set targets_file = var('indicator_targets_file') %}

with

seeded as (
    select
        indicator_code, mission_id, level, org_unit_id, period_label,
        cast(baseline as double) as baseline,
        cast(target as double) as target,
        2 as precedence
    from {{ ref('indicator_targets') }}
),

{%- if targets_file %}

from_file as (
    select
        indicator_code, mission_id, level, org_unit_id, period_label,
        cast(baseline as double) as baseline,
        cast(target as double) as target,
        1 as precedence
    from read_csv('{{ targets_file }}', header = true, all_varchar = true)
),
{%- endif %}

targets as (
    select * from seeded
    {%- if targets_file %}
    union all
    select * from from_file
    {%- endif %}
),

ranked as (
    select
        *,
        row_number() over (
            partition by indicator_code, mission_id, level, org_unit_id, period_label
            order by precedence
        ) as choice
    from targets
)

select
    -- ids
    ranked.indicator_code,
    ranked.mission_id,
    ranked.level,
    ranked.org_unit_id,
    periods.period_type,
    ranked.period_label,

    -- dates
    periods.period_start,
    periods.period_end,

    -- numerics
    ranked.baseline,
    ranked.target

from ranked
inner join {{ ref('dim_periods') }} as periods on ranked.period_label = periods.period_label
where ranked.choice = 1
