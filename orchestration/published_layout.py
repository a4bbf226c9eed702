"""Where a published version keeps each mart's Parquet, and how its monthly marts are split by month.

    versions/<version>/<mart>.parquet                  a mart without a month column (or with no rows)
    versions/<version>/<mart>/<YYYY-MM-DD>.parquet     a monthly mart: one file per month_start_date
    versions/<version>/<mart>/no_month.parquet         ... its rows without a month, if any
    versions/<version>/<mart>/fingerprints.json        what the export knows about each month (engine-side)

A daily publish changes a few months of the monthly marts (the as-of month; late data a few before it),
so one file per month lets an export write only the months that changed and hard-link the others from
the previous version (the DuckDB engine does: orchestration/engines/duckdb_engine.py). Every file of a
monthly mart has all its columns, the month included; readers open the folder (`<mart>/*.parquet`).
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

from orchestration.duckdb_connection import connect_in_memory
from orchestration.settings import Settings

PART_COLUMN = "month_start_date"  # marts at customer-month or month grain are stored and patched by month
NO_MONTH = "no_month"
FINGERPRINTS = "fingerprints.json"
COMPRESSION = "zstd"


def single_file(version_dir: Path, mart: str) -> Path:
    return version_dir / f"{mart}.parquet"


def months_dir(version_dir: Path, mart: str) -> Path:
    return version_dir / mart


def month_file(version_dir: Path, mart: str, month: date | None) -> Path:
    return months_dir(version_dir, mart) / f"{month.isoformat() if month else NO_MONTH}.parquet"


def read_expression(version_dir: Path, mart: str) -> str:
    """DuckDB table function reading a mart of a version, whichever way it is stored."""
    folder = months_dir(version_dir, mart)
    if folder.is_dir():
        return f"read_parquet('{folder.resolve()}/*.parquet')"
    return f"read_parquet('{single_file(version_dir, mart).resolve()}')"


def write_months(connection, select: str, folder: Path) -> None:
    """Write a select's rows (it has PART_COLUMN) to `folder`, one `<month>.parquet` per month it holds."""
    staging = folder.parent / f".{folder.name}.by_month"
    shutil.rmtree(staging, ignore_errors=True)
    connection.execute(
        f"copy ({select}) to '{staging}' (format parquet, compression {COMPRESSION}, "
        f"partition_by ({PART_COLUMN}), write_partition_columns true)"
    )
    folder.mkdir(exist_ok=True)
    for partition in staging.iterdir():  # <PART_COLUMN>=<value>/data_0.parquet
        value = partition.name.split("=", 1)[1]
        month = None if value == "__HIVE_DEFAULT_PARTITION__" else date.fromisoformat(value)
        files = sorted(partition.glob("*.parquet"))
        if len(files) != 1:
            raise RuntimeError(f"expected one Parquet file per month in {partition}, found {len(files)}")
        os.replace(files[0], month_file(folder.parent, folder.name, month))
    shutil.rmtree(staging)


def has_month_column(connection, relation: str) -> bool:
    return PART_COLUMN in {row[0] for row in connection.execute(f"describe select * from {relation}").fetchall()}


def split_by_month(settings: Settings, version_dir: Path, mart: str) -> None:
    """Store a mart exported as one file by month instead, when it has a month column and rows (the
    engines that export one file: PostgreSQL, Spark)."""
    exported = single_file(version_dir, mart)
    with connect_in_memory(settings) as connection:
        relation = f"read_parquet('{exported.resolve()}')"
        if not has_month_column(connection, relation):
            return
        if not connection.execute(f"select count(*) from {relation}").fetchone()[0]:
            return
        write_months(connection, f"select * from {relation}", months_dir(version_dir, mart))
    exported.unlink()


def fingerprint_query(relation: str, columns: list[str]) -> str:
    """(part, row count, sum of a hash of each row) per month of a relation with PART_COLUMN, one row with a
    null part for a relation without it: how an export and the serving file tell which parts changed."""
    part = f'"{PART_COLUMN}"' if PART_COLUMN in columns else "null::date"
    row = ", ".join(f'"{name}"' for name in columns)
    return f"select {part} as part, count(*), coalesce(sum(hash({row})), 0)::varchar from {relation} group by all"


def read_fingerprints(folder: Path) -> dict:
    path = folder / FINGERPRINTS
    return json.loads(path.read_text()) if path.exists() else {}


def write_fingerprints(folder: Path, prints: dict) -> None:
    (folder / FINGERPRINTS).write_text(json.dumps(prints, indent=1, sort_keys=True))
