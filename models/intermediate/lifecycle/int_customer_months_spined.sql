{#-
    One row per customer and calendar month, from the month the customer record was created to the
    as-of month (DOMAIN.md §4: stages are evaluated at each period end), with what happened in that
    month (int_customer_activity_monthly). Events after the as-of date are ignored, so a past
    as_of_date rebuilds history as it was. Incremental: the months of changed customers and the recent
    months (macros/incremental/customer_months.sql).
-#}

{{ config(**customer_month_model_config()) }}

-- depends_on: {{ ref('int_customer_change_stamps') }}

with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

calendar_months as (

    select * from {{ ref('int_calendar_months') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

activity as (

    select * from {{ ref('int_customer_activity_monthly') }}

),

customers_in_scope as (

    select
        customers.customer_id,
        customers.created_date,
        cast({{ dbt.date_trunc('month', 'customers.created_date') }} as date) as created_month_start_date
    from customers
    cross join as_of_dates
    where customers.created_date <= as_of_dates.as_of_date

),

spine as (

    -- the months in scope, before the activity is joined: the scope's customer predicate is a subquery,
    -- which the warehouse would otherwise evaluate after joining every month's activity
    select
        customers_in_scope.customer_id,
        calendar_months.month_start_date,
        calendar_months.month_end_date,
        calendar_months.evaluation_date,
        customers_in_scope.created_date
    from customers_in_scope
    inner join calendar_months
        on calendar_months.month_start_date >= customers_in_scope.created_month_start_date
    where {{ customer_month_in_scope('customers_in_scope.customer_id', 'calendar_months.month_start_date') }}

),

joined as (

    select
        spine.customer_id,
        spine.month_start_date,
        spine.month_end_date,
        spine.evaluation_date,
        spine.created_date,
        coalesce(activity.completed_orders, 0) as completed_orders,
        coalesce(activity.purchase_days, 0) as purchase_days,
        coalesce(activity.returned_orders, 0) as returned_orders,
        coalesce(activity.cancelled_orders, 0) as cancelled_orders,
        cast(coalesce(activity.net_spend_amount, 0) as {{ money_type() }}) as net_spend_amount,
        cast(coalesce(activity.margin_amount, 0) as {{ money_type() }}) as margin_amount,
        coalesce(activity.calls, 0) as calls,
        coalesce(activity.inbound_calls, 0) as inbound_calls,
        coalesce(activity.answered_calls, 0) as answered_calls,
        coalesce(activity.sales_calls, 0) as sales_calls,
        coalesce(activity.follow_up_calls, 0) as follow_up_calls,
        coalesce(activity.service_calls, 0) as service_calls,
        coalesce(activity.survey_calls, 0) as survey_calls,
        coalesce(activity.retention_calls, 0) as retention_calls,
        coalesce(activity.win_back_calls, 0) as win_back_calls,
        coalesce(activity.complaints, 0) as complaints,
        coalesce(activity.low_severity_complaints, 0) as low_severity_complaints,
        coalesce(activity.medium_severity_complaints, 0) as medium_severity_complaints,
        coalesce(activity.high_severity_complaints, 0) as high_severity_complaints,
        coalesce(activity.critical_severity_complaints, 0) as critical_severity_complaints,
        coalesce(activity.severe_complaints, 0) as severe_complaints,
        coalesce(activity.call_satisfaction_score_sum, 0)
        + coalesce(activity.complaint_satisfaction_score_sum, 0) as satisfaction_score_sum,
        coalesce(activity.call_satisfaction_responses, 0)
        + coalesce(activity.complaint_satisfaction_responses, 0) as satisfaction_responses
    from spine
    left join activity
        on
            spine.customer_id = activity.customer_id
            and spine.month_start_date = activity.month_start_date

),

final as (

    select
        *,
        -- a fixed scale, so every engine returns the same value
        cast(
            case
                when satisfaction_responses > 0
                    then cast(satisfaction_score_sum as {{ dbt.type_numeric() }}) / satisfaction_responses
            end as decimal(6, 2)
        ) as average_satisfaction_score
    from joined

)

select * from final
