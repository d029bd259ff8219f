{#- Data quality per arrival day, as the pipeline-health dashboard shows it. -#}

with quality as (
    select * from {{ ref('tracking_quality_daily') }}
),

final as (
    select
        arrival_date,
        deliveries,
        events,
        deliveries - events as redeliveries,
        events_without_job,
        events_unparseable_ts,
        events_unclassified_track,
        events
        - events_without_job
        - events_unparseable_ts
        - events_unclassified_track as events_counted,
        updated_at
    from quality
)

select * from final
