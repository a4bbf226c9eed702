"""The per-customer purchase summary in pandas: an independent computation of the dbt model
`int_customer_purchase_summary`, the oracle of its tests (tests/test_clv_summary.py).

Input: staged orders with the columns of stg_crm__orders (customer_id, is_completed, ordered_date,
net_amount, cost_amount). Output: one row per customer with a completed order on or before the
observation end, with the model's columns.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from orchestration.clv.scoring import DAYS_PER_TIME_UNIT

SUMMARY_OUTPUT_COLUMNS = (
    "customer_id",
    "first_purchase_date",
    "last_purchase_date",
    "observation_end_date",
    "purchase_days",
    "frequency",
    "recency",
    "t",
    "monetary_value",
    "repeat_margin",
    "total_net_spend",
    "total_net_margin",
    "margin_rate",
    "time_unit",
)


def purchase_summary(orders: pd.DataFrame, *, time_unit: str, observation_end: dt.date | None = None) -> pd.DataFrame:
    """Frequency / recency / T / monetary value per customer (DOMAIN.md §6, second half).

    observation_end defaults to the last day with any order (of any status) in `orders`.
    """
    if time_unit not in DAYS_PER_TIME_UNIT:
        raise ValueError(f"time_unit must be one of {sorted(DAYS_PER_TIME_UNIT)}, not {time_unit!r}")
    days_per_unit = DAYS_PER_TIME_UNIT[time_unit]
    ordered_date = pd.to_datetime(orders["ordered_date"]).dt.date
    end = observation_end if observation_end is not None else ordered_date.max()

    completed = orders.loc[orders["is_completed"].astype(bool) & (ordered_date <= end)].assign(
        purchase_date=ordered_date,
        net_spend=lambda o: o["net_amount"].astype(float),
        net_margin=lambda o: o["net_amount"].astype(float) - o["cost_amount"].astype(float),
    )
    days = (
        completed.groupby(["customer_id", "purchase_date"], as_index=False)[["net_spend", "net_margin"]]
        .sum()
        .sort_values(["customer_id", "purchase_date"])
    )
    first_day = days.groupby("customer_id")["purchase_date"].transform("min")
    repeat_days = days[days["purchase_date"] > first_day]

    per_customer = days.groupby("customer_id").agg(
        first_purchase_date=("purchase_date", "min"),
        last_purchase_date=("purchase_date", "max"),
        purchase_days=("purchase_date", "size"),
        total_net_spend=("net_spend", "sum"),
        total_net_margin=("net_margin", "sum"),
    )
    repeat = repeat_days.groupby("customer_id").agg(
        monetary_value=("net_spend", "mean"), repeat_margin=("net_margin", "mean")
    )
    summary = per_customer.join(repeat, how="left").reset_index()

    def elapsed(start: pd.Series, stop: pd.Series | dt.date) -> pd.Series:
        return (pd.to_datetime(stop) - pd.to_datetime(start)).dt.days / days_per_unit

    summary["observation_end_date"] = end
    summary["frequency"] = summary["purchase_days"] - 1
    summary["recency"] = elapsed(summary["first_purchase_date"], summary["last_purchase_date"])
    summary["t"] = elapsed(summary["first_purchase_date"], pd.Series(end, index=summary.index))
    spend = summary["total_net_spend"]
    summary["margin_rate"] = np.where(spend > 0, summary["total_net_margin"] / spend.where(spend > 0), np.nan)
    summary["time_unit"] = time_unit
    return summary[list(SUMMARY_OUTPUT_COLUMNS)].sort_values("customer_id").reset_index(drop=True)
