with source as (
    select * from {{ source('warehouse', 'collector_samples') }}
),

final as (
    select
        instance_id,
        sampled_at,
        consumed,
        written,
        dead_lettered,
        lag_messages
    from source
)

select * from final
