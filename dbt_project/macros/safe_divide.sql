{#- A ratio that is null (no data) when the denominator is 0 or null, never 0. -#}
{% macro safe_divide(numerator, denominator) -%}
    ({{ numerator }}) / nullif({{ denominator }}, 0)
{%- endmacro %}
