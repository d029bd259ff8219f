{#-
    The pre-hook of the MySQL mart in a reprocess: delete the mart's cells of the reprocessed dates
    that the copied facts no longer have (the publish replaced those dates whole). Nothing in an
    ordinary run, where cells are only ever added or changed.
-#}

{% macro jobpulse__delete_vanished_cells(grain) -%}
    {%- if is_incremental() and jobpulse_common.reprocess_dates() -%}
    delete from {{ this }}
    where {{ jobpulse_common.in_reprocess('dates') }}
        and not exists (
            select 1
            from {{ ref('stg_warehouse__job_hourly_facts') }} as facts
            where
            {%- for column in grain %}
                {{ "and " if not loop.first }}facts.{{ column }} = {{ this }}.{{ column }}
            {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}
