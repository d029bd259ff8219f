{#- Fails with every row for which `expression` is not true (an invariant such as `clicks >= 0`). -#}
{% test expression_is_true(model, expression, where=none, column_name=none) %}
    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)
    {%- if where %} and ({{ where }}){% endif %}
{% endtest %}
