-- Monthly value-tier snapshots (DOMAIN.md §7): at each month-end, every customer acquired by then is
-- ranked by cumulative historical CLV up to that month-end (discounted cash flows of months 0..m,
-- as in int_customer_cash_flows_monthly), tiered with the same macro as fct_customer_value_tiers,
-- and compared with their tier at the previous month-end, so moves between tiers are visible.
-- The last snapshot is the as-of month; its tiers equal fct_customer_value_tiers.
-- Incremental (docs/incremental.md): a run recomputes the months from the first cash-flow month that
-- changed since the last run; each customer continues from their stored row of the month before, which
-- enters the running totals as the customer's first row (is_stored_state) and gives the first recomputed
-- month its previous tier.
{%- set cash_flow_columns = [
    'customer_id', 'month_start_date', 'months_since_acquisition', 'net_cash_flow', 'discounted_cash_flow'
] %}
{{ config(**changed_months_model_config('int_customer_cash_flows_monthly', cash_flow_columns)) }}
-- depends_on: {{ ref('int_customer_change_stamps') }}
{%- set first_month = changed_months_from('int_customer_cash_flows_monthly', cash_flow_columns) %}
with

cash_flows as (
    select
        customer_id,
        month_start_date,
        months_since_acquisition,
        net_cash_flow,
        discounted_cash_flow,
        false as is_stored_state,
        cast(null as {{ dbt.type_string() }}) as stored_value_tier
    from {{ ref('int_customer_cash_flows_monthly') }}
    {%- if first_month is not none %}
    where month_start_date >= {{ first_month }}

    union all

    select
        customer_id,
        month_start_date,
        months_since_acquisition,
        cumulative_lifetime_profit as net_cash_flow,
        cumulative_clv as discounted_cash_flow,
        true as is_stored_state,
        value_tier as stored_value_tier
    from {{ this }}
    where month_start_date = {{ dbt.dateadd('month', -1, first_month) }}
    {%- endif %}
),

cumulated as (
    select
        customer_id,
        month_start_date,
        months_since_acquisition,
        is_stored_state,
        stored_value_tier,
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

-- the stored rows are all of the month before the recomputed ones: ranked among themselves, apart from
-- every recomputed month, and only their stored tier is kept
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
        case
            when is_stored_state then stored_value_tier
            else {{ value_tier('value_rank', 'ranked_customers') }}
        end as value_tier
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
    where not is_stored_state
)

select * from final
