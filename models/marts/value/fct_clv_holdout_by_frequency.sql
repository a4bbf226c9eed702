-- The holdout evaluation binned by calibration frequency (0, 1, ..., 6, 7+ repeat purchase days): per
-- bin, the customers and their mean predicted and mean actual holdout purchase days (the
-- calibration-vs-holdout chart of the BG/NBD literature).
{%- set top_bin = 7 %}

with

holdout_customers as (
    select * from {{ ref('fct_clv_holdout_customers') }}
),

binned as (
    select
        case
            when calibration_frequency >= {{ top_bin }} then {{ top_bin }}
            else calibration_frequency
        end as frequency_bin_order,
        predicted_holdout_purchases,
        actual_holdout_purchases
    from holdout_customers
),

final as (
    select
        frequency_bin_order,
        case
            when frequency_bin_order = {{ top_bin }} then '{{ top_bin }}+'
            else cast(frequency_bin_order as {{ dbt.type_string() }})
        end as frequency_bin,
        count(*) as customers,
        avg(predicted_holdout_purchases) as mean_predicted_holdout_purchases,
        avg(cast(actual_holdout_purchases as {{ value_type_double() }})) as mean_actual_holdout_purchases
    from binned
    group by frequency_bin_order
)

select * from final
