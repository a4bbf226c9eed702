-- Pareto curve of customer value (DOMAIN.md §7, the 20/80 rule of seed 000 三): customers in
-- historical-CLV rank order, with the cumulative share of customers against the cumulative share of
-- historical CLV and of lifetime profit. One row per rank, so a BI tool plots it as it is.
with

tiers as (
    select * from {{ ref('int_customer_value_tiers_historical') }}
),

cumulated as (
    select
        value_rank,
        customer_id,
        value_tier,
        historical_clv,
        lifetime_profit,
        ranked_customers,
        sum(historical_clv) over (
            order by value_rank rows between unbounded preceding and current row
        ) as cumulative_clv,
        sum(lifetime_profit) over (
            order by value_rank rows between unbounded preceding and current row
        ) as cumulative_lifetime_profit,
        sum(historical_clv) over () as all_clv,
        sum(lifetime_profit) over () as all_lifetime_profit
    from tiers
),

final as (
    select
        value_rank,
        customer_id,
        value_tier,
        historical_clv,
        lifetime_profit,
        cast(value_rank as {{ value_type_double() }}) / ranked_customers as cumulative_customer_share,
        cast(cumulative_clv as {{ dbt.type_numeric() }}) as cumulative_clv,
        cast(case
            when all_clv = 0 then null
            else cast(cumulative_clv as {{ value_type_double() }}) / all_clv
        end as {{ value_type_double() }}) as cumulative_clv_share,
        cast(cumulative_lifetime_profit as {{ dbt.type_numeric() }}) as cumulative_lifetime_profit,
        cast(case
            when all_lifetime_profit = 0 then null
            else cast(cumulative_lifetime_profit as {{ value_type_double() }}) / all_lifetime_profit
        end as {{ value_type_double() }}) as cumulative_profit_share
    from cumulated
)

select * from final
