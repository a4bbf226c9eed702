-- Churn analysis (DOMAIN.md §8): one row per churn event, i.e. per month in which a customer's stage
-- moved to churned (the same events kpi_monthly counts). Who (tier, channel, type, city), when (month,
-- tenure) and the signals before it, so the team can see why. Signals cover the
-- var churn_signal_lookback_months full months before the churn month plus the churn month itself (the
-- stage is evaluated at month end, so that month's events came first).
-- Incremental (macros/incremental/customer_months.sql): an event reads its customer's months up to it,
-- the tier of the month before it (tiers rank all customers) and the customer's complaints, so the events
-- of changed customers, of the recent months and of the months from the first changed tier month are
-- recomputed. Their lags need the lookback months before them, and the churn sequence number continues
-- from the customer's stored events before those months.
{%- set lookback_months = var('churn_signal_lookback_months') %}
{{ config(**tier_months_model_config(month_column='churn_month_start_date')) }}

-- depends_on: {{ ref('int_customer_change_stamps') }}
-- depends_on: {{ ref('fct_value_tiers_monthly') }}
{%- set tiers_from = changed_tier_months_from() %}
{%- set tiers_history_from = none if tiers_from is none else
    'cast(' ~ dbt.dateadd('month', -lookback_months, tiers_from) ~ ' as date)' %}

with

-- the customers with a churn event to recompute (a full build: every customer who ever churned)
churning_customers as (

    select distinct customer_id
    from {{ ref('fct_customer_kpi_monthly') }}
    where
        is_churned
        and {{ customer_month_in_scope(also_months_from=tiers_from) }}

),

-- the months the lags and running count of the recomputed events read
customer_months_in_scope as (

    select * from {{ ref('fct_customer_kpi_monthly') }}
    where {{ customer_month_in_scope(months_before=lookback_months, also_months_from=tiers_history_from) }}

),

-- only those of customers with such an event, so the windows sort no other customer's months
customer_months as (

    select customer_months_in_scope.*
    from customer_months_in_scope
    inner join churning_customers
        on customer_months_in_scope.customer_id = churning_customers.customer_id

),

-- the customer's churn events kept from before the months read (the rows in scope are deleted first);
-- a full build reads every month, so there are none
stored_churn_counts as (

    {%- if is_incremental() %}
    select
        stored.customer_id,
        count(*) as churns_before_history
    from {{ this }} as stored
    inner join (
        select
            customer_id,
            min(month_start_date) as history_start_date
        from customer_months
        group by customer_id
    ) as history
        on stored.customer_id = history.customer_id
    where stored.churn_month_start_date < history.history_start_date
    group by stored.customer_id
    {%- else %}
    select
        customer_id,
        0 as churns_before_history
    from customer_months
    where 1 = 0
    {%- endif %}

),

acquisitions as (

    select * from {{ ref('int_customer_acquisitions') }}

),

activity as (

    select * from {{ ref('int_customer_activity_monthly') }}

),

complaints as (

    select * from {{ ref('stg_crm__complaints') }}

),

-- the lifecycle fact once per join, each CTE read once: DuckDB materializes a CTE read twice (every month
-- of every customer) before either join could skip rows
lifecycle_at_churn as (

    select * from {{ ref('fct_customer_lifecycle_monthly') }}

),

lifecycle_before_churn as (

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
        count(case when is_churned then 1 end) over (
            partition by customer_id order by month_start_date rows between unbounded preceding and current row
        ) as churns_in_history

    from customer_months

),

churn_events as (

    select
        customer_month_history.*,
        customer_month_history.churns_in_history + coalesce(stored_churn_counts.churns_before_history, 0)
            as churn_sequence_number,
        cast({{ dbt.dateadd('month', -lookback_months, 'customer_month_history.month_start_date') }} as date)
            as signal_window_start_date

    from customer_month_history
    left join stored_churn_counts
        on customer_month_history.customer_id = stored_churn_counts.customer_id
    where
        customer_month_history.is_churned
        and {{ customer_month_in_scope(
            customer_column='customer_month_history.customer_id',
            month_column='customer_month_history.month_start_date',
            also_months_from=tiers_from,
        ) }}

),

-- purchases up to the churn month, as the lifecycle measured them at its end
order_signals as (

    select
        churn_events.customer_id,
        churn_events.month_start_date,
        lifecycle_monthly.completed_orders_to_date as lifetime_completed_orders,
        lifecycle_monthly.last_order_date,
        -- the stage engine's closure rule (closed, and no completed order after the closing day)
        lifecycle_monthly.is_account_closed
    from churn_events
    inner join lifecycle_at_churn as lifecycle_monthly
        on
            churn_events.customer_id = lifecycle_monthly.customer_id
            and churn_events.month_start_date = lifecycle_monthly.month_start_date

),

-- calls and complaints of the signal window (whole months) from the monthly activity
activity_signals as (

    select
        churn_events.customer_id,
        churn_events.month_start_date,
        {{ whole_number_sum('activity.complaints') }} as complaints_before_churn,
        {{ whole_number_sum('activity.severe_complaints') }} as severe_complaints_before_churn,
        {{ whole_number_sum('activity.complaint_satisfaction_score_sum') }} as complaint_satisfaction_score_sum,
        {{ whole_number_sum('activity.complaint_satisfaction_responses') }} as complaint_satisfaction_responses,
        {{ whole_number_sum('activity.calls') }} as calls_before_churn,
        {{ whole_number_sum('activity.inbound_calls') }} as inbound_calls_before_churn,
        {{ whole_number_sum('activity.follow_up_calls') }} as follow_up_calls_before_churn,
        {{ whole_number_sum('activity.call_satisfaction_score_sum') }} as call_satisfaction_score_sum,
        {{ whole_number_sum('activity.call_satisfaction_responses') }} as call_satisfaction_responses,
        min(activity.lowest_call_satisfaction_score) as lowest_call_satisfaction_before_churn
    from churn_events
    inner join activity
        on
            churn_events.customer_id = activity.customer_id
            and activity.month_start_date >= churn_events.signal_window_start_date
            and activity.month_start_date <= churn_events.month_start_date
    group by
        churn_events.customer_id,
        churn_events.month_start_date

),

-- complaints still open at the churn month end, whenever they were opened (a state, not a monthly total)
complaint_signals as (

    select
        churn_events.customer_id,
        churn_events.month_start_date,
        count(
            case
                when complaints.resolved_date is null or complaints.resolved_date > churn_events.month_end_date
                    then 1
            end
        ) as unresolved_complaints_at_churn
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
        count(case when lifecycle_monthly.is_overdue then 1 end) as overdue_months_before_churn,
        max(
            case
                when lifecycle_monthly.is_overdue
                    then lifecycle_monthly.days_since_last_order - lifecycle_monthly.decline_gap_threshold_days
                else 0
            end
        ) as max_days_overdue_before_churn

    from churn_events
    inner join lifecycle_before_churn as lifecycle_monthly
        on
            churn_events.customer_id = lifecycle_monthly.customer_id
            and lifecycle_monthly.month_start_date >= churn_events.signal_window_start_date
            and lifecycle_monthly.month_start_date < churn_events.month_start_date
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
        case when order_signals.is_account_closed then 'account_closed' else 'no_recent_purchase' end as churn_reason,
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
        coalesce(activity_signals.complaints_before_churn, 0) as complaints_before_churn,
        coalesce(activity_signals.severe_complaints_before_churn, 0) as severe_complaints_before_churn,
        coalesce(complaint_signals.unresolved_complaints_at_churn, 0) as unresolved_complaints_at_churn,
        cast(
            case
                when activity_signals.complaint_satisfaction_responses > 0
                    then
                        1.0 * activity_signals.complaint_satisfaction_score_sum
                        / activity_signals.complaint_satisfaction_responses
            end as decimal(28, 10)
        ) as average_complaint_satisfaction_before_churn,
        coalesce(activity_signals.calls_before_churn, 0) as calls_before_churn,
        coalesce(activity_signals.inbound_calls_before_churn, 0) as inbound_calls_before_churn,
        coalesce(activity_signals.follow_up_calls_before_churn, 0) as follow_up_calls_before_churn,
        cast(
            case
                when activity_signals.call_satisfaction_responses > 0
                    then
                        1.0 * activity_signals.call_satisfaction_score_sum
                        / activity_signals.call_satisfaction_responses
            end as decimal(28, 10)
        ) as average_call_satisfaction_before_churn,
        activity_signals.lowest_call_satisfaction_before_churn,
        churn_events.signal_window_start_date

    from churn_events
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
    left join activity_signals
        on
            churn_events.customer_id = activity_signals.customer_id
            and churn_events.month_start_date = activity_signals.month_start_date

)

select * from final
