{#- The campaigns the dashboards name and filter by (Grafana reads marts, never the sources). -#}

with campaigns as (
    select * from {{ ref('stg_warehouse__campaigns') }}
),

final as (
    select
        campaign_id,
        campaign_name,
        company_id,
        cpc_bid,
        daily_budget,
        start_date
    from campaigns
)

select * from final
