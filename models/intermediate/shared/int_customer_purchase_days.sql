{#-
    Every purchase day of every customer, computed once (DOMAIN.md §4 and §6: several completed orders on
    one business day are one purchase; returned and cancelled orders are none): the day's completed
    orders, net spend and net margin, its number in the customer's purchase history and the days since
    the purchase day before. The lifecycle measures (int_customer_months_measured), the CLV purchase
    summary, the holdout evaluation and its daily tracking read it, each up to its own end date.
    Incremental: a purchase day depends only on its customer's staged orders, so a run recomputes the
    changed customers whole (macros/incremental/customer_months.sql) and keeps everyone else's days.
-#}

{{ config(**customer_month_model_config(pre_hook='{{ delete_customers_in_scope() }}')) }}

-- depends_on: {{ ref('int_customer_change_stamps') }}

with

orders as (

    select * from {{ ref('stg_crm__orders') }}
    where {{ customer_whole_in_scope() }}

),

purchase_days as (

    {{ completed_purchase_days('orders') }}

),

final as (

    select
        customer_id,
        purchase_date,
        completed_orders,
        day_net_spend,
        day_net_margin,
        row_number() over (partition by customer_id order by purchase_date) as purchase_day_number,
        {{ dbt.datediff(
            'lag(purchase_date) over (partition by customer_id order by purchase_date)',
            'purchase_date',
            'day'
        ) }} as gap_days
    from purchase_days

)

select * from final
