{#-
    The creation time carried by a version-1 UUID (an event's `create_time`): 100-ns ticks since 1582-10-15 in
    its time_hi, time_mid and time_low fields. Spark SQL only (the lakehouse target).
-#}

{% macro jobpulse__timeuuid_hour(column) -%}
    {{ return(adapter.dispatch('jobpulse__timeuuid_hour', 'jobpulse')(column)) }}
{%- endmacro %}

{% macro spark__jobpulse__timeuuid_hour(column) -%}
    {#- hours since 1970-01-01 UTC: (ticks - ticks at the Unix epoch) / ticks per hour -#}
    cast(floor((cast(conv(concat(substring({{ column }}, 16, 3), substring({{ column }}, 10, 4),
        substring({{ column }}, 1, 8)), 16, 10) as bigint) - 122192928000000000) / 36000000000) as bigint)
{%- endmacro %}

{% macro default__jobpulse__timeuuid_hour(column) -%}
    {{ jobpulse__only_on_spark('jobpulse__timeuuid_hour') }}
{%- endmacro %}
