{#-
    The one place where "as of" is resolved (staged_contract: every model that needs "today" refs
    this one-row model). var as_of_date wins; null means the last day with any staged order, so a
    re-run on the same data always gives the same answer, whatever the wall clock says.
-#}

with

orders as (

    select * from {{ ref('stg_crm__orders') }}

),

last_order_day as (

    select max(ordered_date) as last_ordered_date
    from orders

),

resolved as (

    select
        {% if var('as_of_date') is not none -%}
        cast('{{ var("as_of_date") }}' as date) as as_of_date,
        {%- else -%}
        last_ordered_date as as_of_date,
        {%- endif %}
        last_ordered_date
    from last_order_day

),

final as (

    select
        as_of_date,
        cast({{ dbt.date_trunc('month', 'as_of_date') }} as date) as as_of_month_start_date,
        cast({{ dbt.last_day('as_of_date', 'month') }} as date) as as_of_month_end_date,
        {% if var('clv_observation_end') is not none -%}
        cast('{{ var("clv_observation_end") }}' as date) as clv_observation_end_date,
        {%- else -%}
        as_of_date as clv_observation_end_date,
        {%- endif %}
        last_ordered_date
    from resolved

)

select * from final
