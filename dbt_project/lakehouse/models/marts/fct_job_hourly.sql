{%- set grain = ['job_id', 'dates', 'hours', 'publisher_id', 'campaign_id', 'group_id'] -%}
{{
    config(
        unique_key=grain,
        partition_by=['dates', 'hours'],
        reprocess_by='dates',
        tblproperties={'delta.enableDeletionVectors': 'false'},
    )
}}
{#-
    Hourly job performance at the spec's grain. Incremental runs never add to a cell: they find the
    cells the new events fall in and recompute each of them whole from every counted event in it
    (late, replayed and duplicate events included), then merge the results over the old rows. So a
    cell always equals a from-scratch count, whatever the order or number of deliveries, and a rerun
    with nothing new changes nothing. A cell's `last_ingest_batch` is the newest batch among its
    events: the largest over the table is where the next run resumes. A reprocess
    (jobpulse/reprocessing.py) also recomputes every cell of its dates and deletes the cells of
    those dates that no longer have a counted event (see merge_into_partitions.sql). The staged
    events and this table are partitioned by the event's date and hour, so a run reads and rewrites
    only the hours its new events fall in: its cost follows the new events, not the day. No
    deletion vectors: Delta then answers the resume point's max from its file statistics instead of
    scanning the table, and a merge rewrites only the few small files of its hours anyway.
-#}

with events as (
    select * from {{ ref('int_tracking__classified') }}
    where is_counted
),

{% if is_incremental() -%}
{%- set resume_after = jobpulse__max_value(this, 'last_ingest_batch', -1) -%}
{%- set reprocess = jobpulse_common.reprocess_dates() -%}
{%- set touched = jobpulse__distinct_values(
        '(select dates, hours from ' ~ ref('int_tracking__classified')
        ~ ' where is_counted and ingest_batch > ' ~ resume_after ~ ') as new_events',
        ['dates', 'hours'],
    ) -%}

new_events as (
    select * from events
    where ingest_batch > {{ resume_after }}
),

touched_cells as (
    select distinct {{ grain | join(', ') }}
    from new_events
    {%- if reprocess %}
    union
    select distinct {{ grain | join(', ') }}
    from events
    where {{ jobpulse_common.in_reprocess('dates') }}
    {%- endif %}
),

in_scope as (
    select events.*
    from events
    inner join touched_cells
        on
        {%- for column in grain %}
            {{ "and " if not loop.first }}events.{{ column }} = touched_cells.{{ column }}
        {%- endfor %}
    where
        (
            {{ jobpulse__in_list('events.dates', touched.dates) }}
            and {{ jobpulse__in_list('events.hours', touched.hours) }}
        )
        or {{ jobpulse_common.in_reprocess('events.dates') if reprocess else 'false' }}
),
{%- else %}

in_scope as (
    select * from events
),
{%- endif %}

priced as (
    select
        *,
        {#- exact decimals: a cell's value never depends on the order Spark adds its bids in -#}
        case when track_kind = 'click' then cast(bid as decimal(20, 6)) end as click_bid
    from in_scope
),

aggregated as (
    select
        {{ grain | join(',\n        ') }},
        count_if(track_kind = 'click') as clicks,
        cast(coalesce(sum(click_bid), 0) as double) as spend_hour,
        cast(coalesce(round(avg(click_bid), 2), 0) as double) as bid_set,
        count_if(track_kind = 'conversion') as conversion,
        count_if(track_kind = 'qualified') as qualified_application,
        count_if(track_kind = 'unqualified') as disqualified_application,
        max(ingest_batch) as last_ingest_batch
    from priced
    group by {{ grain | join(', ') }}
),

final as (
    select
        *,
        current_timestamp() as refreshed_at
    from aggregated
)

select * from final
{%- if is_incremental() %}
{{ jobpulse__merge_scope(touched if not reprocess else {'dates': touched.dates}) }}
{%- endif %}
