{#-
    One row per customer and calendar month, from the month the customer record was created to the
    as-of month (DOMAIN.md §4: stages are evaluated at each period end), with what happened in that
    month. Events after the as-of date are ignored, so a past as_of_date rebuilds history as it was.
    The month calendar comes from a numbers CTE (0..999 months) rather than generate_series, so the
    same SQL runs on DuckDB, PostgreSQL and Spark.
-#}

with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

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

month_numbers as (

    -- 0 to 1199: a hundred years of months, from dbt's cross-database numbers table
    select cast(generated_number as integer) - 1 as month_number
    from ({{ dbt.generate_series(1200) }}) as series

),

customers_in_scope as (

    select
        customers.customer_id,
        customers.created_date,
        cast({{ dbt.date_trunc('month', 'customers.created_date') }} as date) as created_month_start_date,
        as_of_dates.as_of_date,
        as_of_dates.as_of_month_start_date
    from customers
    cross join as_of_dates
    where customers.created_date <= as_of_dates.as_of_date

),

calendar_bounds as (

    select
        min(created_month_start_date) as first_month_start_date,
        max(as_of_month_start_date) as last_month_start_date
    from customers_in_scope

),

calendar_months as (

    select
        cast(
            {{ dbt.dateadd('month', 'month_numbers.month_number', 'calendar_bounds.first_month_start_date') }}
            as date
        ) as month_start_date
    from month_numbers
    cross join calendar_bounds
    where
        month_numbers.month_number <= {{ dbt.datediff(
            'calendar_bounds.first_month_start_date', 'calendar_bounds.last_month_start_date', 'month'
        ) }}

),

customer_months as (

    select
        customers_in_scope.customer_id,
        calendar_months.month_start_date,
        cast({{ dbt.last_day('calendar_months.month_start_date', 'month') }} as date) as month_end_date,
        customers_in_scope.created_date,
        customers_in_scope.as_of_date
    from customers_in_scope
    inner join calendar_months
        on
            calendar_months.month_start_date >= customers_in_scope.created_month_start_date
            and calendar_months.month_start_date <= customers_in_scope.as_of_month_start_date

),

orders_monthly as (

    select
        orders.customer_id,
        cast({{ dbt.date_trunc('month', 'orders.ordered_date') }} as date) as month_start_date,
        sum(case when orders.is_completed then 1 else 0 end) as completed_orders,
        count(distinct case when orders.is_completed then orders.ordered_date end) as purchase_days,
        sum(case when orders.is_returned then 1 else 0 end) as returned_orders,
        sum(case when orders.is_cancelled then 1 else 0 end) as cancelled_orders,
        sum(case when orders.is_completed then orders.net_amount else 0 end) as net_spend_amount,
        sum(case when orders.is_completed then orders.margin_amount else 0 end) as margin_amount
    from orders
    cross join as_of_dates
    where orders.ordered_date <= as_of_dates.as_of_date
    group by 1, 2

),

calls_monthly as (

    -- calls from unknown callers (no customer_id) cannot be attributed to a customer's lifecycle
    select
        calls.customer_id,
        cast({{ dbt.date_trunc('month', 'calls.started_date') }} as date) as month_start_date,
        count(*) as calls,
        sum(case when calls.direction = 'inbound' then 1 else 0 end) as inbound_calls,
        sum(case when calls.is_answered then 1 else 0 end) as answered_calls,
        sum(case when calls.purpose = 'sales' then 1 else 0 end) as sales_calls,
        sum(case when calls.purpose = 'follow_up' then 1 else 0 end) as follow_up_calls,
        sum(case when calls.purpose = 'service' then 1 else 0 end) as service_calls,
        sum(case when calls.purpose = 'survey' then 1 else 0 end) as survey_calls,
        sum(case when calls.purpose = 'retention' then 1 else 0 end) as retention_calls,
        sum(case when calls.purpose = 'win_back' then 1 else 0 end) as win_back_calls,
        sum(calls.satisfaction_score) as call_satisfaction_score_sum,
        count(calls.satisfaction_score) as call_satisfaction_responses
    from calls
    cross join as_of_dates
    where
        calls.customer_id is not null
        and calls.started_date <= as_of_dates.as_of_date
    group by 1, 2

),

complaints_monthly as (

    select
        complaints.customer_id,
        cast({{ dbt.date_trunc('month', 'complaints.opened_date') }} as date) as month_start_date,
        count(*) as complaints,
        sum(case when complaints.severity = 'low' then 1 else 0 end) as low_severity_complaints,
        sum(case when complaints.severity = 'medium' then 1 else 0 end) as medium_severity_complaints,
        sum(case when complaints.severity = 'high' then 1 else 0 end) as high_severity_complaints,
        sum(case when complaints.severity = 'critical' then 1 else 0 end) as critical_severity_complaints,
        sum(complaints.satisfaction_score) as complaint_satisfaction_score_sum,
        count(complaints.satisfaction_score) as complaint_satisfaction_responses
    from complaints
    cross join as_of_dates
    where complaints.opened_date <= as_of_dates.as_of_date
    group by 1, 2

),

joined as (

    select
        customer_months.customer_id,
        customer_months.month_start_date,
        customer_months.month_end_date,
        -- the as-of month is evaluated on the as-of date, not on a month-end that has not happened yet
        case
            when customer_months.month_end_date > customer_months.as_of_date then customer_months.as_of_date
            else customer_months.month_end_date
        end as evaluation_date,
        customer_months.created_date,
        coalesce(orders_monthly.completed_orders, 0) as completed_orders,
        coalesce(orders_monthly.purchase_days, 0) as purchase_days,
        coalesce(orders_monthly.returned_orders, 0) as returned_orders,
        coalesce(orders_monthly.cancelled_orders, 0) as cancelled_orders,
        cast(coalesce(orders_monthly.net_spend_amount, 0) as {{ money_type() }}) as net_spend_amount,
        cast(coalesce(orders_monthly.margin_amount, 0) as {{ money_type() }}) as margin_amount,
        coalesce(calls_monthly.calls, 0) as calls,
        coalesce(calls_monthly.inbound_calls, 0) as inbound_calls,
        coalesce(calls_monthly.answered_calls, 0) as answered_calls,
        coalesce(calls_monthly.sales_calls, 0) as sales_calls,
        coalesce(calls_monthly.follow_up_calls, 0) as follow_up_calls,
        coalesce(calls_monthly.service_calls, 0) as service_calls,
        coalesce(calls_monthly.survey_calls, 0) as survey_calls,
        coalesce(calls_monthly.retention_calls, 0) as retention_calls,
        coalesce(calls_monthly.win_back_calls, 0) as win_back_calls,
        coalesce(complaints_monthly.complaints, 0) as complaints,
        coalesce(complaints_monthly.low_severity_complaints, 0) as low_severity_complaints,
        coalesce(complaints_monthly.medium_severity_complaints, 0) as medium_severity_complaints,
        coalesce(complaints_monthly.high_severity_complaints, 0) as high_severity_complaints,
        coalesce(complaints_monthly.critical_severity_complaints, 0) as critical_severity_complaints,
        coalesce(calls_monthly.call_satisfaction_score_sum, 0)
        + coalesce(complaints_monthly.complaint_satisfaction_score_sum, 0) as satisfaction_score_sum,
        coalesce(calls_monthly.call_satisfaction_responses, 0)
        + coalesce(complaints_monthly.complaint_satisfaction_responses, 0) as satisfaction_responses
    from customer_months
    left join orders_monthly
        on
            customer_months.customer_id = orders_monthly.customer_id
            and customer_months.month_start_date = orders_monthly.month_start_date
    left join calls_monthly
        on
            customer_months.customer_id = calls_monthly.customer_id
            and customer_months.month_start_date = calls_monthly.month_start_date
    left join complaints_monthly
        on
            customer_months.customer_id = complaints_monthly.customer_id
            and customer_months.month_start_date = complaints_monthly.month_start_date

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
