{#-
    The copy of the lakehouse's fct_tracking_quality_daily that `jobpulse.publish` upserts; this
    query says what it copies and is never run.
-#}

with lakehouse_quality as (
    select * from {{ jobpulse_warehouse.lakehouse_mart('fct_tracking_quality_daily') }}
),

final as (
    select
        arrival_date,
        deliveries,
        events,
        events_without_job,
        events_unparseable_ts,
        events_unclassified_track,
        last_ingest_batch,
        current_timestamp() as updated_at
    from lakehouse_quality
)

select * from final
