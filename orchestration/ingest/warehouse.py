"""What a loader must provide; each engine's adapter (orchestration/engines) opens its own loader."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Protocol

from orchestration.engines import engine_for
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
    """The loader of `settings.target`, opened for loading (one writer at a time)."""
    with engine_for(settings).loader() as warehouse:
        yield warehouse


def read_ledger_only(settings: Settings) -> list[LedgerEntry]:
    """The ledger, read without taking the writer's lock and without creating anything."""
    return engine_for(settings).read_ledger()
