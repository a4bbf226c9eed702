"""Customers simulated from the BG/NBD and Gamma-Gamma models themselves, to test parameter recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestration.clv.bgnbd import BgNbdParameters
from orchestration.clv.gamma_gamma import GammaGammaParameters


def simulate_bgnbd(
    parameters: BgNbdParameters, T: np.ndarray, rng: np.random.Generator, *, holdout: float = 0.0
) -> pd.DataFrame:
    """(frequency, recency, t) for customers observed for T time units after their first purchase, and
    `holdout_purchases`, their purchases in the following `holdout` time units (for calibration tests).

    Each customer draws lambda ~ Gamma(r, rate alpha) and p ~ Beta(a, b), buys at exponential intervals
    and, after every repeat purchase, drops out with probability p (nobody drops out at the first).
    """
    T = np.asarray(T, dtype=float)
    n = len(T)
    holdout_purchases = np.zeros(n, dtype=np.int64)
    rate = rng.gamma(parameters.r, 1.0 / parameters.alpha, n)
    dropout = rng.beta(parameters.a, parameters.b, n)
    clock = np.zeros(n)
    frequency = np.zeros(n, dtype=np.int64)
    recency = np.zeros(n)
    active = np.arange(n)
    while active.size:
        clock[active] += rng.exponential(1.0, active.size) / rate[active]
        active = active[clock[active] <= T[active] + holdout]
        observed = active[clock[active] <= T[active]]
        frequency[observed] += 1
        recency[observed] = clock[observed]
        holdout_purchases[active[clock[active] > T[active]]] += 1
        active = active[rng.random(active.size) >= dropout[active]]
    return pd.DataFrame({"frequency": frequency, "recency": recency, "t": T, "holdout_purchases": holdout_purchases})


def simulate_mean_spend(
    parameters: GammaGammaParameters,
    frequency: np.ndarray,
    rng: np.random.Generator,
    nu: np.ndarray | None = None,
) -> np.ndarray:
    """Mean spend over each customer's repeat purchases (NaN when frequency is 0).

    Each customer draws nu ~ Gamma(q, rate v) (or keeps the given `nu`, to simulate a later period of the
    same customers); each purchase is Gamma(p, rate nu), so the sum of x purchases is Gamma(p x, rate nu).
    """
    frequency = np.asarray(frequency, dtype=float)
    if nu is None:
        nu = draw_spend_rates(parameters, len(frequency), rng)
    repeat = frequency > 0
    mean_spend = np.full(len(frequency), np.nan)
    total = rng.gamma(parameters.p * frequency[repeat], 1.0 / nu[repeat])
    mean_spend[repeat] = total / frequency[repeat]
    return mean_spend


def draw_spend_rates(parameters: GammaGammaParameters, customers: int, rng: np.random.Generator) -> np.ndarray:
    """Each customer's nu ~ Gamma(q, rate v) of the Gamma-Gamma model."""
    return rng.gamma(parameters.q, 1.0 / parameters.v, customers)
