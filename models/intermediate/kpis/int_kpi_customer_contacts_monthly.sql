-- Calls, complaints and sales-call conversions per customer and calendar month, up to the as-of date:
-- the service side of the monthly KPIs (satisfaction, complaint rate, follow-up coverage, campaign
-- conversion). Each source is aggregated to the customer-month grain before the union, so nothing fans out.

with

calls as (

    select * from {{ ref('stg_crm__calls') }}

),

complaints as (

    select * from {{ ref('stg_crm__complaints') }}

),

sales_call_conversions as (

    select * from {{ ref('int_kpi_sales_call_conversions') }}

),

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

calls_monthly as (

    select
        calls.customer_id,
        cast({{ dbt.date_trunc('month', 'calls.started_date') }} as date) as month_start_date,
        sum(case when calls.purpose = 'follow_up' then 1 else 0 end) as follow_up_calls,
        count(calls.satisfaction_score) as call_satisfaction_responses,
        sum(calls.satisfaction_score) as call_satisfaction_score_sum,
        0 as complaints_opened,
        0 as severe_complaints_opened,
        0 as complaint_satisfaction_responses,
        0 as complaint_satisfaction_score_sum,
        0 as outbound_sales_calls,
        0 as converted_sales_calls

    from calls
    cross join as_of_dates
    where
        calls.customer_id is not null
        and calls.started_date <= as_of_dates.as_of_date
    group by
        calls.customer_id,
        cast({{ dbt.date_trunc('month', 'calls.started_date') }} as date)

),

-- complaints (and the satisfaction given on them) are dated by the month they were opened
complaints_monthly as (

    select
        complaints.customer_id,
        cast({{ dbt.date_trunc('month', 'complaints.opened_date') }} as date) as month_start_date,
        0 as follow_up_calls,
        0 as call_satisfaction_responses,
        0 as call_satisfaction_score_sum,
        count(*) as complaints_opened,
        sum(case when complaints.severity in ('high', 'critical') then 1 else 0 end) as severe_complaints_opened,
        count(complaints.satisfaction_score) as complaint_satisfaction_responses,
        sum(complaints.satisfaction_score) as complaint_satisfaction_score_sum,
        0 as outbound_sales_calls,
        0 as converted_sales_calls

    from complaints
    cross join as_of_dates
    where complaints.opened_date <= as_of_dates.as_of_date
    group by
        complaints.customer_id,
        cast({{ dbt.date_trunc('month', 'complaints.opened_date') }} as date)

),

conversions_monthly as (

    select
        customer_id,
        call_month_start_date as month_start_date,
        0 as follow_up_calls,
        0 as call_satisfaction_responses,
        0 as call_satisfaction_score_sum,
        0 as complaints_opened,
        0 as severe_complaints_opened,
        0 as complaint_satisfaction_responses,
        0 as complaint_satisfaction_score_sum,
        count(*) as outbound_sales_calls,
        sum(case when is_converted then 1 else 0 end) as converted_sales_calls

    from sales_call_conversions
    group by
        customer_id,
        call_month_start_date

),

unioned as (

    select * from calls_monthly
    union all
    select * from complaints_monthly
    union all
    select * from conversions_monthly

),

final as (

    select
        customer_id,
        month_start_date,
        sum(follow_up_calls) as follow_up_calls,
        sum(call_satisfaction_responses) as call_satisfaction_responses,
        coalesce(sum(call_satisfaction_score_sum), 0) as call_satisfaction_score_sum,
        sum(complaints_opened) as complaints_opened,
        sum(severe_complaints_opened) as severe_complaints_opened,
        sum(complaint_satisfaction_responses) as complaint_satisfaction_responses,
        coalesce(sum(complaint_satisfaction_score_sum), 0) as complaint_satisfaction_score_sum,
        sum(outbound_sales_calls) as outbound_sales_calls,
        sum(converted_sales_calls) as converted_sales_calls

    from unioned
    group by
        customer_id,
        month_start_date

)

select * from final
