{#- Per publisher and day: where the clicks and applications come from. -#}

with events as (
    select * from {{ ref('events') }}
),

publishers as (
    select * from {{ ref('stg_warehouse__publishers') }}
),

daily as (
    select
        publisher_id,
        dates,
        sum(clicks) as clicks,
        sum(spend_hour) as spend,
        sum(conversion) as conversions,
        sum(qualified_application) as qualified_applications,
        sum(disqualified_application) as disqualified_applications
    from events
    group by publisher_id, dates
),

final as (
    select
        daily.publisher_id,
        publishers.publisher_name,
        daily.dates,
        daily.clicks,
        daily.spend,
        daily.conversions,
        daily.qualified_applications,
        daily.disqualified_applications,
        case when daily.clicks > 0 then daily.conversions / daily.clicks end as conversion_rate
    from daily
    left join publishers on daily.publisher_id = publishers.publisher_id
)

select * from final
