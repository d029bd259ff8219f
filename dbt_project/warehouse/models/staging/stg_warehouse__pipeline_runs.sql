with source as (
    select * from {{ source('warehouse', 'pipeline_runs') }}
),

final as (
    select
        run_id,
        source,
        status,
        started_at,
        finished_at,
        events_collected,
        events_dead_lettered,
        events_landed,
        cells_changed,
        landed_through_batch,
        step_seconds,
        error
    from source
)

select * from final
