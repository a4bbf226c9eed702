-- A customer who entered the month active ends it either still active (retained) or churned: nobody falls
-- back to prospect or disappears, so retention rate + churn rate = 1 where every churn came from an
-- active customer.
select *
from {{ ref('fct_customer_kpi_monthly') }}
where
    was_active_at_start
    and not is_retained
    and not is_churned
