with source as (
    select * from {{ source('warehouse', 'master_publisher') }}
),

final as (
    select
        id as publisher_id,
        name as publisher_name,
        kind as publisher_kind,
        domain
    from source
)

select * from final
