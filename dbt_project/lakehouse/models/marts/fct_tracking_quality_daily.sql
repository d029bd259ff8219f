{%- set reprocess = jobpulse_common.reprocess_dates() -%}
{%- set counts = [
    'deliveries', 'events', 'events_without_job', 'events_unparseable_ts',
    'events_unclassified_track',
] -%}
{{
    config(
        unique_key='arrival_date',
        merge_accumulate=none if reprocess else counts,
    )
}}
{#-
    Data quality of what arrived, per arrival date: every delivery, and each event on the date it
    was first seen, under the first reason the metrics could not count it, if any.

    An ordinary run adds the new batches' figures to their dates' rows (the merge sums them: see
    merge_into_partitions.sql), so its cost follows the new batches, never the day. It takes the
    batches up to the newest one the first arrivals hold, so that every first arrival of a batch it
    counts is known; a batch that only redelivers waits for the next batch with a new event. Each
    batch is added once: the batches are those after the newest one this table holds, read in the
    merge's own statement (`resume_guard`; a run that overlapped this one and added them first
    leaves none), and Delta fails a merge that a concurrent one changed the table under. A
    reprocess (it may have found first arrivals again) recomputes whole the dates it touches.
-#}

{%- set resume_after = jobpulse__max_value(this, 'last_ingest_batch', -1)
    if is_incremental() else -1 %}
{%- set upto = jobpulse__max_value(
    ref('base_datalake__tracking_first_arrivals'), 'ingest_batch', -1
) %}
{%- set new_landed, new_first_arrivals = 'true', 'true' %}
{%- if is_incremental() and not reprocess %}
{#- the literal lets Delta skip older files; the subquery is the truth at the merge -#}
{%- set new_landed = 'ingest_batch > ' ~ resume_after ~ ' and ingest_batch > '
    ~ '(select coalesce(max(last_ingest_batch), -1) from ' ~ this ~ ')' %}
{%- set new_first_arrivals = new_landed %}
{%- elif is_incremental() %}
{%- set touched_dates = jobpulse__distinct_values(
    '(select arrival_date from ' ~ ref('landed_tracking') ~ ' where ingest_batch > '
    ~ resume_after ~ ') as new_deliveries',
    ['arrival_date'],
).arrival_date %}
{%- set new_landed = jobpulse__in_list('arrival_date', touched_dates) %}
{%- set new_first_arrivals = jobpulse__in_list('to_date(arrived_at)', touched_dates) %}
{%- endif %}

with landed as (
    select * from {{ ref('landed_tracking') }}
    where ingest_batch <= {{ upto }} and {{ new_landed }}
),

first_arrivals as (
    select * from {{ ref('base_datalake__tracking_first_arrivals') }}
    where ingest_batch <= {{ upto }} and {{ new_first_arrivals }}
),

first_deliveries as (
    {{ jobpulse__first_deliveries('landed', 'first_arrivals') }}
),

classified as (
    select
        arrival_date,
        job_id is null as without_job,
        {{ jobpulse__event_date('ts') }} is null as unparseable_ts,
        {{ jobpulse__track_kind('custom_track') }} is null as unclassified_track
    from first_deliveries
    where delivery = 1
),

events_by_date as (
    {#- each event under the first reason it is not counted for -#}
    select
        arrival_date,
        count(*) as events,
        count_if(without_job) as events_without_job,
        count_if(not without_job and unparseable_ts) as events_unparseable_ts,
        count_if(not without_job and not unparseable_ts and unclassified_track)
            as events_unclassified_track
    from classified
    group by arrival_date
),

deliveries_by_date as (
    select
        arrival_date,
        count(*) as deliveries,
        max(ingest_batch) as last_ingest_batch
    from landed
    group by arrival_date
),

final as (
    select
        deliveries_by_date.arrival_date,
        deliveries_by_date.deliveries,
        coalesce(events_by_date.events, 0) as events,
        coalesce(events_by_date.events_without_job, 0) as events_without_job,
        coalesce(events_by_date.events_unparseable_ts, 0) as events_unparseable_ts,
        coalesce(events_by_date.events_unclassified_track, 0) as events_unclassified_track,
        deliveries_by_date.last_ingest_batch,
        current_timestamp() as refreshed_at
    from deliveries_by_date
    left join events_by_date on deliveries_by_date.arrival_date = events_by_date.arrival_date
)

select * from final
