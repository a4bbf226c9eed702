-- Tier summary for both tierings (DOMAIN.md §7): customers, profit and profit share per tier, to
-- answer "does the top 20% bring 80% of the profit?". `tiering` = 'historical' ranks by historical
-- CLV, 'predicted' by total CLV (historical + predicted future); the value measure of each row is the
-- one its tiering ranks by. Shares are of the sum over all tiers, so with value-destroying customers
-- (negative CLV) the top tier's share can exceed 1 and tier C's be negative: that is the point of C.
with

tiers as (
    select * from {{ ref('fct_customer_value_tiers') }}
),

tier_labels as (
    select * from {{ ref('value_tier_labels') }}
),

customer_tiers as (
    select
        'historical' as tiering,
        value_tier,
        lifetime_profit,
        historical_clv as clv
    from tiers
    union all
    select
        'predicted' as tiering,
        predicted_value_tier as value_tier,
        lifetime_profit,
        total_clv as clv
    from tiers
),

by_tier as (
    select
        tiering,
        value_tier,
        count(*) as customers,
        sum(lifetime_profit) as lifetime_profit,
        sum(clv) as total_clv,
        avg(clv) as avg_clv,
        min(clv) as min_clv,
        max(clv) as max_clv
    from customer_tiers
    group by
        tiering,
        value_tier
),

with_shares as (
    select
        *,
        sum(customers) over (partition by tiering) as all_customers,
        sum(lifetime_profit) over (partition by tiering) as all_lifetime_profit,
        sum(total_clv) over (partition by tiering) as all_clv
    from by_tier
),

final as (
    select
        with_shares.tiering,
        with_shares.value_tier,
        tier_labels.tier_label_en,
        tier_labels.tier_label_zh,
        with_shares.customers,
        cast(with_shares.customers as {{ value_type_double() }}) / with_shares.all_customers as customer_share,
        cast(with_shares.lifetime_profit as {{ dbt.type_numeric() }}) as lifetime_profit,
        cast(case
            when with_shares.all_lifetime_profit = 0 then null
            else cast(with_shares.lifetime_profit as {{ value_type_double() }}) / with_shares.all_lifetime_profit
        end as {{ value_type_double() }}) as lifetime_profit_share,
        cast(with_shares.total_clv as {{ dbt.type_numeric() }}) as total_clv,
        cast(case
            when with_shares.all_clv = 0 then null
            else cast(with_shares.total_clv as {{ value_type_double() }}) / with_shares.all_clv
        end as {{ value_type_double() }}) as clv_share,
        cast(with_shares.avg_clv as {{ dbt.type_numeric() }}) as avg_clv,
        cast(with_shares.min_clv as {{ dbt.type_numeric() }}) as min_clv,
        cast(with_shares.max_clv as {{ dbt.type_numeric() }}) as max_clv
    from with_shares
    left join tier_labels
        on with_shares.value_tier = tier_labels.value_tier
)

select * from final
