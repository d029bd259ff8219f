{#-
    The calendar date and hour written in `ts` (docs/metrics.md, cleaning rule 3): read from the
    text itself, so neither the machine's, the JVM's nor the Spark session's time zone can shift
    them. Accepted: `YYYY-MM-DD HH:MM:SS` with a space or a `T`, optional fractional seconds,
    surrounding spaces; anything else (or an impossible date such as 2026-02-30) gives null, and
    the event is not counted.
-#}

{% macro jobpulse__ts_is_valid(column) -%}
    {#- the same pattern as ingest/spark/transforms.py's TS_PATTERN (a test holds them equal) -#}
    {%- set date_time =
        '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]+)?$' %}
    coalesce(trim({{ column }}) rlike '{{ date_time }}', false)
{%- endmacro %}

{% macro jobpulse__event_date(column) -%}
    case
        when {{ jobpulse__ts_is_valid(column) }}
            then to_date(substring(trim({{ column }}), 1, 10), 'yyyy-MM-dd')
    end
{%- endmacro %}

{% macro jobpulse__event_hour(column) -%}
    case
        when {{ jobpulse__event_date(column) }} is not null
            then cast(substring(trim({{ column }}), 12, 2) as int)
    end
{%- endmacro %}
