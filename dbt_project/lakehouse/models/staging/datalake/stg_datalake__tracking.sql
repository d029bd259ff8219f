{{
    config(
        unique_key='create_time',
        partition_by=['dates', 'hours'],
        merge_insert_only=true,
    )
}}
{#-
    Cleaning rules 1-3 of the spec over each event's first delivery (rule 5). Each run takes the
    first arrivals newer than the newest batch already staged and the landed rows they name; an id
    is staged only when it first arrives, so the merge never meets an id it holds and only inserts.
    The merge looks for its ids only among the rows staged from their own batches on (those a run
    that overlapped this one may have staged; see merge_into_partitions.sql): Delta skips every
    other file by its `ingest_batch` statistics, so its cost follows the new events, not the day,
    and no query for the new rows' hours comes first. A reprocess may restage an id whose first
    arrival it found again, so it looks among every row of the hours of the new landed rows.
    Partitioned by the event's hour too, so that fct_job_hourly reads only the hours its new events
    fall in.
-#}

{%- set reprocess = jobpulse_common.reprocess_dates() %}
{%- set resume_after = jobpulse__max_value(this, 'ingest_batch', -1)
    if is_incremental() else none %}
{%- set touched = jobpulse__distinct_values(
    '(select ' ~ jobpulse__event_date('ts') ~ ' as dates, ' ~ jobpulse__event_hour('ts')
    ~ ' as hours from ' ~ ref('landed_tracking') ~ ' where ingest_batch > ' ~ resume_after
    ~ ') as new_landed',
    ['dates', 'hours'],
) if is_incremental() and reprocess else {} %}

with first_arrivals as (
    select * from {{ ref('base_datalake__tracking_first_arrivals') }}
    {%- if resume_after is not none %}
    where ingest_batch > {{ resume_after }}
    {%- endif %}
),

landed as (
    select * from {{ ref('landed_tracking') }}
    {%- if resume_after is not none %}
    where ingest_batch > {{ resume_after }}
    {%- endif %}
),

first_deliveries as (
    {{ jobpulse__first_deliveries('landed', 'first_arrivals') }}
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
    from first_deliveries
    where delivery = 1 and job_id is not null
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
    from cleaned
)

select * from final
{%- if is_incremental() %}
{{ jobpulse__merge_scope(
    touched,
    at_least={} if reprocess else {'ingest_batch': resume_after + 1},
) }}
{%- endif %}
