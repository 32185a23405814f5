-- The reporting calendar's weeks: one row per ISO week (Monday to Sunday) with the month,
-- calendar quarter and UN fiscal year it is reported in. A week belongs to the month of its
-- Thursday (the month holding 4 or more of its days); the rules live in macros/calendar.sql.
-- Range: the weeks whose Thursday falls between vars calendar_start and calendar_end, widened
-- to whole fiscal years (1 July to 30 June) when var calendar_whole_fiscal_years is true.
with

bounds as (
    select
        {% if var('calendar_whole_fiscal_years') -%}
        {{ fiscal_year_start("'" ~ var('calendar_start') ~ "'") }} as first_thursday,
        cast({{ fiscal_year_start("'" ~ var('calendar_end') ~ "'") }}
            + interval 1 year - interval 1 day as date) as last_thursday
        {%- else -%}
        cast('{{ var("calendar_start") }}' as date) as first_thursday,
        cast('{{ var("calendar_end") }}' as date) as last_thursday
        {%- endif %}
),

mondays as (
    -- every Monday from the week before the first to the week after the last, then trimmed
    select cast(series.generate_series as date) as week_start
    from bounds,
        generate_series(
            cast({{ iso_week_start('bounds.first_thursday') }} - 7 as timestamp),
            cast({{ iso_week_start('bounds.last_thursday') }} + 7 as timestamp),
            interval 7 day
        ) as series
    where cast(series.generate_series as date) + 3
        between bounds.first_thursday and bounds.last_thursday
),

weeks as (
    select
        week_start,
        week_start + 6 as week_end,
        week_start + 3 as week_thursday,
        {{ week_month_start('week_start') }} as month_start
    from mondays
),

labelled as (
    select
        week_start,
        week_end,
        cast(isoyear(week_start) as integer) as iso_year,
        cast(weekofyear(week_start) as integer) as iso_week,
        {{ iso_week_label('week_start') }} as week_label,

        month_start,
        last_day(month_start) as month_end,
        {{ month_label('month_start') }} as month_label,
        cast(least(week_end, last_day(month_start)) - greatest(week_start, month_start) + 1
            as integer) as days_in_month_start_month,
        cast((day(week_thursday) - 1) // 7 + 1 as integer) as week_of_month,

        cast(date_trunc('quarter', month_start) as date) as quarter_start,
        {{ quarter_label('month_start') }} as quarter_label,

        {{ fiscal_year_start('month_start') }} as fiscal_year_start,
        {{ fiscal_year_label('month_start') }} as fiscal_year_label,
        week_thursday
    from weeks
)

select
    -- the week
    week_start,
    week_end,
    iso_year,
    iso_week,
    week_label,

    -- the month it is reported in (the month of its Thursday)
    month_start,
    month_end,
    month_label,
    days_in_month_start_month,
    days_in_month_start_month < 7 as is_split_week,
    week_of_month,

    -- the calendar quarter of that month
    quarter_start,
    cast(quarter_start + interval 3 month - interval 1 day as date) as quarter_end,
    quarter_label,
    cast((week_thursday - quarter_start) // 7 + 1 as integer) as week_of_quarter,

    -- the UN fiscal year (1 July to 30 June) of that month
    fiscal_year_start,
    cast(fiscal_year_start + interval 1 year - interval 1 day as date) as fiscal_year_end,
    fiscal_year_label,
    cast((week_thursday - fiscal_year_start) // 7 + 1 as integer) as week_of_fiscal_year
from labelled
