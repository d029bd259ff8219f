{#-
    dbt-mysql wraps the model's query in parentheses (`create view v as ( ... )`), which MariaDB
    rejects when the query starts with WITH, as every model here does. Without the parentheses both
    MariaDB 10.11 (local stack) and MySQL 8.4 (compose) accept it.
-#}
{% macro mysql__create_view_as(relation, sql) -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {{ sql_header if sql_header is not none }}
    create view {{ relation }} as
    {{ sql }}
{%- endmacro %}

{#- ... and enforces a model contract (macros/contract.sql) before the table is made. -#}
{% macro mysql__create_table_as(temporary, relation, sql) -%}
    {%- set contract = config.get('contract') -%}
    {%- if execute and contract and contract.enforced -%}
        {%- do jobpulse__assert_contract(sql) -%}
    {%- endif -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {{ sql_header if sql_header is not none }}
    create {% if temporary %}temporary {% endif %}table {{ relation.include(database=False) }} as
    {{ sql }}
{%- endmacro %}
