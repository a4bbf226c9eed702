-- One row per outbound sales call to a known customer, with whether it converted: a completed order by the
-- same customer placed after the call and on or before the call date + var conversion_window_days
-- (DOMAIN.md §8). Windows are counted in calendar days on business-local dates, which is portable
-- (Spark's dateadd works on dates) and matches how the call centre reads "within 30 days".
-- Incremental (docs/incremental.md): a call's row depends on the call, its customer's completed orders and
-- the as-of date, which decides only the calls whose window reaches past the previous as-of date. So a run
-- recomputes the calls of changed customers and every call from conversion_window_months() months before
-- the month of the previous run's as-of date (macros/incremental/customer_months.sql), by start date.

{{ config(**customer_month_model_config(
    pre_hook="{{ delete_customer_months_in_scope(
        months_before=conversion_window_months(), month_column='started_date'
    ) }}"
)) }}

-- depends_on: {{ ref('int_customer_change_stamps') }}

with

calls as (

    select * from {{ ref('stg_crm__calls') }}

),

orders as (

    select * from {{ ref('stg_crm__orders') }}

),

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

outbound_sales_calls as (

    select
        calls.call_id,
        calls.customer_id,
        calls.campaign_id,
        calls.started_at,
        calls.started_date,
        cast({{ dbt.dateadd('day', var('conversion_window_days'), 'calls.started_date') }} as date)
            as conversion_deadline_date,
        as_of_dates.as_of_date

    from calls
    cross join as_of_dates
    where
        calls.direction = 'outbound'
        and calls.purpose = 'sales'
        -- an unknown caller cannot be matched to orders, so it is left out of the rate (docs/kpis.md)
        and calls.customer_id is not null
        and calls.started_date <= as_of_dates.as_of_date
        and {{ customer_month_in_scope(
            customer_column='calls.customer_id',
            month_column='calls.started_date',
            months_before=conversion_window_months(),
        ) }}

),

completed_orders as (

    select
        customer_id,
        order_id,
        ordered_at,
        ordered_date

    from orders
    where is_completed

),

-- aggregate orders to the call grain before joining back, so a call with several orders does not fan out
call_orders as (

    select
        outbound_sales_calls.call_id,
        count(completed_orders.order_id) as orders_in_window,
        min(completed_orders.ordered_at) as first_order_in_window_at

    from outbound_sales_calls
    inner join completed_orders
        on
            outbound_sales_calls.customer_id = completed_orders.customer_id
            and completed_orders.ordered_at > outbound_sales_calls.started_at
            and completed_orders.ordered_date <= outbound_sales_calls.conversion_deadline_date
            and completed_orders.ordered_date <= outbound_sales_calls.as_of_date
    group by outbound_sales_calls.call_id

),

final as (

    select
        outbound_sales_calls.call_id,
        outbound_sales_calls.customer_id,
        outbound_sales_calls.campaign_id,
        outbound_sales_calls.started_at,
        outbound_sales_calls.started_date,
        cast({{ dbt.date_trunc('month', 'outbound_sales_calls.started_date') }} as date) as call_month_start_date,
        outbound_sales_calls.conversion_deadline_date,
        coalesce(call_orders.orders_in_window, 0) as orders_in_window,
        call_orders.first_order_in_window_at,
        coalesce(call_orders.orders_in_window, 0) > 0 as is_converted,
        -- a call whose window ends after the as-of date may still convert: its month's rate is provisional
        outbound_sales_calls.conversion_deadline_date <= outbound_sales_calls.as_of_date
            as is_conversion_window_closed

    from outbound_sales_calls
    left join call_orders
        on outbound_sales_calls.call_id = call_orders.call_id

)

select * from final
