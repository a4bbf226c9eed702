-- Customer lifetime profit as monthly cash flows (DOMAIN.md §6, seed 003 二): one row per acquired
-- customer and month, from the acquisition month (m = 0) to the as-of month, every component in its
-- own column. Each source is reduced to (customer, month) before the single join to the spine, so
-- nothing fans out. Events before acquisition (calls to the prospect, a referred friend's early order,
-- an early complaint) are dated m = 0. Returned orders are not completed, so they contribute nothing;
-- cancelled orders never count.
-- Cost savings (成本节约) are not a component: a customer who needs less help already has a lower
-- service cost, and adding a saving as well would count it twice.
-- Incremental (macros/incremental/customer_months.sql): the months of changed customers, of the customers
-- whose flows depend on them (macros/value/cash_flow_dependent_customers.sql) and the recent months.
{{ config(**customer_month_model_config(
    pre_hook='{{ delete_customer_months_in_scope(also_customers=cash_flow_dependent_customers()) }}'
)) }}

-- depends_on: {{ ref('int_customer_change_stamps') }}
-- depends_on: {{ ref('base_crm__customers') }}

{%- set is_incremental_run = customer_months_rebuild() == 'changed' %}
{%- set replayed_customers = 'select customer_id from dependent_customers' %}

with
{%- if is_incremental_run %}

-- the customers recomputed whole besides the changed ones, found once for every filter below. Read after
-- the pre-hook's delete, they include every customer acquired in the recent months (no stored
-- acquisition-month row), whose events from before acquisition are dated in the acquisition month: so
-- the event filters below may drop a customer's older events whenever the customer is not in this set
dependent_customers as (
    {{ cash_flow_dependent_customers() }}
),
{%- endif %}

orders as (
    select * from {{ ref('stg_crm__orders') }}
),

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

activity as (
    select * from {{ ref('int_customer_activity_monthly') }}
),

calendar_months as (
    select * from {{ ref('int_calendar_months') }}
),

calls_costed as (
    select * from {{ ref('int_calls_costed') }}
),

acquisitions as (
    select * from {{ ref('int_customer_acquisitions') }}
    where is_acquired
),

spend_allocated as (
    select * from {{ ref('int_marketing_spend_allocated') }}
),

as_of_dates as (
    select
        as_of_date,
        {{ value_month_start('as_of_date') }} as as_of_month_start
    from {{ ref('int_as_of_dates') }}
),

completed_orders as (
    select orders.*
    from orders
    cross join as_of_dates
    where
        orders.is_completed
        and orders.ordered_date <= as_of_dates.as_of_date
),

-- base vs cross-sell: same category as the first completed order (a missing category is one category)
completed_orders_categorised as (
    select
        orders_in_scope.*,
        (
            orders_in_scope.product_category = acquisitions.first_product_category
            or (orders_in_scope.product_category is null and acquisitions.first_product_category is null)
        ) as is_first_category
    from (
        -- only the events of the customer-months in scope (an event is never dated earlier than it
        -- happened), filtered before the join: after it, the warehouse joins every order first
        select * from completed_orders
        where {{ customer_month_in_scope(
            'customer_id', 'ordered_date', also_customers=replayed_customers
        ) }}
    ) as orders_in_scope
    inner join acquisitions
        on orders_in_scope.customer_id = acquisitions.customer_id
),

-- base and cross-sell profit and price concessions of the customer's own completed orders
order_events as (
    select
        customer_id,
        {{ value_month_start('ordered_date') }} as event_month_start,
        case when is_first_category then gross_amount - cost_amount else 0 end as base_profit,
        case when is_first_category then 0 else gross_amount - cost_amount end as cross_sell_profit,
        0 as referral_gain,
        0 as acquisition_spend_cost,
        0 as acquisition_call_cost,
        0 as price_concessions,
        0 as service_call_cost,
        0 as complaint_handling_cost,
        0 as compensation_cost,
        0 as negative_referral_cost
    from completed_orders_categorised
),

