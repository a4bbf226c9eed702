"""Ingest of landed files into raw, on DuckDB and PostgreSQL, with hand-made landing folders."""

from __future__ import annotations

import datetime
import hashlib
import os
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.contract import LOAD_METADATA_COLUMNS, RAW_TABLES
from orchestration.engines import engine_for
from orchestration.ingest import (
    FileLoad,
    MissingLandingFolderError,
    MissingRequiredColumnError,
    ensure_raw_schema,
    ingest_all,
    ingest_table,
    landed_files,
    pending_files,
)
from orchestration.ingest.discovery import scan_landed
from orchestration.ingest.inspection import InvalidLandedFileError
from orchestration.settings import Settings, load_settings
from tests.engines import fetch

CUSTOMERS_CSV = """\
customer_id,created_at,full_name,city
C1,2024-01-01T09:00:00,Ann,Shanghai
C2,2024-01-02T10:00:00,Bo,Beijing
"""
ORDERS_CSV = """\
order_id,customer_id,ordered_at,status,gross_amount
O1,C1,2024-02-01T12:00:00,completed,100.00
O2,C2,2024-02-02T12:00:00,cancelled,50.00
O3,C1,2024-02-03T12:00:00,completed,75.50
"""
CALLS_CSV = """\
call_id,customer_id,direction,purpose,started_at
K1,C1,inbound,service,2024-02-05T08:00:00
"""


@pytest.fixture(params=["duckdb", "postgres"])
def settings(request: pytest.FixtureRequest) -> Settings:
    env = request.getfixturevalue("clm_env" if request.param == "duckdb" else "pg_env")
    return load_settings(env)


def land(settings: Settings, table: str, name: str, text: str) -> Path:
    path = settings.landing_dir / table / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")
    return path


def land_parquet(settings: Settings, table: str, name: str, data: pa.Table) -> Path:
    path = settings.landing_dir / table / name
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(data, path)
    return path


def land_basics(settings: Settings) -> None:
    land(settings, "customers", "customers_2024-01.csv", CUSTOMERS_CSV)
    land(settings, "orders", "orders_2024-02.csv", ORDERS_CSV)


def query(settings: Settings, sql: str) -> list[tuple]:
    return fetch(settings, sql)[1]


def warehouse_state(settings: Settings) -> dict[str, list[tuple]]:
    """Every raw table and the ledger, sorted: what 'the warehouse is unchanged' compares."""
    state = {
        table: query(settings, f"select * from raw.{table} order by _raw_row_id") for table in RAW_TABLES
    }
    state["_load_ledger"] = query(settings, "select * from raw._load_ledger order by file_name, file_sha256")
    return state


def ledger(settings: Settings) -> dict[str, tuple]:
    rows = query(settings, "select file_name, table_name, row_count, status, extra_columns from raw._load_ledger")
    return {row[0]: row[1:] for row in rows}


def by_name(loads: list[FileLoad]) -> dict[str, FileLoad]:
    return {load.file_name: load for load in loads}


def test_loading_twice_changes_nothing(settings: Settings) -> None:
    land_basics(settings)
    land(settings, "calls", "calls.csv", CALLS_CSV)
    land_parquet(
        settings,
        "orders",
        "more/orders_2024-03.parquet",
        pa.table(
            {
                "order_id": ["O4"],
                "customer_id": ["C2"],
                "ordered_at": ["2024-03-01T00:00:00"],
                "status": ["returned"],
                "gross_amount": [12.5],
            }
        ),
    )

    first = ingest_all(settings)
    before = warehouse_state(settings)
    second = ingest_all(settings)
    after = warehouse_state(settings)

    assert {load.status for loads in first.values() for load in loads} == {"loaded"}
    assert len(before["orders"]) == 4
    assert len(before["calls"]) == 1
    assert after == before
    assert all(load.status == "already_loaded" for loads in second.values() for load in loads)
    # already-loaded files report what the ledger holds, so callers see the same counts again
    assert [(f.file_name, f.rows) for f in second["orders"]] == [(f.file_name, f.rows) for f in first["orders"]]
    assert pending_files(settings) == []
    # the ledger reconciles with raw: its row_count is what each file put there
    for table in RAW_TABLES:
        ledger_rows = query(settings, f"select sum(row_count) from raw._load_ledger where table_name = '{table}'")
        assert [(n or 0,) for (n,) in ledger_rows] == query(settings, f"select count(*) from raw.{table}")


