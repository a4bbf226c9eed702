-- Value tiers 20 / 60 / 20 on historical CLV (DOMAIN.md §7, seed 000 三): customers with a completed
-- order ranked best first, ties by customer_id; macro value_tier turns rank and count into A/B/C with
-- the cut points of var value_tier_cutoffs. Built before the predictive CLV asset, so dim_customers,
-- the Pareto curve and stage x tier counts do not wait for the fit; fct_customer_value_tiers adds the
-- same tiering on predicted total CLV.
with

clv as (
    select * from {{ ref('int_customer_clv_historical') }}
),

ranked as (
    select
        customer_id,
        acquisition_channel,
        lifetime_profit,
        historical_clv,
        row_number() over (order by historical_clv desc, customer_id asc) as value_rank,
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
        ranked_customers
    from ranked
)

select * from final
