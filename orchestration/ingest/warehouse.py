"""What a loader must provide, and the choice of loader by `CLM_TARGET`.

A third engine (Spark) adds a module with a class of this shape and one branch in `open_warehouse`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

import duckdb

from orchestration.ingest.ledger import LedgerEntry
from orchestration.settings import Settings


class Warehouse(Protocol):
    def read_ledger(self) -> list[LedgerEntry]:
        """All ledger rows; none when the ledger does not exist yet."""
        ...

    def ensure_raw_schema(self) -> None: ...

    def staging(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection that staging.stage_table parses files into."""
        ...

    def write_table(self, table: str, ledger_rows: Sequence[LedgerEntry]) -> None:
        """Append the staged rows of `table` and their ledger rows in one transaction."""
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
    raise NotImplementedError(f"ingest into {settings.target!r} is not implemented yet")
