-- Every dimension partitions the same customers: its counts summed over its values equal the overall row.
-- The column lists are Jinja loops, whose rendered indentation sqlfluff cannot attribute to the source:
-- noqa: disable=LT02
{%- set additive_columns = [
    'active_customers', 'new_customers', 'retained_customers', 'resurrected_customers', 'churned_customers',
    'active_customers_at_start', 'buying_customers', 'complaints_opened', 'outbound_sales_calls',
    'converted_sales_calls',
] %}

with

kpis as (

    select * from {{ ref('kpi_monthly') }}

),

by_dimension as (

    select
        month_start_date,
        dimension_name
        {%- for column in additive_columns %},
        sum({{ column }}) as {{ column }}
        {%- endfor %}
    from kpis
    group by
        month_start_date,
        dimension_name

),

overall as (

    select * from by_dimension
    where dimension_name = 'overall'

)

select by_dimension.*
from by_dimension
inner join overall
    on by_dimension.month_start_date = overall.month_start_date
where
    {%- for column in additive_columns %}
    {{ "or " if not loop.first }}by_dimension.{{ column }} <> overall.{{ column }}
    {%- endfor %}
