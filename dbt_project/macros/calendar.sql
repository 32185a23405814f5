{#- The reporting calendar's rules (issue 4), shared by dim_weeks, dim_periods and any
    indicator model that rolls weeks up:
    - weeks are ISO weeks (Monday to Sunday), labelled like 2025-W14 (ISO year and week);
    - a week belongs to the month holding 4 or more of its days, i.e. the month of its
      Thursday, and through that month to a calendar quarter and a UN fiscal year;
    - the UN fiscal year runs 1 July to 30 June, labelled like FY2025-26.
    Every macro takes a SQL expression and returns a SQL expression (DuckDB). -#}

{#- The Monday of the ISO week holding a date. -#}
{% macro iso_week_start(date_expr) -%}
    cast(date_trunc('week', cast({{ date_expr }} as date)) as date)
{%- endmacro %}

{#- The ISO week label of the week holding a date, e.g. 2025-W01 for 2024-12-30. -#}
{% macro iso_week_label(date_expr) -%}
    printf('%d-W%02d', isoyear(cast({{ date_expr }} as date)), weekofyear(cast({{ date_expr }} as date)))
{%- endmacro %}

{#- First day of the month a week belongs to: the month of its Thursday (the month holding 4
    or more of its 7 days). Any date of the week may be passed, not only its Monday. -#}
{% macro week_month_start(week_start_expr) -%}
    cast(date_trunc('month', {{ iso_week_start(week_start_expr) }} + 3) as date)
{%- endmacro %}

{#- Month label of a date, e.g. 2025-09. For a week, pass week_month_start(...). -#}
{% macro month_label(date_expr) -%}
    strftime(cast({{ date_expr }} as date), '%Y-%m')
{%- endmacro %}

{#- Calendar quarter label of a date, e.g. 2025-Q3. For a week, pass week_month_start(...). -#}
{% macro quarter_label(date_expr) -%}
    printf('%d-Q%d', year(cast({{ date_expr }} as date)), quarter(cast({{ date_expr }} as date)))
{%- endmacro %}

{#- 1 July of the UN fiscal year holding a date. For a week, pass week_month_start(...):
    the week of Monday 2025-06-30 belongs to July 2025, hence to FY2025-26. -#}
{% macro fiscal_year_start(date_expr) -%}
    make_date(year(cast({{ date_expr }} as date) - interval 6 month), 7, 1)
{%- endmacro %}

{#- Label of the UN fiscal year holding a date: FY2025-26 for 1 July 2025 to 30 June 2026.
    For a week, pass week_month_start(...), not the week's Monday. -#}
{% macro fiscal_year_label(date_expr) -%}
    printf('FY%d-%02d',
        year(cast({{ date_expr }} as date) - interval 6 month),
        (year(cast({{ date_expr }} as date) - interval 6 month) + 1) % 100)
{%- endmacro %}