def test_duplicate_content_under_another_name_is_loaded_once(settings: Settings) -> None:
    land_basics(settings)
    land(settings, "orders", "orders_2024-02_resent.csv", ORDERS_CSV)
    first = by_name(ingest_table(settings, "orders"))
    assert first["orders/orders_2024-02.csv"].status == "loaded"
    assert first["orders/orders_2024-02_resent.csv"].status == "duplicate_content"
    assert first["orders/orders_2024-02_resent.csv"].rows == 0

    # and again on a later run, against the ledger rather than within one batch
    land(settings, "orders", "archive/orders_copy.csv", ORDERS_CSV)
    second = by_name(ingest_table(settings, "orders"))
    assert second["orders/archive/orders_copy.csv"].status == "duplicate_content"

    assert query(settings, "select count(*) from raw.orders") == [(3,)]
    assert query(settings, "select count(distinct _file_name) from raw.orders") == [(1,)]
    assert ledger(settings)["orders/archive/orders_copy.csv"] == ("orders", 0, "duplicate_content", "")


def test_empty_files_are_recorded_with_zero_rows(settings: Settings) -> None:
    land_basics(settings)
    land(settings, "orders", "header_only.csv", "order_id,customer_id,ordered_at,status,gross_amount\n")
    land(settings, "orders", "zero_bytes.csv", "")
    land(settings, "orders", "blank_lines.csv", "order_id,customer_id,ordered_at,status,gross_amount\n\n\n")
    land_parquet(
        settings,
        "orders",
        "no_rows.parquet",
        pa.table({c: pa.array([], type=pa.string()) for c in RAW_TABLES["orders"].required}),
    )
    loads = by_name(ingest_table(settings, "orders"))

    for name in ("header_only.csv", "zero_bytes.csv", "blank_lines.csv", "no_rows.parquet"):
        assert (loads[f"orders/{name}"].status, loads[f"orders/{name}"].rows) == ("empty", 0), name
        assert ledger(settings)[f"orders/{name}"][1:3] == (0, "empty")
    assert query(settings, "select count(*) from raw.orders") == [(3,)]


def test_extra_columns_are_ignored_and_reported(settings: Settings) -> None:
    header = "customer_id,created_at,loyalty_points,Full_Name,Notes\n"
    land(settings, "customers", "c.csv", header + "C1,2024-01-01,5,Ann,x\n")
    land(settings, "orders", "o.csv", ORDERS_CSV)
    loads = by_name(ingest_all(settings)["customers"])

    assert loads["customers/c.csv"].extra_columns == ("loyalty_points", "notes")
    assert ledger(settings)["customers/c.csv"] == ("customers", 1, "loaded", "loyalty_points,notes")
    assert query(settings, "select customer_id, full_name from raw.customers") == [("C1", "Ann")]
    raw_columns = [
        row[0]
        for row in query(
            settings,
            "select column_name from information_schema.columns"
            " where table_schema = 'raw' and table_name = 'customers' order by ordinal_position",
        )
    ]
    assert raw_columns == list(RAW_TABLES["customers"].columns + LOAD_METADATA_COLUMNS)


def test_missing_required_column_fails_and_loads_nothing(settings: Settings) -> None:
    land_basics(settings)
    ingest_all(settings)
    before = warehouse_state(settings)

    # a good new file that must wait, and two bad ones in other tables, one lacking two columns
    land(settings, "orders", "orders_2024-04.csv", ORDERS_CSV.replace("O1,", "O9,"))
    land(settings, "calls", "calls_bad.csv", "call_id,direction,started_at\nK1,inbound,2024-01-01\n")
    land(settings, "complaints", "cmp.csv", "complaint_id,opened_at\nP1,2024-01-01\n")
    with pytest.raises(MissingRequiredColumnError) as raised:
        ingest_all(settings)

    message = str(raised.value)
    assert "calls/calls_bad.csv" in message and "purpose" in message
    assert "complaints/cmp.csv" in message and "customer_id" in message and "severity" in message
    assert "orders/orders_2024-04.csv" not in message
    assert isinstance(raised.value, ValueError)
    assert warehouse_state(settings) == before


def test_missing_required_column_on_a_fresh_warehouse_creates_nothing(clm_env: dict[str, str]) -> None:
    settings = load_settings(clm_env)
    land(settings, "customers", "c.csv", "customer_id,full_name\nC1,Ann\n")
    land(settings, "orders", "o.csv", ORDERS_CSV)
    with pytest.raises(MissingRequiredColumnError, match=r"customers/c\.csv.*created_at"):
        ingest_all(settings)
    if settings.duckdb_path.exists():
        assert duckdb.connect(str(settings.duckdb_path)).execute(
            "select count(*) from information_schema.schemata where schema_name = 'raw'"
        ).fetchone() == (0,)


