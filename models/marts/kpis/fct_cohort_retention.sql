-- Cohort retention (DOMAIN.md §8): acquisition month × months since acquisition, with the share of the
-- cohort still buying (a completed order that month) and, for comparison, the share still active in the
-- lifecycle sense (not churned). Every cohort has a row for every month from its acquisition up to the
-- as-of month, including months in which nobody bought.

with

customer_months as (

    select * from {{ ref('fct_customer_kpi_monthly') }}

),

acquisitions as (

    select * from {{ ref('int_customer_acquisitions') }}
    where is_acquired

),

buying_months as (

    select * from {{ ref('int_customer_activity_monthly') }}
    where completed_orders > 0

),

calendar_months as (

    select * from {{ ref('int_calendar_months') }}

),

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

cohorts as (

    select
        acquisitions.acquisition_month_start as acquisition_month_start_date,
        count(*) as cohort_size

    from acquisitions
    cross join as_of_dates
    where acquisitions.acquisition_month_start <= as_of_dates.as_of_month_start_date
    group by acquisitions.acquisition_month_start

),

cohort_months as (

    select
        cohorts.acquisition_month_start_date,
        cohorts.cohort_size,
        calendar_months.month_start_date as activity_month_start_date,
        cast({{ dbt.datediff(
            'cohorts.acquisition_month_start_date', 'calendar_months.month_start_date', 'month'
        ) }} as integer) as months_since_acquisition

    from cohorts
    inner join calendar_months
        on calendar_months.month_start_date >= cohorts.acquisition_month_start_date

),

purchasing_customers as (

    select
        acquisitions.acquisition_month_start as acquisition_month_start_date,
        buying_months.month_start_date as activity_month_start_date,
        count(*) as customers_purchasing

    from buying_months
    inner join acquisitions
        on buying_months.customer_id = acquisitions.customer_id
    group by
        acquisitions.acquisition_month_start,
        buying_months.month_start_date

),

active_customers as (

    select
        acquisitions.acquisition_month_start as acquisition_month_start_date,
        customer_months.month_start_date as activity_month_start_date,
        count(case when customer_months.is_active then 1 end) as customers_active

    from customer_months
    inner join acquisitions
        on customer_months.customer_id = acquisitions.customer_id
    group by
        acquisitions.acquisition_month_start,
        customer_months.month_start_date

),

final as (

    select
        {{ dbt.concat([
            "cast(cohort_months.acquisition_month_start_date as " ~ dbt.type_string() ~ ")",
            "'|'",
            "cast(cohort_months.months_since_acquisition as " ~ dbt.type_string() ~ ")",
        ]) }} as cohort_month_id,
        cohort_months.acquisition_month_start_date,
        cohort_months.months_since_acquisition,
        cohort_months.activity_month_start_date,
        cohort_months.cohort_size,
        coalesce(purchasing_customers.customers_purchasing, 0) as customers_purchasing,
        cast(
            1.0 * coalesce(purchasing_customers.customers_purchasing, 0) / cohort_months.cohort_size as decimal(28, 10)
        ) as purchasing_share,
        coalesce(active_customers.customers_active, 0) as customers_active,
        cast(
            1.0 * coalesce(active_customers.customers_active, 0) / cohort_months.cohort_size as decimal(28, 10)
        ) as active_share

    from cohort_months
    left join purchasing_customers
        on
            cohort_months.acquisition_month_start_date = purchasing_customers.acquisition_month_start_date
            and cohort_months.activity_month_start_date = purchasing_customers.activity_month_start_date
    left join active_customers
        on
            cohort_months.acquisition_month_start_date = active_customers.acquisition_month_start_date
            and cohort_months.activity_month_start_date = active_customers.activity_month_start_date

)

select * from final
