"""One adapter per warehouse engine: everything the Python side of the product does with the warehouse.

    engine = engine_for(settings)           # the one place that looks at CLM_TARGET
    with engine.reader() as reader:         # read queries into pandas frames
        reader.query("select ...")
    engine.replace_table("python_models", "clv_customer_predictions", frame, columns)
    engine.export_mart("marts", "dim_customers", version_dir, previous_dir)  # orchestration/published_layout.py
    with engine.loader() as loader: ...     # the ingest loader (raw tables and the ledger)

Ingest, the CLV asset, the data-quality checks, publish, the run report and the tests use this interface;
no other module branches on the engine. dbt's side of the difference is profiles.yml and the dispatched
macros.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

if TYPE_CHECKING:
    from orchestration.ingest.ledger import LedgerEntry
    from orchestration.ingest.warehouse import Warehouse as Loader
    from orchestration.settings import Settings

TARGETS = ("duckdb", "postgres", "spark")


@dataclass(frozen=True)
class SqlDialect:
    """The few spellings generated SQL (the data-quality checks) needs that differ between engines."""

    identifier_quote: str
    double_type: str
    regex_operator: str  # `value <op> 'pattern'`: a match anywhere in the value (anchor the pattern)

    def quote(self, identifier: str) -> str:
        q = self.identifier_quote
        return q + identifier.replace(q, q + q) + q

    def matches(self, value: str, pattern: str) -> str:
        return f"{value} {self.regex_operator} '{pattern.replace(chr(39), chr(39) * 2)}'"


# DuckDB speaks PostgreSQL's spelling of all three
STANDARD_DIALECT = SqlDialect(identifier_quote='"', double_type="double precision", regex_operator="~")
SPARK_DIALECT = SqlDialect(identifier_quote="`", double_type="double", regex_operator="rlike")


class Reader(Protocol):
    dialect: SqlDialect

    def query(self, sql: str) -> pd.DataFrame:
        """The rows of a query as a pandas frame."""
        ...

    def rows(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Column names and rows of a query, as the engine's driver returns them (no pandas types)."""
        ...

    def relation_exists(self, schema: str, table: str) -> bool: ...


class Engine(Protocol):
    settings: Settings
    target: str

    def describe(self) -> str:
        """Where the warehouse is, for people (the run summary)."""
        ...

    def session(self) -> AbstractContextManager[None]:
        """Hold what a series of calls shares (Spark: one session, instead of one per call)."""
        ...

    def session_kept(self) -> AbstractContextManager[None]:
        """For a whole run: what a call opens stays open for the next call until `release_session()` or the
        end (Spark: the run's Python steps share one application on the cluster, not one each)."""
        ...

    def release_session(self) -> None:
        """End what `session_kept` keeps, now: dbt is about to build in its own process."""
        ...

    def reader(self) -> AbstractContextManager[Reader]:
        """A short-lived read-only connection."""
        ...

    def execute(self, statements: Sequence[str]) -> None:
        """Run statements in one transaction (where the engine has transactions)."""
        ...

    def replace_table(self, schema: str, table: str, frame: pd.DataFrame, columns: Sequence[str]) -> None:
        """Replace an existing table's rows with the frame's, in one step: readers see the old rows or the new."""
        ...

    def export_parquet(self, schema: str, relation: str, path: Path) -> int:
        """Write a relation to one Parquet file; returns its row count."""
        ...

    def export_mart(self, schema: str, relation: str, version_dir: Path, previous_dir: Path | None) -> int:
        """Write a relation into a published version folder as orchestration/published_layout.py lays it out
        (one file, or one per month); months unchanged since `previous_dir` (the version before, exported by
        the same engine) may be hard-linked from it instead of written. Returns the row count."""
        ...

    def loader(self) -> AbstractContextManager[Loader]:
        """The ingest loader, opened for writing (one writer at a time)."""
        ...

    def read_ledger(self) -> list[LedgerEntry]:
        """The ingest ledger, read without taking the writer's lock and without creating anything."""
        ...

    def loads_held(self) -> AbstractContextManager[None]:
        """No load commits while this is held: a dbt build holds it, so it sees each load whole or not at all
        (the change stamps of docs/incremental.md rely on it). A load started meanwhile waits."""
        ...


class ConnectionPerCall:
    """The session methods of an engine whose every call opens its own connection: nothing to hold or keep."""

    def session(self) -> AbstractContextManager[None]:
        return nullcontext()

    def session_kept(self) -> AbstractContextManager[None]:
        return nullcontext()

    def release_session(self) -> None:
        return None


class OneFileExport:
    """export_mart of an engine that exports a relation as one file: written whole, then split by month."""

    settings: Settings

    def export_mart(self, schema: str, relation: str, version_dir: Path, previous_dir: Path | None) -> int:
        from orchestration.published_layout import single_file, split_by_month

        rows = self.export_parquet(schema, relation, single_file(version_dir, relation))  # type: ignore[attr-defined]
        split_by_month(self.settings, version_dir, relation)
        return rows


def engine_for(settings: Settings) -> Engine:
    """The adapter of `settings.target`."""
    if settings.target == "duckdb":
        from orchestration.engines.duckdb_engine import DuckDBEngine

        return DuckDBEngine(settings)
    if settings.target == "postgres":
        from orchestration.engines.postgres_engine import PostgresEngine

        return PostgresEngine(settings)
    if settings.target == "spark":
        from orchestration.engines.spark_engine import SparkEngine

        return SparkEngine(settings)
    raise ValueError(f"CLM_TARGET must be one of {', '.join(TARGETS)}, not {settings.target!r}")


def frame_rows(frame: pd.DataFrame, columns: Sequence[str]) -> list[tuple[object, ...]]:
    """The frame's rows as tuples of plain values, NaN as None (missing predictions are NULL)."""
    frame = frame.loc[:, list(columns)]
    return [tuple(row) for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)]


__all__ = ["TARGETS", "ConnectionPerCall", "Engine", "Reader", "engine_for", "frame_rows"]

