{{ config(meta={'dagster': {'ref': {'name': 'fct_churn_analysis'}}}) }}
-- fct_churn_analysis describes exactly the churns kpi_monthly counts: one row per churned customer-month.
with

events_per_month as (

    select
        churn_month_start_date as month_start_date,
        count(*) as churn_events

    from {{ ref('fct_churn_analysis') }}
    group by churn_month_start_date

),

overall_kpis as (

    select
        month_start_date,
        churned_customers

    from {{ ref('kpi_monthly') }}
    where dimension_name = 'overall'

)

select
    overall_kpis.month_start_date,
    overall_kpis.churned_customers,
    events_per_month.churn_events

from overall_kpis
full outer join events_per_month
    on overall_kpis.month_start_date = events_per_month.month_start_date
where coalesce(overall_kpis.churned_customers, 0) <> coalesce(events_per_month.churn_events, 0)
