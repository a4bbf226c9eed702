"""BG/NBD and Gamma-Gamma (orchestration/clv): likelihoods against independent direct computations,
grouped against ungrouped fits, parameter recovery from simulated data, numerical stability for heavy
buyers, and fit_and_score's outputs, discounting and degenerate inputs.

Recovery tolerance (docs/DECISIONS.md, "Predictive CLV"): every parameter within 15% of the truth AND
within 4 standard errors (from the observed information at the optimum). With 30,000 simulated
customers the largest error seen over several seeds was about 8%; the test uses one fixed seed.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, special

from orchestration.clv import bgnbd, gamma_gamma
from orchestration.clv.bgnbd import BgNbdParameters
from orchestration.clv.gamma_gamma import GammaGammaParameters
from orchestration.clv.grouping import group_identical
from orchestration.clv.scoring import PREDICTION_COLUMNS, fit_and_score, monthly_discount_factors
from orchestration.clv.simulate import simulate_bgnbd, simulate_mean_spend

TRUE_BG = BgNbdParameters(r=0.8, alpha=40.0, a=0.8, b=2.5)  # daily purchase rate about 0.02
TRUE_GG = GammaGammaParameters(p=6.0, q=4.0, v=60.0)  # mean spend per purchase p v / (q - 1) = 120
RELATIVE_TOLERANCE = 0.15
STANDARD_ERRORS = 4.0

# small hand-picked summaries (x, t_x, T) in days, including first-time buyers and t_x = T
SMALL = np.array(
    [[0, 0, 30], [0, 0, 200], [1, 10, 30], [2, 25, 60], [3, 60, 60], [7, 100, 365], [10, 300, 310], [1, 0.5, 400]],
    dtype=float,
)


def simulated(n: int, seed: int, *, holdout: float = 0.0, whole_days: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    T = np.round(rng.uniform(180, 720, n))
    frame = simulate_bgnbd(TRUE_BG, T, rng, holdout=holdout)
    if whole_days:
        frame["recency"] = np.floor(frame["recency"])
    frame["monetary_value"] = simulate_mean_spend(TRUE_GG, frame["frequency"], rng)
    return frame


def standard_errors(objective, log_parameters: np.ndarray, n_customers: float) -> np.ndarray:
    """Standard errors of the parameters from the observed information (Hessian of the summed
    negative log-likelihood in log-parameters, by central differences of the analytic gradient)."""
    step = 1e-5
    k = len(log_parameters)
    hessian = np.empty((k, k))
    for i in range(k):
        shift = np.zeros(k)
        shift[i] = step
        hessian[i] = (objective(log_parameters + shift)[1] - objective(log_parameters - shift)[1]) / (2 * step)
    covariance = np.linalg.inv(n_customers * (hessian + hessian.T) / 2)
    return np.exp(log_parameters) * np.sqrt(np.diag(covariance))  # delta method back to the parameters


# --- likelihoods against direct computations --------------------------------------------------------


def direct_bgnbd_likelihood(params: BgNbdParameters, x: float, t_x: float, T: float) -> float:
    """FHL 2005 equation (6) literally, with gamma and beta functions in linear space."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    common = math.gamma(r + x) * alpha**r / math.gamma(r)
    alive = special.beta(a, b + x) / special.beta(a, b) * common / (alpha + T) ** (r + x)
    dropped = 0.0
    if x > 0:
        dropped = special.beta(a + 1, b + x - 1) / special.beta(a, b) * common / (alpha + t_x) ** (r + x)
    return alive + dropped


def test_bgnbd_log_likelihood_matches_direct_formula() -> None:
    params = BgNbdParameters(r=0.5, alpha=12.0, a=0.7, b=3.0)
    x, t_x, T = SMALL.T
    ours = bgnbd.log_likelihood(params, x, t_x, T)
    direct = np.log([direct_bgnbd_likelihood(params, *row) for row in SMALL])
    np.testing.assert_allclose(ours, direct, rtol=1e-10)


