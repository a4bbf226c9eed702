"""The lifecycle partitions: where they start and which months a full build reports as written."""

from __future__ import annotations

from pathlib import Path

from orchestration.lifecycle_months import (
    DEFAULT_HISTORY_START,
    history_start,
    lifecycle_months,
    months_rewritten_daily,
    months_written,
    record_months,
)
from orchestration.settings import load_settings


def test_a_full_build_reports_new_months_and_the_rewritten_lookback() -> None:
    present = ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"]
    assert months_written(present, set(), 3) == present  # first build: every month
    done = set(present[:4])
    assert months_written(present, done, 3) == ["2024-03-01", "2024-04-01", "2024-05-01"]  # daily run
    assert months_written(present, set(present), 0) == []


def test_a_daily_run_rewrites_the_as_of_month_except_on_spark() -> None:
    assert months_rewritten_daily("duckdb", {"lifecycle_lookback_months": 3}) == 1
    assert months_rewritten_daily("postgres", {"lifecycle_lookback_months": 3}) == 1
    assert months_rewritten_daily("spark", {"lifecycle_lookback_months": 3}) == 3


def test_partitions_start_at_the_recorded_first_month(tmp_path: Path) -> None:
    env = {"CLM_WAREHOUSE_DIR": str(tmp_path)}
    assert history_start(env) == DEFAULT_HISTORY_START  # nothing built yet
    record_months(load_settings(env), ["2023-11-01", "2023-12-01", "2024-01-01"])
    assert history_start(env) == "2023-11-01"
    partitions = lifecycle_months(env)
    assert partitions.get_first_partition_key() == "2023-11-01"
    assert {"2023-12-01", "2024-01-01"} <= set(partitions.get_partition_keys())
    assert history_start({**env, "CLM_HISTORY_START_MONTH": "2022-01-01"}) == "2022-01-01"  # the override
    (tmp_path / "lifecycle_months.json").write_text("{broken", encoding="utf-8")
    assert history_start(env) == DEFAULT_HISTORY_START
