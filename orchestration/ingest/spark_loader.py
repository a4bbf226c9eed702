"""Loading into the local Spark warehouse (parquet tables in a Hive metastore).

The staged rows are shaped by an in-memory DuckDB (the same `final_select_sql` as the other loaders,
so every engine gets identical text) into a temporary parquet file, which Spark appends to
`raw.<table>` with `insert into ... select ... from parquet.<file>`.

Spark's parquet tables have no transactions: a table's rows are appended first and its ledger rows
second, so a load that dies in between leaves rows without ledger rows, and the next load appends
those files again (staging's de-duplication by business key keeps the newest copy, so models are
unaffected; docs/DECISIONS.md, "Spark"). Loads do not overlap: runs are queued one at a time
(dagster.yaml), and the embedded Derby metastore, when there is no metastore service, admits one process.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration.duckdb_connection import connect_in_memory
from orchestration.ingest.duckdb_loader import ledger_arrow
from orchestration.ingest.ledger import LEDGER_COLUMNS, LEDGER_TABLE, LedgerEntry
from orchestration.ingest.schema import RAW_SCHEMA, create_statements, expected_columns
from orchestration.ingest.staging import StagedTable, final_select_sql, quote_literal, raw_columns
from orchestration.settings import Settings
from orchestration.spark_session import spark_session, spark_warehouse_dir

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_LEDGER_NAMES = ", ".join(name for name, _ in LEDGER_COLUMNS)


def spark_ddl(statement: str) -> str:
    """The shared DDL in Spark's spelling: `string` for `varchar` (Spark wants a length on varchar)
    and parquet storage for tables."""
    statement = re.sub(r"\bvarchar\b", "string", statement)
    if statement.startswith("create table"):
        statement += " using parquet"
    return statement


def _ledger_files(settings: Settings) -> list[Path]:
    folder = spark_warehouse_dir(settings.warehouse_dir) / f"{RAW_SCHEMA}.db" / LEDGER_TABLE
    return sorted(folder.glob("*.parquet")) if folder.is_dir() else []


def read_ledger_readonly(settings: Settings) -> list[LedgerEntry]:
    """The ledger read straight from its parquet files: no JVM, and no wait for the metastore that a
    running dbt holds."""
    files = _ledger_files(settings)
    if not files:
        return []
    paths = "[" + ", ".join(quote_literal(str(f)) for f in files) + "]"
    con = connect_in_memory(settings)
    try:
        rows = con.execute(f"select {_LEDGER_NAMES} from read_parquet({paths})").fetchall()
    finally:
        con.close()
    return [LedgerEntry.from_row(row) for row in rows]


class SparkWarehouse:
    def __init__(self, settings: Settings, spark: SparkSession, tmp: Path) -> None:
        self.settings = settings
        self.spark = spark
        self.tmp = tmp

    @classmethod
    @contextmanager
    def open(cls, settings: Settings) -> Iterator[SparkWarehouse]:
        with (
            spark_session(settings) as spark,
            tempfile.TemporaryDirectory(prefix="clm-ingest-", dir=settings.warehouse_dir) as tmp,
        ):
            yield cls(settings, spark, Path(tmp))

    def _ledger_exists(self) -> bool:
        return self.spark.catalog.tableExists(f"{RAW_SCHEMA}.{LEDGER_TABLE}")

    def read_ledger(self) -> list[LedgerEntry]:
        if not self._ledger_exists():
            return []
        rows = self.spark.sql(f"select {_LEDGER_NAMES} from {RAW_SCHEMA}.{LEDGER_TABLE}").collect()
        return [LedgerEntry.from_row(tuple(row)) for row in rows]

    def ensure_raw_schema(self) -> None:
        for statement in create_statements(primary_key=False):
            self.spark.sql(spark_ddl(statement))
        for table, columns in expected_columns().items():
            present = {c.name for c in self.spark.catalog.listColumns(table, RAW_SCHEMA)}
            missing = [f"{name} {kind}" for name, kind in columns if name not in present]
            if missing:
                self.spark.sql(spark_ddl(f"alter table {RAW_SCHEMA}.{table} add columns ({', '.join(missing)})"))

    def _insert_parquet(self, table: str, columns: str, export: Path) -> None:
        self.spark.sql(
            f"insert into {RAW_SCHEMA}.{table} ({columns}) select {columns} from parquet.`{export}`"
        )

    def write_table(self, staged: StagedTable, ledger_rows: Sequence[LedgerEntry], loaded_at: datetime) -> None:
        columns = ", ".join(raw_columns(staged.table))
        export = self.tmp / f"rows-{staged.table}.parquet"  # Spark skips files named _* or .*
        ledger_export = self.tmp / "rows-ledger.parquet"
        writer = connect_in_memory(self.settings)
        try:
            writer.register("_ingest_rows", staged.rows)
            writer.register("_ingest_ledger_rows", ledger_arrow(ledger_rows))
            writer.execute(
                f"copy ({final_select_sql(staged.table, '_ingest_rows')}) to {quote_literal(str(export))}"
                " (format parquet)",
                [loaded_at],
            )
            writer.execute(
                f"copy (select {_LEDGER_NAMES} from _ingest_ledger_rows) to {quote_literal(str(ledger_export))}"
                " (format parquet)"
            )
        finally:
            writer.close()
        try:
            self._insert_parquet(staged.table, columns, export)
            self._insert_parquet(LEDGER_TABLE, _LEDGER_NAMES, ledger_export)
        finally:
            export.unlink(missing_ok=True)
            ledger_export.unlink(missing_ok=True)
