"""Loading into PostgreSQL: files are parsed by an in-memory DuckDB (the same staging as the DuckDB
target, so both engines get identical text), written to a temporary CSV and streamed with
`COPY ... FROM STDIN`; each table's rows and ledger rows commit together.

Concurrent loads are serialised by a session advisory lock; the ledger's primary key is the last line
of defence (a second load of the same file fails at insert and rolls back its rows).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import psycopg2
import psycopg2.extras

from orchestration.ingest.ledger import LEDGER_COLUMNS, LEDGER_TABLE, LedgerEntry
from orchestration.ingest.schema import (
    EXISTING_COLUMNS_SQL,
    LEDGER_EXISTS_SQL,
    add_column_statements,
    create_statements,
)
from orchestration.ingest.staging import drop_stage, quote_literal, raw_columns, stage_relation
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


class PostgresWarehouse:
    def __init__(self, conn: psycopg2.extensions.connection, staging: duckdb.DuckDBPyConnection, tmp: Path):
        self.conn = conn
        self._staging = staging
        self.tmp = tmp

    @classmethod
    @contextmanager
    def open(cls, settings: Settings) -> Iterator[PostgresWarehouse]:
        conn = _connect(settings)
        conn.autocommit = True
        with tempfile.TemporaryDirectory(prefix="clm-ingest-") as tmp:
            staging = duckdb.connect(":memory:", config={"temp_directory": str(Path(tmp) / "spill")})
            try:
                with conn.cursor() as cur:
                    cur.execute("select pg_advisory_lock(%s)", (INGEST_LOCK_KEY,))
                conn.autocommit = False
                yield cls(conn, staging, Path(tmp))
            finally:
                staging.close()
                conn.close()  # ends the session, which releases the advisory lock

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

    def staging(self) -> duckdb.DuckDBPyConnection:
        return self._staging

    def write_table(self, table: str, ledger_rows: Sequence[LedgerEntry]) -> None:
        columns = ", ".join(raw_columns(table))
        export = self.tmp / f"{table}.csv"
        # DuckDB writes NULL as an empty field and '' as "", which is what COPY's CSV format reads back.
        self._staging.execute(
            f"copy (select {columns} from {stage_relation(table)} order by _file_name, _file_row_number)"
            f" to {quote_literal(str(export))} (format csv, header false)"
        )
        ledger_names = ", ".join(name for name, _ in LEDGER_COLUMNS)
        try:
            with self.conn, self.conn.cursor() as cur:
                with export.open("rb") as handle:
                    cur.copy_expert(f"copy raw.{table} ({columns}) from stdin with (format csv)", handle)
                psycopg2.extras.execute_values(
                    cur,
                    f"insert into raw.{LEDGER_TABLE} ({ledger_names}) values %s",
                    [row.as_row() for row in ledger_rows],
                )
        finally:
            export.unlink(missing_ok=True)
            drop_stage(self._staging, table)
