"""Benchmark: fit and score N simulated customers (default one million), then run the holdout evaluation
on the same customers (a second fit on a calibration period, predictions for the holdout, tracking),
and print the timings: the CLV asset does both.

    .venv/bin/python -m orchestration.clv.bench [--customers 1000000] [--time-unit day|week]

Customers are simulated from the models (first purchases spread over two years of whole days), so the
number of distinct (frequency, recency, T) groups is realistic for daily data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import pandas as pd

from orchestration.clv.bgnbd import BgNbdParameters
from orchestration.clv.gamma_gamma import GammaGammaParameters
from orchestration.clv.holdout import evaluate_holdout
from orchestration.clv.scoring import DAYS_PER_TIME_UNIT, fit_and_score
from orchestration.clv.simulate import draw_spend_rates, simulate_bgnbd, simulate_mean_spend

HOLDOUT_DAYS = 182
SPEND = GammaGammaParameters(6.0, 4.0, 60.0)
CALIBRATION_END = dt.date(2026, 4, 30)


def simulated_summary(n_customers: int, time_unit: str, seed: int = 2026) -> pd.DataFrame:
    """A summary like int_customer_purchase_summary's, with recency and T in whole days, and what each
    customer does in the HOLDOUT_DAYS after it (as int_clv_holdout_customers has them)."""
    rng = np.random.default_rng(seed)
    T_days = rng.integers(1, 731, n_customers).astype(float)
    bg = simulate_bgnbd(BgNbdParameters(r=0.8, alpha=40.0, a=0.8, b=2.5), T_days, rng, holdout=HOLDOUT_DAYS)
    bg["recency"] = np.floor(bg["recency"])  # purchase days are dates
    days = DAYS_PER_TIME_UNIT[time_unit]
    nu = draw_spend_rates(SPEND, n_customers, rng)  # each customer spends alike before and in the holdout
    first_days = pd.Timestamp(CALIBRATION_END) - pd.to_timedelta(T_days, unit="D")
    return pd.DataFrame(
        {
            "first_purchase_date": first_days.date,
            "calibration_end_date": CALIBRATION_END,
            "holdout_end_date": CALIBRATION_END + dt.timedelta(days=HOLDOUT_DAYS),
            "holdout_purchases": bg["holdout_purchases"],
            "holdout_mean_spend": simulate_mean_spend(SPEND, bg["holdout_purchases"], rng, nu),
            "customer_id": np.arange(n_customers),
            "frequency": bg["frequency"],
            "recency": bg["recency"] / days,
            "t": bg["t"] / days,
            "monetary_value": simulate_mean_spend(SPEND, bg["frequency"], rng, nu),
            "margin_rate": 0.3,
            "time_unit": time_unit,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--time-unit", choices=sorted(DAYS_PER_TIME_UNIT), default="day")
    args = parser.parse_args()
    started = time.perf_counter()
    summary = simulated_summary(args.customers, args.time_unit)
    simulated, cpu_started = time.perf_counter(), time.process_time()
    result = fit_and_score(summary, horizon_months=12, annual_discount_rate=0.08, time_unit=args.time_unit)
    finished, cpu_used = time.perf_counter(), time.process_time() - cpu_started
    acquired = summary.groupby("first_purchase_date").size()
    daily = pd.DataFrame(
        {"activity_date": acquired.index, "first_purchases": acquired.to_numpy(), "repeat_purchases": 0}
    )
    holdout_cpu_started = time.process_time()
    evaluation = evaluate_holdout(summary, daily, holdout_days=HOLDOUT_DAYS, time_unit=args.time_unit)
    evaluated, holdout_cpu = time.perf_counter(), time.process_time() - holdout_cpu_started
    print(f"customers: {args.customers:,}  time unit: {args.time_unit}")
    print(f"simulation: {simulated - started:.2f} s")
    # CPU time as well as wall time: on a shared machine the wall time mostly measures the neighbours
    print(f"fit + score: {finished - simulated:.2f} s wall, {cpu_used:.2f} s CPU")
    print(f"holdout evaluation: {evaluated - finished:.2f} s wall, {holdout_cpu:.2f} s CPU")
    print(f"CLV step with the evaluation / without: x{(cpu_used + holdout_cpu) / cpu_used:.2f} (CPU)")
    print(evaluation.summary.iloc[0].to_dict())
    print(result.diagnostics)
    print(result.parameters.to_string(index=False))


if __name__ == "__main__":
    main()
