"""Loading into PostgreSQL: staged rows (the same staging as the DuckDB target, so both engines get
identical text) are written to a temporary CSV by an in-memory DuckDB and streamed with
`COPY ... FROM STDIN`; each table's rows and ledger rows commit together.

Concurrent loads are serialised by a session advisory lock, which a dbt build also holds (`ingest_lock`:
a load never commits while dbt stages); the ledger's primary key is the last line of defence (a second
load of the same file fails at insert and rolls back its rows).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import psycopg2
import psycopg2.extras

from orchestration.duckdb_connection import connect_in_memory
from orchestration.ingest.ledger import LEDGER_COLUMNS, LEDGER_TABLE, LedgerEntry
from orchestration.ingest.schema import (
    EXISTING_COLUMNS_SQL,
    LEDGER_EXISTS_SQL,
    add_column_statements,
    create_statements,
)
from orchestration.ingest.staging import StagedTable, final_select_sql, quote_literal, raw_columns
from orchestration.settings import Settings

# pg_advisory_lock key of the ingest (any constant; it only has to be the same for every loader)
INGEST_LOCK_KEY = 4_202_611_220
_LEDGER_SQL = f"select {', '.join(n for n, _ in LEDGER_COLUMNS)} from raw.{LEDGER_TABLE}"


def _connect(settings: Settings) -> psycopg2.extensions.connection:
    return psycopg2.connect(settings.postgres.dsn())


def _read_ledger(conn: psycopg2.extensions.connection) -> list[LedgerEntry]:
    with conn.cursor() as cur:
        cur.execute(LEDGER_EXISTS_SQL)
        row = cur.fetchone()
        if not row or not row[0]:
            return []
        cur.execute(_LEDGER_SQL)
        return [LedgerEntry.from_row(r) for r in cur.fetchall()]


def read_ledger_readonly(settings: Settings) -> list[LedgerEntry]:
    conn = _connect(settings)
    try:
        conn.set_session(readonly=True, autocommit=True)
        return _read_ledger(conn)
    finally:
        conn.close()


@contextmanager
def _locked_session(settings: Settings) -> Iterator[psycopg2.extensions.connection]:
    """A session holding the ingest advisory lock (waiting for it); closing the session releases it."""
    conn = _connect(settings)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("select pg_advisory_lock(%s)", (INGEST_LOCK_KEY,))
        yield conn
    finally:
        conn.close()


@contextmanager
def ingest_lock(settings: Settings) -> Iterator[None]:
    """Held by a dbt build: no load commits until it ends (a load started meanwhile waits)."""
    with _locked_session(settings):
        yield


class PostgresWarehouse:
    def __init__(self, settings: Settings, conn: psycopg2.extensions.connection, tmp: Path):
        self.settings = settings
        self.conn = conn
        self.tmp = tmp

    @classmethod
    @contextmanager
    def open(cls, settings: Settings) -> Iterator[PostgresWarehouse]:
        with _locked_session(settings) as conn, tempfile.TemporaryDirectory(prefix="clm-ingest-") as tmp:
            conn.autocommit = False
            yield cls(settings, conn, Path(tmp))

    def read_ledger(self) -> list[LedgerEntry]:
        with self.conn:
            return _read_ledger(self.conn)

    def ensure_raw_schema(self) -> None:
        with self.conn, self.conn.cursor() as cur:
            for statement in create_statements():
                cur.execute(statement)
            cur.execute(EXISTING_COLUMNS_SQL)
            for statement in add_column_statements(cur.fetchall()):
                cur.execute(statement)

    def write_table(self, staged: StagedTable, ledger_rows: Sequence[LedgerEntry], loaded_at: datetime) -> None:
        columns = ", ".join(raw_columns(staged.table))
        export = self.tmp / f"{staged.table}.csv"
        # DuckDB writes NULL as an empty field and '' as "", which is what COPY's CSV format reads back.
        writer = connect_in_memory(self.settings)
        try:
            writer.register("_ingest_rows", staged.rows)
            writer.execute(
                f"copy ({final_select_sql(staged.table, '_ingest_rows')})"
                f" to {quote_literal(str(export))} (format csv, header false)",
                [loaded_at],
            )
        finally:
            writer.close()
        ledger_names = ", ".join(name for name, _ in LEDGER_COLUMNS)
        try:
            with self.conn, self.conn.cursor() as cur:
                with export.open("rb") as handle:
                    cur.copy_expert(f"copy raw.{staged.table} ({columns}) from stdin with (format csv)", handle)
                psycopg2.extras.execute_values(
                    cur,
                    f"insert into raw.{LEDGER_TABLE} ({ledger_names}) values %s",
                    [row.as_row() for row in ledger_rows],
                )
                # statistics for the planner of the staging models (macros/analyze_for_planner.sql)
                cur.execute(f"analyze raw.{staged.table}")
        finally:
            export.unlink(missing_ok=True)
