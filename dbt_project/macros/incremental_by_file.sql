{#- Incremental marts keyed on the file each row came from (file_id, the raw tables'
    _file_id). Ingestion never changes a loaded file's rows: a corrected re-submission
    supersedes a file by deleting its rows and inserting the replacement's under a new
    file_id. So an incremental build deletes the rows of files no longer in the source
    (pre-hook delete_retired_files) and inserts the rows of files not yet in the model
    (new_files_only); a full refresh rebuilds everything and gives the same table. -#}

{#- Pre-hook: delete the model's rows whose file is no longer in `source_relation`. A table
    an older pocmon built without file_id is emptied: its rows are all built again. -#}
{% macro delete_retired_files(source_relation) -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    {%- if not built_without("file_id") %}
    where file_id not in (select distinct file_id from {{ source_relation }})
    {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- WHERE clause: only the rows of files the model does not hold yet. -#}
{% macro new_files_only(source_relation) -%}
    {%- if is_incremental() %}
    where file_id in (
        select distinct file_id from {{ source_relation }}
        except
        select distinct file_id from {{ this }}
    )
    {%- endif %}
{%- endmacro %}

{#- Does the model's table lack `column` (built by an older pocmon, before the column)? False
    on a full build and in a unit test (whose `this` is a fixture, not a table). -#}
{% macro built_without(column) -%}
    {%- if is_incremental() and this is not string -%}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute="name") | list -%}
    {{- return(columns | length > 0 and column not in columns) -}}
    {%- endif -%}
    {{- return(false) -}}
{%- endmacro %}
