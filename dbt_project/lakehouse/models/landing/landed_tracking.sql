{{
    config(
        alias='tracking',
        schema=env_var('JOBPULSE_LAKEHOUSE_DATABASE', 'datalake'),
    )
}}
{#-
    The landing table the Spark ingest appends to (ingest/spark: `jobpulse ingest`), one batch per
    Delta commit, from the Cassandra raw log's change feed; this query says what a batch lands and
    is never run (the batch number and time are the ingest's).
-#}

-- a reprocess also lands the events of its dates that are missing here from the raw log itself:
-- depends_on: {{ source('raw_log', 'tracking') }}

with changes as (
    select * from {{ source('raw_log', 'tracking_changes') }}
),

final as (
    select
        cast(create_time as string) as create_time,
        bid,
        bn,
        campaign_id,
        cd,
        custom_track,
        de,
        dl,
        dt,
        ed,
        ev,
        group_id,
        id,
        job_id,
        md,
        publisher_id,
        rl,
        sr,
        ts,
        tz,
        ua,
        uid,
        utm_campaign,
        utm_content,
        utm_medium,
        utm_source,
        utm_term,
        v,
        vp,
        {{ jobpulse__timeuuid_timestamp('arrival_id') }} as arrived_at,
        to_date({{ jobpulse__timeuuid_timestamp('arrival_id') }}) as arrival_date,
        cast(null as bigint) as ingest_batch,
        current_timestamp() as ingested_at
    from changes
)

select * from final
