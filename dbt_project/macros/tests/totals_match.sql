{#-
    Reconciliation: each measure totalled over `model` equals the same measure totalled over `compare_model`.
    `measures` maps a name to {"model": <aggregate over model>, "compare": <aggregate over compare_model>}.
    Fails with one row per measure that differs, showing both totals.
-#}
{% test totals_match(model, compare_model, measures, compare_where=none) %}
    with model_totals as (
        select
        {%- for name, expressions in measures.items() %}
            cast({{ expressions['model'] }} as decimal(38, 4)) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        from {{ model }}
    ),

    compare_totals as (
        select
        {%- for name, expressions in measures.items() %}
            cast({{ expressions['compare'] }} as decimal(38, 4)) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        from {{ compare_model }}
        {%- if compare_where %} where {{ compare_where }}{% endif %}
    ),

    differences as (
        {%- for name in measures %}
        select '{{ name }}' as measure, m.{{ name }} as model_total, c.{{ name }} as compare_total
        from model_totals as m cross join compare_totals as c
        where coalesce(m.{{ name }}, 0) <> coalesce(c.{{ name }}, 0)
        {{ "union all" if not loop.last }}
        {%- endfor %}
    )

    select * from differences
{% endtest %}
