"""Fit both models on the per-customer summary and score every customer: the entry point of the
Dagster asset (`fit_and_score`).

Predicted future CLV of a customer, over `horizon_months` after the observation end:

    sum over months k = 1..H of
        E[purchases in month k] x expected margin per purchase / (1 + rate)^((k - 0.5) / 12)

E[purchases in month k] is the difference of the BG/NBD conditional expectation at the end and the
start of the month; a month is 30.4375 days (365.25 / 12) in the summary's time unit; cash flows are
discounted from the middle of their month (the purchases of a month are spread over it). Expected margin
per purchase = Gamma-Gamma expected spend x the customer's margin rate (net margin / net spend over their
completed orders; the population's rate when the customer's is undefined).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from orchestration.clv import bgnbd, gamma_gamma
from orchestration.clv.grouping import Groups, group_identical
from orchestration.clv.mle import FitReport

DAYS_PER_TIME_UNIT: dict[str, float] = {"day": 1.0, "week": 7.0}
DAYS_PER_MONTH = 365.25 / 12  # 30.4375
SUMMARY_COLUMNS = ("customer_id", "frequency", "recency", "t", "monetary_value", "margin_rate")
PREDICTION_COLUMNS = (
    "customer_id",
    "p_alive",
    "expected_purchases",
    "expected_spend_per_purchase",
    "expected_margin_per_purchase",
    "predicted_future_clv",
)


@dataclass(frozen=True)
class ClvFitResult:
    parameters: pd.DataFrame  # model, parameter, value
    predictions: pd.DataFrame  # PREDICTION_COLUMNS, one row per customer of the summary
    diagnostics: dict[str, object] = field(default_factory=dict)  # flat, JSON-friendly (Dagster metadata)


def month_length(time_unit: str) -> float:
    """One month in the summary's time unit."""
    if time_unit not in DAYS_PER_TIME_UNIT:
        raise ValueError(f"time_unit must be one of {sorted(DAYS_PER_TIME_UNIT)}, not {time_unit!r}")
    return DAYS_PER_MONTH / DAYS_PER_TIME_UNIT[time_unit]


def monthly_discount_factors(horizon_months: int, annual_discount_rate: float) -> np.ndarray:
    """1 / (1 + rate)^((k - 0.5) / 12) for months k = 1..H (mid-month convention)."""
    months = np.arange(1, horizon_months + 1, dtype=float)
    return (1.0 + annual_discount_rate) ** (-(months - 0.5) / 12.0)


def validated_summary(summary: pd.DataFrame, time_unit: str) -> pd.DataFrame:
    missing = [c for c in SUMMARY_COLUMNS if c not in summary.columns]
    if missing:
        raise ValueError(f"the purchase summary lacks column(s) {missing}")
    if "time_unit" in summary.columns:
        units = set(summary["time_unit"].dropna().unique())
        if units - {time_unit}:
            raise ValueError(f"the summary is in time unit(s) {sorted(units)} but time_unit={time_unit!r}")
    frame = pd.DataFrame({"customer_id": summary["customer_id"].to_numpy()})
    for column in SUMMARY_COLUMNS[1:]:
        # PostgreSQL returns numeric as Decimal; the models work in float64
        frame[column] = pd.to_numeric(summary[column], errors="raise").astype("float64").to_numpy()
    bad = (
        frame[["frequency", "recency", "t"]].isna().any(axis=1)
        | (frame["frequency"] < 0)
        | (frame["recency"] < 0)
        | (frame["recency"] > frame["t"])
    )
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} summary row(s) have missing or inconsistent frequency/recency/t "
            f"(need 0 <= recency <= t), e.g. customer {frame.loc[bad, 'customer_id'].iloc[0]!r}"
        )
    return frame


