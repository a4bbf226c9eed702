{{ config(meta={'dagster': {'ref': {'name': 'fct_cohort_retention'}}}) }}
-- The cohorts partition the acquired customers: their sizes sum to the customers with a first completed
-- order by the as-of date.
with

cohort_sizes as (

    select sum(cohort_size) as customers_in_cohorts
    from {{ ref('fct_cohort_retention') }}
    where months_since_acquisition = 0

),

acquired as (

    select count(*) as acquired_customers
    from {{ ref('int_customer_acquisitions') }}
    where is_acquired

)

select
    cohort_sizes.customers_in_cohorts,
    acquired.acquired_customers
from cohort_sizes
cross join acquired
where coalesce(cohort_sizes.customers_in_cohorts, 0) <> acquired.acquired_customers
