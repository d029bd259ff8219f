with source as (
    select * from {{ source('warehouse', 'company') }}
),

final as (
    select
        id as company_id,
        name as company_name,
        industry,
        city
    from source
)

select * from final
