"""Reading a landed file's header (and whether it has any row) without loading it, and checking the
header against the raw contract before anything is written."""

from __future__ import annotations

import csv
from dataclasses import dataclass

import pyarrow.parquet as pq

from orchestration.contract import RAW_TABLES
from orchestration.ingest.discovery import LandedFile


class InvalidLandedFileError(ValueError):
    """A landed file that cannot be loaded as it is (unreadable, ambiguous header)."""


class MissingRequiredColumnError(InvalidLandedFileError):
    """A landed file lacks required columns of its table; the message names each file and column."""


@dataclass(frozen=True)
class FileHeader:
    source_columns: tuple[str, ...]  # as written in the file, in file order
    columns: tuple[str, ...]  # normalised (trimmed, lower case), the names matched to the contract
    has_rows: bool

    @property
    def is_blank(self) -> bool:
        """A zero-byte (or whitespace-only) file: no header at all."""
        return not self.source_columns


def normalise_column(name: str, position: int) -> str:
    # Header names are matched case- and whitespace-insensitively (exports write 'Customer_ID ');
    # values are never touched. An unnamed column (a trailing comma) gets a name for the report.
    cleaned = name.strip().lower()
    return cleaned or f"column_{position}"


def _csv_header(landed: LandedFile) -> tuple[list[str], bool]:
    # utf-8-sig drops a byte-order mark, as DuckDB's reader does; newline='' lets csv see quoted
    # line breaks, so header and first row are split exactly as the loader will split them.
    with landed.path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        # DuckDB skips blank lines between rows, so a row counts only if it has a non-blank cell.
        has_rows = any(any(cell.strip() for cell in row) for row in reader)
    if not any(cell.strip() for cell in header):
        if has_rows:
            raise ValueError("the first line is blank; it must be the header")
        return [], False
    return header, has_rows


def _parquet_header(landed: LandedFile) -> tuple[list[str], bool]:
    metadata = pq.ParquetFile(landed.path).metadata
    return list(metadata.schema.to_arrow_schema().names), metadata.num_rows > 0


def inspect_file(landed: LandedFile) -> FileHeader:
    try:
        if landed.format == "csv":
            header, has_rows = _csv_header(landed)
        else:
            header, has_rows = _parquet_header(landed)
    except (UnicodeDecodeError, csv.Error, OSError, ValueError) as error:
        raise InvalidLandedFileError(f"{landed.file_name}: cannot read the header: {error}") from error
    columns = tuple(normalise_column(name, i) for i, name in enumerate(header, start=1))
    return FileHeader(source_columns=tuple(header), columns=columns, has_rows=has_rows)


def contract_problems(landed: LandedFile, header: FileHeader) -> tuple[list[str], list[str]]:
    """(missing required columns, other problems) of one file; a blank file has neither."""
    if header.is_blank:
        return [], []
    spec = RAW_TABLES[landed.table]
    missing = [c for c in spec.required if c not in header.columns]
    doubled = sorted({c for c in spec.columns if header.columns.count(c) > 1})
    problems = [f"column {c!r} appears more than once" for c in doubled]
    return missing, problems


def extra_columns(table: str, header: FileHeader) -> tuple[str, ...]:
    known = set(RAW_TABLES[table].columns)
    return tuple(c for c in header.columns if c not in known)


def raise_for_contract(checked: list[tuple[LandedFile, FileHeader]]) -> None:
    """Check every file first and report all of them, so one run shows everything to fix."""
    missing_lines: list[str] = []
    other_lines: list[str] = []
    for landed, header in checked:
        missing, problems = contract_problems(landed, header)
        if missing:
            missing_lines.append(
                f"{landed.file_name}: missing required column(s) {', '.join(missing)} (table {landed.table})"
            )
        other_lines.extend(f"{landed.file_name}: {p}" for p in problems)
    if missing_lines:
        raise MissingRequiredColumnError(
            "nothing was loaded; landed files lack required columns:\n  " + "\n  ".join(missing_lines + other_lines)
        )
    if other_lines:
        raise InvalidLandedFileError("nothing was loaded; landed files are invalid:\n  " + "\n  ".join(other_lines))
