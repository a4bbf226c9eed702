-- Value tiers 20 / 60 / 20 (DOMAIN.md §7, seed 000 三): the historical tiering of
-- int_customer_value_tiers_historical, and beside it the same tiering (macro value_tier) on predicted
-- total CLV, which equals the historical one until the Python asset has run.
with

historical_tiers as (
    select * from {{ ref('int_customer_value_tiers_historical') }}
),

clv as (
    select * from {{ ref('fct_customer_clv') }}
),

ranked as (
    select
        historical_tiers.customer_id,
        historical_tiers.acquisition_channel,
        historical_tiers.lifetime_profit,
        historical_tiers.historical_clv,
        historical_tiers.value_rank,
        historical_tiers.value_tier,
        clv.predicted_future_clv,
        clv.total_clv,
        row_number() over (order by clv.total_clv desc, clv.customer_id asc) as predicted_value_rank,
        historical_tiers.ranked_customers
    from historical_tiers
    inner join clv
        on historical_tiers.customer_id = clv.customer_id
),

final as (
    select
        customer_id,
        acquisition_channel,
        lifetime_profit,
        historical_clv,
        value_rank,
        value_tier,
        predicted_future_clv,
        total_clv,
        predicted_value_rank,
        {{ value_tier('predicted_value_rank', 'ranked_customers') }} as predicted_value_tier,
        ranked_customers
    from ranked
)

select * from final
