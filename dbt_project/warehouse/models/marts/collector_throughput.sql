{#- The collectors' reports over time: what each added since the previous one, and the lag then; a
    rate over a time range is a sum of these (the pipeline-health dashboard, the dead-letter alert). -#}

with samples as (
    select * from {{ ref('stg_warehouse__collector_samples') }}
),

final as (
    select
        instance_id,
        sampled_at,
        consumed,
        written,
        dead_lettered,
        lag_messages
    from samples
)

select * from final
