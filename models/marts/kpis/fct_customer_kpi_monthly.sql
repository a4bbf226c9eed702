-- One row per customer per month-end of the lifecycle snapshot: the growth-accounting state of the
-- customer that month and the service activity behind the monthly KPIs (docs/kpis.md has the definitions).
-- kpi_monthly is this table summed by dimension; the semantic layer defines its metrics on this grain.
-- "Active" = a customer in a buying relationship at month end: seed lifecycle_stages.is_active.
-- Incremental (macros/incremental/customer_months.sql): a row joins its customer's month of the lifecycle
-- fact, the activity and the tiers with the customer's attributes, so it changes with its customer, in
-- the recent months, or when the tiers of its month changed (they rank all customers: the first month
-- whose tiers changed is found by fingerprint, macros/incremental/changed_months.sql).
{{ config(**tier_months_model_config()) }}

-- depends_on: {{ ref('int_customer_change_stamps') }}
{%- set in_scope = customer_month_in_scope(also_months_from=changed_tier_months_from()) %}
with

lifecycle_monthly as (

    select * from {{ ref('fct_customer_lifecycle_monthly') }}
    where {{ in_scope }}

),

stages as (

    select * from {{ ref('lifecycle_stages') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

value_tiers_monthly as (

    select * from {{ ref('fct_value_tiers_monthly') }}
    where {{ in_scope }}

),

activity as (

    select * from {{ ref('int_customer_activity_monthly') }}
    where {{ in_scope }}

),

-- acquisition = the first completed order (DOMAIN.md §6), resolved once in the value area
customer_acquisitions as (

    select
        customer_id,
        acquisition_month_start as acquisition_month_start_date

    from {{ ref('int_customer_acquisitions') }}
    where is_acquired

),

lifecycle_states as (

    select
        lifecycle_monthly.customer_id,
        lifecycle_monthly.month_end_date,
        cast({{ dbt.date_trunc('month', 'lifecycle_monthly.month_end_date') }} as date) as month_start_date,
        lifecycle_monthly.stage_code,
        lifecycle_monthly.previous_stage_code,
        coalesce(current_stages.is_active, false) as is_active,
        coalesce(previous_stages.is_active, false) as was_active_at_start,
        coalesce(lifecycle_monthly.previous_stage_code = 'churned', false) as was_churned_at_start,
        -- DOMAIN.md §8: churned in a month = the stage moved to churned that month
        coalesce(
            lifecycle_monthly.stage_code = 'churned'
            and coalesce(lifecycle_monthly.previous_stage_code, '') <> 'churned',
            false
        ) as is_churned

    from lifecycle_monthly
    left join stages as current_stages
        on lifecycle_monthly.stage_code = current_stages.stage_code
    left join stages as previous_stages
        on lifecycle_monthly.previous_stage_code = previous_stages.stage_code

),

-- growth accounting: every active customer is exactly one of new, retained or resurrected
growth_accounting as (

    select
        *,
        is_active and was_active_at_start as is_retained,
        is_active and was_churned_at_start as is_resurrected,
        is_active and not was_active_at_start and not was_churned_at_start as is_new

    from lifecycle_states

),

value_tiers as (

    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'month_end_date') }} as date) as month_start_date,
        value_tier,
        cumulative_clv

    from value_tiers_monthly

),

final as (

    select
        {{ dbt.concat([
            "growth_accounting.customer_id", "'|'",
            "cast(growth_accounting.month_end_date as " ~ dbt.type_string() ~ ")",
        ]) }} as customer_month_id,
        growth_accounting.customer_id,
        growth_accounting.month_start_date,
        growth_accounting.month_end_date,
        growth_accounting.stage_code,
        growth_accounting.previous_stage_code,

        -- dimensions (missing values are labelled, so that every customer lands in one group)
        coalesce(customers.acquisition_channel, 'unknown') as acquisition_channel,
        coalesce(customers.customer_type, 'unknown') as customer_type,
        coalesce(customers.city, 'unknown') as city,
        coalesce(value_tiers.value_tier, 'unranked') as value_tier,
        customer_acquisitions.acquisition_month_start_date,

        -- growth accounting
        growth_accounting.is_active,
        growth_accounting.was_active_at_start,
        growth_accounting.is_new,
        growth_accounting.is_retained,
        growth_accounting.is_resurrected,
        growth_accounting.is_churned,

        -- purchases
        coalesce(activity.completed_orders, 0) as completed_orders,
        coalesce(activity.completed_orders, 0) > 0 as is_buyer,
        coalesce(
            activity.completed_orders > 0
            and customer_acquisitions.acquisition_month_start_date < growth_accounting.month_start_date,
            false
        ) as is_repeat_buyer,

        -- service
        coalesce(activity.follow_up_calls, 0) as follow_up_calls,
        coalesce(activity.follow_up_calls, 0) > 0 as has_follow_up_call,
        coalesce(activity.complaints, 0) as complaints_opened,
        coalesce(activity.severe_complaints, 0) as severe_complaints_opened,
        coalesce(activity.complaints, 0) > 0 as has_complaint,
        coalesce(activity.call_satisfaction_responses, 0) as call_satisfaction_responses,
        coalesce(activity.call_satisfaction_score_sum, 0) as call_satisfaction_score_sum,
        coalesce(activity.complaint_satisfaction_responses, 0) as complaint_satisfaction_responses,
        coalesce(activity.complaint_satisfaction_score_sum, 0) as complaint_satisfaction_score_sum,
        coalesce(activity.outbound_sales_calls, 0) as outbound_sales_calls,
        coalesce(activity.converted_sales_calls, 0) as converted_sales_calls,

        -- value: historical CLV accumulated up to this month-end (fct_value_tiers_monthly)
        value_tiers.cumulative_clv as historical_clv_to_date

    from growth_accounting
    left join customers
        on growth_accounting.customer_id = customers.customer_id
    left join value_tiers
        on
            growth_accounting.customer_id = value_tiers.customer_id
            and growth_accounting.month_start_date = value_tiers.month_start_date
    left join customer_acquisitions
        on growth_accounting.customer_id = customer_acquisitions.customer_id
    left join activity
        on
            growth_accounting.customer_id = activity.customer_id
            and growth_accounting.month_start_date = activity.month_start_date

)

select * from final
