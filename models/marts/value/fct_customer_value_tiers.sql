-- Value tiers 20 / 60 / 20 (DOMAIN.md §7, seed 000 三): customers with a completed order ranked by
-- historical CLV, best first, ties by customer_id; macro value_tier turns rank and count into A/B/C
-- with the cut points of var value_tier_cutoffs. The same tiering on predicted total CLV sits beside
-- it (equal to the historical one until the Python asset has run).
with

clv as (
    select * from {{ ref('fct_customer_clv') }}
),

ranked as (
    select
        customer_id,
        acquisition_channel,
        lifetime_profit,
        historical_clv,
        predicted_future_clv,
        total_clv,
        row_number() over (order by historical_clv desc, customer_id asc) as value_rank,
        row_number() over (order by total_clv desc, customer_id asc) as predicted_value_rank,
        count(*) over () as ranked_customers
    from clv
),

final as (
    select
        customer_id,
        acquisition_channel,
        lifetime_profit,
        historical_clv,
        value_rank,
        {{ value_tier('value_rank', 'ranked_customers') }} as value_tier,
        predicted_future_clv,
        total_clv,
        predicted_value_rank,
        {{ value_tier('predicted_value_rank', 'ranked_customers') }} as predicted_value_tier,
        ranked_customers
    from ranked
)

select * from final
