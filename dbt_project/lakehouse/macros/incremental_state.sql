{#-
    What an incremental model has already absorbed, read from its own table: each model resumes from
    its own state, so a run that stopped half-way (one model committed, the next not) is caught up
    by the next run.
-#}

{% macro jobpulse__max_value(relation, column, default) -%}
    {#- The largest `column` in `relation`, or `default` when it is empty (at execution only). -#}
    {%- if not execute -%}
        {{ return(default) }}
    {%- endif -%}
    {%- set result = run_query('select max(' ~ column ~ ') from ' ~ relation) -%}
    {%- set value = result.columns[0].values()[0] -%}
    {{ return(default if value is none else value) }}
{%- endmacro %}

{% macro jobpulse__distinct_values(relation, column, where) -%}
    {#- Distinct values of `column` in `relation` under `where`, as SQL literals (dates quoted). -#}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set query = 'select distinct ' ~ column ~ ' from ' ~ relation ~ ' where ' ~ where -%}
    {%- set result = run_query(query) -%}
    {%- set literals = [] -%}
    {%- for value in result.columns[0].values() -%}
        {%- do literals.append('null' if value is none else "'" ~ value ~ "'") -%}
    {%- endfor -%}
    {{ return(literals) }}
{%- endmacro %}

{% macro jobpulse__in_list(column, literals) -%}
    {#- `column in (...)` for a list from jobpulse__distinct_values; null matched by `is null` -#}
    {%- set values = literals | reject('equalto', 'null') | list -%}
    {%- set terms = [] -%}
    {%- if values -%}
        {%- do terms.append(column ~ ' in (' ~ values | join(', ') ~ ')') -%}
    {%- endif -%}
    {%- if 'null' in literals -%}
        {%- do terms.append(column ~ ' is null') -%}
    {%- endif -%}
    {#- `1 = 0`, not `(false)`: Spark parses `from t where (false)` as an alias `where` of t -#}
    {{ '(' ~ terms | join(' or ') ~ ')' if terms else '1 = 0' }}
{%- endmacro %}
