"""Parsing landed files into one Arrow table per raw table, before anything is written.

Every loader stages here first, so all files of all tables are parsed before the first write: a
malformed file fails the run with the warehouse unchanged. CSV files are parsed by pyarrow, one file
per task on a thread pool: each file's row order is then known exactly, so `_file_row_number` is the
data row's position in its file by construction (a multi-file DuckDB `read_csv` has no per-file row
number for CSV). Parquet values are cast to text by DuckDB, so the text of a typed Parquet value is
the same on every target.

The staged table holds the contract's business columns (text) plus `_file_name`, `_file_sha256`
(dictionary-encoded: one entry per file) and `_file_row_number`; `final_select_sql` derives the rest.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from orchestration.contract import LOAD_METADATA_COLUMNS, RAW_TABLES
from orchestration.ingest.inspection import InvalidLandedFileError
from orchestration.ingest.ledger import PlannedFile


@dataclass(frozen=True)
class StagedTable:
    table: str
    rows: pa.Table
    row_counts: dict[str, int]  # rows per file name


def raw_columns(table: str) -> tuple[str, ...]:
    return RAW_TABLES[table].columns + LOAD_METADATA_COLUMNS


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def final_select_sql(table: str, relation: str) -> str:
    """The raw table's rows from a staged relation; one parameter, the load's UTC timestamp."""
    business = ", ".join(RAW_TABLES[table].columns)
    return (
        f"select {business},"
        " left(_file_sha256, 16) || '-' || cast(_file_row_number as varchar) as _raw_row_id,"
        " cast(_file_name as varchar) as _file_name, _file_row_number,"
        " cast(_file_sha256 as varchar) as _file_sha256, cast(? as timestamp) as _loaded_at"
        f" from {relation}"
    )


def _staged_schema(table: str) -> pa.Schema:
    text_dictionary = pa.dictionary(pa.int32(), pa.string())
    return pa.schema(
        [pa.field(c, pa.string()) for c in RAW_TABLES[table].columns]
        + [
            pa.field("_file_name", text_dictionary),
            pa.field("_file_sha256", text_dictionary),
            pa.field("_file_row_number", pa.int64()),
        ]
    )


def _read_csv(planned: PlannedFile) -> pa.Table:
    """All columns as text, as written: no type inference, no trimming, only the empty field (quoted or
    not) is NULL ('NULL', 'NaN', 'N/A' stay text), blank lines skipped, a ragged row is an error."""
    assert planned.header is not None
    names = [f"c{i}" for i in range(len(planned.header.columns))]
    try:
        return pacsv.read_csv(
            planned.landed.path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=",", quote_char='"', double_quote=True, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except (pa.ArrowInvalid, OSError) as error:
        raise InvalidLandedFileError(f"{planned.landed.file_name}: cannot be parsed: {error}") from error


def _read_parquet(planned: PlannedFile) -> pa.Table:
    """Every column cast to text by DuckDB (timestamps with time zone rendered in UTC)."""
    assert planned.header is not None
    try:
        data = pq.read_table(planned.landed.path)
    except (pa.ArrowInvalid, OSError) as error:
        raise InvalidLandedFileError(f"{planned.landed.file_name}: cannot be read: {error}") from error
    data = data.rename_columns([f"c{i}" for i in range(data.num_columns)])
    con = duckdb.connect(":memory:")
    try:
        con.execute("set TimeZone = 'UTC'")
        con.register("parquet_rows", data)
        columns = ", ".join(f"cast(c{i} as varchar) as c{i}" for i in range(data.num_columns))
        return con.execute(f"select {columns} from parquet_rows").to_arrow_table()
    finally:
        con.close()


def _numpy_array(kind: pa.DataType, values: np.ndarray) -> pa.Array:
    # zero-copy, and unlike pa.array() it does not import pandas to ask whether values are a Series
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def _shape(
    table: str, planned: PlannedFile, parsed: pa.Table, index: int, names: pa.Array, digests: pa.Array
) -> pa.Table:
    """Contract columns by name (absent optional ones NULL, extra ones dropped) and the file's metadata."""
    assert planned.header is not None
    n = parsed.num_rows
    positions = {c: i for i, c in enumerate(planned.header.columns)}
    columns: list[pa.Array | pa.ChunkedArray] = [
        parsed.column(positions[c]) if c in positions else pa.nulls(n, pa.string()) for c in RAW_TABLES[table].columns
    ]
    file_index = _numpy_array(pa.int32(), np.full(n, index, dtype=np.int32))
    columns += [
        pa.DictionaryArray.from_arrays(file_index, names),
        pa.DictionaryArray.from_arrays(file_index, digests),
        _numpy_array(pa.int64(), np.arange(1, n + 1, dtype=np.int64)),
    ]
    return pa.Table.from_arrays(columns, schema=_staged_schema(table))


def stage_table(table: str, files: list[PlannedFile]) -> StagedTable:
    """Parse `files` (all of one table, in ledger order) into the staged shape."""
    names = pa.array([p.landed.file_name for p in files], type=pa.string())
    digests = pa.array([p.sha256 for p in files], type=pa.string())

    def parse(item: tuple[int, PlannedFile]) -> pa.Table:
        index, planned = item
        parsed = _read_csv(planned) if planned.landed.format == "csv" else _read_parquet(planned)
        return _shape(table, planned, parsed, index, names, digests)

    workers = min(8, 2 * (os.cpu_count() or 2))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(parse, enumerate(files)))
    rows = pa.concat_tables(parts) if parts else _staged_schema(table).empty_table()
    counts = {p.landed.file_name: part.num_rows for p, part in zip(files, parts, strict=True)}
    return StagedTable(table=table, rows=rows, row_counts=counts)
