{%- set grain = ['job_id', 'dates', 'hours', 'publisher_id', 'campaign_id', 'group_id'] -%}
{%- set measures = ['clicks', 'spend_hour', 'bid_set', 'conversion', 'qualified_application',
                    'disqualified_application', 'company_id'] -%}
{{
    config(
        materialized='incremental',
        unique_key=grain,
        pre_hook=[
            "{{ jobpulse__take_facts_lock() }}",
            "{{ jobpulse__delete_vanished_cells(" ~ grain ~ ") }}",
        ],
        post_hook=[
            "{{ jobpulse__release_facts_lock() }}",
            "{{ jobpulse__ensure_index(this, 'events_grain', " ~ grain ~ ", unique=true) }}",
            "{{ jobpulse__ensure_index(this, 'events_time', ['dates', 'hours']) }}",
            "{{ jobpulse__ensure_index(this, 'events_job', ['job_id', 'dates']) }}",
            "{{ jobpulse__ensure_index(this, 'events_company', ['company_id', 'dates']) }}",
            "{{ jobpulse__ensure_index(this, 'events_updated', ['latest_update_time']) }}",
        ],
    )
}}
{#-
    The job-performance mart (docs/metrics.md), exactly its 15 columns. An incremental run
    looks at the fact rows copied since the mart was last written and upserts (delete + insert on
    the grain, in one transaction) only those whose values differ from the mart's, so
    `latest_update_time` moves only when a row changes and a run with nothing new writes nothing. A
    reprocess first deletes the cells of its dates that the copied facts no longer hold (the facts
    of those dates were replaced whole by the publish). The model and the publish take turns
    (macros/facts_lock.sql), so the watermark never passes a publish in flight.
-#}

with facts as (
    select * from {{ ref('stg_warehouse__job_hourly_facts') }}
    {%- if is_incremental() %}
    where
        updated_at >= (
            select coalesce(max(mart.latest_update_time), '1970-01-01') from {{ this }} as mart
        )
    {%- endif %}
),

jobs as (
    select * from {{ ref('stg_warehouse__jobs') }}
),

joined as (
    select
        facts.job_id,
        facts.dates,
        facts.hours,
        facts.publisher_id,
        facts.campaign_id,
        facts.group_id,
        facts.clicks,
        facts.spend_hour,
        facts.bid_set,
        facts.conversion,
        facts.qualified_application,
        facts.disqualified_application,
        jobs.company_id
    from facts
    left join jobs on facts.job_id = jobs.job_id
),

{% if is_incremental() -%}
changed as (
    select joined.*
    from joined
    left join {{ this }} as current_rows
        on
        {%- for column in grain %}
            {{ "and " if not loop.first }}joined.{{ column }} = current_rows.{{ column }}
        {%- endfor %}
    where
        current_rows.job_id is null
        {%- for column in measures %}
        or not (current_rows.{{ column }} <=> joined.{{ column }})
        {%- endfor %}
),
{%- else %}
changed as (
    select * from joined
),
{%- endif %}

final as (
    select
        job_id,
        dates,
        cast(hours as signed) as hours,
        publisher_id,
        campaign_id,
        group_id,
        clicks,
        spend_hour,
        bid_set,
        conversion,
        qualified_application,
        disqualified_application,
        company_id,
        cast('{{ var("jobpulse__sources_label") }}' as char(20)) as sources,
        current_timestamp(6) as latest_update_time
    from changed
)

select * from final
