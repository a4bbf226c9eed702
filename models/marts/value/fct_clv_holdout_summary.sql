-- One row: how the predictive CLV models, fitted on the calibration period only, did on the holdout
-- period (totals, relative error, per-customer MAE and RMSE, for purchases and spend) and the
-- calibration fit. The production fit (fct_customer_clv) uses all the data; this is its evaluation.
with

holdout_summary as (
    select * from {{ source('python_models', 'clv_holdout_summary') }}
),

final as (
    select
        status,
        status_reason,
        calibration_end_date,
        holdout_end_date,
        holdout_days,
        time_unit,
        customers,
        predicted_holdout_purchases,
        actual_holdout_purchases,
        purchases_relative_error,
        purchases_mae,
        purchases_rmse,
        spend_customers,
        predicted_mean_spend,
        actual_mean_spend,
        spend_relative_error,
        spend_mae,
        spend_rmse,
        bg_nbd_r,
        bg_nbd_alpha,
        bg_nbd_a,
        bg_nbd_b,
        bg_nbd_converged,
        gamma_gamma_p,
        gamma_gamma_q,
        gamma_gamma_v,
        gamma_gamma_converged
    from holdout_summary
)

select * from final
