{#-
    The calendar date and hour written in `ts` (spec, cleaning rule 3): read from the text itself, so neither
    the machine's, the JVM's nor the Spark session's time zone can shift them. Accepted: `YYYY-MM-DD HH:MM:SS`
    with a space or a `T`, optional fractional seconds, surrounding spaces; anything else (or an impossible
    date such as 2026-02-30) gives null, and the event is not counted.

    Spark SQL (the lakehouse target); other adapters get default__, which fails if it is ever executed (the
    MySQL target parses these macros but never runs the lakehouse models that call them).
-#}

{% macro jobpulse__only_on_spark(name) -%}
    {%- if execute -%}
        {{ exceptions.raise_compiler_error(name ~ " is written for Spark SQL (the lakehouse target)") }}
    {%- endif -%}
    null
{%- endmacro %}

{% macro jobpulse__ts_is_valid(column) -%}
    {{ return(adapter.dispatch('jobpulse__ts_is_valid', 'jobpulse')(column)) }}
{%- endmacro %}

{% macro spark__jobpulse__ts_is_valid(column) -%}
    coalesce(trim({{ column }}) rlike '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]+)?$', false)
{%- endmacro %}

{% macro jobpulse__event_date(column) -%}
    {{ return(adapter.dispatch('jobpulse__event_date', 'jobpulse')(column)) }}
{%- endmacro %}

{% macro spark__jobpulse__event_date(column) -%}
    case
        when {{ jobpulse__ts_is_valid(column) }}
            then to_date(substring(trim({{ column }}), 1, 10), 'yyyy-MM-dd')
    end
{%- endmacro %}

{% macro jobpulse__event_hour(column) -%}
    {{ return(adapter.dispatch('jobpulse__event_hour', 'jobpulse')(column)) }}
{%- endmacro %}

{% macro spark__jobpulse__event_hour(column) -%}
    case
        when {{ jobpulse__event_date(column) }} is not null
            then cast(substring(trim({{ column }}), 12, 2) as int)
    end
{%- endmacro %}

{% macro default__jobpulse__ts_is_valid(column) -%}
    {{ jobpulse__only_on_spark('jobpulse__ts_is_valid') }}
{%- endmacro %}

{% macro default__jobpulse__event_date(column) -%}
    {{ jobpulse__only_on_spark('jobpulse__event_date') }}
{%- endmacro %}

{% macro default__jobpulse__event_hour(column) -%}
    {{ jobpulse__only_on_spark('jobpulse__event_hour') }}
{%- endmacro %}