def test_bgnbd_likelihood_matches_integral_over_lambda_and_p() -> None:
    """The likelihood of one repeat buyer as the double integral over the latent rate and dropout."""
    params = BgNbdParameters(r=1.5, alpha=20.0, a=1.2, b=2.0)
    x, t_x, T = 3.0, 40.0, 90.0

    def integrand(p: float, lam: float) -> float:
        individual = (1 - p) ** x * lam**x * math.exp(-lam * T) + p * (1 - p) ** (x - 1) * lam**x * math.exp(-lam * t_x)
        prior = (
            params.alpha**params.r * lam ** (params.r - 1) * math.exp(-params.alpha * lam) / math.gamma(params.r)
        ) * (p ** (params.a - 1) * (1 - p) ** (params.b - 1) / special.beta(params.a, params.b))
        return individual * prior

    value, _ = integrate.dblquad(integrand, 0, 2.0, 0, 1, epsabs=1e-14, epsrel=1e-10)
    assert math.log(value) == pytest.approx(bgnbd.log_likelihood(params, [x], [t_x], [T])[0], rel=1e-6)


def test_gamma_gamma_log_likelihood_matches_integral_over_nu() -> None:
    """The mean of x Gamma(p, nu) spends is Gamma(p x, rate nu x); integrate nu ~ Gamma(q, rate v) out."""
    params = GammaGammaParameters(p=3.0, q=2.5, v=40.0)
    for x, m in [(1.0, 35.0), (4.0, 12.5), (12.0, 80.0)]:

        def integrand(nu: float, x: float = x, m: float = m) -> float:
            spend = (nu * x) ** (params.p * x) * m ** (params.p * x - 1) * math.exp(-nu * x * m)
            spend /= math.gamma(params.p * x)
            prior = params.v**params.q * nu ** (params.q - 1) * math.exp(-params.v * nu) / math.gamma(params.q)
            return spend * prior

        value, _ = integrate.quad(integrand, 0, np.inf, epsabs=0, epsrel=1e-12, limit=500)
        assert math.log(value) == pytest.approx(gamma_gamma.log_likelihood(params, [x], [m])[0], rel=1e-8)


def test_analytic_gradients_match_finite_differences() -> None:
    x, t_x, T = SMALL.T
    weights = np.arange(1, len(x) + 1, dtype=float)
    theta = np.log([0.6, 15.0, 0.9, 2.2])
    error = optimize.check_grad(
        lambda th: bgnbd.negative_mean_log_likelihood(th, x, t_x, T, weights)[0],
        lambda th: bgnbd.negative_mean_log_likelihood(th, x, t_x, T, weights)[1],
        theta,
    )
    assert error < 1e-6
    xs, ms = np.array([1.0, 2.0, 5.0, 9.0]), np.array([20.0, 55.0, 31.0, 140.0])
    theta = np.log([2.0, 3.0, 30.0])
    error = optimize.check_grad(
        lambda th: gamma_gamma.negative_mean_log_likelihood(th, xs, ms, np.ones(4))[0],
        lambda th: gamma_gamma.negative_mean_log_likelihood(th, xs, ms, np.ones(4))[1],
        theta,
    )
    assert error < 1e-6


# --- grouping ---------------------------------------------------------------------------------------


