-- The holdout evaluation of the predictive CLV models, per customer (docs/value.md): the models fitted
-- on the calibration period only, their predictions for the holdout period, and what happened.
with

holdout_customers as (
    select * from {{ source('python_models', 'clv_holdout_customers') }}
),

final as (
    select
        customer_id,
        cast(calibration_frequency as {{ dbt.type_int() }}) as calibration_frequency,
        calibration_recency,
        calibration_t,
        predicted_holdout_purchases,
        actual_holdout_purchases,
        predicted_mean_spend,
        actual_mean_spend
    from holdout_customers
)

select * from final
