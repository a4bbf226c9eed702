-- Historical customer lifetime value (DOMAIN.md §6): one row per customer with a completed order, the
-- net present value at acquisition of the monthly cash flows with every component summed. Everything
-- that does not need the predictive fit reads this (the historical tiers, dim_customers, the KPIs), so
-- it is built before the Python CLV asset; fct_customer_clv adds the predictions.
with

cash_flows as (
    select * from {{ ref('int_customer_cash_flows_monthly') }}
),

acquisitions as (
    select * from {{ ref('int_customer_acquisitions') }}
    where is_acquired
),

cash_flows_by_customer as (
    select
        customer_id,
        count(*) as months_observed,
        sum(base_profit) as base_profit,
        sum(cross_sell_profit) as cross_sell_profit,
        sum(referral_gain) as referral_gain,
        sum(acquisition_spend_cost) as acquisition_spend_cost,
        sum(acquisition_call_cost) as acquisition_call_cost,
        sum(acquisition_cost) as acquisition_cost,
        sum(price_concessions) as price_concessions,
        sum(service_call_cost) as service_call_cost,
        sum(complaint_handling_cost) as complaint_handling_cost,
        sum(compensation_cost) as compensation_cost,
        sum(service_cost) as service_cost,
        sum(negative_referral_cost) as negative_referral_cost,
        sum(net_cash_flow) as lifetime_profit,
        sum(discounted_cash_flow) as historical_clv
    from cash_flows
    group by customer_id
),

final as (
    select
        -- ids
        acquisitions.customer_id,
        -- acquisition
        acquisitions.acquisition_month_start,
        acquisitions.acquisition_date,
        acquisitions.acquisition_channel,
        acquisitions.first_product_category,
        cash_flows_by_customer.months_observed,
        -- gains
        cash_flows_by_customer.base_profit,
        cash_flows_by_customer.cross_sell_profit,
        cash_flows_by_customer.referral_gain,
        -- costs
        cash_flows_by_customer.acquisition_spend_cost,
        cash_flows_by_customer.acquisition_call_cost,
        cash_flows_by_customer.acquisition_cost,
        cash_flows_by_customer.price_concessions,
        cash_flows_by_customer.service_call_cost,
        cash_flows_by_customer.complaint_handling_cost,
        cash_flows_by_customer.compensation_cost,
        cash_flows_by_customer.service_cost,
        cash_flows_by_customer.negative_referral_cost,
        -- value
        cash_flows_by_customer.lifetime_profit,
        cash_flows_by_customer.historical_clv
    from acquisitions
    inner join cash_flows_by_customer
        on acquisitions.customer_id = cash_flows_by_customer.customer_id
)

select * from final
