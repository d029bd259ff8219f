{#- Per company and day: the dashboard's totals and rates. -#}

with events as (
    select * from {{ ref('events') }}
),

companies as (
    select * from {{ ref('stg_warehouse__companies') }}
),

daily as (
    select
        company_id,
        dates,
        sum(clicks) as clicks,
        sum(spend_hour) as spend,
        sum(conversion) as conversions,
        sum(qualified_application) as qualified_applications,
        sum(disqualified_application) as disqualified_applications
    from events
    group by company_id, dates
),

final as (
    select
        daily.company_id,
        companies.company_name,
        daily.dates,
        daily.clicks,
        daily.spend,
        daily.conversions,
        daily.qualified_applications,
        daily.disqualified_applications,
        case when daily.clicks > 0 then daily.conversions / daily.clicks end as conversion_rate,
        case
            when daily.qualified_applications + daily.disqualified_applications > 0
                then
                    daily.qualified_applications
                    / (daily.qualified_applications + daily.disqualified_applications)
        end as qualification_rate,
        case when daily.clicks > 0 then daily.spend / daily.clicks end as cost_per_click
    from daily
    left join companies on daily.company_id = companies.company_id
)

select * from final
