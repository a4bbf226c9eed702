{#- The select behind the lifecycle views: each customer-month's measures (int_customer_months_measured)
    with its stage after the dynamics (int_customer_stages_sequenced). as_of_month_only keeps the as-of
    month, filtered on each side before the join: a reader's filter on the joined view is applied after
    the join of every month (DuckDB does not push a join's filter through another join), which reads all
    of the wide measures. rows_where (a predicate on customer_id and month_start_date, or none) filters
    each side the same way: how the incremental lifecycle fact reads only the customer-months it rewrites. -#}
{% macro lifecycle_months(as_of_month_only=false, rows_where=none) -%}
with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

measured as (

    {{ lifecycle_months_rows('int_customer_months_measured', as_of_month_only, rows_where) }}

),

stages as (

    {{ lifecycle_months_rows('int_customer_stages_sequenced', as_of_month_only, rows_where) }}

),

final as (

    select
        measured.*,
        stages.period_number,
        stages.stage_code,
        stages.previous_stage_code,
        stages.months_in_stage,
        stages.stage_started_date,
        stages.prospect_status
    from measured
    inner join stages
        on
            measured.customer_id = stages.customer_id
            and measured.month_start_date = stages.month_start_date

)

select * from final
{%- endmacro %}


{#- The rows of one input of lifecycle_months: all of them, the as-of month's, or those rows_where keeps (a
    ref is read in its own subquery: dbt run --empty renders a ref as an aliased subquery, which PostgreSQL
    rejects aliased again). -#}
{% macro lifecycle_months_rows(model_name, as_of_month_only, rows_where=none) -%}
    select model_rows.*
    from (select * from {{ ref(model_name) }}) as model_rows
    {%- if as_of_month_only %}
    inner join as_of_dates
        on model_rows.month_start_date = as_of_dates.as_of_month_start_date
    {%- endif %}
    {%- if rows_where is not none %}
    where {{ rows_where }}
    {%- endif %}
{%- endmacro %}
