"""The holdout evaluation of the CLV models (orchestration/clv/holdout.py) on customers simulated from
BG/NBD and Gamma-Gamma with known parameters: its predictions are the model's closed-form conditional
expectation (FHL 2005 eq. 10, computed here with the Gauss hypergeometric function, independently of the
quadrature of the production code), its total error is within sampling noise, and its tracking is the
closed-form unconditional expectation (eq. 9). The warehouse side is tested in test_orchestration.py."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy import special

from orchestration.clv.bgnbd import BgNbdParameters
from orchestration.clv.gamma_gamma import GammaGammaParameters
from orchestration.clv.holdout import EVALUATED, SKIPPED, evaluate_holdout
from orchestration.clv.simulate import draw_spend_rates, simulate_bgnbd, simulate_mean_spend

# CDNOW's published BG/NBD fit (FHL 2005) and Gamma-Gamma fit (Fader & Hardie's note), in weeks
TRUE_BG = BgNbdParameters(r=0.243, alpha=4.414, a=0.793, b=2.426)
TRUE_GG = GammaGammaParameters(p=6.25, q=3.74, v=15.44)
CUSTOMERS = 20_000
CALIBRATION_WEEKS = 39
HOLDOUT_DAYS = 273  # 39 weeks
CALIBRATION_END = dt.date(2024, 6, 30)


def closed_form_conditional_expectation(
    parameters: BgNbdParameters, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, t: float
) -> np.ndarray:
    """E[Y(t) | x, t_x, T], FHL 2005 equation (10)."""
    r, alpha, a, b = parameters.r, parameters.alpha, parameters.a, parameters.b
    z = t / (alpha + T + t)
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    numerator = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    denominator = 1 + (x > 0) * a / (b + np.maximum(x, 1) - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return numerator / denominator


def closed_form_unconditional_expectation(parameters: BgNbdParameters, t: np.ndarray) -> np.ndarray:
    """E[X(t)] for a customer just acquired, FHL 2005 equation (9)."""
    r, alpha, a, b = parameters.r, parameters.alpha, parameters.a, parameters.b
    hyp = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    """Customers acquired uniformly over the calibration period, observed in weeks, with their holdout."""
    rng = np.random.default_rng(2005)
    first_weeks = rng.integers(0, CALIBRATION_WEEKS, CUSTOMERS)
    T = (CALIBRATION_WEEKS - first_weeks).astype(float)
    purchases = simulate_bgnbd(TRUE_BG, T, rng, holdout=HOLDOUT_DAYS / 7)
    nu = draw_spend_rates(TRUE_GG, CUSTOMERS, rng)  # the same customers spend alike in both periods
    spend = simulate_mean_spend(TRUE_GG, purchases["frequency"].to_numpy(), rng, nu)
    holdout_spend = simulate_mean_spend(TRUE_GG, purchases["holdout_purchases"].to_numpy(), rng, nu)
    first_dates = [CALIBRATION_END - dt.timedelta(days=int(7 * t)) for t in T]
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:05d}" for i in range(CUSTOMERS)],
            "first_purchase_date": first_dates,
            "calibration_end_date": CALIBRATION_END,
            "holdout_end_date": CALIBRATION_END + dt.timedelta(days=HOLDOUT_DAYS),
            "holdout_days": HOLDOUT_DAYS,
            "frequency": purchases["frequency"],
            "recency": purchases["recency"],
            "t": T,
            "monetary_value": spend,
            "time_unit": "week",
            "holdout_purchases": purchases["holdout_purchases"],
            "holdout_mean_spend": holdout_spend,
        }
    )


def _daily(calibration: pd.DataFrame) -> pd.DataFrame:
    """Acquisitions per day (no repeat purchases: the tracking's expected side is what is tested here)."""
    counts = calibration.groupby("first_purchase_date").size()
    return pd.DataFrame({"activity_date": counts.index, "first_purchases": counts.to_numpy(), "repeat_purchases": 0})


@pytest.fixture(scope="module")
def evaluation(simulated: pd.DataFrame):  # noqa: ANN201
    return evaluate_holdout(simulated, _daily(simulated), holdout_days=HOLDOUT_DAYS, time_unit="week")


def test_predictions_are_the_closed_form_conditional_expectation(simulated: pd.DataFrame, evaluation) -> None:  # noqa: ANN001
    summary = evaluation.summary.iloc[0]
    assert summary["status"] == EVALUATED and summary["bg_nbd_converged"] and summary["gamma_gamma_converged"]
    fitted = BgNbdParameters(summary["bg_nbd_r"], summary["bg_nbd_alpha"], summary["bg_nbd_a"], summary["bg_nbd_b"])
    customers = evaluation.customers.set_index("customer_id").loc[simulated["customer_id"]]
    expected = closed_form_conditional_expectation(
        fitted,
        simulated["frequency"].to_numpy(float),
        simulated["recency"].to_numpy(float),
        simulated["t"].to_numpy(float),
        HOLDOUT_DAYS / 7,
    )
    np.testing.assert_allclose(customers["predicted_holdout_purchases"].to_numpy(), expected, rtol=0, atol=1e-6)
    # and Gamma-Gamma's conditional expectation, p (v + x m) / (p x + q - 1), for the repeat buyers
    p, q, v = summary["gamma_gamma_p"], summary["gamma_gamma_q"], summary["gamma_gamma_v"]
    x, m = simulated["frequency"].to_numpy(float), simulated["monetary_value"].to_numpy(float)
    repeat = x > 0
    np.testing.assert_allclose(
        customers["predicted_mean_spend"].to_numpy()[repeat], (p * (v + x * m) / (p * x + q - 1))[repeat], rtol=1e-12
    )


def test_the_total_holdout_error_is_within_sampling_noise(simulated: pd.DataFrame, evaluation) -> None:  # noqa: ANN001
    customers = evaluation.customers
    residual = customers["actual_holdout_purchases"] - customers["predicted_holdout_purchases"]
    noise = 4 * residual.std() * np.sqrt(len(residual))  # 4 standard errors of the total
    summary = evaluation.summary.iloc[0]
    assert abs(summary["actual_holdout_purchases"] - summary["predicted_holdout_purchases"]) < noise
    assert summary["actual_holdout_purchases"] == simulated["holdout_purchases"].sum()
    assert summary["customers"] == CUSTOMERS
    # the summary's statistics are those of the per-customer table
    assert summary["purchases_mae"] == pytest.approx(residual.abs().mean())
    assert summary["purchases_rmse"] == pytest.approx(np.sqrt((residual**2).mean()))
    assert summary["purchases_relative_error"] == pytest.approx(
        -residual.sum() / customers["actual_holdout_purchases"].sum()
    )
    spenders = customers[customers["actual_holdout_purchases"] > 0]
    assert summary["spend_customers"] == len(spenders)
    spend_error = spenders["predicted_mean_spend"].mean() / spenders["actual_mean_spend"].mean() - 1
    assert summary["spend_relative_error"] == pytest.approx(spend_error)
    assert abs(spend_error) < 0.05  # the same model drew the spend
    # the conditional expectation uses each customer's own calibration spend: closer than the population mean
    own = (spenders["predicted_mean_spend"] - spenders["actual_mean_spend"]).abs().mean()
    population = (TRUE_GG.population_mean_spend - spenders["actual_mean_spend"]).abs().mean()
    assert summary["spend_mae"] == pytest.approx(own) and own < population


def test_the_tracking_is_the_closed_form_expectation_and_ends_at_the_observation_end(
    simulated: pd.DataFrame,
    evaluation,  # noqa: ANN001
) -> None:
    summary = evaluation.summary.iloc[0]
    fitted = BgNbdParameters(summary["bg_nbd_r"], summary["bg_nbd_alpha"], summary["bg_nbd_a"], summary["bg_nbd_b"])
    tracking = evaluation.tracking
    assert tracking["week_end_date"].iloc[-1] == CALIBRATION_END + dt.timedelta(days=HOLDOUT_DAYS)
    assert (pd.Series(tracking["week_end_date"]).diff().dropna() == pd.Timedelta(days=7)).all()
    assert set(tracking["period"]) == {"calibration", "holdout"}
    assert (tracking.loc[tracking["period"] == "calibration", "week_end_date"] <= CALIBRATION_END).all()
    firsts = pd.to_datetime(simulated["first_purchase_date"]).dt.date
    for row in tracking.iloc[[0, len(tracking) // 2, -1]].itertuples():
        ages = np.array([(row.week_end_date - first).days / 7 for first in firsts])
        expected = closed_form_unconditional_expectation(fitted, ages[ages >= 0]).sum()
        assert row.predicted_cumulative_repeat_purchases == pytest.approx(expected, rel=1e-6)


def test_off_and_empty_evaluations_say_why(simulated: pd.DataFrame) -> None:
    off = evaluate_holdout(simulated, _daily(simulated), holdout_days=0, time_unit="week")
    assert off.summary.iloc[0]["status"] == SKIPPED and "clv_holdout_days = 0" in off.summary.iloc[0]["status_reason"]
    assert off.customers.empty and off.tracking.empty
    empty = evaluate_holdout(simulated.iloc[:0], _daily(simulated.iloc[:0]), holdout_days=30, time_unit="week")
    assert empty.summary.iloc[0]["status"] == SKIPPED and empty.summary.iloc[0]["customers"] == 0
    # nobody repeats in the calibration period: BG/NBD is not identified, the row says so, nothing is predicted
    one_timers = simulated.assign(frequency=0, recency=0.0, monetary_value=np.nan)
    unfitted = evaluate_holdout(one_timers, _daily(one_timers), holdout_days=HOLDOUT_DAYS, time_unit="week")
    row = unfitted.summary.iloc[0]
    assert row["status"] == EVALUATED and not row["bg_nbd_converged"] and "repeat" in row["status_reason"]
    assert unfitted.customers["predicted_holdout_purchases"].isna().all() and unfitted.tracking.empty


def test_a_skipped_evaluation_reads_back_and_prints_why(tmp_path) -> None:  # noqa: ANN001
    """A skipped evaluation (history shorter than the holdout) has nulls in its integer columns: the run
    summary reads them back from DuckDB as missing values and prints the reason."""
    import duckdb

    from orchestration.assets.report import format_clv_holdout
    from orchestration.business_picture import clv_holdout

    skipped = evaluate_holdout(pd.DataFrame(), pd.DataFrame(), holdout_days=182, time_unit="day").summary
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("create schema marts")
        conn.execute(
            "create table marts.fct_clv_holdout_summary (status varchar, status_reason varchar, holdout_days bigint, "
            "predicted_holdout_purchases double, actual_holdout_purchases bigint, purchases_relative_error double, "
            "spend_relative_error double)"
        )
        conn.register("skipped", skipped)
        conn.execute(
            "insert into marts.fct_clv_holdout_summary select status, status_reason, holdout_days, "
            "predicted_holdout_purchases, actual_holdout_purchases, purchases_relative_error, spend_relative_error "
            "from skipped"
        )

        class Reader:
            def query(self, sql: str) -> pd.DataFrame:
                return conn.execute(sql).df()

            def relation_exists(self, schema: str, table: str) -> bool:
                return True

        holdout = clv_holdout(Reader())
    assert holdout["status"] == SKIPPED and holdout["actual_holdout_purchases"] is None
    assert format_clv_holdout(holdout) == [f"CLV holdout evaluation: skipped ({holdout['status_reason']})"]
