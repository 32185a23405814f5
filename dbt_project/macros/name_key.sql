{#- A published name as a lookup key: lower case, no accents, single spaces (as
    pipelines.reference.name_key does in Python). -#}
{% macro name_key(expr) -%}
    regexp_replace(trim(strip_accents(lower({{ expr }}))), '\s+', ' ', 'g')
{%- endmacro %}
