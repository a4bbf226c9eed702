"""The embedded DuckDB warehouse file: one writing process at a time, readers open it read-only."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from orchestration import published_layout as layout
from orchestration.duckdb_connection import connect
from orchestration.engines import STANDARD_DIALECT, ConnectionPerCall
from orchestration.settings import Settings

if TYPE_CHECKING:
    from orchestration.ingest.duckdb_loader import DuckDBWarehouse
    from orchestration.ingest.ledger import LedgerEntry


class DuckDBReader:
    dialect = STANDARD_DIALECT

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection

    def query(self, sql: str) -> pd.DataFrame:
        return self.connection.execute(sql).df()

    def rows(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        cursor = self.connection.execute(sql)
        return [d[0] for d in cursor.description], cursor.fetchall()

    def relation_exists(self, schema: str, table: str) -> bool:
        sql = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
        return self.connection.execute(sql, [schema, table]).fetchone()[0] > 0


def _export_select(connection: duckdb.DuckDBPyConnection, schema: str, relation: str) -> str:
    kinds = connection.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, relation],
    ).fetchall()
    # HUGEINT has no Parquet type: a mart that sums integers without whole_number_sum fits in BIGINT
    select = ", ".join(
        f'cast("{name}" as bigint) as "{name}"' if kind == "HUGEINT" else f'"{name}"' for name, kind in kinds
    )
    return f"select {select} from {schema}.{relation}"


def _copy_to_parquet(
    connection: duckdb.DuckDBPyConnection, schema: str, relation: str, select: str, path: Path
) -> int:
    """Write an export select to one Parquet file; the relation's row count."""
    connection.execute(f"copy ({select}) to '{path}' (format parquet, compression {layout.COMPRESSION})")
    return int(connection.execute(f"select count(*) from {schema}.{relation}").fetchone()[0])


def _month_prints(
    connection: duckdb.DuckDBPyConnection, select: str, described: list[tuple[str, str]]
) -> dict[str, list]:
    """{month (ISO date or NO_MONTH): [row count, row-hash sum]} of a select with the month column, else {}."""
    if layout.PART_COLUMN not in {name for name, _ in described}:
        return {}
    query = layout.fingerprint_query(f"({select})", [name for name, _ in described])
    return {
        (part.isoformat() if part else layout.NO_MONTH): [count, row_hash]
        for part, count, row_hash in connection.execute(query).fetchall()
    }


def _keep_unchanged_months(
    relation: str, columns: str, months: dict[str, list], folder: Path, previous_dir: Path | None
) -> set[str]:
    """Hard-link the previous version's files of the months whose fingerprint did not change; their names."""
    if previous_dir is None:
        return set()
    previous_folder = layout.months_dir(previous_dir, relation)
    previous = layout.read_fingerprints(previous_folder)
    if previous.get("columns") != columns or previous.get("duckdb_version") != duckdb.__version__:
        return set()
    kept = set()
    for name, fingerprint in months.items():
        source = previous_folder / f"{name}.parquet"
        if previous["months"].get(name) == fingerprint and source.exists():
            target = folder / source.name
            try:
                os.link(source, target)
            except OSError:  # another file system, or no hard links: a copy is as good
                shutil.copyfile(source, target)
            kept.add(name)
    return kept


class DuckDBEngine(ConnectionPerCall):
    target = "duckdb"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def describe(self) -> str:
        return str(self.settings.duckdb_path)

    @contextmanager
    def reader(self) -> Iterator[DuckDBReader]:
        connection = connect(self.settings, read_only=True)
        try:
            yield DuckDBReader(connection)
        finally:
            connection.close()

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        connection = connect(self.settings)
        try:
            connection.execute("begin transaction")
            yield connection
            connection.execute("commit")
        except BaseException:
            connection.execute("rollback")
            raise
        finally:
            connection.close()

    def execute(self, statements: Sequence[str]) -> None:
        with self._transaction() as connection:
            for sql in statements:
                connection.execute(sql)

    def replace_table(self, schema: str, table: str, frame: pd.DataFrame, columns: Sequence[str]) -> None:
        column_list = ", ".join(columns)
        with self._transaction() as connection:
            connection.execute(f"delete from {schema}.{table}")
            if len(frame):
                connection.register("replacement_rows", frame.loc[:, list(columns)])
                connection.execute(
                    f"insert into {schema}.{table} ({column_list}) select {column_list} from replacement_rows"
                )
                connection.unregister("replacement_rows")

    def export_parquet(self, schema: str, relation: str, path: Path) -> int:
        with connect(self.settings, read_only=True) as connection:
            return _copy_to_parquet(connection, schema, relation, _export_select(connection, schema, relation), path)

    def export_mart(self, schema: str, relation: str, version_dir: Path, previous_dir: Path | None) -> int:
        """One scan fingerprints each month (row count, sum of the rows' hashes); the months whose fingerprint
        equals the previous version's are hard-linked from it, the others written in one partitioned copy."""
        with connect(self.settings, read_only=True) as connection:
            select = _export_select(connection, schema, relation)
            described = [(row[0], row[1]) for row in connection.execute(f"describe {select}").fetchall()]
            months = _month_prints(connection, select, described)
            if not months:  # no month column, or no rows (one file keeps the columns)
                return _copy_to_parquet(
                    connection, schema, relation, select, layout.single_file(version_dir, relation)
                )
            columns = json.dumps(described)
            folder = layout.months_dir(version_dir, relation)
            folder.mkdir()
            kept = _keep_unchanged_months(relation, columns, months, folder, previous_dir)
            if changed := [name for name in months if name not in kept]:
                month = f'"{layout.PART_COLUMN}"'
                listed = ", ".join(f"date '{name}'" for name in changed if name != layout.NO_MONTH)
                wanted = [f"{month} in ({listed})"] if listed else []
                if layout.NO_MONTH in changed:
                    wanted.append(f"{month} is null")
                where = " where " + " or ".join(wanted) if kept else ""
                layout.write_months(connection, f"select * from ({select}){where}", folder)
            prints = {"columns": columns, "duckdb_version": duckdb.__version__, "months": months}
            layout.write_fingerprints(folder, prints)
            return sum(count for count, _ in months.values())

    @contextmanager
    def loader(self) -> Iterator[DuckDBWarehouse]:
        from orchestration.ingest.duckdb_loader import DuckDBWarehouse

        with DuckDBWarehouse.open(self.settings) as loader:
            yield loader

    def loads_held(self) -> AbstractContextManager[None]:
        return nullcontext()  # dbt holds the file's write lock for the whole build: no load can commit

    def read_ledger(self) -> list[LedgerEntry]:
        from orchestration.ingest.duckdb_loader import read_ledger_readonly

        return read_ledger_readonly(self.settings)