def test_malformed_row_fails_and_loads_nothing(settings: Settings) -> None:
    land_basics(settings)
    ingest_all(settings)
    before = warehouse_state(settings)
    land(settings, "customers", "more.csv", "customer_id,created_at\nC3,2024-03-01\n")
    land(settings, "orders", "ragged.csv", "order_id,customer_id,ordered_at,status,gross_amount\nO7,C1,x,y,1,2\n")

    with pytest.raises(Exception, match="ragged.csv"):
        ingest_all(settings)
    assert warehouse_state(settings) == before  # customers/more.csv was parsed fine but not written


def test_invalid_utf8_fails_naming_the_file(settings: Settings) -> None:
    land_basics(settings)
    path = settings.landing_dir / "orders" / "gbk.csv"
    path.write_bytes(ORDERS_CSV.encode() + "O8,C1,2024-02-09,completed,1,\u4e2d\n".encode("gbk"))
    with pytest.raises(InvalidLandedFileError, match=r"orders/gbk\.csv"):
        ingest_all(settings)


def test_values_are_kept_verbatim_as_text(settings: Settings) -> None:
    text = (
        "\ufeffOrder_ID ,customer_id,ordered_at,STATUS,gross_amount,discount_amount,product_category\n"
        'O1,  C1 ,2024-02-01 12:00,  Completed ,abc,"",Caf\u00e9 \u4e2d\u6587 \U0001f600\n'
        'O2,C2,02/03/2024,CANCELLED,"1,5","say ""hi""; ok","multi\nline"\n'
        "O3,C3,2024-02-03,returned,-0.0,,   \n"
    )
    land(settings, "customers", "c.csv", CUSTOMERS_CSV)
    land(settings, "orders", "odd.csv", text)
    ingest_all(settings)

    rows = query(
        settings,
        "select order_id, customer_id, ordered_at, status, gross_amount, discount_amount, product_category,"
        " _file_row_number, _raw_row_id, _file_name, _file_sha256 from raw.orders order by _file_row_number",
    )
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert rows == [
        ("O1", "  C1 ", "2024-02-01 12:00", "  Completed ", "abc", None, "Caf\u00e9 \u4e2d\u6587 \U0001f600",
         1, f"{sha[:16]}-1", "orders/odd.csv", sha),
        ("O2", "C2", "02/03/2024", "CANCELLED", "1,5", 'say "hi"; ok', "multi\nline",
         2, f"{sha[:16]}-2", "orders/odd.csv", sha),
        ("O3", "C3", "2024-02-03", "returned", "-0.0", None, "   ", 3, f"{sha[:16]}-3", "orders/odd.csv", sha),
    ]  # fmt: skip


def test_parquet_values_are_cast_to_text(settings: Settings) -> None:
    land(settings, "customers", "c.csv", CUSTOMERS_CSV)
    land_parquet(
        settings,
        "orders",
        "typed.parquet",
        pa.table(
            {
                "ORDER_ID": pa.array([7, 8], type=pa.int64()),
                "customer_id": ["C1", " c2"],
                "ordered_at": pa.array([1_706_788_800_000_000, None], type=pa.timestamp("us", tz="UTC")),
                "status": ["completed", "Returned"],
                "gross_amount": pa.array([12.5, -3.0], type=pa.float64()),
                "cost_amount": pa.array([None, ""], type=pa.string()),
            }
        ),
    )
    ingest_all(settings)
    rows = query(
        settings,
        "select order_id, customer_id, ordered_at, status, gross_amount, cost_amount, _file_row_number"
        " from raw.orders order by _file_row_number",
    )
    assert rows == [
        ("7", "C1", "2024-02-01 12:00:00+00", "completed", "12.5", None, 1),
        ("8", " c2", None, "Returned", "-3.0", "", 2),
    ]


