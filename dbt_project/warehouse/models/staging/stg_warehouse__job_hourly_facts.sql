with source as (
    select * from {{ ref('job_hourly_facts') }}
),

final as (
    select
        job_id,
        dates,
        hours,
        publisher_id,
        campaign_id,
        group_id,
        clicks,
        spend_hour,
        bid_set,
        conversion,
        qualified_application,
        disqualified_application,
        last_ingest_batch,
        updated_at
    from source
)

select * from final
