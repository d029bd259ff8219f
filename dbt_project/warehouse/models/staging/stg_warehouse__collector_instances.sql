with source as (
    select * from {{ source('warehouse', 'collector_instances') }}
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
    from source
)

select * from final
