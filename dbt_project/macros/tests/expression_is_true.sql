{#- Rows where a SQL expression does not hold; an empty result passes. -#}
{% test expression_is_true(model, expression, column_name=none) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}
