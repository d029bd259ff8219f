{#- The jobs the dashboards name and filter by (Grafana reads marts, never the sources). -#}

with jobs as (
    select * from {{ ref('stg_warehouse__jobs') }}
),

final as (
    select
        job_id,
        title,
        company_id,
        campaign_id,
        group_id,
        category,
        city,
        status
    from jobs
)

select * from final
