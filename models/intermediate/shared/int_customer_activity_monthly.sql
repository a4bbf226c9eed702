{#-
    What each customer did in each calendar month, computed once (one row per customer and month with
    any order, call or complaint, up to the as-of date; months without activity have no row). The
    lifecycle spine, the monthly KPIs, the cash flows and the churn analysis all read their monthly
    totals here. Orders count by their latest status (a returned order is not completed); a month's
    purchase days are counted from int_customer_purchase_days, where the purchase-day rule lives; calls
    from unknown callers (no customer_id) belong to no customer; complaints are dated by the day opened.
    Incremental: the months of changed customers and the recent months (macros/incremental/customer_months.sql).
-#}

{{ config(**customer_month_model_config()) }}

-- depends_on: {{ ref('int_customer_change_stamps') }}

with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

orders as (

    select * from {{ ref('stg_crm__orders') }}

),

calls as (

    select * from {{ ref('stg_crm__calls') }}

),

complaints as (

    select * from {{ ref('stg_crm__complaints') }}

),

purchase_days as (

    select * from {{ ref('int_customer_purchase_days') }}

),

sales_call_conversions as (

    select * from {{ ref('int_kpi_sales_call_conversions') }}

),

orders_monthly as (

    select
        orders.customer_id,
        cast({{ dbt.date_trunc('month', 'orders.ordered_date') }} as date) as month_start_date,
        count(case when orders.is_completed then 1 end) as completed_orders,
        count(case when orders.is_returned then 1 end) as returned_orders,
        count(case when orders.is_cancelled then 1 end) as cancelled_orders,
        sum(case when orders.is_completed then orders.net_amount else 0 end) as net_spend_amount,
        sum(case when orders.is_completed then orders.margin_amount else 0 end) as margin_amount,
        sum(case when orders.is_completed then orders.discount_amount else 0 end) as discount_amount
    from orders
    cross join as_of_dates
    where
        orders.ordered_date <= as_of_dates.as_of_date
        and {{ customer_month_in_scope('orders.customer_id', 'orders.ordered_date') }}
    group by 1, 2

),

purchase_days_monthly as (

    -- every purchase day has a completed order, so its month is one of orders_monthly's
    select
        purchase_days.customer_id,
        cast({{ dbt.date_trunc('month', 'purchase_days.purchase_date') }} as date) as month_start_date,
        count(*) as purchase_days
    from purchase_days
    cross join as_of_dates
    where
        purchase_days.purchase_date <= as_of_dates.as_of_date
        and {{ customer_month_in_scope('purchase_days.customer_id', 'purchase_days.purchase_date') }}
    group by 1, 2

),

calls_monthly as (

    select
        calls.customer_id,
        cast({{ dbt.date_trunc('month', 'calls.started_date') }} as date) as month_start_date,
        count(*) as calls,
        count(case when calls.direction = 'inbound' then 1 end) as inbound_calls,
        count(case when calls.is_answered then 1 end) as answered_calls,
        count(case when calls.purpose = 'sales' then 1 end) as sales_calls,
        count(case when calls.purpose = 'follow_up' then 1 end) as follow_up_calls,
        count(case when calls.purpose = 'service' then 1 end) as service_calls,
        count(case when calls.purpose = 'survey' then 1 end) as survey_calls,
        count(case when calls.purpose = 'retention' then 1 end) as retention_calls,
        count(case when calls.purpose = 'win_back' then 1 end) as win_back_calls,
        sum(calls.duration_minutes) as call_minutes,
        {{ whole_number_sum("calls.satisfaction_score") }} as call_satisfaction_score_sum,
        count(calls.satisfaction_score) as call_satisfaction_responses,
        min(calls.satisfaction_score) as lowest_call_satisfaction_score
    from calls
    cross join as_of_dates
    where
        calls.customer_id is not null
        and calls.started_date <= as_of_dates.as_of_date
        and {{ customer_month_in_scope('calls.customer_id', 'calls.started_date') }}
    group by 1, 2

),

complaints_monthly as (

    select
        complaints.customer_id,
        cast({{ dbt.date_trunc('month', 'complaints.opened_date') }} as date) as month_start_date,
        count(*) as complaints,
        count(case when complaints.severity = 'low' then 1 end) as low_severity_complaints,
        count(case when complaints.severity = 'medium' then 1 end) as medium_severity_complaints,
        count(case when complaints.severity = 'high' then 1 end) as high_severity_complaints,
        count(case when complaints.severity = 'critical' then 1 end) as critical_severity_complaints,
        count(case when {{ is_severe_complaint('complaints.severity') }} then 1 end) as severe_complaints,
        sum(complaints.compensation_amount) as compensation_amount,
        {{ whole_number_sum("complaints.satisfaction_score") }} as complaint_satisfaction_score_sum,
        count(complaints.satisfaction_score) as complaint_satisfaction_responses
    from complaints
    cross join as_of_dates
    where
        complaints.opened_date <= as_of_dates.as_of_date
        and {{ customer_month_in_scope('complaints.customer_id', 'complaints.opened_date') }}
    group by 1, 2

),

conversions_monthly as (

    select
        customer_id,
        call_month_start_date as month_start_date,
        count(*) as outbound_sales_calls,
        count(case when is_converted then 1 end) as converted_sales_calls
    from sales_call_conversions
    where {{ customer_month_in_scope('customer_id', 'call_month_start_date') }}
    group by 1, 2

),

customer_months as (

    select
        customer_id,
        month_start_date
    from orders_monthly
    union
    select
        customer_id,
        month_start_date
    from calls_monthly
    union
    select
        customer_id,
        month_start_date
    from complaints_monthly
    union
    select
        customer_id,
        month_start_date
    from conversions_monthly

),

final as (

    select
        customer_months.customer_id,
        customer_months.month_start_date,

        -- orders
        coalesce(orders_monthly.completed_orders, 0) as completed_orders,
        coalesce(purchase_days_monthly.purchase_days, 0) as purchase_days,
        coalesce(orders_monthly.returned_orders, 0) as returned_orders,
        coalesce(orders_monthly.cancelled_orders, 0) as cancelled_orders,
        cast(coalesce(orders_monthly.net_spend_amount, 0) as {{ money_type() }}) as net_spend_amount,
        cast(coalesce(orders_monthly.margin_amount, 0) as {{ money_type() }}) as margin_amount,
        cast(coalesce(orders_monthly.discount_amount, 0) as {{ money_type() }}) as discount_amount,

        -- calls
        coalesce(calls_monthly.calls, 0) as calls,
        coalesce(calls_monthly.inbound_calls, 0) as inbound_calls,
        coalesce(calls_monthly.answered_calls, 0) as answered_calls,
        coalesce(calls_monthly.sales_calls, 0) as sales_calls,
        coalesce(calls_monthly.follow_up_calls, 0) as follow_up_calls,
        coalesce(calls_monthly.service_calls, 0) as service_calls,
        coalesce(calls_monthly.survey_calls, 0) as survey_calls,
        coalesce(calls_monthly.retention_calls, 0) as retention_calls,
        coalesce(calls_monthly.win_back_calls, 0) as win_back_calls,
        cast(coalesce(calls_monthly.call_minutes, 0) as decimal(18, 4)) as call_minutes,
        coalesce(calls_monthly.call_satisfaction_score_sum, 0) as call_satisfaction_score_sum,
        coalesce(calls_monthly.call_satisfaction_responses, 0) as call_satisfaction_responses,
        calls_monthly.lowest_call_satisfaction_score,
        coalesce(conversions_monthly.outbound_sales_calls, 0) as outbound_sales_calls,
        coalesce(conversions_monthly.converted_sales_calls, 0) as converted_sales_calls,

        -- complaints
        coalesce(complaints_monthly.complaints, 0) as complaints,
        coalesce(complaints_monthly.low_severity_complaints, 0) as low_severity_complaints,
        coalesce(complaints_monthly.medium_severity_complaints, 0) as medium_severity_complaints,
        coalesce(complaints_monthly.high_severity_complaints, 0) as high_severity_complaints,
        coalesce(complaints_monthly.critical_severity_complaints, 0) as critical_severity_complaints,
        coalesce(complaints_monthly.severe_complaints, 0) as severe_complaints,
        cast(coalesce(complaints_monthly.compensation_amount, 0) as {{ money_type() }}) as compensation_amount,
        coalesce(complaints_monthly.complaint_satisfaction_score_sum, 0) as complaint_satisfaction_score_sum,
        coalesce(complaints_monthly.complaint_satisfaction_responses, 0) as complaint_satisfaction_responses
    from customer_months
    left join orders_monthly
        on
            customer_months.customer_id = orders_monthly.customer_id
            and customer_months.month_start_date = orders_monthly.month_start_date
    left join purchase_days_monthly
        on
            customer_months.customer_id = purchase_days_monthly.customer_id
            and customer_months.month_start_date = purchase_days_monthly.month_start_date
    left join calls_monthly
        on
            customer_months.customer_id = calls_monthly.customer_id
            and customer_months.month_start_date = calls_monthly.month_start_date
    left join complaints_monthly
        on
            customer_months.customer_id = complaints_monthly.customer_id
            and customer_months.month_start_date = complaints_monthly.month_start_date
    left join conversions_monthly
        on
            customer_months.customer_id = conversions_monthly.customer_id
            and customer_months.month_start_date = conversions_monthly.month_start_date

)

select * from final
