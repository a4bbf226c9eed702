{{ config(meta={'dagster': {'ref': {'name': 'fct_customer_kpi_monthly'}}}) }}
-- The customers counted as churned in a month are exactly those whose lifecycle stage moved to churned that
-- month, recomputed here from the stage engine's months with lag() (independently of previous_stage_code).
-- It reads the stage engine, not the lifecycle fact: a test runs in the Dagster step that builds the last
-- of its parents, and the fact (partitioned, its own step) is not rebuilt with the KPI marts.
with

lifecycle_monthly as (

    select * from {{ ref('int_customer_stages_sequenced') }}

),

customer_months as (

    select * from {{ ref('fct_customer_kpi_monthly') }}

),

with_previous as (

    select
        customer_id,
        month_end_date,
        stage_code,
        lag(stage_code) over (partition by customer_id order by month_end_date) as stage_code_before

    from lifecycle_monthly

),

moves_into_churned as (

    select
        customer_id,
        month_end_date

    from with_previous
    where
        stage_code = 'churned'
        and (stage_code_before is null or stage_code_before <> 'churned')

),

counted_as_churned as (

    select
        customer_id,
        month_end_date

    from customer_months
    where is_churned

),

only_moved as (

    select * from moves_into_churned
    except
    select * from counted_as_churned

),

only_counted as (

    select * from counted_as_churned
    except
    select * from moves_into_churned

)

select
    'moved to churned, not counted' as problem,
    only_moved.*
from only_moved
union all
select
    'counted, did not move to churned' as problem,
    only_counted.*
from only_counted
