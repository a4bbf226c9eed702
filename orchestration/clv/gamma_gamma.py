"""The Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie's
note "The Gamma-Gamma model of monetary value").

Each purchase of a customer is Gamma(p, nu); nu varies across customers as Gamma(q, v). A customer is
summarised by x (repeat purchases) and m (their mean spend over those purchases); only customers with
x > 0 and m > 0 carry information. Spend is assumed independent of the purchase process.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from orchestration.clv.mle import FitReport, maximise, not_fitted

PARAMETER_NAMES = ("p", "q", "v")


@dataclass(frozen=True)
class GammaGammaParameters:
    p: float
    q: float
    v: float

    def as_array(self) -> np.ndarray:
        return np.array([self.p, self.q, self.v], dtype=float)

    @property
    def population_mean_spend(self) -> float:
        """E[spend per purchase] for a customer with no repeat purchase yet; infinite unless q > 1."""
        return self.p * self.v / (self.q - 1.0) if self.q > 1.0 else float("nan")


def log_likelihood(parameters: GammaGammaParameters, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Log-density of each customer's mean spend m given x purchases (x > 0, m > 0)."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    p, q, v = parameters.as_array()
    px = p * x
    return (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(v)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + x * m)
    )


def negative_mean_log_likelihood(
    log_parameters: np.ndarray, x: np.ndarray, m: np.ndarray, weights: np.ndarray
) -> tuple[float, np.ndarray]:
    """Weighted mean negative log-likelihood and its gradient with respect to the log-parameters."""
    return _Objective(x, m, weights)(log_parameters)


class _Objective:
    """The weighted negative log-likelihood with its gradient, for repeated evaluation by the optimiser.

    The gamma-function terms depend on a customer only through x (few distinct values): computed once
    per distinct x and gathered; only log(v + x m) is evaluated per row.
    """

    def __init__(self, x: np.ndarray, m: np.ndarray, weights: np.ndarray) -> None:
        self.unique_x, self.x_index = np.unique(x, return_inverse=True)
        self.x, self.m = x, m
        self.log_m, self.log_x = np.log(m), np.log(x)
        self.weights = weights / weights.sum()

    def __call__(self, log_parameters: np.ndarray) -> tuple[float, np.ndarray]:
        parameters = np.exp(log_parameters)
        p, q, v = parameters
        ux, ix = self.unique_x, self.x_index
        gammaln, digamma = special.gammaln, special.digamma
        log_gamma_x = gammaln(p * ux + q) - gammaln(p * ux) - gammaln(q)
        psi_pxq_x = digamma(p * ux + q)
        d_p_x = ux * (psi_pxq_x - digamma(p * ux))
        d_q_x = psi_pxq_x - digamma(q) + np.log(v)
        x, px = self.x, p * self.x
        log_vxm = np.log(v + x * self.m)
        value = log_gamma_x[ix] + q * np.log(v) + (px - 1.0) * self.log_m + px * self.log_x - (px + q) * log_vxm
        d_p = d_p_x[ix] + x * (self.log_m + self.log_x - log_vxm)
        d_q = d_q_x[ix] - log_vxm
        d_v = q / v - (px + q) / (v + x * self.m)
        gradient = np.array([np.dot(self.weights, d) for d in (d_p, d_q, d_v)])
        # chain rule for log-parameters: d/d(log theta) = theta * d/d(theta)
        return -float(np.dot(self.weights, value)), -gradient * parameters


def fit(x: np.ndarray, m: np.ndarray, weights: np.ndarray | None = None) -> tuple[GammaGammaParameters, FitReport]:
    """Maximum likelihood estimates of (p, q, v) from customers with x > 0 and m > 0 (others are ignored)."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    weights = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    usable = (x > 0) & np.isfinite(m) & (m > 0) & (weights > 0)
    x, m, weights = x[usable], m[usable], weights[usable]
    n_customers = int(round(weights.sum()))
    nan_parameters = GammaGammaParameters(*(float("nan"),) * 3)
    if n_customers < 2 or np.unique(m).size < 2:
        return nan_parameters, not_fitted(
            "fewer than two repeat buyers with distinct positive spend: spend heterogeneity is not identified",
            n_customers=n_customers,
            n_groups=len(x),
        )
    # Start at p = 1, q = 2 (a finite population mean) and v matching the observed mean spend.
    mean_spend = float(np.dot(weights, m) / weights.sum())
    initial = np.log(np.array([1.0, 2.0, mean_spend]))
    log_parameters, report = maximise(
        _Objective(x, m, weights),
        initial,
        total_weight=weights.sum(),
        n_groups=len(x),
        names=PARAMETER_NAMES,
    )
    return GammaGammaParameters(*np.exp(log_parameters)), report


def expected_spend(parameters: GammaGammaParameters, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """E[spend per purchase | x, m]: a credibility-weighted mean of the population mean and the customer's
    own mean. Customers with x = 0 (or no usable m) get the population mean, NaN when q <= 1."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    p, q, v = parameters.as_array()
    own = (x > 0) & np.isfinite(m)
    with np.errstate(invalid="ignore", divide="ignore"):
        # posterior nu | x, m ~ Gamma(p x + q, v + x m); E[p / nu] = p (v + x m) / (p x + q - 1)
        conditional = p * (v + x * np.where(own, m, 0.0)) / (p * x + q - 1.0)
    conditional = np.where(p * x + q > 1.0, conditional, np.nan)
    return np.where(own, conditional, parameters.population_mean_spend)
