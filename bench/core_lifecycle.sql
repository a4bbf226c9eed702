-- The core lifecycle work, by hand: the yardstick the whole main job is compared with.
--
-- From the raw text tables (the warehouse attached read-only as `warehouse`) to one row per customer and
-- month, from the month the customer was created to the last order month, with the month's completed
-- orders, rolling 3- and 12-month windows, running counts and the median gap between purchase days to
-- date. Cleaning is what right numbers need: the latest version of each order and customer record, kept
-- when it passes the staging contract's checks (written as filters: no reason codes, no rejected-rows
-- table), so the counts equal the pipeline's (tests/test_bench.py compares them with
-- int_customer_months_measured). Only orders are measured: calls and complaints are not part of it.

-- the customers whose record is valid: bench/staged_customers.sql, run first in the same timed process
-- (orchestration/bench_reference.py: PREREQUISITES), with the month each was created in
create or replace table customers as
select
    customer_id,
    created_at,
    cast(date_trunc('month', created_at) as date) as created_month_start_date
from staged_customers;

-- the orders that are valid: the latest version of each order id, passing the staging contract's checks
-- (parseable, known status, amounts that add up, not in the future, of a valid customer, after its creation)
create or replace table orders as
with

parsed as (
    select
        text_value(order_id) as order_id,
        text_value(customer_id) as customer_id,
        lower(text_value(status)) as status,
        text_value(gross_amount) as gross_amount_text,
        money(text_value(gross_amount)) as gross_amount,
        text_value(discount_amount) as discount_amount_text,
        money(text_value(discount_amount)) as discount_amount,
        text_value(cost_amount) as cost_amount_text,
        money(text_value(cost_amount)) as cost_amount,
        business_time(text_value(ordered_at)) as ordered_at,
        text_value(updated_at) as updated_at_text,
        business_time(text_value(updated_at)) as updated_at,
        business_loaded_at(_loaded_at) as loaded_at_business,
        _file_name,
        _file_row_number
    from warehouse.raw.orders
),

latest as (
    select *
    from parsed
    where order_id is not null and not (updated_at_text is not null and updated_at is null)
    qualify row_number() over (
        partition by order_id order by updated_at desc nulls last, _file_name desc, _file_row_number desc
    ) = 1
)

select
    latest.order_id,
    latest.customer_id,
    latest.status,
    cast(latest.ordered_at as date) as ordered_date,
    latest.gross_amount - coalesce(latest.discount_amount, 0) as net_amount
from latest
inner join customers on latest.customer_id = customers.customer_id
where
    latest.ordered_at is not null
    and latest.gross_amount is not null
    and not (latest.discount_amount_text is not null and latest.discount_amount is null)
    and not (latest.cost_amount_text is not null and latest.cost_amount is null)
    and latest.status in ('completed', 'cancelled', 'returned')
    and latest.gross_amount >= 0
    and coalesce(latest.discount_amount, 0) between 0 and latest.gross_amount
    and coalesce(latest.cost_amount, 0) >= 0
    and (latest.status <> 'completed' or latest.cost_amount is null or latest.cost_amount <= latest.gross_amount)
    and latest.ordered_at <= latest.loaded_at_business
    and latest.ordered_at >= customers.created_at;

-- completed orders per customer and month
create or replace table customer_orders_monthly as
select
    customer_id,
    cast(date_trunc('month', ordered_date) as date) as month_start_date,
    count(*) as completed_orders,
    count(distinct ordered_date) as purchase_days,
    sum(net_amount) as net_spend_amount
from orders
where status = 'completed'
group by customer_id, month_start_date;

-- the median gap (days) between distinct purchase days up to each purchase day; a month keeps the value
-- of its last purchase day
create or replace table purchase_gap_medians as
with

purchase_days as (
    select distinct customer_id, ordered_date
    from orders
    where status = 'completed'
),

gaps as (
    select
        customer_id,
        ordered_date,
        ordered_date - lag(ordered_date) over (partition by customer_id order by ordered_date) as gap_days
    from purchase_days
),

medians as (
    select
        customer_id,
        ordered_date,
        median(gap_days) over (
            partition by customer_id order by ordered_date rows between unbounded preceding and current row
        ) as median_gap_days
    from gaps
)

select
    customer_id,
    cast(date_trunc('month', ordered_date) as date) as month_start_date,
    arg_max(median_gap_days, ordered_date) as median_gap_days
from medians
group by customer_id, month_start_date;

-- the customer x month table: every month from the customer's created month to the last order month
create or replace table customer_months as
with

last_order as (
    select max(ordered_date) as last_order_date
    from orders
),

spine as (
    select
        customers.customer_id,
        cast(unnest(generate_series(
            customers.created_month_start_date,
            cast(date_trunc('month', last_order.last_order_date) as date),
            interval 1 month
        )) as date) as month_start_date
    from customers
    cross join last_order
    where cast(customers.created_at as date) <= last_order.last_order_date
),

months as (
    select
        spine.customer_id,
        spine.month_start_date,
        coalesce(monthly.completed_orders, 0) as completed_orders,
        coalesce(monthly.purchase_days, 0) as purchase_days,
        coalesce(monthly.net_spend_amount, 0) as net_spend_amount,
        medians.median_gap_days
    from spine
    left join customer_orders_monthly as monthly
        on spine.customer_id = monthly.customer_id and spine.month_start_date = monthly.month_start_date
    left join purchase_gap_medians as medians
        on spine.customer_id = medians.customer_id and spine.month_start_date = medians.month_start_date
)

-- the spine has every month, so a window of N rows is N calendar months
select
    customer_id,
    month_start_date,
    completed_orders,
    purchase_days,
    net_spend_amount,
    sum(completed_orders) over last_3_months as completed_orders_3m,
    sum(purchase_days) over last_3_months as purchase_days_3m,
    sum(net_spend_amount) over last_3_months as net_spend_amount_3m,
    sum(completed_orders) over last_12_months as completed_orders_12m,
    sum(purchase_days) over last_12_months as purchase_days_12m,
    sum(net_spend_amount) over last_12_months as net_spend_amount_12m,
    sum(completed_orders) over to_date as completed_orders_to_date,
    sum(purchase_days) over to_date as purchase_days_to_date,
    last_value(median_gap_days ignore nulls) over to_date as median_gap_days
from months
window
    to_date as (partition by customer_id order by month_start_date rows between unbounded preceding and current row),
    last_3_months as (partition by customer_id order by month_start_date rows between 2 preceding and current row),
    last_12_months as (partition by customer_id order by month_start_date rows between 11 preceding and current row);
