{#-
    Early warning (DOMAIN.md §5, seed 002 衰退阶段 高危客户预警): a risk score 0-100 for every
    customer whose current stage is new, growing, mature or declining, with its reasons as codes.
    Each reason earns up to its weight (var early_warning_weights, summing to 100):
      overdue_cadence      days since last order beyond max(decline_min_days, factor x own cadence);
                           half the weight at the threshold, rising to the full weight at the churn threshold
      spend_drop           trailing spend below decline_spend_ratio x own baseline; half the weight at
                           the threshold, the full weight at zero spend
      unresolved_complaint a complaint opened in the last early_warning_window_days, not resolved by the as-of date
      severe_complaint     a severe complaint (var severe_complaint_severities) in that window
      low_satisfaction     mean satisfaction (calls and complaints) in that window <= low_satisfaction_threshold
      low_p_alive          BG/NBD probability alive below low_p_alive_threshold (only where the model has run)
    Reason codes are '|'-delimited in this fixed order.
-#}

{%- set weights = var('early_warning_weights') -%}
{%- set window_days = var('early_warning_window_days') -%}

with

stages as (

    select * from {{ ref('int_customer_lifecycle_as_of_month') }}

),

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

complaints as (

    select * from {{ ref('stg_crm__complaints') }}

),

calls as (

    select * from {{ ref('stg_crm__calls') }}

),

predictions as (

    select * from {{ source('python_models', 'clv_customer_predictions') }}

),

framework_labels as (

    select * from {{ ref('lifecycle_framework_labels') }}
    where framework = '{{ var("lifecycle_framework") }}'

),

current_stages as (

    select
        stages.*,
        as_of_dates.as_of_date,
        cast({{ dbt.dateadd('day', -window_days, 'as_of_dates.as_of_date') }} as date) as window_start_date
    from stages
    inner join as_of_dates
        on stages.month_start_date = as_of_dates.as_of_month_start_date
    where stages.stage_code in ('new', 'growing', 'mature', 'declining')

),

recent_complaints as (

    select
        complaints.customer_id,
        count(*) as complaints_in_window,
        count(
            case
                when complaints.resolved_date is null or complaints.resolved_date > current_stages.as_of_date
                    then 1
            end
        ) as unresolved_complaints_in_window,
        count(case when {{ is_severe_complaint('complaints.severity') }} then 1 end)
            as severe_complaints_in_window,
        {{ whole_number_sum('complaints.satisfaction_score') }} as satisfaction_score_sum,
        count(complaints.satisfaction_score) as satisfaction_responses
    from complaints
    inner join current_stages
        on complaints.customer_id = current_stages.customer_id
    where
        complaints.opened_date > current_stages.window_start_date
        and complaints.opened_date <= current_stages.as_of_date
    group by 1

),

recent_call_scores as (

    select
        calls.customer_id,
        {{ whole_number_sum('calls.satisfaction_score') }} as satisfaction_score_sum,
        count(calls.satisfaction_score) as satisfaction_responses
    from calls
    inner join current_stages
        on calls.customer_id = current_stages.customer_id
    where
        calls.started_date > current_stages.window_start_date
        and calls.started_date <= current_stages.as_of_date
    group by 1

),

signals as (

    select
        current_stages.customer_id,
        current_stages.as_of_date,
        current_stages.stage_code,
        current_stages.days_since_last_order,
        current_stages.decline_gap_threshold_days,
        current_stages.churn_gap_threshold_days,
        current_stages.trailing_net_spend_amount,
        current_stages.baseline_net_spend_amount,
        current_stages.is_overdue,
        current_stages.is_spend_drop,
        coalesce(recent_complaints.complaints_in_window, 0) as complaints_in_window,
        coalesce(recent_complaints.unresolved_complaints_in_window, 0) as unresolved_complaints_in_window,
        coalesce(recent_complaints.severe_complaints_in_window, 0) as severe_complaints_in_window,
        coalesce(recent_complaints.satisfaction_responses, 0)
        + coalesce(recent_call_scores.satisfaction_responses, 0) as satisfaction_responses_in_window,
        case
            when
                coalesce(recent_complaints.satisfaction_responses, 0)
                + coalesce(recent_call_scores.satisfaction_responses, 0)
                > 0
                then cast(
                    coalesce(recent_complaints.satisfaction_score_sum, 0)
                    + coalesce(recent_call_scores.satisfaction_score_sum, 0) as {{ dbt.type_numeric() }}
                )
                / (
                    coalesce(recent_complaints.satisfaction_responses, 0)
                    + coalesce(recent_call_scores.satisfaction_responses, 0)
                )
        end as average_satisfaction_in_window,
        predictions.p_alive
    from current_stages
    left join recent_complaints
        on current_stages.customer_id = recent_complaints.customer_id
    left join recent_call_scores
        on current_stages.customer_id = recent_call_scores.customer_id
    left join predictions
        on current_stages.customer_id = predictions.customer_id

),

flagged as (

    select
        *,
        unresolved_complaints_in_window > 0 as has_unresolved_complaint,
        severe_complaints_in_window > 0 as has_severe_complaint,
        coalesce(average_satisfaction_in_window <= {{ var('low_satisfaction_threshold') }}, false)
            as has_low_satisfaction,
        coalesce(p_alive < {{ var('low_p_alive_threshold') }}, false) as has_low_p_alive
    from signals

),

scored as (

    select
        *,
        case
            when not is_overdue then 0
            when churn_gap_threshold_days <= decline_gap_threshold_days then {{ weights['overdue_cadence'] }}
            else {{ weights['overdue_cadence'] }} * (
                0.5 + 0.5 * (
                    case
                        when days_since_last_order >= churn_gap_threshold_days then 1.0
                        else
                            cast(days_since_last_order - decline_gap_threshold_days as {{ dbt.type_numeric() }})
                            / (churn_gap_threshold_days - decline_gap_threshold_days)
                    end
                )
            )
        end as overdue_points,
        case
            when not is_spend_drop then 0
            else {{ weights['spend_drop'] }} * (
                1 - 0.5 * cast(trailing_net_spend_amount as {{ dbt.type_numeric() }})
                / ({{ var('decline_spend_ratio') }} * baseline_net_spend_amount)
            )
        end as spend_drop_points,
        case when has_unresolved_complaint then {{ weights['unresolved_complaint'] }} else 0 end
            as unresolved_complaint_points,
        case when has_severe_complaint then {{ weights['severe_complaint'] }} else 0 end as severe_complaint_points,
        case when has_low_satisfaction then {{ weights['low_satisfaction'] }} else 0 end as low_satisfaction_points,
        case when has_low_p_alive then {{ weights['low_p_alive'] }} else 0 end as low_p_alive_points
    from flagged

),

coded as (

    select
        *,
        {{ dbt.concat([
            "case when is_overdue then 'overdue_cadence|' else '' end",
            "case when is_spend_drop then 'spend_drop|' else '' end",
            "case when has_unresolved_complaint then 'unresolved_complaint|' else '' end",
            "case when has_severe_complaint then 'severe_complaint|' else '' end",
            "case when has_low_satisfaction then 'low_satisfaction|' else '' end",
            "case when has_low_p_alive then 'low_p_alive|' else '' end",
        ]) }} as reason_codes_delimited,
        overdue_points + spend_drop_points + unresolved_complaint_points + severe_complaint_points
        + low_satisfaction_points + low_p_alive_points as total_points
    from scored

),

final as (

    select
        coded.customer_id,
        coded.as_of_date,
        coded.stage_code,
        framework_labels.label_en as stage_label_en,
        framework_labels.label_zh as stage_label_zh,
        -- exact decimal rounding (half away from zero) on every engine
        cast(
            round(
                cast(
                    case when coded.total_points > 100 then 100 else coded.total_points end as {{ dbt.type_numeric() }}
                ),
                0
            )
            as integer
        ) as risk_score,
        -- drop the trailing delimiter; null when there is no reason
        case
            when length(coded.reason_codes_delimited) > 0
                then substring(coded.reason_codes_delimited, 1, length(coded.reason_codes_delimited) - 1)
        end as reason_codes,
        coded.is_overdue,
        coded.is_spend_drop,
        coded.has_unresolved_complaint,
        coded.has_severe_complaint,
        coded.has_low_satisfaction,
        coded.has_low_p_alive,
        coded.overdue_points,
        coded.spend_drop_points,
        coded.unresolved_complaint_points,
        coded.severe_complaint_points,
        coded.low_satisfaction_points,
        coded.low_p_alive_points,
        coded.days_since_last_order,
        coded.decline_gap_threshold_days,
        coded.churn_gap_threshold_days,
        coded.trailing_net_spend_amount,
        coded.baseline_net_spend_amount,
        coded.complaints_in_window,
        coded.unresolved_complaints_in_window,
        coded.severe_complaints_in_window,
        coded.average_satisfaction_in_window,
        coded.p_alive
    from coded
    left join framework_labels
        on coded.stage_code = framework_labels.stage_code

)

select * from final
