-- One row per customer record, prospects included. A customer is acquired by their first completed
-- order (DOMAIN.md §6: month m = 0), as of int_as_of_dates; ties at the same instant go to the lowest
-- order_id. The first order's category splits base profit from cross-sell profit (seed 003 二.1).
-- Incremental (docs/incremental.md): a row depends on the customer's staged record and orders, and on the
-- as-of date only until their first completed order is on or before it. So a run recomputes the changed
-- customers and those whose first completed order is on or after the previous as-of month.

{{ config(**customer_month_model_config(
    pre_hook='{{ delete_customers_in_scope(also_customers=customers_first_ordering_since_recent_months()) }}'
)) }}

-- depends_on: {{ ref('int_customer_change_stamps') }}

with

customers as (
    select * from {{ ref('stg_crm__customers') }}
    where {{ customer_whole_in_scope(also_customers=customers_first_ordering_since_recent_months()) }}
),

-- the orders of the customers in scope: the scope is evaluated once, in customers (which the warehouse
-- materializes, as it is read twice); every order on a full build
orders as (
    select * from {{ ref('stg_crm__orders') }}
    {%- if customer_months_rebuild() == 'changed' %}
    where customer_id in (select customer_id from customers)
    {%- endif %}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

completed_orders_numbered as (
    select
        orders.customer_id,
        orders.order_id,
        orders.ordered_at,
        orders.product_category,
        row_number() over (
            partition by orders.customer_id
            order by orders.ordered_at, orders.order_id
        ) as completed_order_number
    from orders
    cross join as_of_dates
    where
        orders.is_completed
        and orders.ordered_date <= as_of_dates.as_of_date
),

first_completed_orders as (
    select * from completed_orders_numbered
    where completed_order_number = 1
),

final as (
    select
        -- ids
        customers.customer_id,
        first_completed_orders.order_id as first_order_id,
        -- strings: a missing channel is its own group, so its customers still count somewhere
        coalesce(customers.acquisition_channel, 'unknown') as acquisition_channel,
        first_completed_orders.product_category as first_product_category,
        -- booleans
        first_completed_orders.order_id is not null as is_acquired,
        -- timestamps and dates
        first_completed_orders.ordered_at as acquired_at,
        cast(first_completed_orders.ordered_at as date) as acquisition_date,
        {{ value_month_start('first_completed_orders.ordered_at') }} as acquisition_month_start
    from customers
    left join first_completed_orders
        on customers.customer_id = first_completed_orders.customer_id
)

select * from final
