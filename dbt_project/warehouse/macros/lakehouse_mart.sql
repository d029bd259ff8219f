{#-
    The lakehouse mart that `jobpulse.publish` copies into a published table: the lakehouse model
    itself when the lakehouse project parses this one as its package (its docs site then draws one
    lineage, through the publish), else the source that stands for it here.
-#}
{% macro lakehouse_mart(name) -%}
    {%- if var('jobpulse__lakehouse_in_graph') -%}
        {{ return(ref('jobpulse_lakehouse', name)) }}
    {%- else -%}
        {{ return(source('lakehouse', name)) }}
    {%- endif -%}
{%- endmacro %}
