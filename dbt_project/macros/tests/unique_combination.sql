{#- Rows whose combination of columns appears more than once; an empty result passes.

    With published_files_of (a mart incremental by file, e.g. fct_patrols), once the
    indicator values were published (int_indicator_inputs_published lists that mart's files),
    only the keys of the files published since are looked for in the whole table: the keys of
    published files were checked against every row then, and a failed run publishes nothing,
    so the next one checks the same files again. A weekly run then reads the key columns of
    the new files' rows, not a group-by of millions of keys.

    With changed_fiscal_years (a model of the indicator chain, incremental by fiscal year,
    whose key holds period_type and period_label), only the rows of the fiscal years this
    build rebuilt (int_indicator_fiscal_years_changed, built before the chain) are checked:
    a period lies in one fiscal year, so a repeated key lies in one too, and the other fiscal
    years' rows were checked when they were built and have not changed since. A full
    refresh checks them all (every fiscal year is listed). -#}
{% test unique_combination(model, columns, published_files_of=none,
                           changed_fiscal_years=false) %}
{%- set published = none %}
{%- if published_files_of and execute %}
{%- set published = _model_relation('int_indicator_inputs_published') %}
{%- endif %}
{%- set keys = columns | join(', ') %}
{%- if changed_fiscal_years %}
with rebuilt_rows as (
    select checked.*
    from {{ model }} as checked
    {{ semi_join_changed_fiscal_years('checked') }}
)

select {{ keys }}, count(*) as occurrences
from rebuilt_rows
group by {{ keys }}
having count(*) > 1
{%- elif published is not none %}
with unpublished_keys as (
    select distinct {{ keys }}
    from {{ model }}
    where file_id not in (
        select input_key from {{ published }}
        where input_kind = 'file' and source_mart = '{{ published_files_of }}'
    )
)

select {{ keys }}, count(*) as occurrences
from {{ model }}
semi join unpublished_keys using ({{ keys }})
group by {{ keys }}
having count(*) > 1
{%- else %}
select {{ keys }}, count(*) as occurrences
from {{ model }}
group by {{ keys }}
having count(*) > 1
{%- endif %}
{% endtest %}

{#- The relation of a model of this project when it exists in the warehouse, else none (read
    by name: a test cannot ref a model built after the one it tests). -#}
{% macro _model_relation(name) %}
{%- set node = graph.nodes.get('model.' ~ project_name ~ '.' ~ name) %}
{%- if node %}
{{- return(adapter.get_relation(database=node.database, schema=node.schema,
                                identifier=node.alias)) }}
{%- endif %}
{{- return(none) }}
{% endmacro %}
