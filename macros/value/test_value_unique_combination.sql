{#- Generic test: no two rows share the same values of `columns` (a composite key), and none of the
    key columns is null. No dbt_utils here (dbt Hub is not reachable), so the project carries its own.
    With in_run_scope, after an incremental run of the model in the same dbt invocation it reads only the
    rows of the run's recorded scope (macros/incremental/run_scopes.sql: a duplicate can only lie there);
    the key must then determine the row's customer and month (customer_column, month_column). -#}
{% test value_unique_combination(model, columns, in_run_scope=false, customer_column='customer_id', month_column='month_start_date') %}

{%- set scope = run_scope_predicate(model, customer_column, month_column) if in_run_scope else none %}

with

keyed as (
    select
        {{ columns | join(', ') }},
        count(*) as rows_with_key
    from {{ model }}
    {%- if scope is not none %}
    where {{ scope }}
    {%- endif %}
    group by {{ columns | join(', ') }}
),

failures as (
    select * from keyed
    where
        rows_with_key > 1
        {%- for column in columns %}
        or {{ column }} is null
        {%- endfor %}
)

select * from failures

{% endtest %}