def test_row_numbers_follow_file_order_across_many_files(settings: Settings) -> None:
    land(settings, "customers", "c.csv", CUSTOMERS_CSV)
    header = "order_id,customer_id,ordered_at,status,gross_amount\n"
    sizes = {"orders/a.csv": 40_000, "orders/b.csv": 3, "orders/c.csv": 25_000}
    for name, n in sizes.items():
        # a quoted line break every 7th row: row numbers count rows, not lines
        body = "".join(f'{i},C1,"t\n{i}",completed,{i}\n' if i % 7 == 0 else f"{i},C1,t,completed,{i}\n"
                       for i in range(1, n + 1))  # fmt: skip
        land(settings, "orders", name.split("/")[1], header + body)
    loads = by_name(ingest_table(settings, "orders"))

    assert {name: loads[name].rows for name in sizes} == sizes
    mismatched = query(
        settings,
        "select count(*) from raw.orders where cast(order_id as bigint) <> _file_row_number"
        " or _raw_row_id <> left(_file_sha256, 16) || '-' || cast(_file_row_number as varchar)",
    )
    assert mismatched == [(0,)]
    assert query(settings, "select count(distinct _raw_row_id), count(*) from raw.orders") == [
        (sum(sizes.values()), sum(sizes.values()))
    ]


def test_optional_tables_absent_still_create_empty_raw_tables(settings: Settings) -> None:
    land_basics(settings)
    results = ingest_all(settings)
    assert results["calls"] == [] and results["complaints"] == [] and results["marketing_spend"] == []
    for table in ("calls", "complaints", "marketing_spend"):
        assert query(settings, f"select count(*) from raw.{table}") == [(0,)]
    tables = query(
        settings, "select table_name from information_schema.tables where table_schema = 'raw' order by 1"
    )
    assert [t for (t,) in tables] == sorted([*RAW_TABLES, "_load_ledger"])


def test_required_landing_folder_missing_is_an_error(settings: Settings) -> None:
    land(settings, "orders", "o.csv", ORDERS_CSV)
    with pytest.raises(MissingLandingFolderError, match="customers"):
        ingest_all(settings)
    assert ingest_table(settings, "calls") == []  # an optional table alone is fine


def test_ensure_raw_schema_is_idempotent(settings: Settings) -> None:
    ensure_raw_schema(settings)
    ensure_raw_schema(settings)
    assert query(settings, "select count(*) from raw._load_ledger") == [(0,)]
    assert query(settings, "select count(*) from raw.orders") == [(0,)]


def test_ensure_raw_schema_adds_columns_a_newer_contract_has(clm_env: dict[str, str]) -> None:
    settings = load_settings(clm_env)
    con = duckdb.connect(str(settings.duckdb_path))
    con.execute("create schema raw")
    con.execute("create table raw.orders (order_id varchar, _raw_row_id varchar)")  # an older contract
    con.execute("insert into raw.orders values ('O1', 'x-1')")
    con.close()
    ensure_raw_schema(settings)
    columns = {c for (c,) in query(settings, "select column_name from information_schema.columns"
                                              " where table_schema = 'raw' and table_name = 'orders'")}  # fmt: skip
    assert columns == set(RAW_TABLES["orders"].columns + LOAD_METADATA_COLUMNS)
    assert query(settings, "select order_id, gross_amount from raw.orders") == [("O1", None)]


