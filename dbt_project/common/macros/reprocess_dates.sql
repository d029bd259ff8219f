{#-
    The event dates a reprocess rebuilds (jobpulse/reprocessing.py), from the vars
    `jobpulse__reprocess_from` and `jobpulse__reprocess_to`: [] in an ordinary run, else [first,
    last] as quoted date literals. Anything but two ISO dates in order is a compile error, so a typo
    never runs as an ordinary run.
-#}

{% macro reprocess_dates() -%}
    {%- set first = var('jobpulse__reprocess_from', '') | string | trim -%}
    {%- set last = var('jobpulse__reprocess_to', '') | string | trim -%}
    {%- if first in ('', 'None') and last in ('', 'None') -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set iso_date = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' -%}
    {%- set both_dates = modules.re.match(iso_date, first) and modules.re.match(iso_date, last) -%}
    {%- if not both_dates or last < first -%}
        {{ exceptions.raise_compiler_error(
            "reprocess dates must be two YYYY-MM-DD dates in order, got '"
            ~ first ~ "' and '" ~ last ~ "'"
        ) }}
    {%- endif -%}
    {{ return(["'" ~ first ~ "'", "'" ~ last ~ "'"]) }}
{%- endmacro %}

{% macro in_reprocess(column) -%}
    {#- `column` within the reprocessed dates (call only when reprocess_dates() is not empty) -#}
    {%- set dates = jobpulse_common.reprocess_dates() -%}
    {{ column }} between cast({{ dates[0] }} as date) and cast({{ dates[1] }} as date)
{%- endmacro %}
