{#-
    Classification of custom_track (docs/metrics.md, cleaning rule 4): spaces trimmed, case
    ignored; one of the counted kinds, or null for anything else (null, empty, `alive`, ...), which
    no metric counts.
-#}
{% macro jobpulse__track_kind(column) -%}
    case lower(trim({{ column }}))
    {%- for kind in var('jobpulse__counted_tracks') %}
        when '{{ kind }}' then '{{ kind }}'
    {%- endfor %}
    end
{%- endmacro %}
