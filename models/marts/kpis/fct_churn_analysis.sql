-- Churn analysis (DOMAIN.md §8): one row per churn event, i.e. per month in which a customer's stage
-- moved to churned (the same events kpi_monthly counts). Who (tier, channel, type, city), when (month,
-- tenure) and the signals before it, so the team can see why. Signals cover the
-- var churn_signal_lookback_months full months before the churn month plus the churn month itself (the
-- stage is evaluated at month end, so that month's events came first).
{%- set lookback_months = var('churn_signal_lookback_months') %}

with

customer_months as (

    select * from {{ ref('fct_customer_kpi_monthly') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

acquisitions as (

    select * from {{ ref('int_customer_acquisitions') }}

),

orders as (

    select * from {{ ref('stg_crm__orders') }}

),

calls as (

    select * from {{ ref('stg_crm__calls') }}

),

complaints as (

    select * from {{ ref('stg_crm__complaints') }}

),

lifecycle_monthly as (

    select * from {{ ref('fct_customer_lifecycle_monthly') }}

),

-- the path needs the months before the churn, so the lags are taken over all months first
customer_month_history as (

    select
        customer_id,
        month_start_date,
        month_end_date,
        stage_code,
        previous_stage_code,
        is_churned,
        acquisition_channel,
        customer_type,
        city,
        lag(value_tier) over (partition by customer_id order by month_start_date) as value_tier_before_churn,
        {%- for months_back in range(lookback_months, 0, -1) %}
        lag(stage_code, {{ months_back }}) over (partition by customer_id order by month_start_date)
            as stage_code_{{ months_back }}_months_before,
        {%- endfor %}
        sum(case when is_churned then 1 else 0 end) over (
            partition by customer_id order by month_start_date rows between unbounded preceding and current row
        ) as churn_sequence_number

    from customer_months

),

churn_events as (

    select
        *,
        cast({{ dbt.dateadd('month', -lookback_months, 'month_start_date') }} as date) as signal_window_start_date

    from customer_month_history
    where is_churned

),

order_signals as (

    select
        churn_events.customer_id,
        churn_events.month_start_date,
        count(orders.order_id) as lifetime_completed_orders,
        max(orders.ordered_date) as last_order_date

    from churn_events
    inner join orders
        on
            churn_events.customer_id = orders.customer_id
            and orders.is_completed
            and orders.ordered_date <= churn_events.month_end_date
    group by
        churn_events.customer_id,
        churn_events.month_start_date

),

complaint_signals as (

    select
        churn_events.customer_id,
        churn_events.month_start_date,
        sum(
            case when complaints.opened_date >= churn_events.signal_window_start_date then 1 else 0 end
        ) as complaints_before_churn,
        sum(
            case
                when
                    complaints.opened_date >= churn_events.signal_window_start_date
                    and complaints.severity in ('high', 'critical')
                    then 1
                else 0
            end
        ) as severe_complaints_before_churn,
        -- open at the churn month end, whenever they were opened
        sum(
            case
                when complaints.resolved_date is null or complaints.resolved_date > churn_events.month_end_date
                    then 1
                else 0
            end
        ) as unresolved_complaints_at_churn,
        avg(
            case
                when complaints.opened_date >= churn_events.signal_window_start_date
                    then 1.0 * complaints.satisfaction_score
            end
        ) as average_complaint_satisfaction_before_churn

    from churn_events
    inner join complaints
        on
            churn_events.customer_id = complaints.customer_id
            and complaints.opened_date <= churn_events.month_end_date
    group by
        churn_events.customer_id,
        churn_events.month_start_date

),

-- overdue against the customer's own cadence (the lifecycle decline rule's threshold), in the months before
overdue_signals as (

    select
        churn_events.customer_id,
        churn_events.month_start_date,
        sum(case when lifecycle_monthly.is_overdue then 1 else 0 end) as overdue_months_before_churn,
        max(
            case
                when lifecycle_monthly.is_overdue
                    then lifecycle_monthly.days_since_last_order - lifecycle_monthly.decline_gap_threshold_days
                else 0
            end
        ) as max_days_overdue_before_churn

    from churn_events
    inner join lifecycle_monthly
        on
            churn_events.customer_id = lifecycle_monthly.customer_id
            and lifecycle_monthly.month_start_date >= churn_events.signal_window_start_date
            and lifecycle_monthly.month_start_date < churn_events.month_start_date
    group by
        churn_events.customer_id,
        churn_events.month_start_date

),

call_signals as (

    select
        churn_events.customer_id,
        churn_events.month_start_date,
        count(*) as calls_before_churn,
        sum(case when calls.direction = 'inbound' then 1 else 0 end) as inbound_calls_before_churn,
        sum(case when calls.purpose = 'follow_up' then 1 else 0 end) as follow_up_calls_before_churn,
        avg(1.0 * calls.satisfaction_score) as average_call_satisfaction_before_churn,
        min(calls.satisfaction_score) as lowest_call_satisfaction_before_churn

    from churn_events
    inner join calls
        on
            churn_events.customer_id = calls.customer_id
            and calls.started_date >= churn_events.signal_window_start_date
            and calls.started_date <= churn_events.month_end_date
    group by
        churn_events.customer_id,
        churn_events.month_start_date

),

final as (

    select
        -- ids
        {{ dbt.concat([
            "churn_events.customer_id", "'|'", "cast(churn_events.month_end_date as " ~ dbt.type_string() ~ ")",
        ]) }} as churn_event_id,
        churn_events.customer_id,

        -- when
        churn_events.month_start_date as churn_month_start_date,
        churn_events.month_end_date as churn_month_end_date,
        churn_events.churn_sequence_number,
        acquisitions.acquisition_date,
        acquisitions.acquisition_month_start as acquisition_month_start_date,
        cast({{ dbt.datediff(
            'acquisitions.acquisition_month_start', 'churn_events.month_start_date', 'month'
        ) }} as integer) as tenure_months_at_churn,
        cast({{ dbt.datediff(
            'acquisitions.acquisition_date', 'churn_events.month_end_date', 'day'
        ) }} as integer) as tenure_days_at_churn,

        -- who
        churn_events.value_tier_before_churn,
        churn_events.acquisition_channel,
        churn_events.customer_type,
        churn_events.city,

        -- why: how the relationship ended and the signals before it
        case
            when customers.closed_date is not null and customers.closed_date <= churn_events.month_end_date
                then 'account_closed'
            else 'no_recent_purchase'
        end as churn_reason,
        churn_events.previous_stage_code,
        {%- set path_parts = [] -%}
        {%- for months_back in range(lookback_months, 0, -1) -%}
            {%- do path_parts.append(
                "case when churn_events.stage_code_" ~ months_back ~ "_months_before is null then '' else "
                ~ dbt.concat(["churn_events.stage_code_" ~ months_back ~ "_months_before", "' > '"]) ~ " end"
            ) -%}
        {%- endfor -%}
        {%- do path_parts.append("churn_events.stage_code") %}
        {{ dbt.concat(path_parts) }} as stage_path,
        (
            {%- for months_back in range(lookback_months, 0, -1) %}
            case when churn_events.stage_code_{{ months_back }}_months_before = 'declining' then 1 else 0 end
            {%- if not loop.last %} +{% endif %}
            {%- endfor %}
        ) as declining_months_before_churn,
        coalesce(order_signals.lifetime_completed_orders, 0) as lifetime_completed_orders,
        order_signals.last_order_date,
        cast({{ dbt.datediff(
            'order_signals.last_order_date', 'churn_events.month_end_date', 'day'
        ) }} as integer) as days_since_last_order_at_churn,
        coalesce(overdue_signals.overdue_months_before_churn, 0) as overdue_months_before_churn,
        coalesce(overdue_signals.max_days_overdue_before_churn, 0) as max_days_overdue_before_churn,
        coalesce(complaint_signals.complaints_before_churn, 0) as complaints_before_churn,
        coalesce(complaint_signals.severe_complaints_before_churn, 0) as severe_complaints_before_churn,
        coalesce(complaint_signals.unresolved_complaints_at_churn, 0) as unresolved_complaints_at_churn,
        cast(complaint_signals.average_complaint_satisfaction_before_churn as decimal(28, 10))
            as average_complaint_satisfaction_before_churn,
        coalesce(call_signals.calls_before_churn, 0) as calls_before_churn,
        coalesce(call_signals.inbound_calls_before_churn, 0) as inbound_calls_before_churn,
        coalesce(call_signals.follow_up_calls_before_churn, 0) as follow_up_calls_before_churn,
        cast(call_signals.average_call_satisfaction_before_churn as decimal(28, 10))
            as average_call_satisfaction_before_churn,
        call_signals.lowest_call_satisfaction_before_churn,
        churn_events.signal_window_start_date

    from churn_events
    left join customers
        on churn_events.customer_id = customers.customer_id
    left join acquisitions
        on churn_events.customer_id = acquisitions.customer_id
    left join order_signals
        on
            churn_events.customer_id = order_signals.customer_id
            and churn_events.month_start_date = order_signals.month_start_date
    left join overdue_signals
        on
            churn_events.customer_id = overdue_signals.customer_id
            and churn_events.month_start_date = overdue_signals.month_start_date
    left join complaint_signals
        on
            churn_events.customer_id = complaint_signals.customer_id
            and churn_events.month_start_date = complaint_signals.month_start_date
    left join call_signals
        on
            churn_events.customer_id = call_signals.customer_id
            and churn_events.month_start_date = call_signals.month_start_date

)

select * from final
