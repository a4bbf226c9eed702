"""What a loader must provide, and the choice of loader by `CLM_TARGET`.

Each engine has a module with a class of this shape and one branch in `open_warehouse`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Protocol

from orchestration.ingest.ledger import LedgerEntry
from orchestration.ingest.staging import StagedTable
from orchestration.settings import Settings


class Warehouse(Protocol):
    def read_ledger(self) -> list[LedgerEntry]:
        """All ledger rows; none when the ledger does not exist yet."""
        ...

    def ensure_raw_schema(self) -> None: ...

    def write_table(self, staged: StagedTable, ledger_rows: Sequence[LedgerEntry], loaded_at: datetime) -> None:
        """Append the staged rows and their ledger rows in one transaction."""
        ...


@contextmanager
def open_warehouse(settings: Settings) -> Iterator[Warehouse]:
    """The warehouse of `settings.target`, opened for loading (one writer at a time)."""
    if settings.target == "duckdb":
        from orchestration.ingest.duckdb_loader import DuckDBWarehouse

        with DuckDBWarehouse.open(settings) as warehouse:
            yield warehouse
    elif settings.target == "postgres":
        from orchestration.ingest.postgres_loader import PostgresWarehouse

        with PostgresWarehouse.open(settings) as warehouse:
            yield warehouse
    elif settings.target == "spark":
        from orchestration.ingest.spark_loader import SparkWarehouse

        with SparkWarehouse.open(settings) as warehouse:
            yield warehouse
    else:
        raise NotImplementedError(f"ingest into {settings.target!r} is not implemented yet")


def read_ledger_only(settings: Settings) -> list[LedgerEntry]:
    """The ledger, read without taking the writer's lock and without creating anything."""
    if settings.target == "duckdb":
        from orchestration.ingest.duckdb_loader import read_ledger_readonly

        return read_ledger_readonly(settings)
    if settings.target == "postgres":
        from orchestration.ingest.postgres_loader import read_ledger_readonly as read_postgres

        return read_postgres(settings)
    if settings.target == "spark":
        from orchestration.ingest.spark_loader import read_ledger_readonly as read_spark

        return read_spark(settings)
    raise NotImplementedError(f"ingest into {settings.target!r} is not implemented yet")
