-- Kaplan–Meier survival of time to churn (DOMAIN.md §8), per acquisition-month cohort and pooled over all
-- cohorts (cohort_key 'all'). Time t is whole months since acquisition; customers not churned by the
-- as-of month are censored there, so they stay at risk up to and including their censoring month.
--   S(t) = product over s <= t of (1 - churned_s / at_risk_s)
-- computed as exp(running sum of ln(1 - d/n)), with an explicit zero once a step churns everyone still at
-- risk (ln 0 is undefined). Within one cohort all censoring falls in the as-of month; the pooled curve is
-- where censoring of younger cohorts matters.

with

durations as (

    select * from {{ ref('fct_customer_churn_durations') }}

),

-- each customer once per curve: their own cohort's and the pooled one
curve_members as (

    select
        cast(acquisition_month_start_date as {{ dbt.type_string() }}) as cohort_key,
        acquisition_month_start_date,
        months_to_churn_or_censoring,
        is_churn_observed
    from durations

    union all

    select
        'all' as cohort_key,
        cast(null as date) as acquisition_month_start_date,
        months_to_churn_or_censoring,
        is_churn_observed
    from durations

),

curves as (

    select
        cohort_key,
        acquisition_month_start_date,
        count(*) as cohort_size,
        max(months_to_churn_or_censoring) as max_months_observed

    from curve_members
    group by
        cohort_key,
        acquisition_month_start_date

),

exits as (

    select
        cohort_key,
        months_to_churn_or_censoring as months_since_acquisition,
        count(case when is_churn_observed then 1 end) as churned_customers,
        count(case when not is_churn_observed then 1 end) as censored_customers

    from curve_members
    group by
        cohort_key,
        months_to_churn_or_censoring

),

-- t = 0, 1, 2, ... as a static series (1,200 months is a century of history): every month of a curve gets a
-- row, also months in which nobody churned or was censored (cast: Spark's generate_series numbers are doubles)
month_offsets as (

    select cast(generated_number as integer) - 1 as months_since_acquisition
    from ({{ dbt.generate_series(1200) }}) as series

),

curve_points as (

    select
        curves.cohort_key,
        curves.acquisition_month_start_date,
        curves.cohort_size,
        month_offsets.months_since_acquisition

    from curves
    inner join month_offsets
        on month_offsets.months_since_acquisition <= curves.max_months_observed

),

at_risk as (

    select
        curve_points.*,
        coalesce(exits.churned_customers, 0) as churned_customers,
        coalesce(exits.censored_customers, 0) as censored_customers,
        -- at risk at t: everyone whose exit (churn or censoring) is at t or later
        {{ whole_number_sum(
            'coalesce(exits.churned_customers, 0) + coalesce(exits.censored_customers, 0)',
            over='partition by curve_points.cohort_key order by curve_points.months_since_acquisition'
                ~ ' rows between current row and unbounded following'
        ) }} as customers_at_risk

    from curve_points
    left join exits
        on
            curve_points.cohort_key = exits.cohort_key
            and curve_points.months_since_acquisition = exits.months_since_acquisition

),

steps as (

    select
        *,
        case
            when customers_at_risk > 0 and churned_customers < customers_at_risk
                then ln(1.0 - 1.0 * churned_customers / customers_at_risk)
            else 0
        end as log_survival_factor,
        case
            when customers_at_risk > 0 and churned_customers = customers_at_risk then 1 else 0
        end as is_extinction_step

    from at_risk

),

final as (

    select
        {{ dbt.concat([
            "cohort_key", "'|'", "cast(months_since_acquisition as " ~ dbt.type_string() ~ ")",
        ]) }} as survival_point_id,
        cohort_key,
        acquisition_month_start_date,
        cohort_key = 'all' as is_pooled,
        months_since_acquisition,
        cohort_size,
        customers_at_risk,
        churned_customers,
        censored_customers,
        -- a fixed-precision decimal, so every engine shows the same digits (exp/ln are floating point)
        cast(
            case
                when sum(is_extinction_step) over (
                    partition by cohort_key
                    order by months_since_acquisition
                    rows between unbounded preceding and current row
                ) > 0 then 0.0
                else exp(sum(log_survival_factor) over (
                    partition by cohort_key
                    order by months_since_acquisition
                    rows between unbounded preceding and current row
                ))
            end
            as decimal(12, 10)
        ) as survival_probability

    from steps

)

select * from final
