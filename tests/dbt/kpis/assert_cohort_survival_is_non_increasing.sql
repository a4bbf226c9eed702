-- A Kaplan–Meier curve starts at or below 1, never rises and never goes below 0.
with

survival as (

    select
        cohort_key,
        months_since_acquisition,
        survival_probability,
        lag(survival_probability) over (
            partition by cohort_key order by months_since_acquisition
        ) as previous_survival_probability

    from {{ ref('fct_cohort_survival') }}

)

select *
from survival
where
    survival_probability > previous_survival_probability
    or survival_probability > 1
    or survival_probability < 0