def test_grouped_fit_equals_ungrouped_fit() -> None:
    # in whole weeks customers share summaries, so the grouping really collapses rows
    frame = simulated(4000, seed=11).assign(recency=lambda f: np.floor(f["recency"] / 7), t=lambda f: f["t"] // 7)
    groups = group_identical(frame, ["frequency", "recency", "t"])
    assert len(groups.keys) < 0.85 * len(frame)
    assert groups.weights.sum() == len(frame)
    keys = groups.keys
    grouped, grouped_report = bgnbd.fit(keys["frequency"], keys["recency"], keys["t"], groups.weights)
    ungrouped, ungrouped_report = bgnbd.fit(frame["frequency"], frame["recency"], frame["t"])
    assert grouped_report.converged and ungrouped_report.converged
    np.testing.assert_allclose(grouped.as_array(), ungrouped.as_array(), rtol=1e-5)
    assert grouped_report.log_likelihood == pytest.approx(ungrouped_report.log_likelihood, rel=1e-12)
    # the grouped log-likelihood is the per-customer sum
    per_customer = bgnbd.log_likelihood(grouped, frame["frequency"], frame["recency"], frame["t"]).sum()
    assert grouped_report.log_likelihood == pytest.approx(per_customer, rel=1e-10)

    spenders = frame[frame["frequency"] > 0].assign(monetary_value=lambda f: f["monetary_value"].round(-1))
    spend_groups = group_identical(spenders, ["frequency", "monetary_value"])
    assert len(spend_groups.keys) < len(spenders)
    gg_grouped, _ = gamma_gamma.fit(
        spend_groups.keys["frequency"], spend_groups.keys["monetary_value"], spend_groups.weights
    )
    gg_ungrouped, _ = gamma_gamma.fit(spenders["frequency"], spenders["monetary_value"])
    np.testing.assert_allclose(gg_grouped.as_array(), gg_ungrouped.as_array(), rtol=1e-5)


def test_the_fit_does_not_depend_on_the_order_of_the_customers() -> None:
    """The warehouse returns rows in any order (DuckDB without preserve_insertion_order): the same customers
    in another order give exactly the same parameters and predictions."""
    summary = summary_from(simulated(3000, seed=5, whole_days=True))
    shuffled = summary.sample(frac=1.0, random_state=3).reset_index(drop=True)
    arguments = {"horizon_months": 12, "annual_discount_rate": 0.08, "time_unit": "day"}
    first, second = fit_and_score(summary, **arguments), fit_and_score(shuffled, **arguments)
    pd.testing.assert_frame_equal(first.parameters, second.parameters, check_exact=True)
    by_customer = second.predictions.set_index("customer_id").loc[first.predictions["customer_id"]].reset_index()
    pd.testing.assert_frame_equal(first.predictions, by_customer, check_exact=True)


# --- parameter recovery -----------------------------------------------------------------------------


def test_bgnbd_recovers_simulated_parameters() -> None:
    frame = simulated(30_000, seed=7)
    estimate, report = bgnbd.fit(frame["frequency"], frame["recency"], frame["t"])
    assert report.converged, report.message
    objective = bgnbd._Objective(
        *(frame[c].to_numpy(float) for c in ("frequency", "recency", "t")), np.ones(len(frame))
    )
    errors = standard_errors(objective, np.log(estimate.as_array()), len(frame))
    truth = TRUE_BG.as_array()
    np.testing.assert_allclose(estimate.as_array(), truth, rtol=RELATIVE_TOLERANCE)
    assert np.all(np.abs(estimate.as_array() - truth) <= STANDARD_ERRORS * errors), (estimate, errors)


def test_gamma_gamma_recovers_simulated_parameters() -> None:
    frame = simulated(30_000, seed=8)
    repeat = frame[frame["frequency"] > 0]
    assert len(repeat) > 20_000
    estimate, report = gamma_gamma.fit(frame["frequency"], frame["monetary_value"])
    assert report.converged, report.message
    assert report.n_customers == len(repeat)  # first-time buyers carry no spend information
    objective = gamma_gamma._Objective(
        repeat["frequency"].to_numpy(float), repeat["monetary_value"].to_numpy(), np.ones(len(repeat))
    )
    errors = standard_errors(objective, np.log(estimate.as_array()), len(repeat))
    truth = TRUE_GG.as_array()
    np.testing.assert_allclose(estimate.as_array(), truth, rtol=RELATIVE_TOLERANCE)
    assert np.all(np.abs(estimate.as_array() - truth) <= STANDARD_ERRORS * errors), (estimate, errors)


def test_expected_purchases_are_calibrated_on_a_holdout_year() -> None:
    """Under the true parameters, the conditional expectations summed over customers match the purchases
    the simulated customers actually made in the following 365.25 days."""
    frame = simulated(30_000, seed=9, holdout=365.25)
    predicted = bgnbd.expected_purchases(TRUE_BG, frame["frequency"], frame["recency"], frame["t"], [365.25])
    assert predicted[:, 0].sum() == pytest.approx(frame["holdout_purchases"].sum(), rel=0.05)
    # and per frequency band, where the information differs most
    for band in [(0, 0), (1, 2), (3, 8), (9, 10_000)]:
        rows = frame["frequency"].between(*band).to_numpy()
        assert predicted[rows, 0].sum() == pytest.approx(frame.loc[rows, "holdout_purchases"].sum(), rel=0.1)


# --- closed forms -----------------------------------------------------------------------------------


def closed_form_expected_purchases(params: BgNbdParameters, x, t_x, T, t) -> np.ndarray:
    """FHL 2005 equation (10) with the Gauss hypergeometric function."""
    r, alpha, a, b = params.as_array()
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    numerator = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    denominator = 1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return numerator / denominator


def test_expected_purchases_match_hypergeometric_closed_form() -> None:
    params = BgNbdParameters(r=0.5, alpha=12.0, a=0.7, b=3.0)
    x, t_x, T = SMALL.T
    for horizon in (7.0, 30.4375, 365.25):
        ours = bgnbd.expected_purchases(params, x, t_x, T, [horizon])[:, 0]
        np.testing.assert_allclose(ours, closed_form_expected_purchases(params, x, t_x, T, horizon), rtol=1e-9)


def test_p_alive_hand_worked() -> None:
    params = BgNbdParameters(r=1.0, alpha=10.0, a=1.0, b=3.0)
    # x = 0: nobody drops out before a repeat purchase
    assert bgnbd.probability_alive(params, [0], [0], [100])[0] == 1.0
    # x = 2, t_x = 10, T = 30: 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x))
    expected = 1 / (1 + 1 / 4 * (40 / 20) ** 3)
    assert bgnbd.probability_alive(params, [2], [10], [30])[0] == pytest.approx(expected, rel=1e-12)
    # recency = T still leaves a doubt: the customer may have dropped out right after that purchase
    assert bgnbd.probability_alive(params, [2], [30], [30])[0] == pytest.approx(1 / (1 + 1 / 4), rel=1e-12)


# --- stability --------------------------------------------------------------------------------------


def test_heavy_buyers_give_finite_likelihoods_and_predictions() -> None:
    params = BgNbdParameters(r=0.8, alpha=40.0, a=0.8, b=2.5)
    x = np.array([1000.0, 2500.0, 5000.0, 20000.0])
    t_x = np.array([690.0, 700.0, 719.0, 729.0])
    T = np.full(4, 730.0)
    log_likelihood = bgnbd.log_likelihood(params, x, t_x, T)
    assert np.all(np.isfinite(log_likelihood))
    value, gradient = bgnbd.negative_mean_log_likelihood(np.log(params.as_array()), x, t_x, T, np.ones(4))
    assert np.isfinite(value) and np.all(np.isfinite(gradient))
    alive = bgnbd.probability_alive(params, x, t_x, T)
    assert np.all((alive >= 0) & (alive <= 1))
    expected = bgnbd.expected_purchases(params, x, t_x, T, [365.25])[:, 0]
    assert np.all(np.isfinite(expected)) and np.all(expected >= 0)
    # a customer who bought 5000 times in 719 days and is likely alive keeps buying several times a day
    assert expected[2] > alive[2] * 365.25
    spend = gamma_gamma.log_likelihood(TRUE_GG, x, np.full(4, 120.0))
    assert np.all(np.isfinite(spend))
    # a fit including heavy buyers converges
    frame = simulated(5000, seed=3)
    heavy = pd.DataFrame({"frequency": x, "recency": t_x, "t": T})
    both = pd.concat([frame[["frequency", "recency", "t"]], heavy], ignore_index=True)
    _, report = bgnbd.fit(both["frequency"], both["recency"], both["t"])
    assert report.converged and np.isfinite(report.log_likelihood)


# --- fit_and_score ----------------------------------------------------------------------------------


def summary_from(frame: pd.DataFrame, time_unit: str = "day") -> pd.DataFrame:
    days = {"day": 1.0, "week": 7.0}[time_unit]
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:06d}" for i in range(len(frame))],
            "frequency": frame["frequency"],
            "recency": frame["recency"] / days,
            "t": frame["t"] / days,
            "monetary_value": frame["monetary_value"],
            "margin_rate": 0.25,
            "time_unit": time_unit,
        }
    )


