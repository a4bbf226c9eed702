"""Data-quality suites validated in the warehouse (orchestration/checks/sql_validation.py) on hand-made
tables: the SQL judgement agrees with GX on a frame of the same table (passing and failing, DuckDB and
PostgreSQL), a table larger than the sample bound is never fetched whole, severities come through."""

from __future__ import annotations

import dataclasses
import decimal
import math
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import dagster as dg
import pandas as pd
import pytest

from orchestration.checks import sql_validation, suites
from orchestration.checks.asset_checks import run_suite
from orchestration.checks.results import read_latest
from orchestration.checks.sql_validation import validate_in_warehouse
from orchestration.checks.suites import ERROR, WARN, Expectation, Suite
from orchestration.checks.validation import validate
from orchestration.contract import REJECTION_REASONS
from orchestration.engines import engine_for
from orchestration.resources import WarehouseResource
from orchestration.settings import Settings, load_settings

CODES = {suites.STAGE_CODES: ["new", "growing", "churned"], suites.TIER_CODES: ["A", "B", "C"]}
NAN = "cast('NaN' as double precision)"


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Any) -> Settings:
    if request.param == "duckdb":
        return load_settings({"CLM_TARGET": "duckdb", "CLM_WAREHOUSE_DIR": str(tmp_path)})
    return load_settings(request.getfixturevalue("pg_env"))


@pytest.fixture
def duckdb_warehouse(tmp_path: Any) -> Settings:
    return load_settings({"CLM_TARGET": "duckdb", "CLM_WAREHOUSE_DIR": str(tmp_path)})


def _execute(settings: Settings, *statements: str) -> None:
    engine_for(settings).execute(statements)


def _table(settings: Settings, relation: str, columns: str, rows: list[str]) -> None:
    schema = relation.split(".")[0]
    statements = [f"create schema if not exists {schema}", f"create table {relation} ({columns})"]
    if rows:
        statements.append(f"insert into {relation} values {', '.join(rows)}")
    _execute(settings, *statements)


# ---- both ways on the same table --------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A value of either result, comparable (GX's JSON writes a missing date as 'NaT')."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if value is None or value == "NaT" or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, decimal.Decimal | int | float):
        return float(value)
    return str(value)


def _same(left: Any, right: Any) -> bool:
    left, right = _plain(left), _plain(right)
    if isinstance(left, float) and isinstance(right, float):
        return right == pytest.approx(left, rel=1e-6)
    return left == right


RESULT_FIELDS = (
    "element_count",
    "unexpected_count",
    "unexpected_percent",
    "missing_count",
    "missing_percent",
    "unexpected_percent_total",
    "unexpected_percent_nonmissing",
    "observed_value",
)


def _results(full: dict[str, Any]) -> dict[tuple, dict[str, Any]]:
    """Results by expectation: type, column(s), lower bound (two row-count expectations may exist)."""
    out = {}
    for item in full["results"]:
        kwargs = item["expectation_config"]["kwargs"]
        columns = kwargs.get("column") or tuple(kwargs.get("column_list", ()))
        key = (item["expectation_config"]["type"], columns, kwargs.get("min_value"))
        assert key not in out
        out[key] = {"success": item["success"], **item["result"]}
    return out


