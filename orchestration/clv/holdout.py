"""The holdout evaluation of the CLV models: fit BG/NBD and Gamma-Gamma on the calibration period only,
predict the holdout period for every customer who bought in the calibration period, and compare with
what each customer actually did (the calibration/holdout validation of Fader & Hardie's papers and of
lifetimes' `calibration_and_holdout_data`).

Inputs (dbt models): `int_clv_holdout_customers` (the calibration summary, same rules as the production
summary with the observation ending at the holdout start, and the actual holdout purchases and mean
spend) and `int_clv_holdout_daily` (first and repeat purchases per day of those customers).

Outputs, one table each:
- customers: calibration (frequency, recency, T), predicted and actual holdout purchases, predicted and
  actual mean spend per purchase;
- tracking: weekly cumulative repeat purchases, actual vs expected, across calibration and holdout,
  ending at the observation end. Expected at date d = sum over customers of E[X(d - first purchase)],
  the BG/NBD expectation for a customer just acquired (FHL 2005 eq. 9; computed as the conditional
  expectation at x = t_x = T = 0, which equals it);
- summary: one row with the totals, the errors and the calibration fit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from orchestration.clv import bgnbd, gamma_gamma
from orchestration.clv.scoring import DAYS_PER_TIME_UNIT, FittedModels, fit_models, validated_summary

CUSTOMER_COLUMNS = (
    "customer_id",
    "calibration_frequency",
    "calibration_recency",
    "calibration_t",
    "predicted_holdout_purchases",
    "actual_holdout_purchases",
    "predicted_mean_spend",
    "actual_mean_spend",
)
TRACKING_COLUMNS = (
    "week_end_date",
    "period",
    "actual_cumulative_repeat_purchases",
    "predicted_cumulative_repeat_purchases",
)
SUMMARY_COLUMNS = (
    "status",
    "status_reason",
    "calibration_end_date",
    "holdout_end_date",
    "holdout_days",
    "time_unit",
    "customers",
    "predicted_holdout_purchases",
    "actual_holdout_purchases",
    "purchases_relative_error",
    "purchases_mae",
    "purchases_rmse",
    "spend_customers",
    "predicted_mean_spend",
    "actual_mean_spend",
    "spend_relative_error",
    "spend_mae",
    "spend_rmse",
    "bg_nbd_r",
    "bg_nbd_alpha",
    "bg_nbd_a",
    "bg_nbd_b",
    "bg_nbd_converged",
    "gamma_gamma_p",
    "gamma_gamma_q",
    "gamma_gamma_v",
    "gamma_gamma_converged",
)
EVALUATED, SKIPPED = "evaluated", "skipped"
DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class HoldoutEvaluation:
    customers: pd.DataFrame  # CUSTOMER_COLUMNS
    tracking: pd.DataFrame  # TRACKING_COLUMNS
    summary: pd.DataFrame  # SUMMARY_COLUMNS, one row


def _errors(predicted: np.ndarray, actual: np.ndarray) -> tuple[float, float, float]:
    """Relative error of the totals ((predicted - actual) / actual), per-customer MAE and RMSE."""
    if len(actual) == 0:
        return (float("nan"),) * 3
    total = float(actual.sum())
    relative = float((predicted.sum() - total) / total) if total else float("nan")
    difference = predicted - actual
    return relative, float(np.abs(difference).mean()), float(np.sqrt((difference**2).mean()))


def _summary_row(
    status: str, reason: str, calibration: pd.DataFrame, holdout_days: int, time_unit: str
) -> dict[str, object]:
    row: dict[str, object] = {column: None for column in SUMMARY_COLUMNS}
    first = calibration.iloc[0] if len(calibration) else {}
    row.update(
        status=status,
        status_reason=reason,
        calibration_end_date=first.get("calibration_end_date"),
        holdout_end_date=first.get("holdout_end_date"),
        holdout_days=int(holdout_days),
        time_unit=time_unit,
        customers=len(calibration),
    )
    return row


def _predictions(
    frame: pd.DataFrame, calibration: pd.DataFrame, models: FittedModels, holdout_length: float
) -> pd.DataFrame:
    """Per customer: `frame` is the validated calibration summary, `calibration` carries the actuals."""
    if models.bg_fitted():
        group_x, group_t_x, group_T = models.group_summaries()
        per_group = bgnbd.expected_purchases(models.bg_parameters, group_x, group_t_x, group_T, [holdout_length])
        purchases = per_group[models.purchase_groups.index, 0]
    else:
        purchases = np.full(len(frame), np.nan)
    if models.gg_fitted():
        spend = gamma_gamma.expected_spend(models.gg_parameters, frame["frequency"], frame["monetary_value"])
    else:
        spend = np.full(len(frame), np.nan)
    actual_spend = pd.to_numeric(calibration["holdout_mean_spend"]).astype("float64").to_numpy()
    return pd.DataFrame(
        {
            "customer_id": frame["customer_id"].to_numpy(),
            "calibration_frequency": frame["frequency"].to_numpy(),
            "calibration_recency": frame["recency"].to_numpy(),
            "calibration_t": frame["t"].to_numpy(),
            "predicted_holdout_purchases": purchases,
            "actual_holdout_purchases": pd.to_numeric(calibration["holdout_purchases"]).to_numpy().astype("int64"),
            "predicted_mean_spend": spend,
            "actual_mean_spend": actual_spend,
        }
    )


def _fit_columns(models: FittedModels) -> dict[str, object]:
    bg, gg = models.bg_parameters, models.gg_parameters
    return {
        "bg_nbd_r": bg.r,
        "bg_nbd_alpha": bg.alpha,
        "bg_nbd_a": bg.a,
        "bg_nbd_b": bg.b,
        "bg_nbd_converged": bool(models.bg_report.converged),
        "gamma_gamma_p": gg.p,
        "gamma_gamma_q": gg.q,
        "gamma_gamma_v": gg.v,
        "gamma_gamma_converged": bool(models.gg_report.converged),
    }


def expected_repeat_purchases_since_acquisition(parameters: bgnbd.BgNbdParameters, ages: np.ndarray) -> np.ndarray:
    """E[X(t)] for t in `ages` (time units since the first purchase) for a customer just acquired."""
    zero = np.zeros(1)
    return bgnbd.expected_purchases(parameters, zero, zero, zero, np.maximum(ages, 0.0))[0]


def weekly_tracking(
    daily: pd.DataFrame,
    parameters: bgnbd.BgNbdParameters,
    *,
    calibration_end: dt.date,
    holdout_end: dt.date,
    time_unit: str,
) -> pd.DataFrame:
    """Cumulative repeat purchases at every 7th day back from the holdout end, actual and expected.

    `daily`: activity_date, first_purchases (customers acquired that day), repeat_purchases.
    """
    if daily.empty:
        return pd.DataFrame({c: [] for c in TRACKING_COLUMNS})
    dates = pd.to_datetime(daily["activity_date"]).dt.date
    first_day = min(dates)
    week_count = (holdout_end - first_day).days // DAYS_PER_WEEK
    week_ends = [holdout_end - dt.timedelta(days=DAYS_PER_WEEK * k) for k in range(week_count, -1, -1)]
    day_offsets = np.array([(d - first_day).days for d in dates])
    week_offsets = np.array([(d - first_day).days for d in week_ends])

    repeats = pd.to_numeric(daily["repeat_purchases"]).to_numpy(dtype=float)
    order = np.argsort(day_offsets)
    cumulative_repeats = np.cumsum(repeats[order])
    seen = np.searchsorted(day_offsets[order], week_offsets, side="right")
    actual = np.where(seen > 0, cumulative_repeats[np.maximum(seen - 1, 0)], 0.0)

    acquired = pd.to_numeric(daily["first_purchases"]).to_numpy(dtype=float)
    cohorts = acquired > 0
    ages_in_days = np.arange(week_offsets.max() + 1, dtype=float)
    expected_by_age = expected_repeat_purchases_since_acquisition(
        parameters, ages_in_days / DAYS_PER_TIME_UNIT[time_unit]
    )
    age = week_offsets[:, None] - day_offsets[cohorts][None, :]  # weeks x cohorts, in days
    expected = np.where(age >= 0, expected_by_age[np.clip(age, 0, None)], 0.0) @ acquired[cohorts]
    return pd.DataFrame(
        {
            "week_end_date": week_ends,
            "period": ["calibration" if d <= calibration_end else "holdout" for d in week_ends],
            "actual_cumulative_repeat_purchases": actual.astype("int64"),
            "predicted_cumulative_repeat_purchases": expected,
        }
    )


def evaluate_holdout(
    calibration: pd.DataFrame, daily: pd.DataFrame, *, holdout_days: int, time_unit: str
) -> HoldoutEvaluation:
    """The evaluation on int_clv_holdout_customers (`calibration`) and int_clv_holdout_daily (`daily`).

    Never raises on degenerate data: with the evaluation switched off, no calibration customer or a model
    that cannot be fitted, the summary row says why (status 'skipped' or null predictions)."""
    empty_customers = pd.DataFrame({c: [] for c in CUSTOMER_COLUMNS})
    empty_tracking = pd.DataFrame({c: [] for c in TRACKING_COLUMNS})
    if holdout_days <= 0:
        row = _summary_row(SKIPPED, "switched off (clv_holdout_days = 0)", calibration, holdout_days, time_unit)
        return HoldoutEvaluation(empty_customers, empty_tracking, pd.DataFrame([row]))
    if calibration.empty:
        reason = f"no customer bought before the last {holdout_days} days of the observation"
        row = _summary_row(SKIPPED, reason, calibration, holdout_days, time_unit)
        return HoldoutEvaluation(empty_customers, empty_tracking, pd.DataFrame([row]))

    frame = validated_summary(calibration.assign(margin_rate=np.nan), time_unit)
    models = fit_models(frame)
    holdout_length = holdout_days / DAYS_PER_TIME_UNIT[time_unit]
    customers = _predictions(frame, calibration, models, holdout_length)

    reasons = [r.message for r in (models.bg_report, models.gg_report) if not r.converged]
    row = _summary_row(EVALUATED, "; ".join(reasons), calibration, holdout_days, time_unit)
    row.update(_fit_columns(models))
    predicted, actual = customers["predicted_holdout_purchases"], customers["actual_holdout_purchases"]
    row["predicted_holdout_purchases"] = float(predicted.sum()) if models.bg_fitted() else None
    row["actual_holdout_purchases"] = int(actual.sum())
    if models.bg_fitted():
        row["purchases_relative_error"], row["purchases_mae"], row["purchases_rmse"] = _errors(
            predicted.to_numpy(), actual.to_numpy(dtype=float)
        )
    # spend: customers who bought in the holdout (their actual mean is defined) with a predicted mean
    spenders = customers[(actual > 0) & customers["predicted_mean_spend"].notna()]
    row["spend_customers"] = len(spenders)
    if len(spenders):
        predicted_spend = spenders["predicted_mean_spend"].to_numpy()
        actual_spend = spenders["actual_mean_spend"].to_numpy()
        row["predicted_mean_spend"], row["actual_mean_spend"] = (
            float(predicted_spend.mean()),
            float(actual_spend.mean()),
        )
        row["spend_relative_error"], row["spend_mae"], row["spend_rmse"] = _errors(predicted_spend, actual_spend)

    if models.bg_fitted():
        tracking = weekly_tracking(
            daily,
            models.bg_parameters,
            calibration_end=pd.Timestamp(row["calibration_end_date"]).date(),
            holdout_end=pd.Timestamp(row["holdout_end_date"]).date(),
            time_unit=time_unit,
        )
    else:
        tracking = empty_tracking
    return HoldoutEvaluation(customers.loc[:, list(CUSTOMER_COLUMNS)], tracking, pd.DataFrame([row]))
