-- Cumulative repeat purchase days of the holdout evaluation's customers, actual vs expected from the
-- calibration fit, week by week across the calibration and the holdout period (docs/value.md).
with

tracking as (
    select * from {{ source('python_models', 'clv_holdout_tracking') }}
),

final as (
    select
        week_end_date,
        period,
        actual_cumulative_repeat_purchases,
        predicted_cumulative_repeat_purchases
    from tracking
)

select * from final
