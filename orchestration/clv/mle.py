"""Maximum likelihood on log-parameters with L-BFGS-B, shared by the BG/NBD and Gamma-Gamma fits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize

# Every parameter of both models is positive; the fit runs on log(parameter) within these bounds so that
# a degenerate data set (for example nobody ever repeats) runs into a bound instead of overflowing.
LOG_PARAMETER_BOUNDS: tuple[float, float] = (float(np.log(1e-6)), float(np.log(1e6)))
# A log-parameter this close to a bound means the optimum is not interior: the fit is not trusted.
_AT_BOUND_TOLERANCE = 1e-3

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass(frozen=True)
class FitReport:
    """How a fit went, in the terms reported to Dagster and the parameters table."""

    converged: bool
    iterations: int
    log_likelihood: float  # summed over customers (not per group, not averaged)
    n_customers: int
    n_groups: int
    message: str


def maximise(
    negative_mean_log_likelihood: Objective,
    initial_log_parameters: np.ndarray,
    *,
    total_weight: float,
    n_groups: int,
    names: tuple[str, ...],
) -> tuple[np.ndarray, FitReport]:
    """Minimise the mean negative log-likelihood (value and gradient) over log-parameters.

    The objective is a mean per customer rather than a sum so that the optimiser's tolerances mean the
    same for 100 customers and for 10 million.
    """
    bounds = [LOG_PARAMETER_BOUNDS] * len(initial_log_parameters)
    result = optimize.minimize(
        negative_mean_log_likelihood,
        np.clip(initial_log_parameters, *LOG_PARAMETER_BOUNDS),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-8},
    )
    log_parameters = np.asarray(result.x, dtype=float)
    at_bound = [
        name
        for name, value in zip(names, log_parameters, strict=True)
        if min(value - LOG_PARAMETER_BOUNDS[0], LOG_PARAMETER_BOUNDS[1] - value) < _AT_BOUND_TOLERANCE
    ]
    finite = bool(np.isfinite(result.fun))
    converged = bool(result.success) and finite and not at_bound
    if at_bound:
        message = f"parameter(s) {', '.join(at_bound)} at the search bound: the data do not identify it"
    elif not finite:
        message = "log-likelihood is not finite at the optimum"
    else:
        message = str(result.message)
    report = FitReport(
        converged=converged,
        iterations=int(result.nit),
        log_likelihood=float(-result.fun * total_weight) if finite else float("nan"),
        n_customers=int(round(total_weight)),
        n_groups=n_groups,
        message=message,
    )
    return log_parameters, report


def not_fitted(reason: str, *, n_customers: int, n_groups: int) -> FitReport:
    """The report of a fit that was not attempted (too little data), with the reason."""
    return FitReport(
        converged=False,
        iterations=0,
        log_likelihood=float("nan"),
        n_customers=n_customers,
        n_groups=n_groups,
        message=reason,
    )
