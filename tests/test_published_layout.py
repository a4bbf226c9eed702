"""The export of a published version (orchestration/published_layout.py) on a real DuckDB warehouse: monthly
marts as one file per month, the unchanged months of the previous version hard-linked instead of written,
and every mart read back equal to the warehouse's table."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.assets import serving_file
from orchestration.engines import engine_for
from orchestration.published_layout import FINGERPRINTS, NO_MONTH, months_dir, read_expression, single_file
from orchestration.settings import Settings, load_settings

MONTHLY = "fct_things_monthly"
EMPTY = "fct_nothing_monthly"
WHOLE = "dim_things"


@pytest.fixture
def settings(clm_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("CLM_WAREHOUSE_DIR", clm_env["CLM_WAREHOUSE_DIR"])
    return load_settings()


def _warehouse(settings: Settings, *statements: str) -> None:
    with duckdb.connect(str(settings.duckdb_path)) as connection:
        for statement in statements:
            connection.execute(statement)


def _export(settings: Settings, version: Path, previous: Path | None) -> dict[str, int]:
    version.mkdir()
    engine = engine_for(settings)
    return {mart: engine.export_mart("marts", mart, version, previous) for mart in (MONTHLY, EMPTY, WHOLE)}


def _published(version: Path, mart: str) -> list[tuple]:
    with duckdb.connect() as connection:
        return sorted(connection.execute(f"select * from {read_expression(version, mart)}").fetchall(), key=repr)


def _table(settings: Settings, mart: str) -> list[tuple]:
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as connection:
        return sorted(connection.execute(f"select * from marts.{mart}").fetchall(), key=repr)


def _inode(version: Path, month: str) -> int:
    return (months_dir(version, MONTHLY) / f"{month}.parquet").stat().st_ino


def test_monthly_marts_by_month_and_unchanged_months_linked(settings: Settings, tmp_path: Path) -> None:
    _warehouse(
        settings,
        "create schema marts",
        # a HUGEINT column (published as BIGINT), three months and rows without a month
        f"create table marts.{MONTHLY} as select * from (values"
        " ('C1', date '2026-01-01', 10::hugeint, 1.5::decimal(18, 2)),"
        " ('C2', date '2026-01-01', 20::hugeint, 2.5::decimal(18, 2)),"
        " ('C1', date '2026-02-01', 30::hugeint, 3.5::decimal(18, 2)),"
        " ('C1', date '2026-03-01', 40::hugeint, 4.5::decimal(18, 2)),"
        " ('C3', null, 50::hugeint, 5.5::decimal(18, 2))"
        ") as t(customer_id, month_start_date, orders, amount)",
        f"create table marts.{EMPTY} (customer_id varchar, month_start_date date)",
        f"create table marts.{WHOLE} as select 'T1' as thing_id, 7 as size",
    )
    v1 = tmp_path / "v1"
    assert _export(settings, v1, None) == {MONTHLY: 5, EMPTY: 0, WHOLE: 1}
    assert sorted(p.name for p in months_dir(v1, MONTHLY).iterdir()) == [
        "2026-01-01.parquet", "2026-02-01.parquet", "2026-03-01.parquet", FINGERPRINTS, f"{NO_MONTH}.parquet"
    ]
    assert single_file(v1, EMPTY).exists() and not months_dir(v1, EMPTY).exists()  # no rows: one file, columns kept
    assert single_file(v1, WHOLE).exists()
    for mart in (MONTHLY, EMPTY, WHOLE):
        assert _published(v1, mart) == _table(settings, mart), mart
    with duckdb.connect() as connection:
        described = connection.execute(f"describe select * from {read_expression(v1, MONTHLY)}").fetchall()
    kinds = {row[0]: row[1] for row in described}
    assert kinds["orders"] == "BIGINT" and kinds["amount"] == "DECIMAL(18,2)"

    # the next day: February changes, March goes, April comes; January and the rows without a month do not
    _warehouse(
        settings,
        f"update marts.{MONTHLY} set amount = 3.6 where month_start_date = '2026-02-01'",
        f"delete from marts.{MONTHLY} where month_start_date = '2026-03-01'",
        f"insert into marts.{MONTHLY} values ('C2', '2026-04-01', 60, 6.5)",
    )
    v2 = tmp_path / "v2"
    assert _export(settings, v2, v1)[MONTHLY] == 5
    assert _inode(v2, "2026-01-01") == _inode(v1, "2026-01-01")
    assert _inode(v2, NO_MONTH) == _inode(v1, NO_MONTH)
    assert _inode(v2, "2026-02-01") != _inode(v1, "2026-02-01")
    assert sorted(p.name for p in months_dir(v2, MONTHLY).glob("*.parquet")) == [
        "2026-01-01.parquet", "2026-02-01.parquet", "2026-04-01.parquet", f"{NO_MONTH}.parquet"
    ]
    assert _published(v2, MONTHLY) == _table(settings, MONTHLY)
    assert _published(v1, MONTHLY) != _published(v2, MONTHLY)  # the old version kept its own months

    # a changed column list reuses nothing; neither does a previous version whose fingerprints are unknown
    _warehouse(settings, f"alter table marts.{MONTHLY} add column note varchar")
    v3 = tmp_path / "v3"
    _export(settings, v3, v2)
    assert _inode(v3, "2026-01-01") != _inode(v2, "2026-01-01")
    assert _published(v3, MONTHLY) == _table(settings, MONTHLY)
    prints = json.loads((months_dir(v3, MONTHLY) / FINGERPRINTS).read_text())
    prints["duckdb_version"] = "0.0.0"
    (months_dir(v3, MONTHLY) / FINGERPRINTS).write_text(json.dumps(prints))
    v4 = tmp_path / "v4"
    _export(settings, v4, v3)
    assert _inode(v4, "2026-01-01") != _inode(v3, "2026-01-01")
    assert _published(v4, MONTHLY) == _table(settings, MONTHLY)


def test_serving_file_reads_the_export_fingerprints_equal_to_its_files(settings: Settings, tmp_path: Path) -> None:
    """The serving file takes a monthly mart's fingerprints from the export instead of scanning its Parquet:
    they must be what a scan of the written files gives, for every type the marts use."""
    _warehouse(
        settings,
        "create schema marts",
        f"create table marts.{MONTHLY} as select * from (values"
        " ('C1', date '2026-01-01', 10::hugeint, 1.5::decimal(18, 2), 0.25::double, true,"
        "  timestamptz '2026-01-03 10:00:00+00', 7::bigint),"
        " ('C2', date '2026-02-01', 20::hugeint, null::decimal(18, 2), null::double, false,"
        "  null::timestamptz, null::bigint),"
        " ('C3', null, 30::hugeint, 3.5::decimal(18, 2), 1e300::double, null::boolean,"
        "  timestamptz '2026-02-01 00:00:00+00', -1::bigint)"
        ") as t(customer_id, month_start_date, orders, amount, share, is_flagged, seen_at, days)",
        f"create table marts.{EMPTY} (customer_id varchar, month_start_date date)",
        f"create table marts.{WHOLE} as select 'T1' as thing_id, 7 as size",
    )
    version = tmp_path / "v1"
    _export(settings, version, None)
    exported = serving_file._exported_print(version, MONTHLY)
    with duckdb.connect() as connection:
        scanned = serving_file._fingerprint(connection, read_expression(version, MONTHLY))
    assert exported is not None and exported == scanned
    assert set(exported.parts) == {date(2026, 1, 1), date(2026, 2, 1), None}
    assert serving_file._exported_print(version, WHOLE) is None  # one file: scanned
    # fingerprints of another DuckDB version are not read
    prints = json.loads((months_dir(version, MONTHLY) / FINGERPRINTS).read_text())
    prints["duckdb_version"] = "0.0.0"
    (months_dir(version, MONTHLY) / FINGERPRINTS).write_text(json.dumps(prints))
    assert serving_file._exported_print(version, MONTHLY) is None
    assert serving_file.version_prints(settings, version, [MONTHLY])[MONTHLY] == scanned
