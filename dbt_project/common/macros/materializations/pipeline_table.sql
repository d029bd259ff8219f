{#-
    A table one of the pipeline's own steps writes, not dbt: the landing table (the Spark ingest,
    from the Cassandra raw log) and the MySQL copies of the lakehouse marts (`jobpulse.publish`).
    Declared as a model so that the lineage runs through the step that fills it, and so that its
    columns, contract and tests are documented where the models that read it are. Building it writes
    nothing: it checks that the table exists (the migrations create it) and hands dbt the relation.
-#}
{% materialization pipeline_table, default %}
    {%- set written_by = config.get('meta', {}).get('written_by', 'a pipeline step') -%}
    {%- set existing = adapter.get_relation(
        database=this.database, schema=this.schema, identifier=this.identifier
    ) -%}
    {%- if existing is none -%}
        {{ exceptions.raise_compiler_error(
            this ~ " does not exist: it is created by `jobpulse migrate` and written by "
            ~ written_by
        ) }}
    {%- endif -%}
    {%- call noop_statement('main', 'written by ' ~ written_by) -%}{%- endcall -%}
    {{ return({'relations': [existing]}) }}
{% endmaterialization %}
