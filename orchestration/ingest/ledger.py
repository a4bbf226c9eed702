"""The load ledger `raw._load_ledger`: one row per landed file ever seen, and the plan of a load.

A file is identified by (file_name, file_sha256): the same name with the same content is never loaded
again, another name with content already loaded is recorded as `duplicate_content`, and the same name
with new content (a file rewritten in place) is a new batch and is loaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from orchestration.ingest.discovery import LandedFile
from orchestration.ingest.inspection import FileHeader

LEDGER_TABLE = "_load_ledger"

# (name, type) in table order; the brief's seven columns, then the stat facts that let the sensor
# decide "nothing new" without hashing every file on every tick.
LEDGER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("file_name", "varchar"),
    ("table_name", "varchar"),
    ("file_sha256", "varchar"),
    ("row_count", "bigint"),
    ("status", "varchar"),
    ("extra_columns", "varchar"),
    ("loaded_at", "timestamp"),
    ("file_size_bytes", "bigint"),
    ("file_mtime_ns", "bigint"),
)

LOADED = "loaded"
EMPTY = "empty"
DUPLICATE_CONTENT = "duplicate_content"
ALREADY_LOADED = "already_loaded"  # reported to callers only; never written to the ledger


def ledger_ddl(schema: str = "raw", primary_key: bool = True) -> str:
    columns = [f"{name} {kind}" for name, kind in LEDGER_COLUMNS]
    if primary_key:
        # a second concurrent load of the same file fails on commit instead of loading it twice
        columns.append("primary key (file_name, file_sha256)")
    return f"create table if not exists {schema}.{LEDGER_TABLE} ({', '.join(columns)})"


@dataclass(frozen=True)
class LedgerEntry:
    file_name: str
    table_name: str
    file_sha256: str
    row_count: int
    status: str
    extra_columns: tuple[str, ...]
    loaded_at: datetime
    file_size_bytes: int
    file_mtime_ns: int

    def as_row(self) -> tuple[object, ...]:
        return (
            self.file_name,
            self.table_name,
            self.file_sha256,
            self.row_count,
            self.status,
            ",".join(self.extra_columns),
            self.loaded_at,
            self.file_size_bytes,
            self.file_mtime_ns,
        )

    @classmethod
    def from_row(cls, row: tuple) -> LedgerEntry:
        name, table, sha, rows, status, extra, loaded_at, size, mtime = row
        return cls(
            file_name=name,
            table_name=table,
            file_sha256=sha,
            row_count=int(rows),
            status=status,
            extra_columns=tuple(extra.split(",")) if extra else (),
            loaded_at=loaded_at,
            file_size_bytes=int(size) if size is not None else -1,
            file_mtime_ns=int(mtime) if mtime is not None else -1,
        )


class LedgerIndex:
    """Look-ups over the ledger rows of a warehouse."""

    def __init__(self, entries: Iterable[LedgerEntry]) -> None:
        self.by_key: dict[tuple[str, str], LedgerEntry] = {}
        self.by_name: dict[str, list[LedgerEntry]] = {}
        self.loaded_sha: dict[tuple[str, str], str] = {}  # (table, sha) -> file_name that loaded it
        self.latest_loaded_at: datetime | None = None
        for entry in entries:
            if self.latest_loaded_at is None or entry.loaded_at > self.latest_loaded_at:
                self.latest_loaded_at = entry.loaded_at
            self.by_key[(entry.file_name, entry.file_sha256)] = entry
            self.by_name.setdefault(entry.file_name, []).append(entry)
            if entry.status == LOADED:
                self.loaded_sha.setdefault((entry.table_name, entry.file_sha256), entry.file_name)

    def unchanged(self, landed: LandedFile) -> LedgerEntry | None:
        """The ledger row of a file whose name, size and mtime all match: no need to hash it."""
        for entry in self.by_name.get(landed.file_name, []):
            if (entry.file_size_bytes, entry.file_mtime_ns) == (landed.size_bytes, landed.mtime_ns):
                return entry
        return None

    def recorded(self, landed: LandedFile, sha256: str) -> LedgerEntry | None:
        return self.by_key.get((landed.file_name, sha256))

    def next_load_time(self, now: datetime) -> datetime:
        """The `_loaded_at` of the next load: now, but always after every recorded load. Loads hold the
        warehouse's write lock (DuckDB) or the ingest advisory lock (PostgreSQL) and read the ledger inside
        it, so load times grow in commit order even if the clock steps back: the customer-month models use
        them as change stamps (int_customer_change_stamps)."""
        if self.latest_loaded_at is not None and now <= self.latest_loaded_at:
            return self.latest_loaded_at + timedelta(microseconds=1)
        return now


@dataclass(frozen=True)
class PlannedFile:
    landed: LandedFile
    sha256: str
    header: FileHeader | None  # None for files already in the ledger (not read again)
    status: str  # LOADED (to load), EMPTY, DUPLICATE_CONTENT or ALREADY_LOADED
    extra_columns: tuple[str, ...]
    previous: LedgerEntry | None = None  # the ledger row of an already-loaded file


def plan_table(
    files: list[tuple[LandedFile, str, FileHeader | None, tuple[str, ...]]],
    ledger: LedgerIndex,
) -> list[PlannedFile]:
    """Decide each file's status. `files` are (landed, sha256, header, extra columns), sorted by name;
    header is None only for files the ledger already holds.

    Precedence: already in the ledger, then empty (nothing to load either way, and 'empty' says more),
    then duplicate content (of a loaded file, or of an earlier file of this batch in name order).
    """
    planned: list[PlannedFile] = []
    seen_in_batch: set[str] = set()
    for landed, sha, header, extras in files:
        previous = ledger.recorded(landed, sha)
        if previous is not None:
            planned.append(PlannedFile(landed, sha, header, ALREADY_LOADED, previous.extra_columns, previous))
            continue
        assert header is not None, f"{landed.file_name} is new, so its header must have been read"
        if not header.has_rows:
            status = EMPTY
        elif (landed.table, sha) in ledger.loaded_sha or sha in seen_in_batch:
            status = DUPLICATE_CONTENT
        else:
            status = LOADED
            seen_in_batch.add(sha)
        planned.append(PlannedFile(landed, sha, header, status, extras))
    return planned
