{#-
    The copy of the lakehouse's fct_job_hourly that `jobpulse.publish` upserts (the rows that
    changed since the last copy, in one transaction, under the facts lock); this query says what it
    copies and is never run.
-#}

with lakehouse_facts as (
    select * from {{ jobpulse_warehouse.lakehouse_mart('fct_job_hourly') }}
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
        current_timestamp() as updated_at
    from lakehouse_facts
)

select * from final
