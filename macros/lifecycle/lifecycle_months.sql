{#- The select behind the lifecycle views: each customer-month's measures (int_customer_months_measured)
    with its stage after the dynamics (int_customer_stages_sequenced). as_of_month_only keeps the as-of
    month, filtered on each side before the join: a reader's filter on the joined view is applied after
    the join of every month (DuckDB does not push a join's filter through another join), which reads all
    of the wide measures. -#}
{% macro lifecycle_months(as_of_month_only=false) -%}
with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

all_measured as (

    select * from {{ ref('int_customer_months_measured') }}

),

measured as (

    -- a ref is not aliased directly: dbt run --empty renders it as an aliased subquery
    select measured.*
    from all_measured as measured
    {%- if as_of_month_only %}
    inner join as_of_dates
        on measured.month_start_date = as_of_dates.as_of_month_start_date
    {%- endif %}

),

all_stages as (

    select * from {{ ref('int_customer_stages_sequenced') }}

),

stages as (

    select stages.*
    from all_stages as stages
    {%- if as_of_month_only %}
    inner join as_of_dates
        on stages.month_start_date = as_of_dates.as_of_month_start_date
    {%- endif %}

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
