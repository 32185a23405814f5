{#- Rows whose combination of columns appears more than once; an empty result passes.

    With published_files_of (a mart incremental by file, e.g. fct_patrols), once the
    indicator values were published (int_indicator_inputs_published lists that mart's files),
    only the keys of the files published since are looked for in the whole table: the keys of
    published files were checked against every row then, and a failed run publishes nothing,
    so the next one checks the same files again. A weekly run then reads the key columns of
    the new files' rows, not a group-by of millions of keys. -#}
{% test unique_combination(model, columns, published_files_of=none) %}
{%- set published = none %}
{%- if published_files_of and execute %}
{%- set node = graph.nodes.get('model.' ~ project_name ~ '.int_indicator_inputs_published') %}
{%- if node %}
{%- set published = adapter.get_relation(database=node.database, schema=node.schema,
                                         identifier=node.alias) %}
{%- endif %}
{%- endif %}
{%- set keys = columns | join(', ') %}
{%- if published is not none %}
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
