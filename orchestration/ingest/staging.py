"""Parsing landed files into a DuckDB temp table per raw table, in the raw table's shape.

Every loader stages here first (DuckDB on the warehouse connection itself, PostgreSQL on an in-memory
DuckDB), so all files are parsed before anything is written: a malformed file fails the run with the
warehouse unchanged. Files with the same layout are read by one `read_csv`/`read_parquet` call.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import duckdb
import pyarrow as pa

from orchestration.contract import LOAD_METADATA_COLUMNS, RAW_TABLES
from orchestration.ingest.ledger import PlannedFile

_SOURCE_PATH = "_ingest_source_path"
_FILES = "_ingest_files"
_READ = "_ingest_read"


def stage_relation(table: str) -> str:
    return f"_ingest_stage_{table}"


def raw_columns(table: str) -> tuple[str, ...]:
    return RAW_TABLES[table].columns + LOAD_METADATA_COLUMNS


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _read_csv_sql(paths: list[str], width: int) -> str:
    # Positional names c0..cN: the header row is skipped, never sniffed, and no file column can clash
    # with ours. Nothing is inferred: all varchar, comma, double quote, strict (a ragged row fails the
    # load instead of being dropped or padded); empty fields, quoted or not, become NULL.
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width))
    files = ", ".join(quote_literal(p) for p in paths)
    return (
        f"read_csv([{files}], columns = {{{columns}}}, header = true, auto_detect = false,"
        " delim = ',', quote = '\"', escape = '\"', skip = 0, strict_mode = true,"
        f" ignore_errors = false, null_padding = false, filename = '{_SOURCE_PATH}')"
    )


def _read_parquet_sql(paths: list[str]) -> str:
    files = ", ".join(quote_literal(p) for p in paths)
    return f"read_parquet([{files}], union_by_name = true, filename = '{_SOURCE_PATH}')"


def _group_by_layout(files: list[PlannedFile]) -> dict[tuple[str, tuple[str, ...]], list[PlannedFile]]:
    groups: dict[tuple[str, tuple[str, ...]], list[PlannedFile]] = defaultdict(list)
    for planned in files:
        assert planned.header is not None
        groups[(planned.landed.format, planned.header.source_columns)].append(planned)
    return groups


def _register_files(con: duckdb.DuckDBPyConnection, files: list[PlannedFile]) -> None:
    paths = pa.table(
        {
            "path": [str(p.landed.path) for p in files],
            "file_name": [p.landed.file_name for p in files],
            "sha256": [p.sha256 for p in files],
        }
    )
    con.register("_ingest_files_arrow", paths)
    con.execute(f"create or replace temp table {_FILES} as select * from _ingest_files_arrow")
    con.unregister("_ingest_files_arrow")


def stage_table(
    con: duckdb.DuckDBPyConnection, table: str, files: list[PlannedFile], loaded_at: datetime
) -> dict[str, int]:
    """Parse `files` of `table` into temp table `stage_relation(table)`; return rows per file name."""
    stage = stage_relation(table)
    spec = RAW_TABLES[table]
    con.execute("set TimeZone = 'UTC'")  # Parquet timestamptz values cast to text in UTC, always
    column_ddl = ", ".join(
        [f"{c} varchar" for c in spec.columns]
        + [
            "_raw_row_id varchar",
            "_file_name varchar",
            "_file_row_number bigint",
            "_file_sha256 varchar",
            "_loaded_at timestamp",
        ]
    )
    con.execute(f"create or replace temp table {stage} ({column_ddl})")
    if not files:
        return {}
    _register_files(con, files)
    for (file_format, source_columns), group in _group_by_layout(files).items():
        header = group[0].header
        assert header is not None
        paths = [str(p.landed.path) for p in group]
        if file_format == "csv":
            reader = _read_csv_sql(paths, len(source_columns))
            source = {c: f"c{header.columns.index(c)}" for c in spec.columns if c in header.columns}
        else:
            reader = _read_parquet_sql(paths)
            source = {
                c: f"cast({quote_identifier(source_columns[header.columns.index(c)])} as varchar)"
                for c in spec.columns
                if c in header.columns
            }
        # A table created from a scan keeps the scan's order (preserve_insertion_order), so rowid
        # order within a file is the file's row order: the only reliable per-file row number for CSV.
        con.execute(f"create or replace temp table {_READ} as select * from {reader}")
        business = ", ".join(f"{source.get(c, 'cast(null as varchar)')} as {c}" for c in spec.columns)
        con.execute(
            f"""
            insert into {stage}
            with numbered as (
                select
                    *,
                    row_number() over (partition by {_SOURCE_PATH} order by rowid) as _row_number,
                from {_READ}
            )
            select
                {business},
                left(files.sha256, 16) || '-' || numbered._row_number as _raw_row_id,
                files.file_name as _file_name,
                numbered._row_number as _file_row_number,
                files.sha256 as _file_sha256,
                cast(? as timestamp) as _loaded_at,
            from numbered
            inner join {_FILES} as files on files.path = numbered.{_SOURCE_PATH}
            order by files.file_name, numbered._row_number
            """,
            [loaded_at],
        )
        con.execute(f"drop table {_READ}")
    con.execute(f"drop table {_FILES}")
    counts = con.execute(f"select _file_name, count(*) from {stage} group by _file_name").fetchall()
    return {name: int(rows) for name, rows in counts}


def drop_stage(con: duckdb.DuckDBPyConnection, table: str) -> None:
    con.execute(f"drop table if exists {stage_relation(table)}")
