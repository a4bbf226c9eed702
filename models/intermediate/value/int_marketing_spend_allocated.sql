-- Acquisition spend per channel and month, shared equally by the customers that channel acquired
-- that month (DOMAIN.md §6 acquisition cost). A channel-month with customers but no spend row costs
-- 0 per customer; spend in a month that acquired nobody stays unallocated (it shows in
-- fct_acquisition_costs, not in any customer's CLV).
with

marketing_spend as (
    select * from {{ ref('stg_crm__marketing_spend') }}
),

acquisitions as (
    select * from {{ ref('int_customer_acquisitions') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

spend_by_channel_month as (
    select
        marketing_spend.channel as acquisition_channel,
        marketing_spend.month_start_date,
        sum(marketing_spend.spend_amount) as spend_amount
    from marketing_spend
    cross join as_of_dates
    where marketing_spend.month_start_date <= as_of_dates.as_of_date
    group by
        marketing_spend.channel,
        marketing_spend.month_start_date
),

acquired_by_channel_month as (
    select
        acquisition_channel,
        acquisition_month_start as month_start_date,
        count(*) as customers_acquired
    from acquisitions
    where is_acquired
    group by
        acquisition_channel,
        acquisition_month_start
),

final as (
    select
        coalesce(spend.acquisition_channel, acquired.acquisition_channel) as acquisition_channel,
        coalesce(spend.month_start_date, acquired.month_start_date) as month_start_date,
        cast(coalesce(spend.spend_amount, 0) as {{ value_amount_type() }}) as spend_amount,
        coalesce(acquired.customers_acquired, 0) as customers_acquired,
        spend.acquisition_channel is not null as has_spend_row,
        -- null when nobody was acquired: there is no one to share the spend
        cast(case
            when coalesce(acquired.customers_acquired, 0) = 0 then null
            else coalesce(spend.spend_amount, 0) / acquired.customers_acquired
        end as {{ value_amount_type() }}) as spend_per_customer_acquired
    from spend_by_channel_month as spend
    full outer join acquired_by_channel_month as acquired
        on
            spend.acquisition_channel = acquired.acquisition_channel
            and spend.month_start_date = acquired.month_start_date
)

select * from final
