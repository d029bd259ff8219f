with source as (
    select * from {{ source('warehouse', 'job') }}
),

final as (
    select
        id as job_id,
        company_id,
        group_id,
        campaign_id,
        title,
        category,
        city,
        status
    from source
)

select * from final
