"""Publish and the data-quality pieces on hand-made tables: PostgreSQL export, the gate, the suites'
severities on hand-worked frames, and predictions replaced in one transaction."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import psycopg2
import pytest

from orchestration.assets.clv_assets import PARAMETER_COLUMNS, replace_table
from orchestration.assets.publish import PublishBlockedError, open_serving, publish_marts
from orchestration.checks import suites
from orchestration.checks.results import blocking_failures, save_result
from orchestration.checks.validation import validate
from orchestration.settings import load_settings

CODES = {suites.STAGE_CODES: ["new", "growing", "churned"], suites.TIER_CODES: ["A", "B", "C"]}


def _dim_customers(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "stage_code", "value_tier"])
    frame["created_date"] = pd.Timestamp("2025-01-01")
    frame["days_since_last_order"] = 10
    frame["net_spend_to_date_amount"] = 100.0
    return frame


def test_mart_suite_errors_on_a_duplicate_key_and_an_unknown_stage() -> None:
    suite = suites.mart_suite("dim_customers", CODES)
    good, _ = validate(suite, _dim_customers([("C1", "new", "A"), ("C2", "churned", None)]))
    assert good["failed"] == 0 and not good["error_failed"]
    bad, _ = validate(suite, _dim_customers([("C1", "new", "A"), ("C1", "lost", "A")]))
    failed = {f["type"] for f in bad["failures"]}
    assert bad["error_failed"]
    assert failed == {"expect_column_values_to_be_unique", "expect_column_values_to_be_in_set"}


def test_row_count_and_mean_against_the_previous_run_only_warn() -> None:
    suite = suites.mart_suite("dim_customers", CODES)
    previous = {"row_count": 10, "means": {"net_spend_to_date_amount": 1000.0}}
    # 2 rows instead of 10 (a drop of 80% > 50%) and a mean of 100 instead of 1000: warnings, not errors
    summary, _ = validate(suite, _dim_customers([("C1", "new", "A"), ("C2", "new", "B")]), previous)
    assert {f["type"] for f in summary["failures"]} == {
        "expect_table_row_count_to_be_between",
        "expect_column_mean_to_be_between",
    }
    assert summary["warn_failed"] and not summary["error_failed"]
    # 5 of 10 rows is exactly the allowed drop
    same, _ = validate(suite, _dim_customers([(f"C{i}", "new", "A") for i in range(5)]), {"row_count": 10})
    assert same["failed"] == 0


def test_raw_table_shrinking_is_an_error() -> None:
    suite = next(s for s in suites.raw_suites() if s.name == "raw_customers")
    frame = pd.DataFrame({"customer_id": ["C1", "C2"], "customer_type": [" Individual", "enterprise"]})
    frame["_loaded_at"] = pd.Timestamp.now(tz="UTC").tz_localize(None)
    ok, _ = validate(suite, frame, {"row_count": 2})
    assert ok["failed"] == 0  # enums compared after trim and lower case, as staging does
    shrunk, _ = validate(suite, frame, {"row_count": 3})
    assert shrunk["error_failed"]


def test_publish_from_postgres_and_the_gate(pg_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in pg_env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    with psycopg2.connect(settings.postgres.dsn()) as conn, conn.cursor() as cur:
        cur.execute("create schema marts")
        cur.execute("create table marts.dim_customers (customer_id text, net_spend numeric(18, 2), created_date date)")
        cur.execute("insert into marts.dim_customers values ('C1', 10.50, '2025-01-01'), ('C2', 0, '2025-02-01')")
        cur.execute("create table marts.fct_months (customer_id text, month_start_date date, amount numeric(18, 2))")
        cur.execute(
            "insert into marts.fct_months values ('C1', '2025-01-01', 1.25), ('C2', '2025-01-01', 2), "
            "('C1', '2025-02-01', 3), ('C3', null, 4)"
        )
        cur.execute("create schema python_models")
        cur.execute(
            "create table python_models.clv_model_parameters (model text, parameter text, value double precision)"
        )
        cur.execute("insert into python_models.clv_model_parameters values ('old', 'x', 1)")
    replace_table(
        settings,
        "clv_model_parameters",
        pd.DataFrame({"model": ["bg_nbd", "bg_nbd"], "parameter": ["r", "alpha"], "value": [0.5, float("nan")]}),
        PARAMETER_COLUMNS,
    )
    with psycopg2.connect(settings.postgres.dsn()) as conn, conn.cursor() as cur:
        cur.execute("select model, parameter, value from python_models.clv_model_parameters order by parameter")
        assert cur.fetchall() == [("bg_nbd", "alpha", None), ("bg_nbd", "r", 0.5)]

    result = publish_marts(settings, ["dim_customers", "fct_months"])
    reader = open_serving(result.serving_path)
    try:
        rows = reader.execute("select customer_id, net_spend from marts.dim_customers order by 1").fetchall()
        months = reader.execute("select * from marts.fct_months order by 1, 2").fetchall()
    finally:
        reader.close()
    assert [(c, float(n)) for c, n in rows] == [("C1", 10.5), ("C2", 0.0)]
    # a monthly mart exported by PostgreSQL is stored by month too (orchestration/published_layout.py)
    assert [(c, str(m), float(a)) for c, m, a in months] == [
        ("C1", "2025-01-01", 1.25), ("C1", "2025-02-01", 3.0), ("C2", "2025-01-01", 2.0), ("C3", "None", 4.0)
    ]
    assert sorted(p.name for p in (result.version_dir / "fct_months").iterdir()) == [
        "2025-01-01.parquet", "2025-02-01.parquet", "no_month.parquet"
    ]
    assert not (result.version_dir / "fct_months.parquet").exists()
    assert result.rows == {"dim_customers": 2, "fct_months": 4}

    # a blocking suite whose latest result failed closes the gate; a later passing result reopens it
    failing = {"suite": "mart_dim_customers", "blocking": True, "error_failed": True, "run_id": "r1"}
    save_result(settings, failing, {})
    assert blocking_failures(settings) == ["mart_dim_customers"]
    with pytest.raises(PublishBlockedError):
        publish_marts(settings, ["dim_customers"])
    assert (settings.published_dir / "CURRENT").read_text().strip() == result.version
    save_result(settings, {**failing, "error_failed": False, "run_id": "r2"}, {})
    assert blocking_failures(settings) == []
    latest = json.loads((Path(pg_env["CLM_WAREHOUSE_DIR"]) / "dq" / "latest.json").read_text())
    assert Path(latest["mart_dim_customers"]["result_file"]).exists()
