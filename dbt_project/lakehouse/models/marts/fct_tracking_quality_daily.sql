{{
    config(
        unique_key='arrival_date',
    )
}}
{#-
    Data quality of what arrived, per arrival date: the events the metrics could not count and why.
    Like the hourly facts, an incremental run recomputes whole every arrival date the new batches
    touched.
-#}

with landed as (
    select * from {{ ref('landed_tracking') }}
    {%- if is_incremental() %}
    {%- set resume_after = jobpulse__max_value(this, 'last_ingest_batch', -1) %}
    where {{ jobpulse__in_list('arrival_date', jobpulse__distinct_values(
        ref('landed_tracking'), 'arrival_date', 'ingest_batch > ' ~ resume_after
    )) }}
    {%- endif %}
),

classified as (
    select
        create_time,
        arrival_date,
        ingest_batch,
        job_id is null as without_job,
        {{ jobpulse__event_date('ts') }} is null as unparseable_ts,
        {{ jobpulse__track_kind('custom_track') }} is null as unclassified_track
    from landed
),

uncounted as (
    {#- each event id under the first reason it is not counted for, null if it is counted -#}
    select
        *,
        case when without_job then create_time end as id_without_job,
        case when not without_job and unparseable_ts then create_time end as id_unparseable_ts,
        case
            when not without_job and not unparseable_ts and unclassified_track then create_time
        end as id_unclassified_track
    from classified
),

final as (
    select
        arrival_date,
        count(*) as deliveries,
        count(distinct create_time) as events,
        count(distinct id_without_job) as events_without_job,
        count(distinct id_unparseable_ts) as events_unparseable_ts,
        count(distinct id_unclassified_track) as events_unclassified_track,
        max(ingest_batch) as last_ingest_batch,
        current_timestamp() as refreshed_at
    from uncounted
    group by arrival_date
)

select * from final
