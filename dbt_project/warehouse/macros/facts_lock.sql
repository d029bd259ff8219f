{#-
    The MySQL mart and `jobpulse.publish` take turns with the copied facts: the publish holds this
    lock from reading its watermark to committing, and the `events` model from reading the facts to
    writing itself. So the model never reads while a publish is in flight, and no fact row can be
    committed with an `updated_at` older than the watermark the model has already moved past (READ
    COMMITTED servers take no read locks that would prevent it). The same name as
    jobpulse/publish.py's FACTS_LOCK.
-#}

{% macro jobpulse__facts_lock_name() -%}
    'jobpulse.facts.{{ target.schema }}'
{%- endmacro %}

{% macro jobpulse__take_facts_lock(timeout_seconds=600) -%}
    {%- if execute -%}
        {%- set taken = run_query(
            'select get_lock(' ~ jobpulse__facts_lock_name() ~ ', ' ~ timeout_seconds ~ ')'
        ).columns[0].values()[0] -%}
        {%- if taken != 1 -%}
            {{ exceptions.raise_compiler_error(
                "a publish held " ~ jobpulse__facts_lock_name() ~ " for "
                ~ timeout_seconds ~ " s: try again"
            ) }}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}

{% macro jobpulse__release_facts_lock() -%}
    do release_lock({{ jobpulse__facts_lock_name() }})
{%- endmacro %}
