-- Customers by current lifecycle stage and value tier (DOMAIN.md §7: the strategy depends on both).
-- The stage is the current stage_code of dim_customers (lifecycle, DOMAIN.md §4); the tier is the
-- historical-CLV tier. Customers without a completed order have no tier: they count under
-- value_tier 'unranked' (mostly prospects; a churned customer keeps the tier of their history).
with

customers as (
    select * from {{ ref('dim_customers') }}
),

tiers as (
    select * from {{ ref('int_customer_value_tiers_historical') }}
),

customer_stage_tiers as (
    select
        customers.customer_id,
        customers.stage_code,
        coalesce(tiers.value_tier, 'unranked') as value_tier,
        tiers.historical_clv,
        tiers.lifetime_profit
    from customers
    left join tiers
        on customers.customer_id = tiers.customer_id
),

final as (
    select
        {{ dbt.concat(['stage_code', "'|'", 'value_tier']) }} as stage_tier_key,
        stage_code,
        value_tier,
        count(*) as customers,
        cast(sum(lifetime_profit) as {{ dbt.type_numeric() }}) as lifetime_profit,
        cast(sum(historical_clv) as {{ dbt.type_numeric() }}) as historical_clv,
        cast(avg(historical_clv) as {{ dbt.type_numeric() }}) as avg_historical_clv
    from customer_stage_tiers
    group by
        stage_code,
        value_tier
)

select * from final
