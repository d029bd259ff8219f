{#-
    The creation time carried by a version-1 UUID (an event's `create_time`, a change's
    `arrival_id`): 100-ns ticks since 1582-10-15 in its time_hi, time_mid and time_low fields. Spark
    SQL only (the lakehouse target).
-#}

{% macro jobpulse__timeuuid_unix_ticks(column) -%}
    {#- 100-ns ticks since 1970-01-01 UTC: the UUID's ticks - the ticks at the Unix epoch -#}
    (cast(conv(concat(substring({{ column }}, 16, 3), substring({{ column }}, 10, 4),
        substring({{ column }}, 1, 8)), 16, 10) as bigint) - 122192928000000000)
{%- endmacro %}

{% macro jobpulse__timeuuid_hour(column) -%}
    {#- hours since 1970-01-01 UTC -#}
    cast(floor({{ jobpulse__timeuuid_unix_ticks(column) }} / 36000000000) as bigint)
{%- endmacro %}

{% macro jobpulse__timeuuid_timestamp(column) -%}
    timestamp_micros(cast(floor({{ jobpulse__timeuuid_unix_ticks(column) }} / 10) as bigint))
{%- endmacro %}