def test_pending_files_hashes_only_changed_files(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    land_basics(settings)
    assert [p.name for p in pending_files(settings)] == ["customers_2024-01.csv", "orders_2024-02.csv"]
    ingest_all(settings)
    assert pending_files(settings) == []

    hashed: list[str] = []
    from orchestration.ingest import discovery

    real_sha = discovery.sha256_of
    monkeypatch.setattr(discovery, "sha256_of", lambda path: hashed.append(path.name) or real_sha(path))

    assert pending_files(settings, "orders") == []
    assert hashed == []  # unchanged name, size and mtime: no file is read

    touched = settings.landing_dir / "orders" / "orders_2024-02.csv"
    os.utime(touched, ns=(1_000_000_000, 1_000_000_000))  # same content, new mtime
    new = land(settings, "orders", "orders_2024-05.csv", ORDERS_CSV.replace("O", "N"))
    land(settings, "orders", ".orders_2024-06.csv.part", ORDERS_CSV)  # still being written: ignored
    assert pending_files(settings) == [new]
    assert sorted(hashed) == ["orders_2024-02.csv", "orders_2024-05.csv"]
    assert [p.name for p in landed_files(settings, "orders")] == ["orders_2024-02.csv", "orders_2024-05.csv"]


def test_a_file_rewritten_in_place_is_a_new_batch(settings: Settings) -> None:
    land_basics(settings)
    ingest_all(settings)
    land(settings, "orders", "orders_2024-02.csv", ORDERS_CSV + "O4,C2,2024-02-04T12:00:00,completed,9\n")
    assert [p.name for p in pending_files(settings)] == ["orders_2024-02.csv"]
    loads = ingest_table(settings, "orders")

    assert [(load.status, load.rows) for load in loads] == [("loaded", 4)]
    ledger_rows = query(settings, "select status, row_count from raw._load_ledger where table_name = 'orders'")
    assert sorted(ledger_rows) == [("loaded", 3), ("loaded", 4)]
    assert query(settings, "select count(*), count(distinct _raw_row_id) from raw.orders") == [(7, 7)]


def test_load_times_grow_in_commit_order_even_when_the_clock_steps_back(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """_loaded_at is the change stamp of the incremental customer-month models: a later load must never
    get an earlier time, whatever the wall clock says."""
    land_basics(settings)
    ingest_all(settings)
    (first,) = query(settings, "select max(_loaded_at) from raw.orders")[0]

    class ClockSetBack(datetime.datetime):
        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> datetime.datetime:
            return datetime.datetime(2001, 1, 1, tzinfo=tz)

    monkeypatch.setattr("orchestration.ingest.pipeline.datetime", ClockSetBack)
    land(settings, "calls", "calls_2024-02.csv", CALLS_CSV)
    ingest_all(settings)
    (second,) = query(settings, "select max(_loaded_at) from raw.calls")[0]
    assert second == first + datetime.timedelta(microseconds=1)
    loaded = query(settings, "select loaded_at from raw._load_ledger where file_name like '%calls_2024-02.csv'")
    assert loaded == [(second,)]


def test_a_load_waits_while_a_dbt_build_holds_the_loads_on_postgres(pg_env: dict[str, str]) -> None:
    """A dbt step holds the loads (Engine.loads_held) so it never stages half a load: a shell ingest started
    meanwhile must wait for it, then load everything."""
    settings = load_settings(pg_env)
    land_basics(settings)
    ingest_all(settings)
    land(settings, "calls", "calls_2024-02.csv", CALLS_CSV)
    loading = ThreadPoolExecutor(max_workers=1)
    with engine_for(settings).loads_held():
        waiting = loading.submit(ingest_all, settings)
        time.sleep(3)
        assert not waiting.done(), "a load ran while a build held the loads"
        assert query(settings, "select count(*) from raw.calls") == [(0,)]
    waiting.result(timeout=60)
    loading.shutdown()
    assert query(settings, "select count(*) from raw.calls") == [(1,)]


def test_header_names_must_not_repeat_a_contract_column(clm_env: dict[str, str]) -> None:
    settings = load_settings(clm_env)
    land_basics(settings)
    land(settings, "calls", "k.csv", "call_id,direction,purpose,started_at,Call_ID\nK1,in,sales,2024,K2\n")
    with pytest.raises(InvalidLandedFileError, match=r"calls/k\.csv.*call_id"):
        ingest_all(settings)


def test_discovery_names_are_relative_with_forward_slashes(clm_env: dict[str, str]) -> None:
    settings = load_settings(clm_env)
    land(settings, "orders", "2024/02/o.CSV", ORDERS_CSV)
    land(settings, "orders", "_SUCCESS", "")
    land(settings, "orders", "notes.txt", "not data")
    assert [f.file_name for f in scan_landed(settings, "orders")] == ["orders/2024/02/o.CSV"]
    with pytest.raises(ValueError, match="unknown raw table"):
        landed_files(settings, "order")


def test_duckdb_sensor_reads_the_ledger_copy_while_the_warehouse_is_locked(clm_env: dict[str, str]) -> None:
    settings = load_settings(clm_env)
    land_basics(settings)
    ingest_all(settings)
    new = land(settings, "orders", "orders_new.csv", ORDERS_CSV.replace("O", "Q"))

    # another process (dbt, say) holds DuckDB's write lock until we close its stdin
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({str(settings.duckdb_path)!r})
            print("locked", flush=True)
            sys.stdin.read()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        assert pending_files(settings) == [new]
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)


def test_command_line_loads_and_summarises(
    clm_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestration.ingest.__main__ import main

    for key, value in clm_env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings(clm_env)
    land_basics(settings)
    land(settings, "orders", "copy.csv", ORDERS_CSV)

    assert main(["--pending"]) == 0
    assert capsys.readouterr().out.count(".csv") == 3
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "orders: 3 new rows (1 duplicate_content, 1 loaded)" in out
    assert "customers: 2 new rows (1 loaded)" in out
    assert main(["--pending"]) == 0
    assert capsys.readouterr().out == ""
