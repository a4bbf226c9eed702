-- Acquisition cost per channel and month (DOMAIN.md §6 获取成本): marketing spend, the customers the
-- channel acquired (first completed order that month), the spend per acquired customer, and the cost
-- of calls to records that had not bought yet (prospects' call costs, dated by the call). Prospects
-- have no CLV, so their costs are reported here; calls to customers who later bought are also part
-- of those customers' acquisition cost in fct_customer_clv.
with

spend_allocated as (
    select * from {{ ref('int_marketing_spend_allocated') }}
),

calls_costed as (
    select * from {{ ref('int_calls_costed') }}
),

acquisitions as (
    select * from {{ ref('int_customer_acquisitions') }}
),

prospect_calls_by_channel_month as (
    select
        calls_costed.acquisition_channel,
        calls_costed.call_month_start as month_start_date,
        count(*) as prospect_calls,
        sum(calls_costed.call_cost) as prospect_call_cost,
        sum(case when acquisitions.is_acquired then 0 else calls_costed.call_cost end)
            as unconverted_prospect_call_cost
    from calls_costed
    inner join acquisitions
        on calls_costed.customer_id = acquisitions.customer_id
    where calls_costed.is_before_acquisition
    group by
        calls_costed.acquisition_channel,
        calls_costed.call_month_start
),

final as (
    select
        coalesce(spend_allocated.acquisition_channel, prospect_calls.acquisition_channel) as acquisition_channel,
        coalesce(spend_allocated.month_start_date, prospect_calls.month_start_date) as month_start_date,
        cast(coalesce(spend_allocated.spend_amount, 0) as {{ dbt.type_numeric() }}) as spend_amount,
        coalesce(spend_allocated.has_spend_row, false) as has_spend_row,
        coalesce(spend_allocated.customers_acquired, 0) as customers_acquired,
        cast(spend_allocated.spend_per_customer_acquired as {{ dbt.type_numeric() }}) as cost_per_acquisition,
        -- spend of a month in which the channel acquired nobody is in no customer's CLV
        cast(case
            when coalesce(spend_allocated.customers_acquired, 0) = 0 then coalesce(spend_allocated.spend_amount, 0)
            else 0
        end as {{ dbt.type_numeric() }}) as unallocated_spend_amount,
        coalesce(prospect_calls.prospect_calls, 0) as prospect_calls,
        cast(coalesce(prospect_calls.prospect_call_cost, 0) as {{ dbt.type_numeric() }}) as prospect_call_cost,
        cast(coalesce(prospect_calls.unconverted_prospect_call_cost, 0) as {{ dbt.type_numeric() }})
            as unconverted_prospect_call_cost,
        cast(
            coalesce(spend_allocated.spend_amount, 0) + coalesce(prospect_calls.prospect_call_cost, 0)
            as {{ dbt.type_numeric() }}
        ) as total_acquisition_cost
    from spend_allocated
    full outer join prospect_calls_by_channel_month as prospect_calls
        on
            spend_allocated.acquisition_channel = prospect_calls.acquisition_channel
            and spend_allocated.month_start_date = prospect_calls.month_start_date
)

select * from final
