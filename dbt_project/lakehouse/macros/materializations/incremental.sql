{#-
    dbt-spark's incremental materialization (SQL models), minus a statement per run where it buys
    nothing: a merge whose model does not check schema changes (`on_schema_change` ignore) reads the
    model's query as its own subquery, where dbt-spark first creates a temporary view of it. Spark
    keeps a view's text, not its plan, so the merge analysed the query again anyway: the view cost a
    round trip and a planning of its Delta tables on near real time's critical path. A model that
    checks its schema (`on_schema_change: fail`) keeps the view, whose columns that check reads.
-#}
{% materialization incremental, adapter='spark', supported_languages=['sql'] -%}
    {%- set file_format = dbt_spark_validate_get_file_format(config.get('file_format', default='parquet')) -%}
    {%- set strategy = dbt_spark_validate_get_incremental_strategy(
        config.get('incremental_strategy') or 'append', file_format
    ) -%}
    {%- set unique_key = config.get('unique_key', none) -%}
    {%- set partition_by = config.get('partition_by', none) -%}
    {%- set on_schema_change = incremental_validate_on_schema_change(
        config.get('on_schema_change'), default='ignore'
    ) -%}
    {%- set incremental_predicates = config.get('predicates', none)
        or config.get('incremental_predicates', none) -%}
    {%- set existing_relation = load_relation(this) -%}
    {#- a temporary view has no database or schema -#}
    {%- set tmp_relation = this.incorporate(path={'identifier': this.identifier ~ '__dbt_tmp'})
        .include(database=false, schema=false) -%}

    {%- if strategy in ['insert_overwrite', 'microbatch'] and partition_by -%}
        {%- call statement() -%}
            set spark.sql.sources.partitionOverwriteMode = DYNAMIC
        {%- endcall -%}
    {%- endif -%}

    {{ run_hooks(pre_hooks) }}

    {%- if existing_relation is none or existing_relation.is_view or should_full_refresh() -%}
        {#- a Delta table is replaced by `create or replace` itself -#}
        {%- if existing_relation is not none
            and not (file_format == 'delta' and existing_relation.is_delta) -%}
            {%- do adapter.drop_relation(existing_relation) -%}
        {%- endif -%}
        {%- call statement('main') -%}
            {{ create_table_as(False, this, compiled_code) }}
        {%- endcall -%}
        {%- do persist_constraints(this, model) -%}
    {%- else -%}
        {%- if on_schema_change == 'ignore' and strategy == 'merge' -%}
            {%- set source = '(\n' ~ compiled_code ~ '\n)' -%}
        {%- else -%}
            {%- call statement('create_tmp_relation') -%}
                {{ create_table_as(True, tmp_relation, compiled_code) }}
            {%- endcall -%}
            {%- do process_schema_changes(on_schema_change, tmp_relation, existing_relation) -%}
            {%- set source = tmp_relation -%}
        {%- endif -%}
        {%- call statement('main') -%}
            {{ dbt_spark_get_incremental_sql(
                strategy, source, this, existing_relation, unique_key, incremental_predicates
            ) }}
        {%- endcall -%}
    {%- endif -%}

    {%- do apply_grants(this, config.get('grants'), should_revoke(existing_relation, should_full_refresh())) -%}
    {%- do persist_docs(this, model) -%}

    {{ run_hooks(post_hooks) }}

    {{ return({'relations': [this]}) }}
{%- endmaterialization %}
