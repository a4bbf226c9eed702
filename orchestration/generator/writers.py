"""Writing raw batches as one file per table per day (per month for marketing spend)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from orchestration.generator.batch import RawBatch, file_name

FORMATS = ("csv", "parquet")


@dataclass
class PlacedBatch:
    """A batch in file order, with each row's file and 1-based row number within it."""

    batch: RawBatch
    file_names: np.ndarray
    file_row_numbers: np.ndarray
    files: dict[str, int]  # file name -> number of data rows


@dataclass
class WrittenTable:
    """What the truth and the file cases need once a table's files are written (the rows are freed)."""

    table: str
    files: dict[str, int]
    bad_rows: pd.DataFrame  # table, file_name, file_row_number, record_id, reason
    counts: dict[str, int]  # raw_rows, staged_rows, rejected_rows, superseded_rows
    head: pa.Table  # the first rows in file order (the quarantined file copies them)


def summarise(placed: PlacedBatch, head_rows: int = 20) -> WrittenTable:
    batch = placed.batch
    bad = batch.bad_reason != ""
    rows = np.flatnonzero(bad)
    return WrittenTable(
        table=batch.table,
        files=placed.files,
        bad_rows=pd.DataFrame(
            {
                "table": batch.table,
                "file_name": placed.file_names[rows],
                "file_row_number": placed.file_row_numbers[rows],
                "record_id": batch.record_ids[rows] if rows.size else np.zeros(0, dtype=object),
                "reason": batch.bad_reason[rows],
            }
        ),
        counts={
            "raw_rows": int(batch.data.num_rows),
            "staged_rows": int((batch.is_current & ~bad).sum()),
            "rejected_rows": int(bad.sum()),
            "superseded_rows": int((~batch.is_current & ~bad).sum()),
        },
        head=batch.data.slice(0, head_rows),
    )


def place(batch: RawBatch, ext: str) -> PlacedBatch:
    """Sort once by (file, sort key, original position) and number the rows within each file."""
    n = batch.data.num_rows
    order = np.lexsort((np.arange(n), batch.sort_key, batch.file_key))
    keys = batch.file_key[order]
    starts = np.concatenate(([0] if n else [], np.flatnonzero(np.diff(keys)) + 1)).astype(np.int64)
    counts = np.diff(np.append(starts, n))
    names = [file_name(batch.table, int(key), ext) for key in keys[starts]]
    sorted_batch = RawBatch(
        table=batch.table,
        data=batch.data.take(pa.array(order)),
        file_key=keys,
        sort_key=batch.sort_key[order],
        is_current=batch.is_current[order],
        bad_reason=batch.bad_reason[order],
    )
    return PlacedBatch(
        batch=sorted_batch,
        file_names=np.repeat(np.asarray(names, dtype=object), counts),
        file_row_numbers=np.arange(n) - np.repeat(starts, counts) + 1,
        files=dict(zip(names, counts.tolist(), strict=True)),
    )


def write_table(table: pa.Table, path: Path, fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))
    else:
        pq.write_table(table, path, compression="snappy")


def write_placed(
    placed: PlacedBatch,
    out: Path,
    fmt: str,
    extra_column_file: str | None = None,
) -> None:
    """Write every file of the batch; `extra_column_file` gets an unknown extra column."""
    start = 0
    for name, count in placed.files.items():
        part = placed.batch.data.slice(start, count)
        start += count
        if name == extra_column_file:
            part = part.append_column("legacy_source_system", pa.array(["crm_v1"] * count, pa.string()))
        write_table(part, out / name, fmt)


def clear_landing(out: Path, tables: list[str]) -> None:
    """Remove earlier generator output (only files named like ours) so a re-run does not mix seeds."""
    for table in tables:
        folder = out / table
        if folder.is_dir():
            for fmt in FORMATS:
                for path in folder.glob(f"{table}_*.{fmt}"):
                    path.unlink()
