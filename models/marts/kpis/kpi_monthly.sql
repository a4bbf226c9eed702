-- sqlfluff:dialect:postgres
-- (sqlfluff 3.4's duckdb dialect does not parse GROUPING SETS; DuckDB, PostgreSQL and Spark run them)
-- Monthly KPIs (DOMAIN.md §8), one row per month × dimension value: overall and by acquisition channel,
-- customer type, city and value tier. Counts are sums over fct_customer_kpi_monthly, so every dimension
-- partitions the same customers and the growth-accounting identities hold in every row:
--   active = new + retained + resurrected,   active at start of month = retained + churned.
-- The rates are the ratio metrics of _kpis__semantic.yml, materialised for BI tools without a semantic
-- layer (tests/test_kpis.py checks that the two agree). Definitions: docs/kpis.md.
{%- set dimensions = {
    'overall': "'all'",
    'acquisition_channel': 'acquisition_channel',
    'customer_type': 'customer_type',
    'city': 'city',
    'value_tier': 'value_tier',
} %}
{#- rates and averages as one fixed-precision decimal, so every engine returns the same digits -#}
{%- set rate_type = 'decimal(28, 10)' %}

with

-- one aggregate per dimension in one scan (grouping sets), not a union of one copy of every customer-month
-- per dimension: the same groups, without copying 5 × the customer-months first
aggregated as (

    select
        month_start_date,
        month_end_date,
        case
            {%- for dimension_name in dimensions if dimension_name != 'overall' %}
            when grouping({{ dimensions[dimension_name] }}) = 0 then '{{ dimension_name }}'
            {%- endfor %}
            else 'overall'
        end as dimension_name,
        case
            {%- for dimension_name in dimensions if dimension_name != 'overall' %}
            when grouping({{ dimensions[dimension_name] }}) = 0 then {{ dimensions[dimension_name] }}
            {%- endfor %}
            else {{ dimensions['overall'] }}
        end as dimension_value,

        -- growth accounting
        count(case when is_active then 1 end) as active_customers,
        count(case when is_new then 1 end) as new_customers,
        count(case when is_retained then 1 end) as retained_customers,
        count(case when is_resurrected then 1 end) as resurrected_customers,
        count(case when is_churned then 1 end) as churned_customers,
        count(case when was_active_at_start then 1 end) as active_customers_at_start,

        -- purchases
        count(case when is_buyer then 1 end) as buying_customers,
        count(case when is_repeat_buyer then 1 end) as repeat_buying_customers,
        {{ whole_number_sum('completed_orders') }} as completed_orders,

        -- value
        sum(case when is_active then historical_clv_to_date end) as active_historical_clv_sum,
        count(case when is_active and historical_clv_to_date is not null then 1 end) as active_customers_with_clv,

        -- service
        {{ whole_number_sum('call_satisfaction_responses') }} as call_satisfaction_responses,
        {{ whole_number_sum('call_satisfaction_score_sum') }} as call_satisfaction_score_sum,
        {{ whole_number_sum('complaint_satisfaction_responses') }} as complaint_satisfaction_responses,
        {{ whole_number_sum('complaint_satisfaction_score_sum') }} as complaint_satisfaction_score_sum,
        {{ whole_number_sum('complaints_opened') }} as complaints_opened,
        {{ whole_number_sum('severe_complaints_opened') }} as severe_complaints_opened,
        count(case when is_active and has_complaint then 1 end) as active_customers_with_complaint,
        count(case when is_active and has_follow_up_call then 1 end) as active_customers_with_follow_up_call,
        {{ whole_number_sum('outbound_sales_calls') }} as outbound_sales_calls,
        {{ whole_number_sum('converted_sales_calls') }} as converted_sales_calls

    from {{ ref('fct_customer_kpi_monthly') }}
    group by grouping sets (
        {%- for dimension_name, dimension_value in dimensions.items() %}
        (month_start_date, month_end_date{% if dimension_name != 'overall' %}, {{ dimension_value }}{% endif %})
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    )

),

final as (

    select
        {{ dbt.concat([
            "cast(month_start_date as " ~ dbt.type_string() ~ ")", "'|'", "dimension_name", "'|'", "dimension_value",
        ]) }} as kpi_month_id,
        month_start_date,
        month_end_date,
        dimension_name,
        dimension_value,
        active_customers,
        new_customers,
        retained_customers,
        resurrected_customers,
        churned_customers,
        active_customers_at_start,
        -- (new + resurrected) / churned; undefined in a month without churn
        cast(
            1.0 * (new_customers + resurrected_customers) / nullif(churned_customers, 0) as {{ rate_type }}
        ) as quick_ratio,
        cast(
            1.0 * retained_customers / nullif(active_customers_at_start, 0) as {{ rate_type }}
        ) as retention_rate,
        cast(1.0 * churned_customers / nullif(active_customers_at_start, 0) as {{ rate_type }}) as churn_rate,
        buying_customers,
        repeat_buying_customers,
        cast(
            1.0 * repeat_buying_customers / nullif(buying_customers, 0) as {{ rate_type }}
        ) as repeat_purchase_rate,
        completed_orders,
        active_customers_with_clv,
        active_historical_clv_sum,
        cast(
            1.0 * active_historical_clv_sum / nullif(active_customers_with_clv, 0) as {{ rate_type }}
        ) as average_historical_clv,
        call_satisfaction_responses,
        call_satisfaction_score_sum,
        cast(
            1.0 * call_satisfaction_score_sum / nullif(call_satisfaction_responses, 0) as {{ rate_type }}
        ) as average_call_satisfaction,
        complaint_satisfaction_responses,
        complaint_satisfaction_score_sum,
        cast(
            1.0 * complaint_satisfaction_score_sum / nullif(complaint_satisfaction_responses, 0) as {{ rate_type }}
        ) as average_complaint_satisfaction,
        cast(
            1.0 * (call_satisfaction_score_sum + complaint_satisfaction_score_sum)
            / nullif(call_satisfaction_responses + complaint_satisfaction_responses, 0)
            as {{ rate_type }}
        ) as average_satisfaction,
        complaints_opened,
        severe_complaints_opened,
        active_customers_with_complaint,
        cast(
            1.0 * active_customers_with_complaint / nullif(active_customers, 0) as {{ rate_type }}
        ) as complaint_rate,
        active_customers_with_follow_up_call,
        cast(
            1.0 * active_customers_with_follow_up_call / nullif(active_customers, 0) as {{ rate_type }}
        ) as follow_up_coverage,
        outbound_sales_calls,
        converted_sales_calls,
        cast(
            1.0 * converted_sales_calls / nullif(outbound_sales_calls, 0) as {{ rate_type }}
        ) as campaign_conversion_rate

    from aggregated

)

select * from final