def test_fit_and_score_outputs() -> None:
    summary = summary_from(simulated(5000, seed=21, whole_days=True))
    result = fit_and_score(summary, horizon_months=12, annual_discount_rate=0.08, time_unit="day")
    predictions = result.predictions
    assert list(predictions.columns) == list(PREDICTION_COLUMNS)
    assert predictions["customer_id"].tolist() == summary["customer_id"].tolist()
    assert predictions[list(PREDICTION_COLUMNS[1:])].notna().all().all()
    assert predictions["p_alive"].between(0, 1).all()
    assert (predictions["expected_purchases"] >= 0).all()
    np.testing.assert_allclose(
        predictions["expected_margin_per_purchase"], predictions["expected_spend_per_purchase"] * 0.25
    )
    # discounting lowers every value, but by less than a full year's discount
    undiscounted = predictions["expected_purchases"] * predictions["expected_margin_per_purchase"]
    assert (predictions["predicted_future_clv"] < undiscounted).all()
    assert (predictions["predicted_future_clv"] > undiscounted / 1.08).all()

    parameters = result.parameters.set_index(["model", "parameter"])["value"]
    for model, names in {"bg_nbd": ["r", "alpha", "a", "b"], "gamma_gamma": ["p", "q", "v"]}.items():
        for name in [*names, "log_likelihood", "converged", "iterations", "n_customers"]:
            assert np.isfinite(parameters[(model, name)]), (model, name)
        assert parameters[(model, "converged")] == 1.0
    assert parameters[("bg_nbd", "n_customers")] == 5000
    assert parameters[("gamma_gamma", "n_customers")] == (summary["frequency"] > 0).sum()
    assert result.diagnostics["bg_nbd_converged"] is True
    assert result.diagnostics["bg_nbd_groups"] < 5000


