"""Collapse customers with identical summaries into weighted groups.

The likelihoods depend on a customer only through their summary, so one million customers become as many
rows as there are distinct (frequency, recency, T) triples, each weighted by its count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Groups:
    keys: pd.DataFrame  # one row per distinct combination of the grouping columns
    weights: np.ndarray  # customers per group (float, to multiply log-likelihoods)
    index: np.ndarray  # for every input row, the position of its group in `keys`


def group_identical(frame: pd.DataFrame, columns: list[str]) -> Groups:
    """Groups in sorted key order, so the fit sees the same weighted rows whatever order the warehouse
    returned the customers in (the optimiser's path, and so its last digits, depend on the row order)."""
    codes = frame.groupby(columns, sort=True, dropna=False).ngroup().to_numpy()
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    _, first_rows = np.unique(codes, return_index=True)
    keys = frame[columns].iloc[first_rows].reset_index(drop=True)
    weights = np.bincount(codes, minlength=n_groups).astype(float)
    return Groups(keys=keys, weights=weights, index=codes)
