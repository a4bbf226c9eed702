"""A PostgreSQL warehouse (a team's server): psycopg2 connections, transactions for every write."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import psycopg2
from psycopg2.extras import execute_values

from orchestration.engines import STANDARD_DIALECT, ConnectionPerCall, OneFileExport, frame_rows
from orchestration.settings import Settings

if TYPE_CHECKING:
    from orchestration.ingest.ledger import LedgerEntry
    from orchestration.ingest.postgres_loader import PostgresWarehouse


class PostgresReader:
    dialect = STANDARD_DIALECT

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def query(self, sql: str) -> pd.DataFrame:
        with self.connection.cursor() as cursor:
            cursor.execute(sql)
            columns = [c.name for c in cursor.description]
            return pd.DataFrame(cursor.fetchall(), columns=columns)

    def rows(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql)
            return [c.name for c in cursor.description], cursor.fetchall()

    def relation_exists(self, schema: str, table: str) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "select count(*) from information_schema.tables where table_schema = %s and table_name = %s",
                (schema, table),
            )
            return cursor.fetchone()[0] > 0


class PostgresEngine(OneFileExport, ConnectionPerCall):
    target = "postgres"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def describe(self) -> str:
        postgres = self.settings.postgres
        return f"postgres database {postgres.database} on {postgres.host}:{postgres.port}"

    def _connect(self) -> Any:
        return psycopg2.connect(self.settings.postgres.dsn())

    @contextmanager
    def reader(self) -> Iterator[PostgresReader]:
        connection = self._connect()
        try:
            connection.set_session(readonly=True, autocommit=True)
            yield PostgresReader(connection)
        finally:
            connection.close()

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        connection = self._connect()
        try:
            with connection, connection.cursor() as cursor:  # commits, or rolls back on error
                yield cursor
        finally:
            connection.close()

    def execute(self, statements: Sequence[str]) -> None:
        with self._transaction() as cursor:
            for sql in statements:
                cursor.execute(sql)

    def replace_table(self, schema: str, table: str, frame: pd.DataFrame, columns: Sequence[str]) -> None:
        rows = frame_rows(frame, columns)
        with self._transaction() as cursor:
            cursor.execute(f"delete from {schema}.{table}")
            if rows:
                sql = f"insert into {schema}.{table} ({', '.join(columns)}) values %s"
                execute_values(cursor, sql, rows, page_size=5000)

    def export_parquet(self, schema: str, relation: str, path: Path) -> int:
        import pyarrow as pa
        import pyarrow.parquet as pq

        with self.reader() as reader:
            frame = reader.query(f"select * from {schema}.{relation}")
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, compression="zstd")
        return len(frame)

    @contextmanager
    def loader(self) -> Iterator[PostgresWarehouse]:
        from orchestration.ingest.postgres_loader import PostgresWarehouse

        with PostgresWarehouse.open(self.settings) as loader:
            yield loader

    def loads_held(self) -> AbstractContextManager[None]:
        from orchestration.ingest.postgres_loader import ingest_lock

        return ingest_lock(self.settings)  # the lock every load holds: a load waits until the build ends

    def read_ledger(self) -> list[LedgerEntry]:
        from orchestration.ingest.postgres_loader import read_ledger_readonly

        return read_ledger_readonly(self.settings)
