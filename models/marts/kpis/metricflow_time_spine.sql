-- The day-grain time spine the dbt semantic layer (MetricFlow) joins metrics to. Built with dbt's own
-- cross-database date_spine, so it runs unchanged on DuckDB, PostgreSQL and Spark. The range covers any
-- plausible history of this warehouse; widen it here if the data ever leaves it.

with

days as (

-- dbt's date_spine writes blank lines of its own
-- noqa: disable=LT15
    {{ dbt.date_spine(
        datepart='day',
        start_date="cast('2000-01-01' as date)",
        end_date="cast('2051-01-01' as date)",
    ) }}
-- noqa: enable=LT15

),

final as (

    select cast(date_day as date) as date_day
    from days

)

select * from final