def _assert_agree(suite: Suite, settings: Settings, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The suite validated in the warehouse and by GX on the whole table agree, field by field."""
    with engine_for(settings).reader() as reader:
        in_sql, sql_full = validate_in_warehouse(suite, reader, previous)
        frame = reader.query(suite.query(reader.dialect))
    by_gx, gx_full = validate(suite, frame, previous)
    sql_results, gx_results = _results(sql_full), _results(gx_full)
    assert sql_results.keys() == gx_results.keys()
    for key, expected in gx_results.items():
        got = sql_results[key]
        assert got["success"] == expected["success"], key
        for field in RESULT_FIELDS:
            assert _same(got.get(field), expected.get(field)), (key, field, got.get(field), expected.get(field))
        if not expected["success"] and "partial_unexpected_list" in expected:
            examples = sorted(map(repr, map(_plain, got["partial_unexpected_list"])))
            if key[1] != suites.HOURS_SINCE_LAST_LOAD:  # hours move with the clock between the two
                assert examples == sorted(map(repr, map(_plain, expected["partial_unexpected_list"]))), key
    for field in ("row_count", "expectations", "failed", "error_failed", "warn_failed", "sample_rows"):
        assert in_sql[field] == by_gx[field], field
    assert in_sql["means"].keys() == by_gx["means"].keys()
    assert all(_same(in_sql["means"][c], by_gx["means"][c]) for c in by_gx["means"])
    failures = {(f["type"], f["severity"]) for f in by_gx["failures"]}
    assert {(f["type"], f["severity"]) for f in in_sql["failures"]} == failures
    return in_sql


DIM_CUSTOMERS = (
    "customer_id varchar, stage_code varchar, value_tier varchar, created_date date, "
    "days_since_last_order integer, net_spend_to_date_amount numeric(18, 2)"
)


def test_mart_suite_agrees_with_gx_when_it_passes(warehouse: Settings) -> None:
    _table(
        warehouse,
        "marts.dim_customers",
        DIM_CUSTOMERS,
        ["('C1', 'new', 'A', '2025-01-01', 10, 100.50)", "('C2', 'churned', null, '2025-02-01', null, 0)"],
    )
    summary = _assert_agree(suites.mart_suite("dim_customers", CODES), warehouse, {"row_count": 4})
    assert summary["failed"] == 0 and summary["row_count"] == 2


def test_mart_suite_agrees_with_gx_when_it_fails(warehouse: Settings) -> None:
    _table(
        warehouse,
        "marts.dim_customers",
        DIM_CUSTOMERS,
        [
            "('C1', 'new', 'A', '2025-01-01', 10, 100)",
            "('C1', 'lost', 'A', '2025-01-01', -4, 50)",
            "('C2', null, 'Z', null, -1, null)",
            "(null, 'new', 'B', '2025-03-01', 3, 20)",
        ],
    )
    previous = {"row_count": 10, "means": {"net_spend_to_date_amount": 1000.0}}
    summary = _assert_agree(suites.mart_suite("dim_customers", CODES), warehouse, previous)
    assert summary["error_failed"] and summary["warn_failed"]


GENERIC = Suite(
    name="generic",
    relation="marts.generic",
    columns=("k1", "k2", "code", "x"),
    expectations=(
        Expectation("ExpectCompoundColumnsToBeUnique", {"column_list": ["k1", "k2"]}),
        Expectation("ExpectColumnValuesToBeUnique", {"column": "k1"}, WARN),
        Expectation("ExpectColumnValuesToNotBeNull", {"column": "k1", "mostly": 0.5}),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "code", "value_set": ["a", "b"], "mostly": 0.6}),
        Expectation("ExpectColumnValuesToBeBetween", {"column": "x", "min_value": 0, "max_value": 1, "mostly": 0.5}),
        Expectation("ExpectColumnValuesToBeBetween", {"column": "k2", "min_value": 1, "max_value": 9}, WARN),
        Expectation("ExpectColumnMeanToBeBetween", {"column": "x", "min_value": 0.1, "max_value": 0.9}, WARN),
        Expectation("ExpectTableRowCountToBeBetween", {"min_value": 3, "max_value": 6}),
    ),
    tracked_means=("x",),
)


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param(["('a', 1, 'a', 0.5)", "('b', 1, 'b', 0.25)", "('c', 2, null, null)"], id="passing"),
        pytest.param(
            [
                "('a', 1, 'a', 0.5)",
                "('a', 1, 'z', 7)",
                "(null, 2, 'b', -1)",
                "(null, 2, 'y', " + NAN + ")",
                "(null, null, 'b', 2)",
                "(null, null, null, null)",
                "('b', 12, 'a', 0.5)",
            ],
            id="failing",
        ),
        pytest.param([], id="empty"),
    ],
)
def test_every_expectation_type_agrees_with_gx(warehouse: Settings, rows: list[str]) -> None:
    _table(warehouse, "marts.generic", "k1 varchar, k2 integer, code varchar, x double precision", rows)
    _assert_agree(GENERIC, warehouse)


RAW_ORDERS = (
    "order_id varchar, status varchar, gross_amount varchar, discount_amount varchar, cost_amount varchar, "
    "_loaded_at timestamp"
)


def _raw_orders_suite() -> Suite:
    return next(s for s in suites.raw_suites() if s.name == "raw_orders")


def test_raw_suite_agrees_with_gx_when_it_passes(warehouse: Settings) -> None:
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
    rows = [f"('O{i}', ' Completed ', '{i}.50', '0', '1', '{now}')" for i in range(20)]
    rows.append(f"(null, 'bogus', 'abc', '', null, '{now}')")
    _table(warehouse, "raw.orders", RAW_ORDERS, rows)
    summary = _assert_agree(_raw_orders_suite(), warehouse, {"row_count": 21, "means": {"gross_amount": 10.0}})
    assert summary["failed"] == 0  # one dirty row in 21 is within RAW_MOSTLY


def test_raw_suite_agrees_with_gx_when_it_fails(warehouse: Settings) -> None:
    stale = (datetime.now(UTC) - timedelta(days=3)).replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
    rows = [
        f"('O1', ' Completed', '12.50', '1e5', ' 7 ', '{stale}')",
        f"('O2', 'bogus', 'abc', '-3', '.5', '{stale}')",
        f"(null, '', '-1', '1234567890123456', '7.', '{stale}')",
        "('O4', 'RETURNED', null, '+2', '--1', null)",
    ]
    _table(warehouse, "raw.orders", RAW_ORDERS, rows)
    summary = _assert_agree(_raw_orders_suite(), warehouse, {"row_count": 5})
    assert summary["error_failed"]  # the raw table shrank


def test_rejected_rows_suite_agrees_with_gx(warehouse: Settings) -> None:
    known = REJECTION_REASONS[0]
    _table(
        warehouse,
        "staging.stg_crm__rejected_rows",
        "table_name varchar, rejection_reason varchar",
        [f"('orders', '{known}')", "('orders', 'weird')", f"('calls', '{known}')"],
    )
    _table(
        warehouse,
        "staging.stg_crm__row_reconciliation",
        "table_name varchar, raw_rows integer",
        ["('orders', 10)", "('calls', 1000)"],
    )
    summary = _assert_agree(suites.rejected_rows_suite(), warehouse)
    assert {(f["type"], f["severity"]) for f in summary["failures"]} == {
        ("expect_column_values_to_be_in_set", ERROR),
        ("expect_column_values_to_be_between", WARN),
    }


# ---- bounded memory -----------------------------------------------------------------------------


class _CountingReader:
    """A reader that remembers how many rows each query returned to Python."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.dialect = reader.dialect
        self.fetched: list[int] = []

    def query(self, sql: str) -> pd.DataFrame:
        frame = self.reader.query(sql)
        self.fetched.append(len(frame))
        return frame


def test_a_table_larger_than_the_sample_is_never_fetched_whole(
    warehouse: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql_validation, "SAMPLE_ROWS", 50)
    _execute(
        warehouse,
        "create schema marts",
        "create table marts.big as select i as id, 'C' || cast(i % 700 as varchar) as code, "
        "cast(i % 10 as double precision) as amount from generate_series(0, 1999) as t(i)",
    )
    exact = Suite(
        name="big",
        relation="marts.big",
        columns=("id", "code", "amount"),
        expectations=(
            Expectation("ExpectColumnValuesToBeUnique", {"column": "code"}),  # fails: 700 codes in 2000 rows
            Expectation("ExpectColumnValuesToBeBetween", {"column": "amount", "min_value": 0, "max_value": 4}),
            Expectation("ExpectColumnValuesToBeUnique", {"column": "id"}),
        ),
    )
    with engine_for(warehouse).reader() as connection:
        reader = _CountingReader(connection)
        summary, full = validate_in_warehouse(exact, reader)
    assert summary["row_count"] == 2000 and summary["sample_rows"] is None
    assert [f["observed"]["unexpected_count"] for f in summary["failures"]] == [2000, 1000]  # exact, not sampled
    assert reader.fetched[0] == 1  # the one aggregate query, then at most 20 examples per failure
    assert len(reader.fetched) == 3 and max(reader.fetched) <= sql_validation.EXAMPLES
    assert full["meta"]["aggregate_query"].count("marts.big") == 1  # one scan of the relation

    # a row-level expectation with no SQL translation runs on the bounded sample, which is recorded
    regex = Expectation("ExpectColumnValuesToMatchRegex", {"column": "code", "regex": "^C[0-9]+$"}, WARN)
    sampled = dataclasses.replace(exact, expectations=(exact.expectations[1], regex))
    with engine_for(warehouse).reader() as connection:
        reader = _CountingReader(connection)
        summary, full = validate_in_warehouse(sampled, reader)
    assert summary["row_count"] == 2000 and summary["sample_rows"] == 50
    assert max(reader.fetched) == 50 and sum(reader.fetched) <= 1 + sql_validation.EXAMPLES + 50
    by_type = {f["type"]: f for f in summary["failures"]}
    assert set(by_type) == {"expect_column_values_to_be_between"}  # the regex holds on the sample
    assert full["meta"]["sample_rows"] == 50
    regex_result = next(r for r in full["results"] if r["expectation_config"]["type"].endswith("match_regex"))
    assert regex_result["success"] and regex_result["result"]["element_count"] == 50


# ---- severities ------------------------------------------------------------------------------------


def test_severities_come_through_to_the_summary_and_the_asset_check(
    duckdb_warehouse: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _table(duckdb_warehouse, "marts.t", "id varchar, share double precision", ["('a', 0.5)", "('a', 2)"])
    warn_only = Suite(
        name="warn_only",
        relation="marts.t",
        columns=("id", "share"),
        expectations=(Expectation("ExpectColumnValuesToBeBetween", {"column": "share", "max_value": 1}, WARN),),
        blocking=True,
    )
    with_error = Suite(
        name="with_error",
        relation="marts.t",
        columns=("id", "share"),
        expectations=(*warn_only.expectations, Expectation("ExpectColumnValuesToBeUnique", {"column": "id"}, ERROR)),
        blocking=True,
    )
    monkeypatch.setenv("CLM_TARGET", "duckdb")
    monkeypatch.setenv("CLM_WAREHOUSE_DIR", str(duckdb_warehouse.warehouse_dir))
    context: Any = SimpleNamespace(run=SimpleNamespace(run_id="r1"))
    checks = {
        s.name: run_suite(context, WarehouseResource(), lambda _reader, _vars, s=s: s) for s in (warn_only, with_error)
    }
    assert not checks["warn_only"].passed and checks["warn_only"].severity == dg.AssetCheckSeverity.WARN
    assert not checks["with_error"].passed and checks["with_error"].severity == dg.AssetCheckSeverity.ERROR
    latest = read_latest(duckdb_warehouse)
    assert not latest["warn_only"]["error_failed"] and latest["warn_only"]["warn_failed"]
    assert latest["with_error"]["error_failed"]
    assert {f["severity"] for f in latest["with_error"]["failures"]} == {ERROR, WARN}
