-- Completed orders per customer and calendar month, up to the as-of date. Feeds the growth-accounting
-- buyers, the repeat purchase rate and cohort retention ("still buying"). Only completed orders count:
-- a returned order's latest version has status 'returned' and a cancelled one never counted (DOMAIN.md §6).

with

orders as (

    select * from {{ ref('stg_crm__orders') }}

),

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

completed_orders as (

    select
        orders.customer_id,
        orders.order_id,
        orders.net_amount,
        cast({{ dbt.date_trunc('month', 'orders.ordered_date') }} as date) as order_month_start_date

    from orders
    cross join as_of_dates
    where
        orders.is_completed
        and orders.ordered_date <= as_of_dates.as_of_date

),

customer_months as (

    select
        customer_id,
        order_month_start_date,
        count(*) as completed_orders,
        sum(net_amount) as net_amount

    from completed_orders
    group by
        customer_id,
        order_month_start_date

),

final as (

    select * from customer_months

)

select * from final
