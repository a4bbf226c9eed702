"""The embedded DuckDB warehouse file: one writing process at a time, readers open it read-only."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

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
            kinds = connection.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, relation],
            ).fetchall()
            # HUGEINT has no Parquet type: a mart that sums integers without whole_number_sum fits in BIGINT
            select = ", ".join(
                f'cast("{name}" as bigint) as "{name}"' if kind == "HUGEINT" else f'"{name}"' for name, kind in kinds
            )
            connection.execute(
                f"copy (select {select} from {schema}.{relation}) to '{path}' (format parquet, compression zstd)"
            )
            return int(connection.execute(f"select count(*) from {schema}.{relation}").fetchone()[0])

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
