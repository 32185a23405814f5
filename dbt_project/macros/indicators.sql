{#-
    Indicator values from one source mart, in the long shape of int_indicator_values.

    The indicators are the catalogue rows (dim_indicators) whose source_mart is `source_name`;
    how the mart is read comes from var indicator_sources[source_name] (see dbt_project.yml).
    For each disaggregation one query computes every indicator's numerator and denominator over
    grouping sets of (level x period type): mission, sector, site x ISO week, month, quarter,
    fiscal year, a week counting in the month of its Thursday (dim_weeks). Ratios therefore
    aggregate as a sum of numerators over a sum of denominators, recomputed from the rows at
    every level and period, never as a mean of ratios; medians are recomputed from the rows.

    Additive indicators (sums and counts, hence every ratio of them) are computed in two
    stages: the rows are first summed to their finest grain (site x week x every
    disaggregation value; CTE <source>__fine), and the grouping sets then run over those sums.
    DuckDB runs each grouping set as its own pass over its input, so on 10 million patrols the
    finest grain (a few hundred thousand rows) saves most of the work. Indicators whose SQL is
    not additive (median, min, max, distinct, ...) are computed from the rows themselves.
-#}

{#- False when the SQL cannot be summed from partial sums (median, min, max, distinct, ...). -#}
{% macro is_additive(sql) %}
    {%- set not_additive = '\\b(median|quantile\\w*|percentile\\w*|mode|avg|mean|min|max|arg_\\w+|'
        ~ 'first|last|any_value|string_agg|group_concat|list|array_agg|stddev\\w*|var\\w*|'
        ~ 'variance|corr|covar\\w*|approx_\\w+|entropy|kurtosis\\w*|skewness|bit_\\w+|bool_\\w+|'
        ~ 'product|histogram|favg|fsum)\\s*\\(|\\bdistinct\\b' -%}
    {{- return(modules.re.search(not_additive, (sql or '') | lower) is none) -}}
{% endmacro %}

{#- An aggregate's SQL with the columns of var indicator_sources' `sex` split replaced by the
    women's or the men's expression (as `select * replace (...)` would), in one pass: the men's
    person_hours is `person_hours - women_person_hours`, itself naming person_hours. -#}
{% macro sex_substituted(sql, sex_split, sex) %}
    {%- if not sql -%}{{ return('') }}{%- endif -%}
    {%- set text = namespace(value=sql) -%}
    {%- for column in sex_split -%}
        {%- set text.value = modules.re.sub('\\b' ~ column ~ '\\b', '@@sex' ~ loop.index ~ '@@',
                                            text.value) -%}
    {%- endfor -%}
    {%- for column, split in sex_split.items() -%}
        {%- set text.value = text.value.replace('@@sex' ~ loop.index ~ '@@',
                                                '(' ~ split[sex] ~ ')') -%}
    {%- endfor -%}
    {{- return(text.value) -}}
{% endmacro %}

{#- mission_id, level, org_unit_id, period_type and period_label of a grouping-sets row
    (grouping() only names columns some grouping set holds). -#}
{% macro indicator_level_columns(levels, periods) %}
        _mission_id as mission_id,
        case
            when false then null
            {%- if 'site' in levels %}
            when grouping(_site_id) = 0 then 'site'
            {%- endif %}
            {%- if 'site' in levels or 'sector' in levels %}
            when grouping(_sector_id) = 0 then 'sector'
            {%- endif %}
            else 'mission'
        end as level,
        case
            when false then null
            {%- if 'site' in levels %}
            when grouping(_site_id) = 0 then _site_id
            {%- endif %}
            {%- if 'site' in levels or 'sector' in levels %}
            when grouping(_sector_id) = 0 then _sector_id
            {%- endif %}
            else _mission_id
        end as org_unit_id,
        case
            {%- for period in periods[:-1] %}
            when grouping(_{{ period }}) = 0 then '{{ period }}'
            {%- endfor %}
            else '{{ periods[-1] }}'
        end as period_type,
        case
            {%- for period in periods[:-1] %}
            when grouping(_{{ period }}) = 0 then _{{ period }}
            {%- endfor %}
            else _{{ periods[-1] }}
        end as period_label
{%- endmacro %}

{% macro indicator_catalogue_rows(source_name) %}
    {#- The catalogue rows of one source mart (empty while dbt parses). -#}
    {%- set rows = [] -%}
    {%- if execute -%}
        {%- set query -%}
            select indicator_code, numerator, coalesce(denominator, '') as denominator,
                   aggregation, disaggregations, levels
            from {{ ref('dim_indicators') }}
            where source_mart = '{{ source_name }}'
            order by indicator_code
        {%- endset -%}
        {%- for row in run_query(query).rows -%}
            {%- set parts = row['disaggregations'].split('|') -%}
            {%- do rows.append({
                'code': row['indicator_code'],
                'numerator': row['numerator'],
                'denominator': row['denominator'],
                'aggregation': row['aggregation'],
                'additive': row['aggregation'] != 'median'
                            and is_additive(row['numerator'] ~ ' ' ~ row['denominator']),
                'levels': row['levels'].split('|'),
                'dimensions': ['total'] + (parts | reject('in', ['mission', 'sector', 'site'])
                                                 | list),
            }) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(rows) }}
{% endmacro %}


{% macro indicator_periods_join(grain, date_column) %}
    {#- Join the reporting calendar; gives _week, _month, _quarter, _fiscal_year labels. -#}
    {%- if grain == 'week' %}
        join {{ ref('dim_weeks') }} as cal
            on cal.week_start = cast(date_trunc('week', src.{{ date_column }}) as date)
    {%- elif grain == 'month' %}
        join {{ ref('dim_periods') }} as cal
            on cal.period_type = 'month'
            and cal.period_start = cast(date_trunc('month', src.{{ date_column }}) as date)
    {%- elif grain == 'week_or_month' %}
        left join {{ ref('dim_weeks') }} as cal_week
            on src.period_grain = 'week' and cal_week.week_start = src.{{ date_column }}
        left join {{ ref('dim_periods') }} as cal_month
            on src.period_grain = 'month' and cal_month.period_type = 'month'
            and cal_month.period_start = src.{{ date_column }}
    {%- else %}
        {{ exceptions.raise_compiler_error("indicator_sources: unknown period grain " ~ grain) }}
    {%- endif %}
{% endmacro %}


{% macro indicator_period_labels(grain) %}
    {%- if grain == 'week' -%}
        cal.week_label as _week, cal.month_label as _month, cal.quarter_label as _quarter,
        cal.fiscal_year_label as _fiscal_year
    {%- elif grain == 'month' -%}
        cast(null as varchar) as _week, cal.period_label as _month,
        cal.quarter_label as _quarter, cal.fiscal_year_label as _fiscal_year
    {%- else -%}
        cal_week.week_label as _week,
        coalesce(cal_week.month_label, cal_month.period_label) as _month,
        coalesce(cal_week.quarter_label, cal_month.quarter_label) as _quarter,
        coalesce(cal_week.fiscal_year_label, cal_month.fiscal_year_label) as _fiscal_year
    {%- endif -%}
{% endmacro %}


{% macro indicator_values(source_name) %}
    {%- set settings = var('indicator_sources')[source_name] -%}
    {%- set grain = settings['period']['grain'] -%}
    {%- set org = settings.get('org', {}) -%}
    {%- set dimensions = settings.get('dimensions', {}) -%}
    {%- set sex_split = settings.get('sex', {}) -%}
    {%- set uses_sites = 'sites.' in tojson(settings) -%}
    {%- set periods = ['week', 'month', 'quarter', 'fiscal_year'] if grain != 'month'
                      else ['month', 'quarter', 'fiscal_year'] -%}
    {%- set indicators = indicator_catalogue_rows(source_name) -%}
    {%- set cte = source_name ~ '__' -%}
    {%- set observations = settings.get('observations', 'count(*)') -%}
    {%- set weight_squares = settings.get('weight_squares') -%}
    {#- the finest grain: every org unit, period label and disaggregation value -#}
    {%- set keys = ['_mission_id', '_sector_id', '_site_id', '_week', '_month', '_quarter',
                    '_fiscal_year'] -%}
    {%- for dimension in dimensions %}{% do keys.append('_d_' ~ dimension) %}{% endfor -%}
    {%- set additive = [] -%}
    {%- if is_additive(observations) -%}
        {%- for indicator in indicators if indicator['additive'] -%}
            {%- do additive.append(indicator['code']) -%}
        {%- endfor -%}
    {%- endif %}

{{ cte }}rows as not materialized (
    {#- read by several CTEs: scanned again by each rather than held in memory (10M rows) #}
    select
        src.*,
        src.mission_id as _mission_id,
        cast({{ org.get('sector', 'null') }} as varchar) as _sector_id,
        cast({{ org.get('site', 'null') }} as varchar) as _site_id,
        {% for dimension, expression in dimensions.items() -%}
        {{ expression }} as _d_{{ dimension }},
        {% endfor -%}
        {{ indicator_period_labels(grain) }}
    from {{ ref(source_name) }} as src
    {%- if uses_sites %}
    left join {{ ref('dim_sites') }} as sites
        on sites.mission_id = src.mission_id and sites.site_id = src.site_id
    {%- endif %}
    {{ indicator_periods_join(grain, settings['period']['date']) }}
    {#- an incremental build: the fiscal years to rebuild only (incremental_by_fiscal_year) #}
    where {{ changed_fiscal_years_only(indicator_fiscal_year(grain)) }}
        {{ changed_fiscal_years_dates('src.' ~ settings['period']['date']) }}
),
{%- if sex_split %}

{{ cte }}rows_by_sex as (
    {%- for sex in ['women', 'men'] %}
    select
        * replace (
            {%- for column, split in sex_split.items() %}
            {{ split[sex] }} as {{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
        ),
        '{{ sex }}' as _d_sex
    from {{ cte }}rows
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),
{%- endif %}

{%- set fine_members = [] %}
{%- for indicator in indicators if indicator['code'] in additive %}
{%- do fine_members.append(indicator) %}
{%- endfor %}
{%- set sex_members = [] %}
{%- for member in fine_members if sex_split and 'sex' in member['dimensions'] %}
{%- do sex_members.append(member) %}
{%- endfor %}
{%- if fine_members %}

{{ cte }}fine as (
    -- stage 1: sums at the finest grain (the grouping sets below sum these); the women's and
    -- men's sums of the indicators split by sex in the same pass
    select
        {{ keys | join(', ') }},
        {{ observations }} as _observations,
        {%- if weight_squares %}
        sum({{ weight_squares }}) as _weight_squares,
        {%- endif %}
        {%- for member in sex_members %}
        {%- for sex in ['women', 'men'] %}
        {{ sex_substituted(member['numerator'], sex_split, sex) }}
            as "n__{{ member['code'] }}__{{ sex }}",
        {{ sex_substituted(member['denominator'], sex_split, sex) or 'null' }}
            as "d__{{ member['code'] }}__{{ sex }}",
        {%- endfor %}
        {%- endfor %}
        {%- for member in fine_members %}
        {{ member['numerator'] }} as "n__{{ member['code'] }}",
        {{ member['denominator'] or 'null' }} as "d__{{ member['code'] }}"
        {{- ',' if not loop.last }}
        {%- endfor %}
    from {{ cte }}rows
    group by {{ keys | join(', ') }}
),
{%- endif %}
{#- the grouping sets of one (dimension, members): every level of the members x period -#}
{%- set fine_sets = [] %}
{%- set fine_levels = [] %}
{%- set fine_dimensions = [] %}
{%- for dimension in ['total'] + (dimensions.keys() | list) %}
{%- set members = [] %}
{%- for member in fine_members if dimension in member['dimensions'] %}
{%- do members.append(member) %}
{%- endfor %}
{%- if members %}
{%- if dimension != 'total' %}{% do fine_dimensions.append(dimension) %}{% endif %}
{%- for member in members %}{% for level in member['levels'] %}
{%- if level not in fine_levels %}{% do fine_levels.append(level) %}{% endif %}
{%- set set_level = level %}
{%- for period in periods %}
{%- set grouping_set = '(_mission_id'
    ~ (', _sector_id' if set_level in ['sector', 'site'] else '')
    ~ (', _site_id' if set_level == 'site' else '')
    ~ ', _' ~ period
    ~ ((', _d_' ~ dimension) if dimension != 'total' else '') ~ ')' %}
{%- if grouping_set not in fine_sets %}{% do fine_sets.append(grouping_set) %}{% endif %}
{%- endfor %}
{%- endfor %}{% endfor %}
{%- endif %}
{%- endfor %}
{%- if fine_members %}

{{ cte }}by_fine as (
    -- stage 2: every level x period x disaggregation of the additive indicators in one
    -- aggregation over the stage-1 sums (sex: from the women's and men's sums of the totals)
    select
        case
            when false then null
            {%- for dimension in fine_dimensions %}
            when grouping(_d_{{ dimension }}) = 0 then '{{ dimension }}'
            {%- endfor %}
            else 'total'
        end as disaggregation,
        case
            when false then null
            {%- for dimension in fine_dimensions %}
            when grouping(_d_{{ dimension }}) = 0
                then coalesce(cast(_d_{{ dimension }} as varchar), 'not_recorded')
            {%- endfor %}
            else 'total'
        end as disaggregation_value,
        {{ indicator_level_columns(fine_levels, periods) }},
        sum(_observations) as observations,
        {%- if weight_squares %}
        sum(_weight_squares) as weight_squares,
        {%- else %}
        cast(null as double) as weight_squares,
        {%- endif %}
        {%- for member in sex_members %}
        {%- for sex in ['women', 'men'] %}
        sum("n__{{ member['code'] }}__{{ sex }}") as "n__{{ member['code'] }}__{{ sex }}",
        {% if member['denominator'] %}sum("d__{{ member['code'] }}__{{ sex }}"){% else %}null{% endif %}
            as "d__{{ member['code'] }}__{{ sex }}",
        {%- endfor %}
        {%- endfor %}
        {%- for member in fine_members %}
        sum("n__{{ member['code'] }}") as "n__{{ member['code'] }}",
        {% if member['denominator'] %}sum("d__{{ member['code'] }}"){% else %}null{% endif %}
            as "d__{{ member['code'] }}"
        {{- ',' if not loop.last }}
        {%- endfor %}
    from {{ cte }}fine
    group by grouping sets (
        {{ fine_sets | join(',\n        ') }}
    )
),
{%- endif %}

{#- (member, relation, extra condition, disaggregation override, column suffix) -#}
{%- set selects = [] %}
{%- for member in fine_members %}
{%- for dimension in member['dimensions'] if dimension != 'sex' %}
{%- do selects.append((member, 'by_fine', "disaggregation = '" ~ dimension ~ "'", none, '')) %}
{%- endfor %}
{%- if member in sex_members %}
{%- for sex in ['women', 'men'] %}
{%- do selects.append((member, 'by_fine', "disaggregation = 'total'", sex, '__' ~ sex)) %}
{%- endfor %}
{%- endif %}
{%- endfor %}

{%- for dimension in ['total'] + (dimensions.keys() | list) + (['sex'] if sex_split else []) %}
{%- set members = [] %}
{%- for indicator in indicators if dimension in indicator['dimensions']
        and indicator['code'] not in additive %}
{%- do members.append(indicator) %}
{%- endfor %}
{%- if members %}
{%- set name = 'by_' ~ dimension ~ '__rows' %}
{%- for member in members %}{% do selects.append((member, name, 'true', none, '')) %}{% endfor %}
{%- set levels = [] %}
{%- for member in members %}{% for level in member['levels'] %}
{%- if level not in levels %}{% do levels.append(level) %}{% endif %}
{%- endfor %}{% endfor %}

{{ cte }}{{ name }} as (
    -- indicators that are not additive (medians), from the rows themselves
    select
        '{{ dimension }}' as disaggregation,
        {% if dimension == 'total' -%}
        'total'
        {%- else -%}
        coalesce(cast(_d_{{ dimension }} as varchar), 'not_recorded')
        {%- endif %} as disaggregation_value,
        {{ indicator_level_columns(levels, periods) }},
        {{ observations }} as observations,
        {%- if weight_squares %}
        sum({{ weight_squares }}) as weight_squares,
        {%- else %}
        cast(null as double) as weight_squares,
        {%- endif %}
        {%- for member in members %}
        {{ member['numerator'] }} as "n__{{ member['code'] }}",
        {{ member['denominator'] or 'null' }} as "d__{{ member['code'] }}"
        {{- ',' if not loop.last }}
        {%- endfor %}
    from {{ cte }}rows{{ '_by_sex' if dimension == 'sex' }}
    group by grouping sets (
        {%- for level in levels %}
        {%- set level_loop = loop %}
        {%- for period in periods %}
        (_mission_id
            {{- ', _sector_id' if level in ['sector', 'site'] -}}
            {{- ', _site_id' if level == 'site' -}}
            , _{{ period }}
            {{- (', _d_' ~ dimension) if dimension != 'total' -}}
        ){{ ',' if not (loop.last and level_loop.last) }}
        {%- endfor %}
        {%- endfor %}
    )
),
{%- endif %}
{%- endfor %}

{{ cte }}values as (
    {%- for member, relation, condition, sex, suffix in selects %}
    {%- set n = '"n__' ~ member['code'] ~ suffix ~ '"' %}
    {%- set d = '"d__' ~ member['code'] ~ suffix ~ '"' %}
    select
        '{{ member['code'] }}' as indicator_code,
        '{{ source_name }}' as source_mart,
        mission_id,
        level,
        org_unit_id,
        period_type,
        period_label,
        {%- if sex %}
        'sex' as disaggregation,
        '{{ sex }}' as disaggregation_value,
        {%- else %}
        disaggregation,
        disaggregation_value,
        {%- endif %}
        {%- if member['aggregation'] == 'sum' %}
        cast(coalesce({{ n }}, 0) as double) as value,
        cast(coalesce({{ n }}, 0) as double) as numerator,
        cast(null as double) as denominator,
        {%- elif member['aggregation'] == 'median' %}
        cast({{ n }} as double) as value,
        cast(null as double) as numerator,
        cast(null as double) as denominator,
        {%- else %}
        cast({{ safe_divide(n, d) }} as double) as value,
        cast({{ n }} as double) as numerator,
        cast({{ d }} as double) as denominator,
        {%- endif %}
        cast(observations as bigint) as observations,
        {%- if member['aggregation'] == 'weighted_ratio' %}
        {{ safe_divide(d ~ ' * ' ~ d, 'weight_squares') }} as effective_n
        {%- else %}
        cast(null as double) as effective_n
        {%- endif %}
    from {{ cte }}{{ relation }}
    where {{ condition }}
        and org_unit_id is not null
        and period_label is not null
        and level in ('{{ member['levels'] | join("', '") }}')
    {{ 'union all' if not loop.last }}
    {%- endfor %}
    {%- if not selects %}
    {#- while dbt parses, and for a source no indicator reads: no rows, the right columns #}
    select
        cast(null as varchar) as indicator_code, cast(null as varchar) as source_mart,
        cast(null as varchar) as mission_id, cast(null as varchar) as level,
        cast(null as varchar) as org_unit_id, cast(null as varchar) as period_type,
        cast(null as varchar) as period_label, cast(null as varchar) as disaggregation,
        cast(null as varchar) as disaggregation_value, cast(null as double) as value,
        cast(null as double) as numerator, cast(null as double) as denominator,
        cast(null as bigint) as observations, cast(null as double) as effective_n
    where false
    {%- endif %}
)
{%- endmacro %}
