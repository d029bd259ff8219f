{#-
    Fails (one row, with the newest value) when the newest `field` of `model` is older than `count`
    `period`s (minute, hour, day) or when `model` is empty: the freshness check of a table a
    pipeline step writes, where dbt's source freshness cannot reach (it is a model, so that the
    lineage runs through that step).
-#}
{% test recency(model, field, count, period) %}
    select newest
    from (
        select max({{ field }}) as newest
        from {{ model }}
    ) as newest_row
    where
        newest is null
        or newest < {{ dbt.current_timestamp() }} - interval {{ count }} {{ period }}
{% endtest %}