def test_predicted_clv_without_discounting_is_purchases_times_margin() -> None:
    summary = summary_from(simulated(3000, seed=22))
    plain = fit_and_score(summary, horizon_months=12, annual_discount_rate=0.0, time_unit="day").predictions
    np.testing.assert_allclose(
        plain["predicted_future_clv"],
        plain["expected_purchases"] * plain["expected_margin_per_purchase"],
        rtol=1e-12,
    )


def test_predicted_clv_discounts_each_month_at_its_middle() -> None:
    """Hand-worked: the monthly increments of the conditional expectation, each discounted by
    (1 + r)^-((k - 0.5) / 12), times the margin per purchase."""
    summary = summary_from(simulated(3000, seed=23))
    result = fit_and_score(summary, horizon_months=3, annual_discount_rate=0.10, time_unit="day")
    values = result.parameters.set_index(["model", "parameter"])["value"]
    params = BgNbdParameters(*(values[("bg_nbd", name)] for name in ("r", "alpha", "a", "b")))
    row = summary.iloc[[0, 1, 2]]
    ends = [30.4375, 60.875, 91.3125]
    cumulative = bgnbd.expected_purchases(params, row["frequency"], row["recency"], row["t"], ends)
    months = np.column_stack(
        [cumulative[:, 0], cumulative[:, 1] - cumulative[:, 0], cumulative[:, 2] - cumulative[:, 1]]
    )
    factors = np.array([1.1 ** (-0.5 / 12), 1.1 ** (-1.5 / 12), 1.1 ** (-2.5 / 12)])
    np.testing.assert_allclose(monthly_discount_factors(3, 0.10), factors, rtol=1e-15)
    margin = result.predictions["expected_margin_per_purchase"].iloc[:3].to_numpy()
    np.testing.assert_allclose(result.predictions["predicted_future_clv"].iloc[:3], months @ factors * margin)


def test_weeks_and_days_give_the_same_predictions() -> None:
    """The models are invariant to the time unit: alpha scales by 7, predictions do not change."""
    frame = simulated(4000, seed=24)
    by_day = fit_and_score(summary_from(frame, "day"), horizon_months=12, annual_discount_rate=0.08, time_unit="day")
    by_week = fit_and_score(summary_from(frame, "week"), horizon_months=12, annual_discount_rate=0.08, time_unit="week")
    day_alpha = by_day.parameters.query("parameter == 'alpha'")["value"].iloc[0]
    week_alpha = by_week.parameters.query("parameter == 'alpha'")["value"].iloc[0]
    assert week_alpha == pytest.approx(day_alpha / 7, rel=1e-4)
    for column in ("p_alive", "expected_purchases", "predicted_future_clv"):
        np.testing.assert_allclose(by_week.predictions[column], by_day.predictions[column], rtol=1e-3, atol=1e-9)


