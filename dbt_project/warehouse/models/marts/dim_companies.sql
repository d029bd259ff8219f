{#- The companies the dashboards name and filter by (Grafana reads marts, never the sources). -#}

with companies as (
    select * from {{ ref('stg_warehouse__companies') }}
),

final as (
    select
        company_id,
        company_name,
        industry,
        city
    from companies
)

select * from final
