{#-
    What an incremental model has already absorbed, read from its own table: each model resumes from
    its own state, so a run that stopped half-way (one model committed, the next not) is caught up
    by the next run.
-#}

{% macro jobpulse__max_value(relation, column, default) -%}
    {#-
        The largest `column` in `relation`, or `default` when it is empty or does not exist yet
        (a compile before the first run), and when not executing.
    -#}
    {%- if not execute or load_relation(relation) is none -%}
        {{ return(default) }}
    {%- endif -%}
    {%- set result = run_query('select max(' ~ column ~ ') from ' ~ relation) -%}
    {%- set value = result.columns[0].values()[0] -%}
    {{ return(default if value is none else value) }}
{%- endmacro %}

{% macro jobpulse__distinct_values(source, columns) -%}
    {#-
        In one query (at execution only): the distinct values of each of `columns` in `source` (a
        relation, or a subquery with an alias), as SQL literals, by column name.
    -#}
    {%- set found = {} -%}
    {%- for column in columns -%}
        {%- do found.update({column: []}) -%}
    {%- endfor -%}
    {%- if not execute -%}
        {{ return(found) }}
    {%- endif -%}
    {%- set query -%}
        select distinct {{ columns | join(', ') }}
        from {{ source }}
    {%- endset -%}
    {%- for row in run_query(query).rows -%}
        {%- for column in columns -%}
            {%- set value = row[loop.index0] -%}
            {%- set literal = 'null' if value is none else "'" ~ value ~ "'" -%}
            {%- if literal not in found[column] -%}
                {%- do found[column].append(literal) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(found) }}
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
