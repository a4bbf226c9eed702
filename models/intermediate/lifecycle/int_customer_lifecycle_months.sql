{#-
    Each customer-month's measures (int_customer_months_measured) with its stage after the dynamics
    (int_customer_stages_sequenced): the row the lifecycle fact, the customer dimension and early warning
    read. A view, so the wide measures are written once (by the measured model) and a reader that keeps
    one month (the as-of month) joins only that month.
-#}

{{ config(materialized='view') }}

with

measured as (

    select * from {{ ref('int_customer_months_measured') }}

),

stages as (

    select * from {{ ref('int_customer_stages_sequenced') }}

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
