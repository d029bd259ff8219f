{%- set reprocess = jobpulse_common.reprocess_dates() -%}
{{
    config(
        unique_key='create_time',
        partition_by=['created_hour'],
        merge_insert_only=not reprocess,
    )
}}
{#-
    The first arrival of every event id: what keeps cleaning rule 5 (one event per id, its first
    arrival) whatever the `ts` a later delivery carries. Partitioned by the hour the id itself was
    created in (a version-1 UUID carries it), which no delivery can change: a run looks ids up only
    in the hours its new ids were created in, never across every date a `ts` could name. Each run
    takes the landed batches newer than the newest one it holds (a batch of redeliveries only is
    read again next time, and adds nothing).

    Insert-only, so an id keeps its first arrival: the landing table is append-only, so a first
    arrival once found stays true. A reprocess is the exception: it may follow the loss of landed
    rows (their events landed again from the raw log), so it looks the first arrival of each new
    batch's ids up again among every landed row that still holds them, and overwrites what it finds.
-#}

{%- set new_landed = 'ingest_batch > ' ~ jobpulse__max_value(this, 'ingest_batch', -1)
    if is_incremental() else 'true' %}
{%- set touched = jobpulse__distinct_values(
    '(select ' ~ jobpulse__timeuuid_hour('create_time') ~ ' as created_hour from '
    ~ ref('landed_tracking') ~ ' where ' ~ new_landed ~ ') as new_landed',
    ['created_hour'],
) if is_incremental() else none %}

with landed as (
    select * from {{ ref('landed_tracking') }}
    where {{ new_landed }}
),

{% if is_incremental() and reprocess -%}
deliveries as (
    select all_landed.*
    from {{ ref('landed_tracking') }} as all_landed
    left semi join landed on all_landed.create_time = landed.create_time
),
{%- else -%}
deliveries as (
    select * from landed
),
{%- endif %}

ranked as (
    select
        create_time,
        arrived_at,
        ingest_batch,
        row_number() over (partition by create_time order by arrived_at, ingest_batch) as delivery
    from deliveries
),

final as (
    select
        create_time,
        {{ jobpulse__timeuuid_hour('create_time') }} as created_hour,
        arrived_at,
        ingest_batch
    from ranked
    where delivery = 1
)

select * from final
{%- if is_incremental() %}
{{ jobpulse__merge_scope(touched) }}
{%- endif %}
