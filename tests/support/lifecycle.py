"""Helpers of the lifecycle tests (tests/test_lifecycle.py, tests/test_lifecycle_truth.py): generate
clean demo data, land its files by date, build the lifecycle fact and read it back."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from orchestration.engines import engine_for
from orchestration.settings import load_settings
from tests.support import DbtRunner

FACT = "fct_customer_lifecycle_monthly"
FACT_ORDER = "order by customer_id, month_start_date"


def generate_landing(
    out: Path, *, scale: float, start: str, end: str, seed: int = 42, truth: Path | None = None
) -> Path:
    """Run the demo-data generator (clean data) into `out`; returns the landing folder."""
    cmd = [
        sys.executable, "-m", "orchestration.generate", "--scale", str(scale), "--seed", str(seed),
        "--start", start, "--end", end, "--out", str(out), "--dirty", "0",
    ]
    if truth is not None:
        cmd += ["--truth", str(truth)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out


def land_files(generated: Path, landing: Path, *, until: str | None = None, after: str | None = None) -> int:
    """Copy generated files whose date (in the file name) is in (after, until] into the landing folder.

    Daily files are named <table>_YYYY-MM-DD.csv, monthly ones <table>_YYYY-MM.csv (compared by their month).
    """
    copied = 0
    for path in sorted(generated.rglob("*.*")):
        stamp = path.stem.rsplit("_", 1)[-1]
        if until is not None and stamp > until[: len(stamp)]:
            continue
        if after is not None and stamp <= after[: len(stamp)]:
            continue
        target = landing / path.relative_to(generated)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        copied += 1
    return copied


def build_lifecycle(dbt: DbtRunner, *args: str, vars: dict | None = None) -> None:
    """Seed and run the lifecycle fact and everything upstream (data tests belong to other suites)."""
    dbt("seed", "--select", "lifecycle_framework_labels", "stage_strategies")
    dbt("run", "--select", f"+{FACT}", *args, vars=vars)


def fetch(env: dict[str, str], sql: str) -> list[tuple[Any, ...]]:
    with engine_for(load_settings(env)).reader() as reader:
        return reader.rows(sql)[1]


def fact_rows(env: dict[str, str]) -> list[tuple[Any, ...]]:
    return fetch(env, f"select * from marts.{FACT} {FACT_ORDER}")
