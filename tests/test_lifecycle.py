"""Lifecycle stages (DOMAIN.md §4-5) with real dbt on DuckDB and PostgreSQL.

- The hand-worked rule and dynamics cases are dbt unit tests beside the models
  (models/intermediate/lifecycle/_lifecycle__models.yml); here they run on both engines.
- The incremental monthly fact equals a full refresh, row for row, after new days land.
- A backfill (vars lifecycle_backfill_start_month / _end_month) rewrites exactly those months.
- Invalid vars fail the build with a message naming the var.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import pytest

from orchestration.ingest import ensure_raw_schema
from orchestration.ingest.pipeline import ingest_all
from orchestration.manifest import load_manifest
from orchestration.settings import load_settings
from tests.support import DbtRunner

LIFECYCLE_UNIT_TESTED = (
    "int_customer_months_spined",
    "int_customer_months_measured",
    "int_customer_stages_sequenced",
    "fct_stage_durations",
    "fct_early_warning",
    "fct_call_list",
)
FACT = "fct_customer_lifecycle_monthly"
FACT_ORDER = "order by customer_id, month_start_date"


# ---------------------------------------------------------------- helpers shared with test_lifecycle_truth


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
    settings = load_settings(env)
    if settings.target == "duckdb":
        with closing(duckdb.connect(str(settings.duckdb_path), read_only=True)) as conn:
            return conn.execute(sql).fetchall()
    with closing(psycopg2.connect(settings.postgres.dsn())) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def fact_rows(env: dict[str, str]) -> list[tuple[Any, ...]]:
    return fetch(env, f"select * from marts.{FACT} {FACT_ORDER}")


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def generated_year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small year of clean demo data (about 1,000 customers), generated once for this module."""
    return generate_landing(
        tmp_path_factory.mktemp("generated") / "landing", scale=0.01, start="2024-01-01", end="2024-12-31"
    )


@pytest.fixture(params=["duckdb", "postgres"])
def engine_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    yield request.getfixturevalue("clm_env" if request.param == "duckdb" else "pg_env")


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_lifecycle_unit_tests_pass(engine: str, request: pytest.FixtureRequest) -> None:
    env = request.getfixturevalue("clm_env" if engine == "duckdb" else "pg_env")
    dbt = DbtRunner(env)
    ensure_raw_schema(load_settings(env))
    dbt("seed", "--select", "lifecycle_framework_labels", "stage_strategies")
    dbt("run", "--empty", "--select", *(f"+{model}" for model in LIFECYCLE_UNIT_TESTED))
    result = dbt("test", "--select", *(f"test_type:unit,{model}" for model in LIFECYCLE_UNIT_TESTED))
    # every case written for these models ran (a selector typo would otherwise pass with nothing tested)
    written = [t for t in load_manifest(env)["unit_tests"].values() if t["model"] in LIFECYCLE_UNIT_TESTED]
    passed = [line for line in result.stdout.splitlines() if " PASS " in line and "::" in line]
    assert len(written) >= len(LIFECYCLE_UNIT_TESTED)
    assert len(passed) == len(written), result.stdout[-3000:]


def test_incremental_equals_full_refresh_after_new_days_land(
    engine_env: dict[str, str], generated_year: Path
) -> None:
    env = engine_env
    dbt = DbtRunner(env)
    settings = load_settings(env)
    assert land_files(generated_year, settings.landing_dir, until="2024-12-12") > 0
    ingest_all(settings)
    build_lifecycle(dbt)
    first = fact_rows(env)
    assert max(row[1] for row in first).isoformat() == "2024-12-01"

    # new days land (the rest of December), the incremental run rewrites only the lookback months
    assert land_files(generated_year, settings.landing_dir, after="2024-12-12") > 0
    ingest_all(settings)
    build_lifecycle(dbt)
    incremental = fact_rows(env)
    assert incremental != first  # the new days changed December (the test can fail)

    build_lifecycle(dbt, "--full-refresh")
    full = fact_rows(env)
    assert len(incremental) == len(full)
    assert incremental == full


def test_backfill_rewrites_exactly_the_given_months(clm_env: dict[str, str], generated_year: Path) -> None:
    env = clm_env
    dbt = DbtRunner(env)
    settings = load_settings(env)
    land_files(generated_year, settings.landing_dir)
    ingest_all(settings)
    build_lifecycle(dbt)
    before = fact_rows(env)
    label_column = [row[0] for row in fetch(env, f"describe marts.{FACT}")].index("stage_label_en")
    month_column = 1

    # switching the label framework is a change visible in every row that gets rewritten
    dbt(
        "run", "--select", FACT,
        vars={
            "lifecycle_framework": "telecom_5",
            "lifecycle_backfill_start_month": "2024-03-01",
            "lifecycle_backfill_end_month": "2024-04-01",
        },
    )
    after = fact_rows(env)
    assert len(after) == len(before)
    labels = "select label_en from reference.lifecycle_framework_labels where framework = '{}'"
    telecom = {row[0] for row in fetch(env, labels.format("telecom_5"))}
    relationship = {row[0] for row in fetch(env, labels.format("relationship_4"))}
    changed_months = set()
    for old, new in zip(before, after, strict=True):
        month = new[month_column].isoformat()
        if month in ("2024-03-01", "2024-04-01"):
            assert new[label_column] in telecom, new
            # only the two label columns (stage_label_en, stage_label_zh) differ
            assert old[:label_column] == new[:label_column] and old[label_column + 2 :] == new[label_column + 2 :]
            changed_months.add(month)
        else:
            assert new == old  # untouched, row for row
            assert new[label_column] in relationship
    assert changed_months == {"2024-03-01", "2024-04-01"}

    # without backfill vars, an incremental run rewrites only the last lifecycle_lookback_months months
    dbt("run", "--select", FACT, vars={"lifecycle_framework": "telecom_5", "lifecycle_lookback_months": 2})
    months = {
        row[0].isoformat(): row[1]
        for row in fetch(
            env,
            f"select month_start_date, max(case when stage_label_en in ({', '.join(repr(x) for x in telecom)}) "
            f"then 1 else 0 end) from marts.{FACT} group by 1",
        )
    }
    rewritten = sorted(month for month, is_telecom in months.items() if is_telecom)
    assert rewritten == ["2024-03-01", "2024-04-01", "2024-11-01", "2024-12-01"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("new_window_days", -30),
        ("decline_min_days", -1),
        ("churn_min_days", 0),
        ("decline_gap_factor", 0.5),
        ("churn_gap_factor", 0.9),
        ("lifecycle_framework", "made_up_5"),
        ("lifecycle_lookback_months", 0),
        ("decline_spend_window_days", -90),
        ("lifecycle_backfill_start_month", "2024-03-15"),
    ],
)
def test_invalid_vars_fail_naming_the_var(clm_env: dict[str, str], name: str, value: Any) -> None:
    result = DbtRunner(clm_env)("run", "--select", "int_as_of_dates", check=False, vars={name: value})
    assert result.returncode != 0
    assert f"Invalid var '{name}'" in result.stdout, result.stdout[-2000:]


def test_backfill_end_without_start_fails(clm_env: dict[str, str]) -> None:
    result = DbtRunner(clm_env)(
        "run", "--select", "int_as_of_dates", check=False, vars={"lifecycle_backfill_end_month": "2024-03-01"}
    )
    assert result.returncode != 0
    assert "Invalid var 'lifecycle_backfill_end_month'" in result.stdout
    assert "lifecycle_backfill_start_month" in result.stdout
