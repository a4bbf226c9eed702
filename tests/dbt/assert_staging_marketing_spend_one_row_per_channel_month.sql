-- stg_crm__marketing_spend is keyed by (channel, month_start_date): versioning keeps one row per key.
select
    channel,
    month_start_date,
    count(*) as versions
from {{ ref('stg_crm__marketing_spend') }}
group by channel, month_start_date
having count(*) > 1
