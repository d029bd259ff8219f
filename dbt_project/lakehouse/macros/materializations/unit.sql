{#-
    dbt's unit-test materialization, for Spark through the Thrift server. dbt's own creates its
    scratch view with `run_query`, which fetches a result; PyHive cannot fetch the empty result the
    Thrift server returns for DDL (`'NoneType' object is not iterable`, dbt-labs/dbt-adapters#481),
    so every unit test errored. Here the DDL runs as a plain statement; the rest is dbt's: type the
    expected rows like the model's own columns, and compare them with what the model's SQL gives on
    the given rows.
-#}
{%- materialization unit, adapter='spark' -%}
    {%- set expected_rows = config.get('expected_rows') -%}
    {%- set expected_sql = config.get('expected_sql') -%}
    {%- set compared_columns = expected_rows[0].keys() if expected_rows | length > 0
        else get_columns_in_query(sql) -%}

    {%- set scratch = make_temp_relation(this.incorporate(type='table')) -%}
    {%- call statement('unit_test_scratch_view') -%}
        {{ get_create_table_as_sql(True, scratch, get_empty_subquery_sql(sql)) }}
    {%- endcall -%}
    {%- set data_types, quoted = {}, {} -%}
    {%- for column in adapter.get_columns_in_relation(scratch) -%}
        {%- do data_types.update({column.name | lower: column.data_type}) -%}
        {%- do quoted.update({column.name | lower: column.quoted}) -%}
    {%- endfor -%}
    {%- set compared_quoted = [] -%}
    {%- for name in compared_columns -%}
        {%- do compared_quoted.append(quoted[name | lower]) -%}
    {%- endfor -%}

    {%- set expected_sql = expected_sql or get_expected_sql(expected_rows, data_types, quoted) -%}
    {%- call statement('main', fetch_result=True) -%}
        {{ get_unit_test_sql(sql, expected_sql, compared_quoted) }}
    {%- endcall -%}
    {%- do adapter.drop_relation(scratch) -%}
    {{ return({'relations': []}) }}
{%- endmaterialization -%}
