{#-
    dbt's view materialization, for Spark, minus the work when nothing changed: the view is replaced
    only when its compiled SQL differs from the one it was created from (an md5 kept in a table
    property), or on `--full-refresh`. Replacing a view costs a metastore round trip or two and,
    worse, a Thrift call that holds up the models after it in every run, near real time's critical
    path; the definition changes only with a deployment.
-#}
{%- materialization view, adapter='spark' -%}
    {%- set definition_md5 = local_md5(sql) -%}
    {%- set existing = load_cached_relation(this) -%}
    {%- if existing is not none and existing.is_view and not should_full_refresh()
        and jobpulse__view_definition(this) == definition_md5 -%}
        {{ run_hooks(pre_hooks) }}
        {%- call noop_statement('main', 'unchanged') -%}{%- endcall -%}
        {{ run_hooks(post_hooks) }}
        {{ return({'relations': [this]}) }}
    {%- endif -%}
    {%- set relations = create_or_replace_view() -%}
    {%- call statement('jobpulse_view_definition') -%}
        alter view {{ this }} set tblproperties ('jobpulse.definition_md5' = '{{ definition_md5 }}')
    {%- endcall -%}
    {{ return(relations) }}
{%- endmaterialization -%}

{% macro jobpulse__view_definition(relation) -%}
    {#- the md5 the view was created from, or none (a view another tool made, or an older one) -#}
    {%- set result = run_query(
        "show tblproperties " ~ relation ~ " ('jobpulse.definition_md5')"
    ) -%}
    {%- set row = result.rows[0] if result.rows | length > 0 else none -%}
    {{ return(row[1] if row is not none and row[0] == 'jobpulse.definition_md5' else none) }}
{%- endmacro %}
