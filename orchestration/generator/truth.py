"""The truth files (written only with --truth DIR, never inside the landing folder).

- customer_truth.parquet, one row per customer: customer_id; is_prospect (no order in the window);
  intends_to_buy (false for the 15% who never would); created_date; first_purchase_date;
  decline_start_date (first life, null when abrupt or after the end); mature_start_date; dropout_date
  (latent dropout of the first life, null if still alive at the end); is_abrupt_dropout; closed_date;
  winback_date (the return purchase); second_decline_start_date, second_dropout_date (after a
  win-back); purchase_rate (expected purchases per day, first life); dropout_probability (per
  purchase); latent_purchases_first_life (including those that would fall after the end);
  spend_level (typical order value, CNY); is_enterprise; acquisition_channel; referred_by. All dates
  are business (Asia/Shanghai) dates.
- customer_phases.parquet: customer_id, month_end_date, phase (definitions in lifecycle.py).
- bad_rows.csv: table, file_name (relative to the landing folder), file_row_number (1-based data
  row), record_id ('' when the id itself is blanked; 'channel|month' for marketing spend), reason.
- bad_files.csv: file_name, case (empty_file | duplicate_file | extra_columns |
  missing_required_column), detail.
- expected_counts.csv: table, raw_rows, staged_rows, rejected_rows, superseded_rows, where raw_rows
  counts every landed row that ingest loads (a duplicate file once, the quarantined file never).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.generator import constants as k
from orchestration.generator.lifecycle import PHASES, World, phase_at_month_ends
from orchestration.generator.writers import WrittenTable


def _dates(secs: np.ndarray) -> pa.Array:
    finite = np.isfinite(secs)
    days = np.where(finite, np.floor(np.where(finite, secs, 0) / k.SECONDS_PER_DAY), 0).astype(np.int32)
    return pa.array(days, type=pa.date32(), mask=~finite)


def customer_truth(world: World) -> pa.Table:
    def seen(secs: np.ndarray) -> np.ndarray:  # latent dates after the end date are unknown (null)
        return np.where(secs <= world.window.end_s, secs, np.inf)

    ids = [f"C{i:07d}" for i in range(1, world.n + 1)]
    life1_purchases = np.zeros(world.n, np.int64)
    life1_purchases[world.life1.owner] = world.life1.n_purchases
    return pa.table(
        {
            "customer_id": pa.array(ids, pa.string()),
            "is_prospect": pa.array(~np.isfinite(world.first_s)),
            "intends_to_buy": pa.array(world.wants_to_buy),
            "created_date": _dates(world.created_s.astype(float)),
            "first_purchase_date": _dates(world.first_s),
            "decline_start_date": _dates(seen(np.where(world.decline1_s < world.dropout1_s, world.decline1_s, np.inf))),
            "mature_start_date": _dates(seen(world.mature_s)),
            "dropout_date": _dates(seen(world.dropout1_s)),
            "is_abrupt_dropout": pa.array(world.abrupt),
            "closed_date": _dates(world.closed_s),
            "winback_date": _dates(world.winback_s),
            "second_decline_start_date": _dates(
                seen(np.where(world.decline2_s < world.dropout2_s, world.decline2_s, np.inf))
            ),
            "second_dropout_date": _dates(seen(world.dropout2_s)),
            "purchase_rate": pa.array(world.purchase_rate),  # expected purchases per day, first life
            "dropout_probability": pa.array(world.dropout_probability),  # per purchase
            "latent_purchases_first_life": pa.array(life1_purchases),  # including any beyond the end date
            "spend_level": pa.array(world.spend_level),
            "is_enterprise": pa.array(world.is_enterprise),
            "acquisition_channel": pa.array(np.asarray(k.CHANNELS, dtype=object)[world.channel], pa.string()),
            "referred_by": pa.array(
                [f"C{i + 1:07d}" if i >= 0 else None for i in world.referred_by.tolist()], pa.string()
            ),
        }
    )


def customer_phases(world: World) -> pa.Table:
    cust, day, phase = phase_at_month_ends(world)
    ids = pa.array([f"C{i:07d}" for i in range(1, world.n + 1)], pa.string())
    return pa.table(
        {
            "customer_id": ids.take(pa.array(cust)),
            "month_end_date": pa.array(day.astype(np.int32), pa.date32()),
            "phase": pa.array(list(PHASES), pa.string()).take(pa.array(phase.astype(np.int64))),
        }
    )


def bad_rows(written: list[WrittenTable]) -> pd.DataFrame:
    return pd.concat([w.bad_rows for w in written], ignore_index=True)


def expected_counts(written: list[WrittenTable]) -> pd.DataFrame:
    return pd.DataFrame([{"table": w.table, **w.counts} for w in written])


def write_truth(truth: Path, world: World, written: list[WrittenTable], bad_files: pd.DataFrame) -> None:
    truth.mkdir(parents=True, exist_ok=True)
    pq.write_table(customer_truth(world), truth / "customer_truth.parquet")
    pq.write_table(customer_phases(world), truth / "customer_phases.parquet")
    bad_rows(written).to_csv(truth / "bad_rows.csv", index=False)
    bad_files.to_csv(truth / "bad_files.csv", index=False)
    expected_counts(written).to_csv(truth / "expected_counts.csv", index=False)
