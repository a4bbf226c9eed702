"""The Spark warehouse: Parquet tables in a Hive metastore, read and written through a Spark session.

The session's master is `CLM_SPARK_MASTER` (a standalone cluster, e.g. spark://127.0.0.1:7077, started by
scripts/spark-up.sh) or an in-process local session when it is unset; its catalog is the metastore service
`CLM_SPARK_METASTORE_URI` or embedded Derby (orchestration/spark_session.py). Every call opens a session and
stops it before returning (releasing the cluster's cores for dbt's session), unless it runs inside
`session()`, which holds one for a series of calls, or `session_kept()`, which keeps it for a Dagster run's
Python steps until `release_session()` (before each dbt step) or the run's end. Spark tables have no
transactions: a replaced table is overwritten in one `insert overwrite`, which readers of the files may see
half-done.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from orchestration.engines import SPARK_DIALECT, OneFileExport, frame_rows
from orchestration.settings import Settings
from orchestration.spark_session import keep_session, release_session, spark_session, spark_warehouse_dir

if TYPE_CHECKING:
    from orchestration.ingest.ledger import LedgerEntry
    from orchestration.ingest.spark_loader import SparkWarehouse


class SparkReader:
    dialect = SPARK_DIALECT

    def __init__(self, spark: Any) -> None:
        self.spark = spark

    def query(self, sql: str) -> pd.DataFrame:
        return self.spark.sql(sql).toPandas()

    def rows(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        frame = self.spark.sql(sql)
        return frame.columns, [tuple(row) for row in frame.collect()]

    def relation_exists(self, schema: str, table: str) -> bool:
        return bool(self.spark.catalog.tableExists(f"{schema}.{table}"))


class SparkEngine(OneFileExport):
    target = "spark"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def describe(self) -> str:
        tables = spark_warehouse_dir(self.settings.warehouse_dir)
        return f"spark tables in {tables} (master {self.settings.spark.master})"

    @contextmanager
    def session(self) -> Iterator[None]:
        with spark_session(self.settings):
            yield

    def session_kept(self) -> AbstractContextManager[None]:
        return keep_session(self.settings)

    def release_session(self) -> None:
        release_session(self.settings)

    @contextmanager
    def reader(self) -> Iterator[SparkReader]:
        with spark_session(self.settings) as spark:
            yield SparkReader(spark)

    def execute(self, statements: Sequence[str]) -> None:
        with spark_session(self.settings) as spark:
            for sql in statements:
                spark.sql(sql)

    def replace_table(self, schema: str, table: str, frame: pd.DataFrame, columns: Sequence[str]) -> None:
        with spark_session(self.settings) as spark:
            target = spark.table(f"{schema}.{table}")
            ordered = [field.name for field in target.schema.fields]  # insertInto matches by position
            if sorted(ordered) != sorted(columns):
                raise ValueError(f"{schema}.{table} has columns {ordered}, the frame {list(columns)}")
            rows = frame_rows(frame, ordered)
            replacement = spark.createDataFrame(
                [tuple(_spark_value(v) for v in row) for row in rows], target.schema, verifySchema=False
            )
            replacement.write.insertInto(f"{schema}.{table}", overwrite=True)

    def export_parquet(self, schema: str, relation: str, path: Path) -> int:
        with (
            spark_session(self.settings) as spark,
            tempfile.TemporaryDirectory(prefix=".export-", dir=path.parent) as folder,
        ):
            frame = spark.table(f"{schema}.{relation}")
            # one file per relation, as the other engines write (the serving copy loads it)
            frame.coalesce(1).write.mode("overwrite").option("compression", "zstd").parquet(f"{folder}/out")
            (part,) = Path(folder, "out").glob("part-*.parquet")
            shutil.move(str(part), path)
            return int(spark.read.parquet(str(path)).count())

    @contextmanager
    def loader(self) -> Iterator[SparkWarehouse]:
        from orchestration.ingest.spark_loader import SparkWarehouse

        with SparkWarehouse.open(self.settings) as loader:
            yield loader

    def loads_held(self) -> AbstractContextManager[None]:
        return nullcontext()  # Spark rebuilds the customer-month models whole: nothing reads the change stamps

    def read_ledger(self) -> list[LedgerEntry]:
        from orchestration.ingest.spark_loader import read_ledger_readonly

        return read_ledger_readonly(self.settings)


def _spark_value(value: object) -> object:
    """pandas' timestamps as the datetime (and date) objects Spark's converters take."""
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value
