{#-
    A model's database: the target's (the dbt models' own), or exactly the one a model names (the
    landing table, which lives in the ingest's database), not dbt's default `<target
    schema>_<name>`.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