@dataclass(frozen=True)
class FittedModels:
    """Both models fitted on one summary, with the customers' purchase groups (to score per group)."""

    purchase_groups: Groups
    bg_parameters: bgnbd.BgNbdParameters
    bg_report: FitReport
    gg_parameters: gamma_gamma.GammaGammaParameters
    gg_report: FitReport

    def group_summaries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, t_x, T) of each purchase group."""
        keys = self.purchase_groups.keys
        return keys["frequency"].to_numpy(), keys["recency"].to_numpy(), keys["t"].to_numpy()

    def bg_fitted(self) -> bool:
        return bool(np.all(np.isfinite(self.bg_parameters.as_array())))

    def gg_fitted(self) -> bool:
        return bool(np.all(np.isfinite(self.gg_parameters.as_array())))


def fit_models(frame: pd.DataFrame) -> FittedModels:
    """BG/NBD on (frequency, recency, t) and Gamma-Gamma on the repeat buyers' (frequency, monetary_value),
    each on weighted groups of identical summaries. `frame` is a validated summary (float columns)."""
    purchase_groups = group_identical(frame, ["frequency", "recency", "t"])
    keys = purchase_groups.keys
    bg_parameters, bg_report = bgnbd.fit(
        keys["frequency"].to_numpy(), keys["recency"].to_numpy(), keys["t"].to_numpy(), purchase_groups.weights
    )
    spenders = frame[(frame["frequency"] > 0) & (frame["monetary_value"] > 0)]
    spend_groups = group_identical(spenders, ["frequency", "monetary_value"])
    gg_parameters, gg_report = gamma_gamma.fit(
        spend_groups.keys["frequency"].to_numpy(),
        spend_groups.keys["monetary_value"].to_numpy(),
        spend_groups.weights,
    )
    return FittedModels(purchase_groups, bg_parameters, bg_report, gg_parameters, gg_report)


def _parameter_rows(model: str, values: dict[str, float], report: FitReport) -> list[dict[str, object]]:
    rows = [{"model": model, "parameter": name, "value": float(value)} for name, value in values.items()]
    rows += [
        {"model": model, "parameter": "log_likelihood", "value": report.log_likelihood},
        {"model": model, "parameter": "converged", "value": 1.0 if report.converged else 0.0},
        {"model": model, "parameter": "iterations", "value": float(report.iterations)},
        {"model": model, "parameter": "n_customers", "value": float(report.n_customers)},
    ]
    return rows


def _population_margin_rate(summary: pd.DataFrame) -> float:
    """Net margin / net spend over all customers when the summary carries the totals, else the mean rate."""
    if {"total_net_margin", "total_net_spend"} <= set(summary.columns):
        spend = pd.to_numeric(summary["total_net_spend"]).astype("float64").sum()
        margin = pd.to_numeric(summary["total_net_margin"]).astype("float64").sum()
        return float(margin / spend) if spend > 0 else float("nan")
    rates = pd.to_numeric(summary["margin_rate"]).astype("float64")
    return float(rates.mean()) if rates.notna().any() else float("nan")


def fit_and_score(
    summary: pd.DataFrame, *, horizon_months: int, annual_discount_rate: float, time_unit: str
) -> ClvFitResult:
    """Fit BG/NBD and Gamma-Gamma on the summary (int_customer_purchase_summary) and score each customer.

    Never raises on degenerate data (no customers, nobody repeats, too few spend values): the model that
    cannot be fitted reports converged = 0 with the reason in the diagnostics, and the predictions that
    depend on it are NaN. Raises ValueError on invalid arguments or an inconsistent summary.
    """
    if int(horizon_months) != horizon_months or horizon_months < 1:
        raise ValueError(f"horizon_months must be a positive whole number, not {horizon_months!r}")
    if not annual_discount_rate > -1.0:
        raise ValueError(f"annual_discount_rate must be greater than -1, not {annual_discount_rate!r}")
    unit_month = month_length(time_unit)
    frame = validated_summary(summary, time_unit)
    x, t_x, T = (frame[c].to_numpy() for c in ("frequency", "recency", "t"))
    monetary = frame["monetary_value"].to_numpy()

    started = time.perf_counter()
    models = fit_models(frame)
    purchase_groups = models.purchase_groups
    bg_parameters, bg_report = models.bg_parameters, models.bg_report
    gg_parameters, gg_report = models.gg_parameters, models.gg_report
    group_x, group_t_x, group_T = models.group_summaries()
    fitted = time.perf_counter()

    n = len(frame)
    if models.bg_fitted() and n:
        horizons = unit_month * np.arange(1, horizon_months + 1)
        cumulative = bgnbd.expected_purchases(bg_parameters, group_x, group_t_x, group_T, horizons)
        per_month = np.diff(cumulative, axis=1, prepend=0.0)
        discounted = per_month @ monthly_discount_factors(horizon_months, annual_discount_rate)
        group_alive = bgnbd.probability_alive(bg_parameters, group_x, group_t_x, group_T)
        p_alive = group_alive[purchase_groups.index]
        expected_purchases = cumulative[purchase_groups.index, -1]
        discounted_purchases = discounted[purchase_groups.index]
    else:
        p_alive = expected_purchases = discounted_purchases = np.full(n, np.nan)

    spend = gamma_gamma.expected_spend(gg_parameters, x, monetary) if models.gg_fitted() else np.full(n, np.nan)
    population_rate = _population_margin_rate(summary)
    margin_rate = frame["margin_rate"].fillna(population_rate).to_numpy()
    margin_per_purchase = spend * margin_rate
    predictions = pd.DataFrame(
        {
            "customer_id": frame["customer_id"].to_numpy(),
            "p_alive": p_alive,
            "expected_purchases": expected_purchases,
            "expected_spend_per_purchase": spend,
            "expected_margin_per_purchase": margin_per_purchase,
            "predicted_future_clv": discounted_purchases * margin_per_purchase,
        }
    )
    scored = time.perf_counter()

    parameters = pd.DataFrame(
        _parameter_rows("bg_nbd", vars(bg_parameters), bg_report)
        + _parameter_rows("gamma_gamma", vars(gg_parameters), gg_report)
    )
    diagnostics: dict[str, object] = {
        "n_customers": n,
        "n_repeat_customers": int((x > 0).sum()),
        "time_unit": time_unit,
        "horizon_months": int(horizon_months),
        "annual_discount_rate": float(annual_discount_rate),
        "bg_nbd_groups": bg_report.n_groups,
        "bg_nbd_converged": bg_report.converged,
        "bg_nbd_message": bg_report.message,
        "gamma_gamma_groups": gg_report.n_groups,
        "gamma_gamma_customers": gg_report.n_customers,
        "gamma_gamma_converged": gg_report.converged,
        "gamma_gamma_message": gg_report.message,
        "population_margin_rate": population_rate,
        "fit_seconds": round(fitted - started, 3),
        "score_seconds": round(scored - fitted, 3),
        "mean_p_alive": float(np.nanmean(p_alive)) if n and np.isfinite(p_alive).any() else float("nan"),
        "total_expected_purchases": float(np.nansum(expected_purchases)),
        "total_predicted_future_clv": float(np.nansum(predictions["predicted_future_clv"])),
    }
    return ClvFitResult(parameters=parameters, predictions=predictions, diagnostics=diagnostics)
