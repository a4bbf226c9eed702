"""The ingest itself: discover, plan against the ledger, check every new file, parse everything, then
write each table with its ledger rows in one transaction."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from orchestration.contract import RAW_TABLES
from orchestration.ingest.discovery import LandedFile, check_table, hash_files, scan_landed
from orchestration.ingest.inspection import extra_columns, inspect_file, raise_for_contract
from orchestration.ingest.ledger import (
    ALREADY_LOADED,
    EMPTY,
    LOADED,
    LedgerEntry,
    LedgerIndex,
    PlannedFile,
    plan_table,
)
from orchestration.ingest.staging import StagedTable, stage_table
from orchestration.ingest.warehouse import open_warehouse, read_ledger_only
from orchestration.settings import Settings

# DOMAIN.md §2: customers and orders are the tables the warehouse cannot do without; a landing folder
# without them is a misconfiguration (a wrong CLM_LANDING_DIR), not "no new data".
REQUIRED_LANDING_TABLES: tuple[str, ...] = ("customers", "orders")

log = logging.getLogger(__name__)


class MissingLandingFolderError(FileNotFoundError):
    """The landing folder of a required table does not exist."""


@dataclass(frozen=True)
class FileLoad:
    table: str
    file_name: str
    sha256: str
    rows: int  # rows this file put into raw (0 unless 'loaded'; for 'already_loaded', from the ledger)
    status: str  # 'loaded' | 'empty' | 'duplicate_content' | 'already_loaded'
    extra_columns: tuple[str, ...]


def landed_files(settings: Settings, table: str) -> list[Path]:
    """The table's landed .csv/.parquet files (recursively; hidden '.x' and '_x' names skipped)."""
    return [f.path for f in scan_landed(settings, table)]


def _identify(files: list[LandedFile], ledger: LedgerIndex) -> list[tuple[LandedFile, str, LedgerEntry | None]]:
    """(file, sha256, its ledger row or None). Only files whose name, size or mtime differ from every
    ledger row of that name are hashed, so an unchanged landing folder costs one stat per file."""
    unchanged = {f.file_name: entry for f in files if (entry := ledger.unchanged(f)) is not None}
    digests = hash_files([f for f in files if f.file_name not in unchanged])
    identified: list[tuple[LandedFile, str, LedgerEntry | None]] = []
    for landed in files:
        if landed.file_name in unchanged:
            entry = unchanged[landed.file_name]
            identified.append((landed, entry.file_sha256, entry))
        else:
            sha = digests[landed.file_name]
            identified.append((landed, sha, ledger.recorded(landed, sha)))
    return identified


def pending_files(settings: Settings, table: str | None = None) -> list[Path]:
    """Landed files not yet in the ledger, for a sensor: reads the ledger without taking the
    warehouse's write lock, creates nothing, and hashes only new or changed files."""
    tables = [table] if table is not None else list(RAW_TABLES)
    for name in tables:
        check_table(name)
    ledger = LedgerIndex(read_ledger_only(settings))
    return [
        landed.path
        for name in tables
        for landed, _, entry in _identify(scan_landed(settings, name), ledger)
        if entry is None
    ]


def _plan(settings: Settings, table: str, ledger: LedgerIndex) -> list[PlannedFile]:
    files = []
    for landed, sha, entry in _identify(scan_landed(settings, table), ledger):
        if entry is not None:
            files.append((landed, sha, None, entry.extra_columns))
        else:
            header = inspect_file(landed)
            files.append((landed, sha, header, extra_columns(table, header)))
    return plan_table(files, ledger)


def _file_load(planned: PlannedFile, staged_rows: dict[str, int]) -> FileLoad:
    status, rows = planned.status, 0
    if status == ALREADY_LOADED:
        assert planned.previous is not None
        rows = planned.previous.row_count
    elif status == LOADED:
        rows = staged_rows.get(planned.landed.file_name, 0)
        status = LOADED if rows else EMPTY  # e.g. only blank lines after the header
    return FileLoad(
        table=planned.landed.table,
        file_name=planned.landed.file_name,
        sha256=planned.sha256,
        rows=rows,
        status=status,
        extra_columns=planned.extra_columns,
    )


def _ledger_entry(planned: PlannedFile, load: FileLoad, loaded_at: datetime) -> LedgerEntry:
    return LedgerEntry(
        file_name=load.file_name,
        table_name=load.table,
        file_sha256=load.sha256,
        row_count=load.rows,  # rows put into raw, so sum(row_count) per table = count(*) of raw
        status=load.status,
        extra_columns=load.extra_columns,
        loaded_at=loaded_at,
        file_size_bytes=planned.landed.size_bytes,
        file_mtime_ns=planned.landed.mtime_ns,
    )


def _require_landing_folders(settings: Settings, tables: list[str]) -> None:
    missing = [t for t in tables if t in REQUIRED_LANDING_TABLES and not (settings.landing_dir / t).is_dir()]
    if missing:
        raise MissingLandingFolderError(
            f"landing folder {settings.landing_dir} has no folder for required table(s) "
            f"{', '.join(missing)}; check CLM_LANDING_DIR"
        )


def _ingest(settings: Settings, tables: list[str]) -> dict[str, list[FileLoad]]:
    for table in tables:
        check_table(table)
    _require_landing_folders(settings, tables)
    started = time.perf_counter()
    with open_warehouse(settings) as warehouse:
        ledger = LedgerIndex(warehouse.read_ledger())
        plans = {table: _plan(settings, table, ledger) for table in tables}
        # every new file of every table is checked before anything, even the schema, is written
        raise_for_contract([(p.landed, p.header) for plan in plans.values() for p in plan if p.header])
        log.info("planned %d landed files in %.2fs", sum(map(len, plans.values())), time.perf_counter() - started)
        # parse all tables before writing any, so a malformed row anywhere leaves the warehouse as it was
        staged: dict[str, StagedTable] = {}
        for table in tables:
            step = time.perf_counter()
            staged[table] = stage_table(table, [p for p in plans[table] if p.status == LOADED])
            log.info("parsed %d rows of %s in %.2fs", staged[table].rows.num_rows, table, time.perf_counter() - step)
        warehouse.ensure_raw_schema()
        loaded_at = ledger.next_load_time(datetime.now(UTC).replace(tzinfo=None))
        results: dict[str, list[FileLoad]] = {}
        for table in tables:
            loads = [_file_load(p, staged[table].row_counts) for p in plans[table]]
            new_entries = [
                _ledger_entry(p, load, loaded_at)
                for p, load in zip(plans[table], loads, strict=True)
                if load.status != ALREADY_LOADED
            ]
            if new_entries:
                step = time.perf_counter()
                warehouse.write_table(staged[table], new_entries, loaded_at)
                log.info("wrote %d files of %s in %.2fs", len(new_entries), table, time.perf_counter() - step)
            results[table] = loads
        return results


def ingest_table(settings: Settings, table: str) -> list[FileLoad]:
    """Load the table's new landed files into raw.<table>; one FileLoad per landed file."""
    return _ingest(settings, [table])[table]


def ingest_all(settings: Settings) -> dict[str, list[FileLoad]]:
    """Load every table's new landed files; all files are checked before any table is loaded."""
    return _ingest(settings, list(RAW_TABLES))


def ensure_raw_schema(settings: Settings) -> None:
    """Create the raw schema, its five tables and the ledger (idempotent)."""
    with open_warehouse(settings) as warehouse:
        warehouse.ensure_raw_schema()
