{#-
    Fails with every row for which `expression` is not true (an invariant such as `clicks >= 0`).
    Restrict the rows with dbt's own `where` config.
-#}
{% test expression_is_true(model, expression, column_name=none) %}
    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)
{% endtest %}
