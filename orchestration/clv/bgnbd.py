"""The BG/NBD model of repeat purchases (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

While alive a customer buys at Poisson rate lambda ~ Gamma(r, alpha); after every repeat purchase they
drop out with probability p ~ Beta(a, b). A customer is summarised by x (repeat purchases, i.e.
frequency), t_x (recency: time of the last purchase since the first) and T (time since the first
purchase), all in one time unit.

Everything is computed in log-space (gammaln, betaln, logaddexp), so customers with thousands of
purchases give finite likelihoods, and on weighted groups of identical summaries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, special

from orchestration.clv.grouping import group_identical
from orchestration.clv.mle import FitReport, maximise, not_fitted

PARAMETER_NAMES = ("r", "alpha", "a", "b")
# Gauss-Jacobi nodes for the expectation over p ~ Beta(a, b + x); the integrand is smooth and bounded
# on [0, 1], and the tests check this against the closed form with the hypergeometric function.
_QUADRATURE_NODES = 32


@dataclass(frozen=True)
class BgNbdParameters:
    r: float
    alpha: float
    a: float
    b: float

    def as_array(self) -> np.ndarray:
        return np.array([self.r, self.alpha, self.a, self.b], dtype=float)


def _log_terms(
    parameters: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three pieces of the individual log-likelihood: A1 + logaddexp(A2, A3)."""
    r, alpha, a, b = parameters
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.betaln(a, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + T)
    repeat = x > 0
    # x - 1 is only meaningful for repeat buyers; clamp so that betaln is never evaluated at b - 1 <= 0.
    a3 = np.where(
        repeat,
        special.betaln(a + 1, b + np.maximum(x, 1) - 1) - special.betaln(a, b) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return a1, a2, a3


def log_likelihood(parameters: BgNbdParameters, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Log-likelihood of each customer's (x, t_x, T), FHL 2005 equation (6)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    a1, a2, a3 = _log_terms(parameters.as_array(), x, t_x, T)
    return a1 + np.logaddexp(a2, a3)


def negative_mean_log_likelihood(
    log_parameters: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weights: np.ndarray
) -> tuple[float, np.ndarray]:
    """Weighted mean negative log-likelihood and its gradient with respect to the log-parameters."""
    return _Objective(x, t_x, T, weights)(log_parameters)


class _Objective:
    """The weighted negative log-likelihood with its gradient, for repeated evaluation by the optimiser.

    Every gamma-function term depends on a customer only through x, which takes few distinct values, so
    those terms are computed once per distinct x and gathered; only log(alpha + T) and log(alpha + t_x)
    are evaluated per row.
    """

    def __init__(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weights: np.ndarray) -> None:
        self.unique_x, self.x_index = np.unique(x, return_inverse=True)
        self.x, self.t_x, self.T = x, t_x, T
        self.weights = weights / weights.sum()
        self.repeat = x > 0

    def __call__(self, log_parameters: np.ndarray) -> tuple[float, np.ndarray]:
        parameters = np.exp(log_parameters)
        r, alpha, a, b = parameters
        ux, ix = self.unique_x, self.x_index
        gammaln, digamma = special.gammaln, special.digamma
        uxm1 = np.maximum(ux, 1) - 1  # x - 1, clamped where x = 0 (that branch is then excluded)
        # per distinct x
        a1_x = gammaln(r + ux) - gammaln(r) + r * np.log(alpha)
        beta_alive_x = special.betaln(a, b + ux) - special.betaln(a, b)
        beta_dropped_x = np.where(ux > 0, special.betaln(a + 1, b + uxm1) - special.betaln(a, b), -np.inf)
        psi_ab, psi_abx = digamma(a + b), digamma(a + b + ux)
        d_r_x = digamma(r + ux) - digamma(r) + np.log(alpha)
        d_a_alive_x = psi_ab - psi_abx
        d_a_dropped_x = digamma(a + 1) - digamma(a) + psi_ab - psi_abx
        d_b_alive_x = digamma(b + ux) - psi_abx - digamma(b) + psi_ab
        d_b_dropped_x = digamma(b + uxm1) - psi_abx - digamma(b) + psi_ab
        # per row
        shape = r + self.x
        log_alpha_T, log_alpha_tx = np.log(alpha + self.T), np.log(alpha + self.t_x)
        a2 = beta_alive_x[ix] - shape * log_alpha_T
        a3 = np.where(self.repeat, beta_dropped_x[ix] - shape * log_alpha_tx, -np.inf)
        total = np.logaddexp(a2, a3)
        w2 = np.exp(a2 - total)  # share of the "still alive" branch in the likelihood
        w3 = np.exp(a3 - total)  # share of the "dropped out after the last purchase" branch (0 when x = 0)
        d_r = d_r_x[ix] - w2 * log_alpha_T - w3 * log_alpha_tx
        d_alpha = r / alpha - w2 * shape / (alpha + self.T) - w3 * shape / (alpha + self.t_x)
        d_a = w2 * d_a_alive_x[ix] + w3 * d_a_dropped_x[ix]
        d_b = w2 * d_b_alive_x[ix] + w3 * d_b_dropped_x[ix]
        value = -float(np.dot(self.weights, a1_x[ix] + total))
        gradient = np.array([np.dot(self.weights, d) for d in (d_r, d_alpha, d_a, d_b)])
        # chain rule for log-parameters: d/d(log theta) = theta * d/d(theta)
        return value, -gradient * parameters


def fit(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weights: np.ndarray | None = None
) -> tuple[BgNbdParameters, FitReport]:
    """Maximum likelihood estimates of (r, alpha, a, b) from (optionally weighted) summaries.

    Returns NaN parameters and converged=False with a reason when the data cannot identify the model.
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    weights = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    n_customers = int(round(weights.sum()))
    nan_parameters = BgNbdParameters(*(float("nan"),) * 4)
    if n_customers == 0:
        return nan_parameters, not_fitted("no customers", n_customers=0, n_groups=len(x))
    if not np.any((x > 0) & (weights > 0)):
        return nan_parameters, not_fitted(
            "no customer has a repeat purchase: purchase and dropout rates are not identified",
            n_customers=n_customers,
            n_groups=len(x),
        )
    # Start from r = a = b = 1 and alpha giving the observed repeat rate (r / alpha = sum x / sum T).
    total_time = max(float(np.dot(weights, T)), 1e-9)
    alpha0 = total_time / max(float(np.dot(weights, x)), 1e-9)
    initial = np.log(np.array([1.0, alpha0, 1.0, 1.0]))
    log_parameters, report = maximise(
        _Objective(x, t_x, T, weights),
        initial,
        total_weight=weights.sum(),
        n_groups=len(x),
        names=PARAMETER_NAMES,
    )
    return BgNbdParameters(*np.exp(log_parameters)), report


def probability_alive(parameters: BgNbdParameters, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(alive at T | x, t_x, T), FHL 2005 equation (13), as a logistic of a log-odds (stable for large x)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    r, alpha, a, b = parameters.as_array()
    repeat = x > 0
    log_odds_dead = np.where(
        repeat,
        np.log(a) - np.log(b + np.maximum(x, 1) - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)),
        -np.inf,
    )
    return special.expit(-log_odds_dead)


def _beta_quadrature(a: float, b_post: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and normalised weights to take expectations over p ~ Beta(a, b_post)."""
    if b_post < _LARGE_JACOBI_EXPONENT:
        u, w = special.roots_jacobi(_QUADRATURE_NODES, b_post - 1.0, a - 1.0)
    else:
        u, w = _jacobi_golub_welsch(_QUADRATURE_NODES, b_post - 1.0, a - 1.0)
    return (1.0 + u) / 2.0, w / w.sum()


# scipy's roots_jacobi scales its weights by 2^(alpha + beta + 1), which overflows for customers with
# about a thousand purchases; above this exponent the rule comes from the Golub-Welsch eigenproblem,
# whose normalised weights never leave [0, 1].
_LARGE_JACOBI_EXPONENT = 100.0


def _jacobi_golub_welsch(n: int, alpha: float, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Jacobi nodes and weights summing to 1, for the weight (1 - u)^alpha (1 + u)^beta on [-1, 1].

    The three-term recurrence of the monic Jacobi polynomials gives a symmetric tridiagonal matrix; its
    eigenvalues are the nodes and the squared first components of its eigenvectors the weights. The
    formulas below are valid for alpha + beta > 0 (the only case this is used for).
    """
    k = np.arange(n, dtype=float)
    s = 2.0 * k + alpha + beta
    diagonal = (beta**2 - alpha**2) / (s * (s + 2.0))
    k1 = k[1:]
    s1 = s[1:]
    off_diagonal = np.sqrt(
        4.0 * k1 * (k1 + alpha) * (k1 + beta) * (k1 + alpha + beta) / (s1**2 * (s1 + 1.0) * (s1 - 1.0))
    )
    nodes, vectors = linalg.eigh_tridiagonal(diagonal, off_diagonal)
    return nodes, vectors[0] ** 2


def expected_purchases(
    parameters: BgNbdParameters,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    horizons: np.ndarray,
    *,
    chunk_rows: int = 20_000,
) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T] for every customer (rows) and horizon t (columns).

    Equal to FHL 2005 equation (10), computed without the Gauss hypergeometric function, which is slow
    and loses accuracy for large x: given the customer is alive at T, lambda ~ Gamma(r + x, alpha + T)
    and p ~ Beta(a, b + x) independently, and a living customer buys (1 - exp(-lambda p t)) / p in
    expectation. Integrating lambda out in closed form leaves a smooth, bounded function of p,
    integrated by Gauss-Jacobi quadrature. That expectation depends on (x, T) only, which take far fewer
    distinct pairs than customers; recency enters through P(alive), by which it is multiplied.
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    horizons = np.atleast_1d(np.asarray(horizons, dtype=float))
    r, alpha, a, b = parameters.as_array()
    if len(x) == 0:
        return np.empty((0, len(horizons)))
    pairs = group_identical(pd.DataFrame({"x": x, "T": T}), ["x", "T"])  # ~10x np.unique(axis=0) at 1M rows
    pair_x, pair_T = pairs.keys["x"].to_numpy(), pairs.keys["T"].to_numpy()
    unique_x, x_index = np.unique(pair_x, return_inverse=True)
    rules = [_beta_quadrature(a, b + value) for value in unique_x]
    nodes = np.stack([n for n, _ in rules])
    weights = np.stack([w for _, w in rules])
    if_alive = np.empty((len(pair_x), len(horizons)))
    for start in range(0, len(pair_x), chunk_rows):
        rows = slice(start, start + chunk_rows)
        p = nodes[x_index[rows]]
        w = weights[x_index[rows]]
        shape = (r + pair_x[rows])[:, None]
        for column, horizon in enumerate(horizons):
            scale = (horizon / (alpha + pair_T[rows]))[:, None]
            # (1 - (1 + p t / (alpha + T))^-(r + x)) / p, written with expm1/log1p for accuracy at small p
            per_node = -np.expm1(-shape * np.log1p(p * scale)) / p
            if_alive[rows, column] = np.einsum("ij,ij->i", per_node, w)
    alive = probability_alive(parameters, x, t_x, T)
    return alive[:, None] * if_alive[pairs.index]
