-- Time to (first) churn per acquired customer, the input of the Kaplan–Meier curves (fct_cohort_survival).
-- Time is counted in whole months from the acquisition month to the first month whose stage moved to
-- churned; a customer not churned by the as-of month is censored there. A later churn after a win-back is
-- a second relationship and not part of "time to churn" (docs/kpis.md).

with

customer_months as (

    select * from {{ ref('fct_customer_kpi_monthly') }}

),

acquisitions as (

    select * from {{ ref('int_customer_acquisitions') }}
    where is_acquired

),

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

first_churns as (

    select
        customer_months.customer_id,
        min(customer_months.month_start_date) as first_churn_month_start_date

    from customer_months
    inner join acquisitions
        on customer_months.customer_id = acquisitions.customer_id
    where
        customer_months.is_churned
        and customer_months.month_start_date >= acquisitions.acquisition_month_start
    group by customer_months.customer_id

),

final as (

    select
        acquisitions.customer_id,
        acquisitions.acquisition_month_start as acquisition_month_start_date,
        first_churns.first_churn_month_start_date,
        first_churns.customer_id is not null as is_churn_observed,
        cast({{ dbt.datediff(
            'acquisition_month_start',
            'coalesce(first_churns.first_churn_month_start_date, as_of_dates.as_of_month_start_date)',
            'month',
        ) }} as integer) as months_to_churn_or_censoring

    from acquisitions
    cross join as_of_dates
    left join first_churns
        on acquisitions.customer_id = first_churns.customer_id
    where acquisitions.acquisition_month_start <= as_of_dates.as_of_month_start_date

)

select * from final
