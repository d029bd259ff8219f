{#-
    dbt-spark's merge, with one addition: when the model is partitioned, the merge is told which
    partitions the new rows fall in, so Delta rewrites and even reads only those (without it, MERGE
    scans the whole target to find matches, and its cost grows with history). The model itself
    names them (jobpulse__merge_scope), from the few new rows its own incremental filter selects:
    found before the merge, they would cost a second run of the model's query. And when the model
    sets `reprocess_by` and the run is a reprocess, the target rows of the reprocessed dates that
    the new rows do not match are deleted in the same MERGE: they are cells that no longer exist,
    and the model's new rows hold every cell of those dates. A model that sets `merge_insert_only`
    never updates a row it holds: Delta then rewrites no file, it only appends.
-#}
{% macro spark__get_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) %}
    {%- set predicates = [] if incremental_predicates is none else [] + incremental_predicates -%}
    {%- set reprocess_by = config.get('reprocess_by', none) -%}
    {%- set reprocess = reprocess_by and jobpulse_common.reprocess_dates() -%}
    {%- if config.get('partition_by', none) -%}
        {%- set scope = jobpulse__merge_scope_of(sql) -%}
        {%- for column, literals in scope.partitions.items() -%}
            {%- set in_scope = jobpulse__in_list('DBT_INTERNAL_DEST.' ~ column, literals) -%}
            {%- if reprocess and column == reprocess_by -%}
                {%- set in_scope = '(' ~ in_scope ~ ' or '
                    ~ jobpulse_common.in_reprocess('DBT_INTERNAL_DEST.' ~ column) ~ ')' -%}
            {%- endif -%}
            {%- do predicates.append(in_scope) -%}
        {%- endfor -%}
        {%- for column, least in scope.at_least.items() -%}
            {%- do predicates.append('DBT_INTERNAL_DEST.' ~ column ~ ' >= ' ~ least) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set delete_unmatched = jobpulse_common.in_reprocess('DBT_INTERNAL_DEST.' ~ reprocess_by)
        if reprocess else none -%}
    {{ return(dbt_spark_merge_with_predicates(
        target, source, unique_key, predicates, delete_unmatched
    )) }}
{% endmacro %}

{% macro jobpulse__merge_scope(partitions, at_least={}) -%}
    {#-
        Called at the end of a partitioned incremental model: the partitions its new rows fall in
        (`partitions`: per partition column, the SQL literals of jobpulse__distinct_values) and the
        least value of any other column a target row it may match holds (`at_least`). Written as a
        comment in the compiled SQL, the one channel from a model's run to its materialization
        (config() is read at parse time, before any query).
    -#}
    {%- if is_incremental() -%}
        /* jobpulse merge scope {{ {'partitions': partitions, 'at_least': at_least} | tojson }} */
    {%- endif -%}
{%- endmacro %}

{% macro jobpulse__merge_scope_of(compiled_sql) -%}
    {%- set found = modules.re.search('/[*] jobpulse merge scope ([{].*[}]) [*]/', compiled_sql) -%}
    {%- if found is none -%}
        {{ exceptions.raise_compiler_error(
            'partitioned incremental model ' ~ model.unique_id ~ ' names no merge scope: end it with '
            ~ 'jobpulse__merge_scope(...)'
        ) }}
    {%- endif -%}
    {{ return(fromjson(found.group(1))) }}
{%- endmacro %}

{% macro dbt_spark_merge_with_predicates(
    target, source, unique_key, predicates, delete_unmatched=none
) %}
    {#-
        The body of dbt-spark 1.7's spark__get_merge_sql, reached with the extra predicates. The
        target's columns are read (a `describe`, a round trip) only when the update names them;
        otherwise it is `update set *`, which sets the same columns.
    -#}
    {%- set accumulate = config.get('merge_accumulate', none) or [] -%}
    {%- set update_columns = none -%}
    {%- if config.get('merge_update_columns') or config.get('merge_exclude_columns') or accumulate -%}
        {%- set dest_columns = adapter.get_columns_in_relation(target) -%}
        {#- none unless merge_update_columns or merge_exclude_columns names them -#}
        {%- set update_columns = get_merge_update_columns(
            config.get('merge_update_columns'), config.get('merge_exclude_columns'), dest_columns
        ) or dest_columns | map(attribute='name') | list -%}
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
