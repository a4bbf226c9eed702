{#-
    Per day, the first and the repeat purchases of the customers of the holdout evaluation (those who
    bought on or before the calibration end), up to the observation end: the actual side of the
    cumulative tracking of the CLV holdout evaluation. Days without a purchase have no row.
-#}

with

customers as (

    select
        customer_id,
        first_purchase_date,
        holdout_end_date
    from {{ ref('int_clv_holdout_customers') }}

),

purchase_days as (

    select
        customer_id,
        purchase_date
    from {{ ref('int_customer_purchase_days') }}

),

final as (

    select
        purchase_days.purchase_date as activity_date,
        count(case when purchase_days.purchase_date = customers.first_purchase_date then 1 end)
            as first_purchases,
        count(case when purchase_days.purchase_date > customers.first_purchase_date then 1 end)
            as repeat_purchases
    from purchase_days
    inner join customers
        on purchase_days.customer_id = customers.customer_id
    where purchase_days.purchase_date <= customers.holdout_end_date
    group by purchase_days.purchase_date

)

select * from final
