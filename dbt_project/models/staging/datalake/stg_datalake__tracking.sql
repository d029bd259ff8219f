{{
    config(
        unique_key='create_time',
        partition_by=['dates'],
        merge_update_columns=['create_time'],
    )
}}
{#-
    Cleaning rules 1-3 of the spec and one row per event id. Each run takes the landed batches newer than the
    newest one already staged. A redelivered event is merged onto its first delivery and changes nothing, so
    the row kept for an id is always its first arrival.
-#}

with landed as (
    select * from {{ source('datalake', 'tracking') }}
    {%- if is_incremental() %}
    where ingest_batch > {{ jobpulse__max_value(this, 'ingest_batch', -1) }}
    {%- endif %}
),

cleaned as (
    select
        create_time,
        job_id,
        coalesce(publisher_id, 0) as publisher_id,
        coalesce(campaign_id, 0) as campaign_id,
        coalesce(group_id, 0) as group_id,
        coalesce(bid, 0) as bid,
        custom_track,
        ts,
        {{ jobpulse__event_date('ts') }} as dates,
        {{ jobpulse__event_hour('ts') }} as hours,
        arrived_at,
        ingest_batch
    from landed
    where job_id is not null
),

ranked as (
    select
        *,
        row_number() over (partition by create_time order by arrived_at, ingest_batch) as delivery
    from cleaned
),

final as (
    select
        create_time,
        job_id,
        publisher_id,
        campaign_id,
        group_id,
        bid,
        custom_track,
        ts,
        dates,
        hours,
        arrived_at,
        ingest_batch
    from ranked
    where delivery = 1
)

select * from final
