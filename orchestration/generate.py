"""Generate demo landing files (and optionally the truth behind them).

    python -m orchestration.generate --scale 0.1 --seed 42 --start 2023-11-01 --end 2026-10-31 \
        --out data/landing [--format csv|parquet] [--dirty 0.01] [--truth /tmp/truth]

Scale 1 is about 100k customers and 1M orders over three years; sizes are linear in the scale. The
same arguments give the same files byte for byte. See orchestration/generator/ for the parts.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from orchestration.contract import RAW_TABLES
from orchestration.generator import constants as k
from orchestration.generator import dirty as dirty_rows
from orchestration.generator import files, tables, writers
from orchestration.generator import truth as truth_files
from orchestration.generator.batch import RawBatch
from orchestration.generator.lifecycle import Window, simulate_world
from orchestration.settings import load_settings

DEFAULT_START = "2023-11-01"
DEFAULT_END = "2026-10-31"


@dataclass
class GenerationSummary:
    out: Path
    truth: Path | None
    customers: int
    rows: dict[str, int] = field(default_factory=dict)  # raw rows landed per table
    files: dict[str, int] = field(default_factory=dict)  # files landed per table
    bad_rows: int = 0
    seconds: float = 0.0


def _day_number(value: str | date) -> int:
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return (day - date(1970, 1, 1)).days


def generate(
    scale: float = 0.1,
    seed: int = 42,
    start: str | date = DEFAULT_START,
    end: str | date = DEFAULT_END,
    out: str | Path | None = None,
    fmt: str = "csv",
    dirty: float = 0.0,
    truth: str | Path | None = None,
) -> GenerationSummary:
    """Simulate, write the landing files under `out`, and the truth under `truth` when given."""
    began = time.perf_counter()
    if fmt not in writers.FORMATS:
        raise ValueError(f"format must be one of {writers.FORMATS}, not {fmt!r}")
    if not 0 <= dirty < 0.5:
        raise ValueError(f"dirty must be a fraction in [0, 0.5), not {dirty}")
    if scale <= 0:
        raise ValueError(f"scale must be positive, not {scale}")
    out_dir = Path(out).resolve() if out is not None else load_settings().landing_dir
    truth_dir = Path(truth).resolve() if truth is not None else None
    if truth_dir is not None and (truth_dir == out_dir or out_dir in truth_dir.parents):
        raise ValueError(f"the truth folder {truth_dir} must not be inside the landing folder {out_dir}")
    first_day, last_day = _day_number(start), _day_number(end)
    if last_day < first_day:
        raise ValueError(f"end {end} is before start {start}")
    window = Window(first_day * k.SECONDS_PER_DAY, last_day * k.SECONDS_PER_DAY + k.SECONDS_PER_DAY - 1)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]
    n_customers = max(int(round(k.CUSTOMERS_PER_SCALE * scale)), 10)

    first_month = int(np.datetime64(first_day, "D").astype("datetime64[M]").astype(np.int64))
    last_month = int(np.datetime64(last_day, "D").astype("datetime64[M]").astype(np.int64))
    writers.clear_landing(out_dir, list(RAW_TABLES))
    written: dict[str, writers.WrittenTable] = {}
    extra_file: str | None = None
    # one table at a time, built, dirtied, written and summarised, so only one table's rows are in memory
    # disable=None: a progress bar on a terminal, nothing in a log or a pipe
    bar = {"desc": "generate", "unit": "table", "file": sys.stderr, "leave": False, "disable": None}
    with tqdm(total=len(RAW_TABLES) + 1, **bar) as progress:
        world = simulate_world(streams[0], n_customers, window)
        progress.update(1)

        def land(batch: RawBatch) -> None:
            nonlocal extra_file
            last_key = last_month if batch.table == "marketing_spend" else last_day
            batch = dirty_rows.inject(streams[6], batch, dirty, world.created_s, first_month, last_key)
            placed = writers.place(batch, fmt)
            del batch
            if dirty > 0 and placed.batch.table == files.EXTRA_COLUMN_TABLE:
                extra_file = files.extra_column_file(list(placed.files))
            writers.write_placed(placed, out_dir, fmt, extra_file)
            written[placed.batch.table] = writers.summarise(placed)
            progress.set_postfix_str(placed.batch.table)
            progress.update(1)

        customers, phone = tables.build_customers(streams[1], world)
        land(customers)
        del customers
        order_events = tables.simulate_orders(streams[2], world)
        land(tables.build_orders(streams[2], world, order_events))
        complaints, complaint_events = tables.build_complaints(streams[3], world, order_events)
        land(complaints)
        del complaints
        land(tables.build_calls(streams[4], world, order_events, complaint_events, phone))
        land(tables.build_marketing_spend(streams[5], world))
    bad_files = pd.DataFrame(columns=["file_name", "case", "detail"])
    if dirty > 0:
        bad_files = files.write_file_cases(written, out_dir, fmt, first_day, extra_file, truth_dir)
    if truth_dir is not None:
        truth_files.write_truth(truth_dir, world, [written[t] for t in RAW_TABLES], bad_files)
    return GenerationSummary(
        out=out_dir,
        truth=truth_dir,
        customers=world.n,
        rows={t: w.counts["raw_rows"] for t, w in written.items()},
        files={t: len(w.files) for t, w in written.items()},
        bad_rows=int(sum(w.counts["rejected_rows"] for w in written.values())),
        seconds=time.perf_counter() - began,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--start", default=DEFAULT_START)
    parser.add_argument("--end", default=DEFAULT_END)
    parser.add_argument("--out", default=None, help="landing folder (default: $CLM_LANDING_DIR or data/landing)")
    parser.add_argument("--format", dest="fmt", choices=writers.FORMATS, default="csv")
    parser.add_argument("--dirty", type=float, default=0.0, help="fraction of extra bad rows per table")
    parser.add_argument("--truth", default=None, help="folder for the truth files (never inside --out)")
    args = parser.parse_args(argv)
    summary = generate(args.scale, args.seed, args.start, args.end, args.out, args.fmt, args.dirty, args.truth)
    rows = ", ".join(f"{table} {count}" for table, count in summary.rows.items())
    print(
        f"{summary.customers} customers; rows: {rows}; {sum(summary.files.values())} files; "
        f"{summary.bad_rows} bad rows; {summary.seconds:.1f}s -> {summary.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
