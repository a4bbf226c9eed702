-- Monthly value-tier snapshots (DOMAIN.md §7): at each month-end, every customer acquired by then is
-- ranked by cumulative historical CLV up to that month-end (discounted cash flows of months 0..m,
-- as in int_customer_cash_flows_monthly), tiered with the same macro as fct_customer_value_tiers,
-- and compared with their tier at the previous month-end, so moves between tiers are visible.
-- The last snapshot is the as-of month; its tiers equal fct_customer_value_tiers.
with

cash_flows as (
    select * from {{ ref('int_customer_cash_flows_monthly') }}
),

cumulated as (
    select
        customer_id,
        month_start_date,
        months_since_acquisition,
        sum(net_cash_flow) over (
            partition by customer_id
            order by month_start_date
            rows between unbounded preceding and current row
        ) as cumulative_lifetime_profit,
        sum(discounted_cash_flow) over (
            partition by customer_id
            order by month_start_date
            rows between unbounded preceding and current row
        ) as cumulative_clv
    from cash_flows
),

ranked as (
    select
        *,
        row_number() over (
            partition by month_start_date
            order by cumulative_clv desc, customer_id asc
        ) as value_rank,
        count(*) over (partition by month_start_date) as ranked_customers
    from cumulated
),

tiered as (
    select
        *,
        {{ value_tier('value_rank', 'ranked_customers') }} as value_tier
    from ranked
),

with_previous as (
    select
        *,
        lag(value_tier) over (partition by customer_id order by month_start_date) as previous_value_tier
    from tiered
),

final as (
    select
        customer_id,
        month_start_date,
        cast({{ dbt.last_day('month_start_date', 'month') }} as date) as month_end_date,
        months_since_acquisition,
        cast(cumulative_lifetime_profit as {{ dbt.type_numeric() }}) as cumulative_lifetime_profit,
        cast(cumulative_clv as {{ dbt.type_numeric() }}) as cumulative_clv,
        value_rank,
        ranked_customers,
        value_tier,
        previous_value_tier,
        case
            when previous_value_tier is null then 'new'
            when {{ value_tier_order('value_tier') }} < {{ value_tier_order('previous_value_tier') }} then 'up'
            when {{ value_tier_order('value_tier') }} > {{ value_tier_order('previous_value_tier') }} then 'down'
            else 'same'
        end as tier_move
    from with_previous
)

select * from final
