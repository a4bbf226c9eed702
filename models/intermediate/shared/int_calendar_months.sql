{#-
    The month calendar (one place): every month from the first month a customer record in scope was
    created to the as-of month, with its last day and the day it is evaluated on (the month-end, or
    the as-of date for the as-of month). Months come from dbt's cross-database numbers table, so the
    same SQL runs on DuckDB, PostgreSQL and Spark.
-#}

with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

month_numbers as (

    -- 0 to 1199: a hundred years of months
    select cast(generated_number as integer) - 1 as month_number
    from ({{ dbt.generate_series(1200) }}) as series

),

bounds as (

    select
        cast({{ dbt.date_trunc('month', 'min(customers.created_date)') }} as date) as first_month_start_date,
        min(as_of_dates.as_of_month_start_date) as last_month_start_date,
        min(as_of_dates.as_of_date) as as_of_date
    from customers
    cross join as_of_dates
    where customers.created_date <= as_of_dates.as_of_date

),

months as (

    select
        month_numbers.month_number,
        cast(
            {{ dbt.dateadd('month', 'month_numbers.month_number', 'bounds.first_month_start_date') }} as date
        ) as month_start_date,
        bounds.as_of_date
    from month_numbers
    cross join bounds
    where
        month_numbers.month_number
        <= {{ dbt.datediff('bounds.first_month_start_date', 'bounds.last_month_start_date', 'month') }}

),

final as (

    select
        month_number,
        month_start_date,
        cast({{ dbt.last_day('month_start_date', 'month') }} as date) as month_end_date,
        -- the as-of month is evaluated on the as-of date, not on a month-end that has not happened yet
        case
            when cast({{ dbt.last_day('month_start_date', 'month') }} as date) > as_of_date then as_of_date
            else cast({{ dbt.last_day('month_start_date', 'month') }} as date)
        end as evaluation_date
    from months

)

select * from final
