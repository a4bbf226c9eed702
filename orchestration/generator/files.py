"""File-level bad cases (DOMAIN.md §3): an empty file, a file landed twice, a file with an extra
column, and a file missing a required column (written only under the truth folder's quarantine/)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa

from orchestration.contract import RAW_TABLES
from orchestration.generator.batch import file_name
from orchestration.generator.writers import WrittenTable, write_table

EXTRA_COLUMN_TABLE = "calls"
DUPLICATE_TABLE = "orders"
EMPTY_TABLE = "complaints"
QUARANTINE_TABLE = "orders"
QUARANTINE_DROPPED_COLUMN = "gross_amount"
DUPLICATE_SUFFIX = "_resent"


def _clean_files(written: WrittenTable) -> list[str]:
    """Files without any row staging rejects, in date order."""
    dirty = set(written.bad_rows["file_name"])
    return [name for name in written.files if name not in dirty]


def extra_column_file(files: list[str]) -> str | None:
    return files[len(files) // 2] if files else None


def write_file_cases(
    written: dict[str, WrittenTable],
    out: Path,
    fmt: str,
    first_day: int,
    extra_file: str | None,
    truth: Path | None,
) -> pd.DataFrame:
    """Write the duplicate, empty and quarantined files; the rows of bad_files.csv."""
    cases: list[dict[str, str]] = []
    if extra_file is not None:
        cases.append(
            {"file_name": extra_file, "case": "extra_columns", "detail": "unknown column legacy_source_system"}
        )
    candidates = _clean_files(written[DUPLICATE_TABLE])
    if candidates:
        original = candidates[len(candidates) // 3]
        copy = original.replace(f".{fmt}", f"{DUPLICATE_SUFFIX}.{fmt}")
        shutil.copyfile(out / original, out / copy)
        cases.append({"file_name": copy, "case": "duplicate_file", "detail": f"same bytes as {original}"})
    empty = file_name(EMPTY_TABLE, first_day - 1, fmt)
    columns = RAW_TABLES[EMPTY_TABLE].columns
    write_table(pa.table({c: pa.array([], pa.string()) for c in columns}), out / empty, fmt)
    cases.append({"file_name": empty, "case": "empty_file", "detail": "header only, no data rows"})
    if truth is not None:
        part = written[QUARANTINE_TABLE].head
        rows = part.num_rows
        id_column = RAW_TABLES[QUARANTINE_TABLE].id_column
        assert id_column is not None
        new_ids = pa.array([f"O{900_000_000 + i:09d}" for i in range(rows)], pa.string())
        part = part.set_column(part.schema.get_field_index(id_column), id_column, new_ids)
        part = part.drop_columns([QUARANTINE_DROPPED_COLUMN])
        name = file_name(QUARANTINE_TABLE, first_day - 2, fmt)
        write_table(part, truth / "quarantine" / name, fmt)
        cases.append(
            {
                "file_name": name,
                "case": "missing_required_column",
                "detail": f"no {QUARANTINE_DROPPED_COLUMN} column; written only to quarantine/{name}",
            }
        )
    return pd.DataFrame(cases, columns=["file_name", "case", "detail"])