-- referral gain: a share of the net margin of the referred customer's completed orders placed in
-- their first referral_credit_months months, credited to the referrer and dated by those orders
referred_customers as (
    select
        customers.customer_id as referred_customer_id,
        customers.referred_by_customer_id as referrer_customer_id,
        acquisitions.acquisition_month_start as referred_acquisition_month_start
    from customers
    inner join acquisitions
        on customers.customer_id = acquisitions.customer_id
    where
        customers.referred_by_customer_id is not null
        and customers.referred_by_customer_id <> customers.customer_id
),

referral_events as (
    select
        referred_customers.referrer_customer_id as customer_id,
        {{ value_month_start('completed_orders.ordered_date') }} as event_month_start,
        0 as base_profit,
        0 as cross_sell_profit,
        {{ value_referral_gain(
            'completed_orders.gross_amount', 'completed_orders.discount_amount', 'completed_orders.cost_amount'
        ) }} as referral_gain,
        0 as acquisition_spend_cost,
        0 as acquisition_call_cost,
        0 as price_concessions,
        0 as service_call_cost,
        0 as complaint_handling_cost,
        0 as compensation_cost,
        0 as negative_referral_cost
    from completed_orders
    inner join referred_customers
        on completed_orders.customer_id = referred_customers.referred_customer_id
    where
        {{ value_months_between(
            'referred_customers.referred_acquisition_month_start',
            value_month_start('completed_orders.ordered_date')
        ) }} < {{ var('referral_credit_months') }}
),

-- acquisition spend: the channel's spend in the acquisition month shared by its new customers
spend_events as (
    select
        acquisitions.customer_id,
        acquisitions.acquisition_month_start as event_month_start,
        0 as base_profit,
        0 as cross_sell_profit,
        0 as referral_gain,
        coalesce(spend_allocated.spend_per_customer_acquired, 0) as acquisition_spend_cost,
        0 as acquisition_call_cost,
        0 as price_concessions,
        0 as service_call_cost,
        0 as complaint_handling_cost,
        0 as compensation_cost,
        0 as negative_referral_cost
    from acquisitions
    left join spend_allocated
        on
            acquisitions.acquisition_channel = spend_allocated.acquisition_channel
            and acquisitions.acquisition_month_start = spend_allocated.month_start_date
),

-- calls before the first completed order are acquisition cost, calls from then on service cost
call_events as (
    select
        customer_id,
        call_month_start as event_month_start,
        0 as base_profit,
        0 as cross_sell_profit,
        0 as referral_gain,
        0 as acquisition_spend_cost,
        case when is_before_acquisition then call_cost else 0 end as acquisition_call_cost,
        0 as price_concessions,
        case when is_before_acquisition then 0 else call_cost end as service_call_cost,
        0 as complaint_handling_cost,
        0 as compensation_cost,
        0 as negative_referral_cost
    from calls_costed
    where {{ customer_month_in_scope('customer_id', 'call_month_start', also_customers=replayed_customers) }}
),

-- from the monthly activity: price concessions (discounts on completed orders), and per complaint its
-- handling cost and compensation (service cost) and negative-referral cost by severity, dated by when
-- the complaint was opened (compensation is often paid before it is resolved)
activity_events as (
    select
        customer_id,
        month_start_date as event_month_start,
        0 as base_profit,
        0 as cross_sell_profit,
        0 as referral_gain,
        0 as acquisition_spend_cost,
        0 as acquisition_call_cost,
        discount_amount as price_concessions,
        0 as service_call_cost,
        complaints * {{ var('complaint_handling_cost') }} as complaint_handling_cost,
        compensation_amount as compensation_cost,
        {{ value_negative_referral_cost('{severity}_severity_complaints') }} as negative_referral_cost
    from activity
    where {{ customer_month_in_scope('customer_id', 'month_start_date', also_customers=replayed_customers) }}
),

events_unioned as (
    select * from order_events
    union all
    select * from referral_events
    union all
    select * from spend_events
    union all
    select * from call_events
    union all
    select * from activity_events
),

