with source as (
    select * from {{ source('warehouse', 'campaign') }}
),

final as (
    select
        id as campaign_id,
        company_id,
        name as campaign_name,
        cpc_bid,
        daily_budget,
        start_date
    from source
)

select * from final
