{#-
    dbt-spark's merge, with one addition: when the model is partitioned, the merge is told which
    partitions the new rows fall in, so Delta rewrites and even reads only those (without it, MERGE
    scans the whole target to find matches, and its cost grows with history). The partition values
    are read from the new rows themselves before the merge, which are cached for it so that the
    model's query runs once, not twice (the post-hook jobpulse__uncache_merge_source frees them: the
    cache is the Spark application's, not the session's). And when the model sets `reprocess_by`
    and the run is a reprocess, the target rows of the reprocessed dates that the new rows do not
    match are deleted in the same MERGE: they are cells that no longer exist, and the model's new
    rows hold every cell of those dates. A model that sets `merge_insert_only` never updates a row
    it holds: Delta then rewrites no file, it only appends.
-#}
{% macro spark__get_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) %}
    {%- set partition_by = config.get('partition_by', none) -%}
    {%- set predicates = [] if incremental_predicates is none else [] + incremental_predicates -%}
    {%- if partition_by -%}
        {#- computed once for the partition values and the merge (jobpulse__uncache_merge_source after) -#}
        {%- call statement('cache_merge_source') -%} cache table {{ source }} {%- endcall -%}
        {%- set columns = [partition_by] if partition_by is string else partition_by -%}
        {%- set batch_column = config.get('merge_match_from_batch', none) -%}
        {%- set found = jobpulse__distinct_values(source, columns, batch_column) -%}
        {%- for column in columns -%}
            {%- do predicates.append(jobpulse__in_list('DBT_INTERNAL_DEST.' ~ column, found[column])) -%}
        {%- endfor -%}
        {%- if batch_column and found.min_of is not none -%}
            {%- do predicates.append('DBT_INTERNAL_DEST.' ~ batch_column ~ ' >= ' ~ found.min_of) -%}
        {%- endif -%}
    {%- endif -%}
    {%- set reprocess_by = config.get('reprocess_by', none) -%}
    {%- set delete_unmatched = jobpulse_common.in_reprocess('DBT_INTERNAL_DEST.' ~ reprocess_by)
        if reprocess_by and jobpulse_common.reprocess_dates() else none -%}
    {{ return(dbt_spark_merge_with_predicates(
        target, source, unique_key, predicates, delete_unmatched
    )) }}
{% endmacro %}

{% macro dbt_spark_merge_with_predicates(
    target, source, unique_key, predicates, delete_unmatched=none
) %}
    {#- the body of dbt-spark 1.7's spark__get_merge_sql, reached with the extra predicates -#}
    {%- set dest_columns = adapter.get_columns_in_relation(target) -%}
    {%- set update_columns = get_merge_update_columns(
        config.get('merge_update_columns'), config.get('merge_exclude_columns'), dest_columns
    ) -%}
    {%- set accumulate = config.get('merge_accumulate', none) or [] -%}
    {%- if accumulate -%}
        {%- set update_columns = update_columns or dest_columns | map(attribute='name') | list -%}
    {%- endif -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- for key in keys -%}
        {%- do predicates.append('DBT_INTERNAL_SOURCE.' ~ key ~ ' = DBT_INTERNAL_DEST.' ~ key) -%}
    {%- endfor -%}
    merge into {{ target }} as DBT_INTERNAL_DEST
        using {{ source }} as DBT_INTERNAL_SOURCE
        on {{ predicates | join('\n        and ') }}
        {%- if not config.get('merge_insert_only', false) %}
        when matched then update set
        {%- if update_columns is none %} *
        {%- else %}
            {% for column_name in update_columns -%}
                {{ column_name }} =
                {%- if column_name in accumulate %} DBT_INTERNAL_DEST.{{ column_name }} +{% endif %}
                DBT_INTERNAL_SOURCE.{{ column_name }}{{ ", " if not loop.last }}
            {%- endfor %}
        {%- endif %}
        {%- endif %}
        when not matched then insert *
        {%- if delete_unmatched %}
        when not matched by source and {{ delete_unmatched }} then delete
        {%- endif %}
{% endmacro %}

{% macro jobpulse__uncache_merge_source() %}
    {#-
        post-hook: free the cached source of the merge, which outlives dbt's session. Dropping the
        temporary view does it; `uncache table` on it does not when its query has a window
        (Spark then fails to match the cached plan, and the cache would stay, and be recomputed
        by every later write to a table it reads).
    -#}
    {%- if is_incremental() and config.get('partition_by', none) -%}
        drop view if exists {{ this.identifier }}__dbt_tmp
    {%- endif -%}
{% endmacro %}