-- events before acquisition count at m = 0; only acquired customers have cash flows
events_dated as (
    select
        events_unioned.*,
        case
            when events_unioned.event_month_start < acquisitions.acquisition_month_start
                then acquisitions.acquisition_month_start
            else events_unioned.event_month_start
        end as month_start_date
    from events_unioned
    inner join acquisitions
        on events_unioned.customer_id = acquisitions.customer_id
),

cash_flows_by_customer_month as (
    select
        customer_id,
        month_start_date,
        sum(base_profit) as base_profit,
        sum(cross_sell_profit) as cross_sell_profit,
        sum(referral_gain) as referral_gain,
        sum(acquisition_spend_cost) as acquisition_spend_cost,
        sum(acquisition_call_cost) as acquisition_call_cost,
        sum(price_concessions) as price_concessions,
        sum(service_call_cost) as service_call_cost,
        sum(complaint_handling_cost) as complaint_handling_cost,
        sum(compensation_cost) as compensation_cost,
        sum(negative_referral_cost) as negative_referral_cost
    from events_dated
    where {{ customer_month_in_scope(also_customers=replayed_customers) }}
    group by
        customer_id,
        month_start_date
),

-- every customer has a row for every month of the calendar since acquisition, events or not
customer_months as (
    select
        acquisitions.customer_id,
        acquisitions.acquisition_month_start,
        calendar_months.month_start_date
    from acquisitions
    inner join calendar_months
        on calendar_months.month_start_date >= acquisitions.acquisition_month_start
    where {{ customer_month_in_scope(
        customer_column='acquisitions.customer_id',
        month_column='calendar_months.month_start_date',
        also_customers=replayed_customers
    ) }}
),

components as (
    select
        customer_months.customer_id,
        customer_months.acquisition_month_start,
        customer_months.month_start_date,
        {{ value_months_between('customer_months.acquisition_month_start', 'customer_months.month_start_date') }}
            as months_since_acquisition,
        -- gains
        cast(coalesce(flows.base_profit, 0) as {{ value_amount_type() }}) as base_profit,
        cast(coalesce(flows.cross_sell_profit, 0) as {{ value_amount_type() }}) as cross_sell_profit,
        cast(coalesce(flows.referral_gain, 0) as {{ value_amount_type() }}) as referral_gain,
        -- costs, as positive amounts
        cast(coalesce(flows.acquisition_spend_cost, 0) as {{ value_amount_type() }}) as acquisition_spend_cost,
        cast(coalesce(flows.acquisition_call_cost, 0) as {{ value_amount_type() }}) as acquisition_call_cost,
        cast(coalesce(flows.price_concessions, 0) as {{ value_amount_type() }}) as price_concessions,
        cast(coalesce(flows.service_call_cost, 0) as {{ value_amount_type() }}) as service_call_cost,
        cast(coalesce(flows.complaint_handling_cost, 0) as {{ value_amount_type() }}) as complaint_handling_cost,
        cast(coalesce(flows.compensation_cost, 0) as {{ value_amount_type() }}) as compensation_cost,
        cast(coalesce(flows.negative_referral_cost, 0) as {{ value_amount_type() }}) as negative_referral_cost
    from customer_months
    left join cash_flows_by_customer_month as flows
        on
            customer_months.customer_id = flows.customer_id
            and customer_months.month_start_date = flows.month_start_date
),

totals as (
    select
        *,
        -- kept in the amount type: each addition widens a decimal by a digit
        cast(acquisition_spend_cost + acquisition_call_cost as {{ value_amount_type() }}) as acquisition_cost,
        cast(
            service_call_cost + complaint_handling_cost + compensation_cost as {{ value_amount_type() }}
        ) as service_cost
    from components
),

net as (
    select
        *,
        cast(
            base_profit + cross_sell_profit + referral_gain
            - acquisition_cost - price_concessions - service_cost - negative_referral_cost
            as {{ value_amount_type() }}
        ) as net_cash_flow
    from totals
),

final as (
    select
        *,
        {{ value_discounted('net_cash_flow', 'months_since_acquisition') }} as discounted_cash_flow
    from net
)

select * from final
