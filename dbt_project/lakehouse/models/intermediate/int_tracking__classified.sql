{#-
    Cleaning rule 4: which kind of interaction each staged event is, and whether any metric counts
    it.
-#}

with staged as (
    select * from {{ ref('stg_datalake__tracking') }}
),

classified as (
    select
        *,
        {{ jobpulse__track_kind('custom_track') }} as track_kind
    from staged
),

final as (
    select
        create_time,
        job_id,
        dates,
        hours,
        publisher_id,
        campaign_id,
        group_id,
        bid,
        track_kind,
        dates is not null and track_kind is not null as is_counted,
        ingest_batch
    from classified
)

select * from final
