{% macro jobpulse__first_deliveries(landed, first_arrivals) -%}
    {#-
        The landed rows of `landed` that are an event's first arrival in `first_arrivals` (both CTE
        names), numbered by `delivery`: keep delivery = 1, since two deliveries of one id in one
        batch can share the microsecond of arrival.
    -#}
    select
        {{ landed }}.*,
        row_number() over (
            partition by {{ landed }}.create_time order by {{ landed }}.arrived_at
        ) as delivery
    from {{ landed }}
    inner join {{ first_arrivals }}
        on
            {{ landed }}.create_time = {{ first_arrivals }}.create_time
            and {{ landed }}.ingest_batch = {{ first_arrivals }}.ingest_batch
            and {{ landed }}.arrived_at = {{ first_arrivals }}.arrived_at
{%- endmacro %}
