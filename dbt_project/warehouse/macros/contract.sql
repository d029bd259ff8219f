{#-
    Model contracts on MySQL, which dbt-mysql 1.7 does not enforce: a model with `contract:
    {enforced: true}` declares every column's `data_type`, and before its table is created (a full
    build, or each incremental run's new rows) its query's columns are compared with them: a
    missing, extra or differently typed column fails the build, naming each difference. The query's
    shape is read from a temporary table of none of its rows (MySQL has no other way to type a
    query's columns). Integer display widths (`bigint(20)`) are ignored, and `integer` is `int`.
-#}

{% macro jobpulse__normalized_type(data_type) -%}
    {%- set integer_width = '^(tinyint|smallint|mediumint|int|integer|bigint)[(][0-9]+[)]' -%}
    {%- set without_width = modules.re.sub(integer_width, '\\1', data_type | lower | trim) -%}
    {{ return('int' if without_width == 'integer' else without_width) }}
{%- endmacro %}

{% macro jobpulse__assert_contract(sql) -%}
    {%- set declared = {} -%}
    {%- for column in model.columns.values() -%}
        {%- set data_type = jobpulse__normalized_type(column.data_type or '(no data_type)') -%}
        {%- do declared.update({column.name: data_type}) -%}
    {%- endfor -%}
    {%- set scratch = this.incorporate(path={'identifier': this.identifier ~ '__dbt_contract'})
        .include(database=False) -%}
    {%- do run_query('drop temporary table if exists ' ~ scratch) -%}
    {%- do run_query(
        'create temporary table ' ~ scratch
        ~ ' as select * from (' ~ sql ~ ') as contract_query limit 0'
    ) -%}
    {%- set actual = {} -%}
    {%- for row in run_query('show columns from ' ~ scratch) -%}
        {%- do actual.update({row[0]: jobpulse__normalized_type(row[1])}) -%}
    {%- endfor -%}
    {%- do run_query('drop temporary table ' ~ scratch) -%}
    {%- set differences = [] -%}
    {%- for name, data_type in declared.items() -%}
        {%- if name not in actual -%}
            {%- do differences.append(name ~ ': declared ' ~ data_type ~ ', missing from the query')
            -%}
        {%- elif actual[name] != data_type -%}
            {%- do differences.append(
                name ~ ': declared ' ~ data_type ~ ', the query gives ' ~ actual[name]
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for name, data_type in actual.items() if name not in declared -%}
        {%- do differences.append(name ~ ': ' ~ data_type ~ ' in the query, not in the contract')
        -%}
    {%- endfor -%}
    {%- if differences -%}
        {{ exceptions.raise_compiler_error(
            "The contract of " ~ this ~ " is broken:\n  " ~ differences | join("\n  ")
        ) }}
    {%- endif -%}
{%- endmacro %}
