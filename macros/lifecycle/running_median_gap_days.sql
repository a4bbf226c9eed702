{#-
    The median of gap_days over a customer's purchase days up to and including each one (day_number
    1, 2, ...): one row per customer_id and day_number of `purchase_gaps`. The first day has no gap,
    so its median is null. Every engine returns the same value (linear interpolation between the two
    middle gaps); they differ in how fast:
    - DuckDB: one running window (`quantile_cont` keeps its frame sorted as it grows);
    - elsewhere: each day joined to every earlier day of the customer and aggregated with the standard
      ordered-set `percentile_cont` (PostgreSQL has no ordered-set window functions).
-#}

{% macro running_median_gap_days(purchase_gaps) -%}
    {{ return(adapter.dispatch('running_median_gap_days', 'customer_lifecycle')(purchase_gaps)) }}
{%- endmacro %}

{% macro default__running_median_gap_days(purchase_gaps) -%}
    select
        upto.customer_id,
        upto.day_number,
        percentile_cont(0.5) within group (order by earlier.gap_days) as median_gap_days
    from {{ purchase_gaps }} as upto
    inner join {{ purchase_gaps }} as earlier
        on
            upto.customer_id = earlier.customer_id
            and earlier.day_number <= upto.day_number
    group by 1, 2
{%- endmacro %}

{% macro duckdb__running_median_gap_days(purchase_gaps) -%}
    select
        customer_id,
        day_number,
        quantile_cont(gap_days, 0.5) over (
            partition by customer_id order by day_number rows between unbounded preceding and current row
        ) as median_gap_days
    from {{ purchase_gaps }}
{%- endmacro %}