def test_missing_margin_rate_falls_back_to_the_population_rate() -> None:
    summary = summary_from(simulated(2000, seed=25))
    summary["total_net_spend"] = 100.0
    summary["total_net_margin"] = 30.0
    summary.loc[0, ["margin_rate", "total_net_spend", "total_net_margin"]] = [np.nan, 0.0, -5.0]
    predictions = fit_and_score(summary, horizon_months=12, annual_discount_rate=0.08, time_unit="day").predictions
    population = (30.0 * 1999 - 5.0) / (100.0 * 1999)
    first = predictions.iloc[0]
    assert first["expected_margin_per_purchase"] == pytest.approx(first["expected_spend_per_purchase"] * population)


def test_decimal_inputs_from_postgres_are_accepted() -> None:
    summary = summary_from(simulated(500, seed=26, whole_days=True))
    as_decimals = summary.assign(
        recency=summary["recency"].map(lambda v: Decimal(str(v))),
        monetary_value=summary["monetary_value"].map(lambda v: None if pd.isna(v) else Decimal(str(round(v, 2)))),
    )
    result = fit_and_score(as_decimals, horizon_months=6, annual_discount_rate=0.08, time_unit="day")
    assert result.predictions["p_alive"].notna().all()


# --- degenerate input -------------------------------------------------------------------------------


def test_nobody_repeats_reports_not_converged_with_a_reason() -> None:
    summary = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "frequency": [0, 0, 0],
            "recency": [0.0, 0.0, 0.0],
            "t": [10.0, 50.0, 300.0],
            "monetary_value": [None, None, None],
            "margin_rate": [0.3, 0.3, None],
        }
    )
    result = fit_and_score(summary, horizon_months=12, annual_discount_rate=0.08, time_unit="day")
    parameters = result.parameters.set_index(["model", "parameter"])["value"]
    assert parameters[("bg_nbd", "converged")] == 0.0
    assert parameters[("gamma_gamma", "converged")] == 0.0
    assert "repeat" in str(result.diagnostics["bg_nbd_message"])
    assert len(result.predictions) == 3
    assert result.predictions["expected_purchases"].isna().all()
    assert result.predictions["predicted_future_clv"].isna().all()


def test_empty_and_tiny_summaries_do_not_crash() -> None:
    empty = pd.DataFrame({c: [] for c in ("customer_id", "frequency", "recency", "t", "monetary_value", "margin_rate")})
    result = fit_and_score(empty, horizon_months=12, annual_discount_rate=0.08, time_unit="week")
    assert result.predictions.empty
    assert result.parameters.query("parameter == 'converged'")["value"].eq(0).all()

    tiny = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "frequency": [0, 1, 4],
            "recency": [0.0, 20.0, 200.0],
            "t": [30.0, 90.0, 210.0],
            "monetary_value": [None, 50.0, 80.0],
            "margin_rate": [0.3, 0.3, 0.3],
        }
    )
    result = fit_and_score(tiny, horizon_months=12, annual_discount_rate=0.08, time_unit="day")
    assert len(result.predictions) == 3
    predictions = result.predictions
    # whatever the optimiser made of three customers, what it reports is a valid probability or NaN
    assert predictions["p_alive"].dropna().between(0, 1).all()
    assert set(result.parameters["model"]) == {"bg_nbd", "gamma_gamma"}


def test_invalid_arguments_and_summaries_are_rejected() -> None:
    summary = summary_from(simulated(50, seed=27))
    with pytest.raises(ValueError, match="time_unit"):
        fit_and_score(summary, horizon_months=12, annual_discount_rate=0.08, time_unit="month")
    with pytest.raises(ValueError, match="time unit"):
        fit_and_score(summary, horizon_months=12, annual_discount_rate=0.08, time_unit="week")
    with pytest.raises(ValueError, match="horizon_months"):
        fit_and_score(summary, horizon_months=0, annual_discount_rate=0.08, time_unit="day")
    broken = summary.assign(recency=summary["t"] + 1)
    with pytest.raises(ValueError, match="recency"):
        fit_and_score(broken, horizon_months=12, annual_discount_rate=0.08, time_unit="day")
