{#-
    Keys and indexes of a MySQL table built by dbt (CREATE TABLE AS SELECT makes none). Idempotent,
    so it runs as a post-hook on every build; MySQL has no CREATE INDEX IF NOT EXISTS, hence the
    lookup.
-#}
{% macro jobpulse__ensure_index(relation, name, columns, unique=false) -%}
    {%- if execute -%}
        {%- set lookup -%}
            select count(*) from information_schema.statistics
            where table_schema = '{{ relation.schema }}'
              and table_name = '{{ relation.identifier }}'
              and index_name = '{{ name }}'
        {%- endset -%}
        {%- if run_query(lookup).columns[0].values()[0] == 0 -%}
            {%- do run_query(
                'alter table ' ~ relation ~ ' add ' ~ ('unique key ' if unique else 'index ')
                ~ name ~ ' (' ~ columns | join(', ') ~ ')'
            ) -%}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}
