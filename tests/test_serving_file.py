"""The serving file patched from the previous one equals the file written whole, on hand-made versions:
a changed, a vanished and a new month, an unchanged mart, a mart whose columns changed, a mart no longer
published, a null month, and the cases that must fall back to a whole write."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.assets.serving_file import Docs, write_serving_file
from orchestration.published_layout import months_dir, write_months
from orchestration.settings import Settings, load_settings

MONTHLY = "fct_monthly"  # has month_start_date: patched month by month
WHOLE = "dim_things"  # fingerprinted whole
UNCHANGED = ("dim_big", "select range as id from range(10)")  # the same in every version
DOCS: Docs = {MONTHLY: ("Customer months.", {"amount": "Net spend."}), WHOLE: ("Things.", {})}


@pytest.fixture
def settings(clm_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("CLM_WAREHOUSE_DIR", clm_env["CLM_WAREHOUSE_DIR"])
    return load_settings()


def _version(root: Path, name: str, tables: dict[str, str]) -> Path:
    """A version folder with one Parquet file per mart, each from a SQL query."""
    folder = root / name
    folder.mkdir()
    with duckdb.connect() as connection:
        for mart, query in tables.items():
            connection.execute(f"copy ({query}) to '{folder / f'{mart}.parquet'}' (format parquet)")
    return folder


def _monthly(rows: list[tuple[str, str | None, float]]) -> str:
    values = ", ".join(
        f"('{customer}', {repr(month) if month else 'null'}::date, {amount}::decimal(28, 6))"
        for customer, month, amount in rows
    )
    return f"select * from (values {values}) as t(customer_id, month_start_date, amount)"


def _rows(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as connection:
        marts = connection.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
        tables = [name for (name,) in marts]
        return {t: sorted(connection.execute(f"select * from marts.{t}").fetchall(), key=repr) for t in tables}


def _write(settings: Settings, version: Path, marts: list[str], current: Path | None, out: Path):  # noqa: ANN202
    return write_serving_file(settings, out, version, marts, DOCS, version.name, current=current)


def test_a_patched_file_equals_the_whole_write(settings: Settings, tmp_path: Path) -> None:
    march, april, may = "2026-03-01", "2026-04-01", "2026-05-01"
    v1 = _version(
        tmp_path,
        "v1",
        {
            MONTHLY: _monthly([("C1", march, 10), ("C2", march, 5), ("C1", april, 7), ("C2", may, 1)]),
            WHOLE: "select 1 as thing_id, 'a' as label",
            "fct_gone": "select 1 as x",
            UNCHANGED[0]: UNCHANGED[1],
        },
    )
    marts = [MONTHLY, WHOLE, UNCHANGED[0]]
    first = _write(settings, v1, [*marts, "fct_gone"], None, tmp_path / "s1.duckdb")
    assert (first.mode, first.reason) == ("whole", "no current serving file")

    # April changes (C1 7 -> 8), May vanishes, June appears; March and the other mart stay; fct_gone is dropped
    v2 = _version(
        tmp_path,
        "v2",
        {
            MONTHLY: _monthly([("C1", march, 10), ("C2", march, 5), ("C1", april, 8), ("C3", "2026-06-01", 2)]),
            WHOLE: "select 1 as thing_id, 'a' as label",
            UNCHANGED[0]: UNCHANGED[1],
        },
    )
    patched = _write(settings, v2, marts, tmp_path / "s1.duckdb", tmp_path / "s2.duckdb")
    assert patched.mode == "patched"
    assert patched.replaced == {MONTHLY: [april, may, "2026-06-01"]}
    whole = _write(settings, v2, marts, None, tmp_path / "s2_whole.duckdb")
    assert _rows(tmp_path / "s2.duckdb") == _rows(tmp_path / "s2_whole.duckdb")
    assert set(_rows(tmp_path / "s2.duckdb")) == set(marts)
    assert whole.mode == "whole"
    with duckdb.connect(str(tmp_path / "s2.duckdb"), read_only=True) as connection:
        info = connection.execute("select distinct version from main.publish_info").fetchall()
        counts = dict(connection.execute("select mart, row_count from main.publish_info").fetchall())
        comment = connection.execute(
            "select comment from duckdb_columns() where table_name = ? and column_name = 'amount'", [MONTHLY]
        ).fetchone()[0]
    assert info == [("v2",)] and counts == {MONTHLY: 4, WHOLE: 1, UNCHANGED[0]: 10}
    assert comment == "Net spend."

    # the whole mart changes and the monthly mart gains a column: both written whole, the file still equal
    v3 = _version(
        tmp_path,
        "v3",
        {
            MONTHLY: f"select *, 'x' as note from ({_monthly([('C1', march, 10), ('C1', april, 8)])})",
            WHOLE: "select 1 as thing_id, 'b' as label",
            UNCHANGED[0]: UNCHANGED[1],
        },
    )
    third = _write(settings, v3, marts, tmp_path / "s2.duckdb", tmp_path / "s3.duckdb")
    assert third.mode == "patched" and third.replaced == {MONTHLY: ["whole"], WHOLE: ["whole"]}
    _write(settings, v3, marts, None, tmp_path / "s3_whole.duckdb")
    assert _rows(tmp_path / "s3.duckdb") == _rows(tmp_path / "s3_whole.duckdb")


def test_a_null_month_and_an_unchanged_version(settings: Settings, tmp_path: Path) -> None:
    rows = [("C1", None, 1), ("C2", "2026-01-01", 2), ("C3", "2026-02-01", 3), ("C4", "2026-03-01", 4)]
    v1 = _version(tmp_path, "v1", {MONTHLY: _monthly(rows)})
    _write(settings, v1, [MONTHLY], None, tmp_path / "s1.duckdb")
    same = _write(settings, v1, [MONTHLY], tmp_path / "s1.duckdb", tmp_path / "s_same.duckdb")
    assert same.mode == "patched" and same.replaced == {}
    v2 = _version(tmp_path, "v2", {MONTHLY: _monthly([("C1", None, 9), *rows[1:]])})
    patched = _write(settings, v2, [MONTHLY], tmp_path / "s1.duckdb", tmp_path / "s2.duckdb")
    assert patched.replaced == {MONTHLY: ["no month"]}
    assert _rows(tmp_path / "s2.duckdb")[MONTHLY][0] == ("C1", None, 9)
    assert sorted(_rows(tmp_path / "s2.duckdb")[MONTHLY], key=repr) == sorted(
        [(c, date.fromisoformat(m) if m else None, a) for c, m, a in [("C1", None, 9), *rows[1:]]], key=repr
    )


def test_what_falls_back_to_a_whole_write(settings: Settings, tmp_path: Path) -> None:
    months = [f"2026-{m:02d}-01" for m in range(1, 7)]
    v1 = _version(tmp_path, "v1", {MONTHLY: _monthly([("C1", m, i) for i, m in enumerate(months)])})
    _write(settings, v1, [MONTHLY], None, tmp_path / "s1.duckdb")

    # four of six months change: a whole write is faster than a patch
    v2 = _version(tmp_path, "v2", {MONTHLY: _monthly([("C1", m, i + (i < 4)) for i, m in enumerate(months)])})
    most = _write(settings, v2, [MONTHLY], tmp_path / "s1.duckdb", tmp_path / "s2.duckdb")
    assert (most.mode, most.reason) == ("whole", "4 of 6 rows changed")

    # fingerprints of another DuckDB version: its hash may differ
    foreign = tmp_path / "foreign.duckdb"
    foreign.write_bytes((tmp_path / "s1.duckdb").read_bytes())
    with duckdb.connect(str(foreign)) as connection:
        connection.execute("update main.publish_fingerprints set duckdb_version = '0.9.0'")
    v3 = _version(tmp_path, "v3", {MONTHLY: _monthly([("C1", m, i + (i == 5)) for i, m in enumerate(months)])})
    other = _write(settings, v3, [MONTHLY], foreign, tmp_path / "s3.duckdb")
    assert other.mode == "whole" and "DuckDB version" in other.reason

    # a stored fingerprint that lies (January marked as already holding v4's rows) leaves January stale in
    # the patch; the check of the patched mart against the Parquet catches it and the file is written whole
    v4 = _version(tmp_path, "v4", {MONTHLY: _monthly([("C1", m, i + (i in (0, 5))) for i, m in enumerate(months)])})
    lying = tmp_path / "lying.duckdb"
    lying.write_bytes((tmp_path / "s1.duckdb").read_bytes())
    with duckdb.connect(str(lying)) as connection:
        january = connection.execute(
            f"select count(*), sum(hash(customer_id, month_start_date, amount))::varchar"
            f" from read_parquet('{v4 / f'{MONTHLY}.parquet'}') where month_start_date = '2026-01-01'"
        ).fetchone()
        connection.execute(
            "update main.publish_fingerprints set row_count = ?, row_hash = ? where month_start_date = '2026-01-01'",
            list(january),
        )
    caught = _write(settings, v4, [MONTHLY], lying, tmp_path / "s4.duckdb")
    assert caught.mode == "whole" and caught.reason == f"the patched file differs from the Parquet in {MONTHLY}"
    _write(settings, v4, [MONTHLY], None, tmp_path / "s4_whole.duckdb")
    assert _rows(tmp_path / "s4.duckdb") == _rows(tmp_path / "s4_whole.duckdb")

    # no fingerprints at all (a file of an older release): whole
    with duckdb.connect(str(lying)) as connection:
        connection.execute("drop table main.publish_fingerprints")
    old = _write(settings, v4, [MONTHLY], lying, tmp_path / "s5.duckdb")
    assert old.mode == "whole" and "no fingerprints" in old.reason


def test_a_monthly_mart_is_stored_in_month_order(settings: Settings, tmp_path: Path) -> None:
    """Rows of a month share row groups (BI filters skip the others) without a sort: the month files are
    read in name order into a connection that keeps insertion order. Months are generated out of order."""
    version = tmp_path / "v1"
    version.mkdir()
    with duckdb.connect(config={"threads": 2}) as connection:
        write_months(
            connection,
            "select 'C' || i as customer_id, "
            "case when i % 13 = 0 then null else cast(date '2026-01-01' + to_months((i * 7) % 12) as date) end "
            "as month_start_date, i::decimal(28, 6) as amount from range(300000) as t(i)",
            months_dir(version, MONTHLY),
        )
    _write(settings, version, [MONTHLY], None, tmp_path / "s1.duckdb")
    with duckdb.connect(str(tmp_path / "s1.duckdb"), read_only=True) as connection:
        months = [
            m for (m,) in connection.execute(f"select month_start_date from marts.{MONTHLY} order by rowid").fetchall()
        ]
    assert len(months) == 300_000
    dated = [m for m in months if m is not None]
    assert dated == sorted(dated) and len(set(dated)) == 12
    assert months[len(dated) :] == [None] * (len(months) - len(dated))  # no_month.parquet sorts last
