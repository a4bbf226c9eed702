-- Growth-accounting identity (docs/kpis.md): in every month and group, active = new + retained + resurrected.
select *
from {{ ref('kpi_monthly') }}
where active_customers <> new_customers + retained_customers + resurrected_customers
