{#- The publishers the dashboards name and filter by (Grafana reads marts, never the sources). -#}

with publishers as (
    select * from {{ ref('stg_warehouse__publishers') }}
),

final as (
    select
        publisher_id,
        publisher_name,
        publisher_kind,
        domain
    from publishers
)

select * from final
