{#-
    Reconciliation: each measure totalled over `model` equals the same measure totalled over
    `compare_model`. `measures` maps a name to {"model": <aggregate over model>, "compare":
    <aggregate over compare_model>}. Fails with one row holding both totals of every measure
    (`<name>_model`, `<name>_compare`) when any differs. Each side is totalled once, in one scan.
    The earlier form (a row per measure, unioned) made MariaDB scan both tables once per measure,
    since it does not materialize a CTE read more than once: 13.8 s a run on a mart of 1.4 million
    cells, 2.7 s now (bench/results/pipeline.json's run).
-#}
{% test totals_match(model, compare_model, measures, compare_where=none) %}
    with model_totals as (
        select
        {%- for name, expressions in measures.items() %}
            cast({{ expressions['model'] }} as decimal(38, 4))
                as {{ name }}_model{{ "," if not loop.last }}
        {%- endfor %}
        from {{ model }}
    ),

    compare_totals as (
        select
        {%- for name, expressions in measures.items() %}
            cast({{ expressions['compare'] }} as decimal(38, 4))
                as {{ name }}_compare{{ "," if not loop.last }}
        {%- endfor %}
        from {{ compare_model }}
        {%- if compare_where %} where {{ compare_where }}{% endif %}
    )

    select model_totals.*, compare_totals.*
    from model_totals
    cross join compare_totals
    where
    {%- for name in measures %}
        coalesce({{ name }}_model, 0) <> coalesce({{ name }}_compare, 0){{ " or" if not loop.last }}
    {%- endfor %}
{% endtest %}
