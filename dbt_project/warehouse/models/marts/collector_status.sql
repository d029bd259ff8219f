{#- Every collector process that reported, with its totals and lag as of its last report, for the
    pipeline-health dashboard and the alerts (the freshest row is the collector now). -#}

with instances as (
    select * from {{ ref('stg_warehouse__collector_instances') }}
),

final as (
    select
        instance_id,
        consumer_group,
        topic,
        host,
        pid,
        mode,
        started_at,
        updated_at,
        stopped_at,
        consumed,
        written,
        dead_lettered,
        dead_lettered_by_reason,
        batches,
        retries,
        lag_messages
    from instances
)

select * from final
