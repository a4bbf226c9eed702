{#-
    The purchase summary of predictive CLV (DOMAIN.md §6, second half), written once and used twice:
    by int_customer_purchase_summary (observation end = the CLV observation end) and by
    int_clv_holdout_customers (observation end = the start of the holdout period), both from the purchase
    days computed once in int_customer_purchase_days (completed_purchase_days: the rule of a purchase day).
-#}

{% macro clv_observation_end(orders) -%}
    {#- var clv_observation_end, else the project's evaluation date as_of_date, else the last day with any
        loaded order (of any status: a day of cancellations is still a day the data covers) -#}
    {%- set configured_end_date = var('clv_observation_end') or var('as_of_date') -%}
    {%- set configured_end = "cast('" ~ configured_end_date ~ "' as date)" if configured_end_date
        else 'cast(null as date)' -%}
    select coalesce({{ configured_end }}, max(ordered_date)) as observation_end_date
    from {{ orders }}
{%- endmacro %}

{% macro completed_purchase_days(orders) -%}
    {#- a purchase is a business-local day with at least one completed order: several orders on one day
        are one purchase, and returned or cancelled orders are not purchases at all -#}
    select
        customer_id,
        ordered_date as purchase_date,
        count(*) as completed_orders,
        -- money as staged (a day's sum is far below 10^16): the sum's own decimal(38,2) is a 128-bit integer,
        -- and the two columns stored that way took 3.3 s to read back at scale 10 (0.02 s as 18 digits)
        cast(sum(net_amount) as {{ money_type() }}) as day_net_spend,
        -- net of discounts, like the historical profit of §6 (discounts are price concessions there)
        cast(sum(net_amount - cost_amount) as {{ money_type() }}) as day_net_margin
    from {{ orders }}
    where is_completed
    group by
        customer_id,
        ordered_date
{%- endmacro %}

{% macro purchase_days_through(purchase_days, observation_end) -%}
    {#- the purchase days (int_customer_purchase_days) on or before the observation end (`observation_end`:
        one row) -#}
    select all_days.*
    from {{ purchase_days }} as all_days
    cross join {{ observation_end }}
    where all_days.purchase_date <= {{ observation_end }}.observation_end_date
{%- endmacro %}

{% macro purchase_summary(purchase_days, observation_end) -%}
    {#- One row per customer of `purchase_days` (customer_id, purchase_date, day_net_spend,
        day_net_margin, purchase_day_number; only days on or before the observation end, so the numbers
        of a customer's days are 1, 2, ... from the first) at `observation_end` (one row,
        observation_end_date). Durations in var clv_time_unit. -#}
    {%- set time_unit = var('clv_time_unit') -%}
    {%- set days_per_time_unit = {'day': 1, 'week': 7}[time_unit] -%}
    {#- Fractional outputs are double precision on every engine, not dbt.type_float(),
        which renders `float`, single precision on DuckDB and Spark. -#}
    {%- set double_type = value_type_double() -%}
    select
        customer_purchases.customer_id,
        customer_purchases.first_purchase_date,
        customer_purchases.last_purchase_date,
        {{ observation_end }}.observation_end_date,
        customer_purchases.purchase_days,
        customer_purchases.purchase_days - 1 as frequency,
        cast({{ dbt.datediff(
            'customer_purchases.first_purchase_date', 'customer_purchases.last_purchase_date', 'day'
        ) }} as {{ double_type }}) / {{ days_per_time_unit }} as recency,
        cast({{ dbt.datediff(
            'customer_purchases.first_purchase_date', observation_end ~ '.observation_end_date', 'day'
        ) }} as {{ double_type }}) / {{ days_per_time_unit }} as t,
        customer_purchases.monetary_value,
        customer_purchases.repeat_margin,
        customer_purchases.total_net_spend,
        customer_purchases.total_net_margin,
        -- undefined without positive spend; scoring then uses the population's rate
        case
            when customer_purchases.total_net_spend > 0
                then
                    cast(customer_purchases.total_net_margin as {{ double_type }})
                    / cast(customer_purchases.total_net_spend as {{ double_type }})
        end as margin_rate,
        '{{ time_unit }}' as time_unit
    from (
        -- Gamma-Gamma models the spend of repeat purchases only: the first purchase day is left out of
        -- monetary_value and repeat_margin (avg over no rows is null when there is no repeat day)
        select
            customer_id,
            min(purchase_date) as first_purchase_date,
            max(purchase_date) as last_purchase_date,
            count(*) as purchase_days,
            cast(
                avg(case when purchase_day_number > 1 then day_net_spend end) as {{ double_type }}
            ) as monetary_value,
            cast(
                avg(case when purchase_day_number > 1 then day_net_margin end) as {{ double_type }}
            ) as repeat_margin,
            cast(sum(day_net_spend) as {{ money_type() }}) as total_net_spend,
            cast(sum(day_net_margin) as {{ money_type() }}) as total_net_margin
        from {{ purchase_days }}
        group by customer_id
    ) as customer_purchases
    cross join {{ observation_end }}
{%- endmacro %}
