{#- Generic test: no two rows share the same values of `columns` (a composite key), and none of the
    key columns is null. No dbt_utils here (dbt Hub is not reachable), so the project carries its own. -#}
{% test value_unique_combination(model, columns) %}

with

keyed as (
    select
        {{ columns | join(', ') }},
        count(*) as rows_with_key
    from {{ model }}
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
