{#-
    The per-customer summary the predictive CLV models are fitted on (DOMAIN.md §6, second half):
    BG/NBD reads (frequency, recency, t), Gamma-Gamma reads (frequency, monetary_value), and the
    expected margin per purchase uses margin_rate. The rules are the macros of
    macros/value/purchase_summary.sql; tests/support/purchase_summary.py computes the same summary in
    pandas and tests/test_clv_summary.py compares the two row for row.
-#}

with

orders as (

    select * from {{ ref('stg_crm__orders') }}

),

all_purchase_days as (

    select * from {{ ref('int_customer_purchase_days') }}

),

observation_end as (

    {{ clv_observation_end('orders') }}

),

purchase_days as (

    {{ purchase_days_through('all_purchase_days', 'observation_end') }}

),

final as (

    {{ purchase_summary('purchase_days', 'observation_end') }}

)

select * from final
