-- Every reporting period of every type (week, month, quarter, fiscal_year), one row each,
-- with the weeks reported in it (a week counts in the month of its Thursday, and through it in
-- that month's quarter and fiscal year) and the labels of the periods above it.
with

weeks as (
    select * from {{ ref('dim_weeks') }}
),

week_periods as (
    select
        'week' as period_type,
        week_label as period_label,
        week_start as period_start,
        week_end as period_end,
        1 as weeks_in_period,
        week_start as first_week_start,
        week_end as last_week_end,
        month_label,
        quarter_label,
        fiscal_year_label
    from weeks
),

month_periods as (
    select
        'month' as period_type,
        month_label as period_label,
        month_start as period_start,
        month_end as period_end,
        count(*) as weeks_in_period,
        min(week_start) as first_week_start,
        max(week_end) as last_week_end,
        null as month_label,
        quarter_label,
        fiscal_year_label
    from weeks
    group by month_label, month_start, month_end, quarter_label, fiscal_year_label
),

quarter_periods as (
    select
        'quarter' as period_type,
        quarter_label as period_label,
        quarter_start as period_start,
        quarter_end as period_end,
        count(*) as weeks_in_period,
        min(week_start) as first_week_start,
        max(week_end) as last_week_end,
        null as month_label,
        null as quarter_label,
        fiscal_year_label
    from weeks
    group by quarter_label, quarter_start, quarter_end, fiscal_year_label
),

fiscal_year_periods as (
    select
        'fiscal_year' as period_type,
        fiscal_year_label as period_label,
        fiscal_year_start as period_start,
        fiscal_year_end as period_end,
        count(*) as weeks_in_period,
        min(week_start) as first_week_start,
        max(week_end) as last_week_end,
        null as month_label,
        null as quarter_label,
        null as fiscal_year_label
    from weeks
    group by fiscal_year_label, fiscal_year_start, fiscal_year_end
),

periods as (
    select * from week_periods
    union all
    select * from month_periods
    union all
    select * from quarter_periods
    union all
    select * from fiscal_year_periods
)

select
    period_type,
    period_label,
    cast(period_start as date) as period_start,
    cast(period_end as date) as period_end,
    cast(cast(period_end as date) - cast(period_start as date) + 1 as integer) as days_in_period,
    cast(weeks_in_period as integer) as weeks_in_period,
    first_week_start,
    last_week_end,
    cast(month_label as varchar) as month_label,
    cast(quarter_label as varchar) as quarter_label,
    cast(fiscal_year_label as varchar) as fiscal_year_label
from periods
