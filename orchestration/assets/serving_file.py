"""The serving file: the published marts as tables of one DuckDB file, written whole or patched.

A daily publish changes few rows: the next day rewrites the as-of month of the monthly marts, and late
data a few months before it. Writing the serving file whole costs ~45 s at scale 10 (docs/benchmarks.md),
almost all of it for rows it already holds. So a publish starts from a copy of the current file and
replaces only what changed:

- every mart of a version is fingerprinted from its Parquet: the row count and the sum of a hash of each
  row, per month for the marts with a `month_start_date` column (PART_COLUMN), once for the others. The
  file stores the fingerprints of what it holds (`main.publish_fingerprints`, with the mart's columns and
  the DuckDB version that hashed them);
- a part (a month, or a whole mart) whose fingerprint differs, or that exists on one side only, is
  deleted and inserted again from the new Parquet; a mart that is new, or whose columns changed, is
  written whole; a mart no longer published is dropped;
- then the patched marts are fingerprinted again from the file's tables and must equal the Parquet's,
  or the file is written whole (the result says why).

The file is written whole, not patched, when there is no current file or it has no fingerprints, when
another DuckDB version wrote them (its hash may differ), when more than half of all rows changed (a full
build: patching would be slower than writing), or when more than half of the file's blocks are free
(a patch frees the blocks of the rows it replaces; DuckDB reuses them, so this stays rare).

Monthly marts are written in month order, so a month's rows share row groups: BI filters on the month
skip the others, and replacing a month frees whole blocks. The order comes from the files, not a sort: a
monthly mart's Parquet is one file per month named by its ISO date (no_month.parquet last), DuckDB reads
a folder's files in name order, and the serving connection keeps insertion order (FILE_ORDER). Sorting
had cost the whole write at scale 10 about 3 s of 58 and 3 GB of peak memory (docs/DECISIONS.md).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from orchestration.duckdb_connection import connect, connect_in_memory
from orchestration.published_layout import (
    NO_MONTH,
    PART_COLUMN,
    fingerprint_query,
    months_dir,
    read_expression,
    read_fingerprints,
)
from orchestration.settings import Settings

STORAGE = {"storage_compatibility_version": "v1.0.0"}  # readable by every DuckDB 1.x
FILE_ORDER = {"preserve_insertion_order": True}  # rows are stored in the order the month files are read
WHOLE_WRITE_CHANGED_SHARE = 0.5  # above this share of changed rows a whole write is faster than a patch
WHOLE_WRITE_FREE_SHARE = 0.5  # above this share of free blocks the file is written whole (compacted)

Docs = dict[str, tuple[str, dict[str, str]]]  # mart -> (description, {column: description})
Part = date | None  # a month of a monthly mart (None: its rows without a month, or a mart fingerprinted whole)


@dataclass(frozen=True)
class MartPrint:
    """What a mart holds: its columns (name and type, in order) and each part's (row count, row hash sum)."""

    columns: str
    parts: dict[Part, tuple[int, str]]

    @property
    def monthly(self) -> bool:
        return PART_COLUMN in {name for name, _ in json.loads(self.columns)}

    @property
    def row_count(self) -> int:
        return sum(count for count, _ in self.parts.values())


@dataclass
class ServingWrite:
    """How a publish wrote the serving file: `whole` or `patched`, why, and the parts it replaced."""

    mode: str
    reason: str
    replaced: dict[str, list[str]] = field(default_factory=dict)

    def summary(self) -> str:
        parts = sum(len(v) for v in self.replaced.values())
        return f"{self.mode} ({self.reason}; {parts} parts of {len(self.replaced)} marts replaced)"


def _quoted(text: str) -> str:
    return "'" + text.strip().replace("'", "''") + "'"


def _columns(connection: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in connection.execute(f"describe select * from {relation}").fetchall()]


def _fingerprint(connection: duckdb.DuckDBPyConnection, relation: str) -> MartPrint:
    """Row count and row-hash sum of a relation, per month when it has PART_COLUMN (one scan)."""
    columns = _columns(connection, relation)
    names = [name for name, _ in columns]
    rows = connection.execute(fingerprint_query(relation, names)).fetchall()
    parts = {part_value: (count, row_hash) for part_value, count, row_hash in rows}
    if PART_COLUMN not in names and not parts:
        parts = {None: (0, "0")}
    return MartPrint(json.dumps(columns), parts)


def _exported_print(version_dir: Path, mart: str) -> MartPrint | None:
    """The fingerprints the DuckDB export wrote beside a monthly mart's files, of the rows it wrote and by the
    same query, so the Parquet need not be scanned again; None when there are none (a mart in one file, an
    export by PostgreSQL or Spark) or another DuckDB version made them."""
    exported = read_fingerprints(months_dir(version_dir, mart))
    if exported.get("duckdb_version") != duckdb.__version__:
        return None
    parts: dict[Part, tuple[int, str]] = {
        (None if name == NO_MONTH else date.fromisoformat(name)): (count, row_hash)
        for name, (count, row_hash) in exported["months"].items()
    }
    return MartPrint(exported["columns"], parts)


def version_prints(settings: Settings, version_dir: Path, marts: list[str]) -> dict[str, MartPrint]:
    """The fingerprints of a version's Parquet, mart by mart (the export's where it made them)."""
    with connect_in_memory(settings) as connection:
        return {
            mart: _exported_print(version_dir, mart) or _fingerprint(connection, read_expression(version_dir, mart))
            for mart in marts
        }


def _stored_prints(connection: duckdb.DuckDBPyConnection) -> dict[str, MartPrint] | None:
    """The fingerprints a serving file stores, or None when it has none or another DuckDB version made them."""
    has_table = connection.execute(
        "select count(*) from duckdb_tables() where schema_name = 'main' and table_name = 'publish_fingerprints'"
    ).fetchone()[0]
    if not has_table:
        return None
    rows = connection.execute(
        "select mart, columns, duckdb_version, month_start_date, row_count, row_hash from main.publish_fingerprints"
    ).fetchall()
    if any(version != duckdb.__version__ for _, _, version, *_ in rows):
        return None
    prints: dict[str, MartPrint] = {}
    for mart, columns, _, part, count, row_hash in rows:
        prints.setdefault(mart, MartPrint(columns, {})).parts[part] = (count, row_hash)
    return prints


def _finish(connection: duckdb.DuckDBPyConnection, prints: Mapping[str, MartPrint], version: str) -> None:
    """The file's bookkeeping: `main.publish_info` (the version, when, each mart's rows: what BI readers
    check) and `main.publish_fingerprints` (what the next publish compares with)."""
    published_at = datetime.now(UTC).replace(tzinfo=None)
    connection.execute("drop table if exists main.publish_info")
    connection.execute(
        "create table main.publish_info (version varchar, published_at timestamp, mart varchar, row_count bigint)"
    )
    connection.executemany(
        "insert into main.publish_info values (?, ?, ?, ?)",
        [(version, published_at, mart, p.row_count) for mart, p in prints.items()],
    )
    connection.execute("drop table if exists main.publish_fingerprints")
    connection.execute(
        "create table main.publish_fingerprints (mart varchar, columns varchar, duckdb_version varchar,"
        " month_start_date date, row_count bigint, row_hash varchar)"
    )
    connection.executemany(
        "insert into main.publish_fingerprints values (?, ?, ?, ?, ?, ?)",
        [
            (mart, p.columns, duckdb.__version__, part, count, row_hash)
            for mart, p in prints.items()
            for part, (count, row_hash) in p.parts.items()
        ],
    )
    connection.execute("checkpoint")


def _comment(connection: duckdb.DuckDBPyConnection, mart: str, docs: Docs) -> None:
    description, columns = docs.get(mart, ("", {}))
    connection.execute(f"comment on table marts.{mart} is {_quoted(description)}")
    present = {name for name, _ in _columns(connection, f"marts.{mart}")}
    for column, text in columns.items():
        if column in present:
            connection.execute(f'comment on column marts.{mart}."{column}" is {_quoted(text)}')


def _write_mart(connection: duckdb.DuckDBPyConnection, version_dir: Path, mart: str) -> None:
    connection.execute(f"drop table if exists marts.{mart}")
    connection.execute(f"create table marts.{mart} as select * from {read_expression(version_dir, mart)}")


def _changed_parts(old: MartPrint | None, new: MartPrint) -> list[Part] | None:
    """The parts to replace; None when the mart must be written whole (new, or its columns changed)."""
    if old is None or old.columns != new.columns:
        return None
    return sorted((p for p in set(old.parts) | set(new.parts) if old.parts.get(p) != new.parts.get(p)), key=str)


def _replace_months(connection: duckdb.DuckDBPyConnection, version_dir: Path, mart: str, months: list[Part]) -> None:
    listed = ", ".join(f"'{month.isoformat()}'::date" for month in months if month is not None)
    conditions = [f'"{PART_COLUMN}" in ({listed})'] if listed else []
    if None in months:
        conditions.append(f'"{PART_COLUMN}" is null')
    in_months = " or ".join(conditions)
    connection.execute(f"delete from marts.{mart} where {in_months}")
    connection.execute(f"insert into marts.{mart} select * from {read_expression(version_dir, mart)} where {in_months}")


def _free_share(connection: duckdb.DuckDBPyConnection) -> float:
    total, free = connection.execute("select total_blocks, free_blocks from pragma_database_size()").fetchone()
    return free / total if total else 0.0


def _write_whole(
    settings: Settings, path: Path, version_dir: Path, prints: Mapping[str, MartPrint], docs: Docs, version: str
) -> None:
    path.unlink(missing_ok=True)
    with connect(settings, path=path, extra_config={**STORAGE, **FILE_ORDER}) as connection:  # memory bounded
        connection.execute("create schema marts")
        for mart in prints:
            _write_mart(connection, version_dir, mart)
            _comment(connection, mart, docs)
        _finish(connection, prints, version)


def _patch(
    settings: Settings,
    path: Path,
    version_dir: Path,
    prints: Mapping[str, MartPrint],
    docs: Docs,
    version: str,
    current: Path,
) -> ServingWrite:
    """Patch a copy of `current` at `path`; a ServingWrite with mode `whole` means it must be written whole."""
    path.unlink(missing_ok=True)
    shutil.copyfile(current, path)
    with connect(settings, path=path, extra_config=FILE_ORDER) as connection:
        stored = _stored_prints(connection)
        if stored is None:
            return ServingWrite("whole", "the current file has no fingerprints of this DuckDB version")
        if _free_share(connection) > WHOLE_WRITE_FREE_SHARE:
            return ServingWrite("whole", "compacting: more than half of the current file's blocks are free")
        plan = {mart: _changed_parts(stored.get(mart), new) for mart, new in prints.items()}
        changed_rows = sum(
            new.row_count if plan[mart] is None else sum(new.parts.get(p, (0, ""))[0] for p in plan[mart])
            for mart, new in prints.items()
        )
        total_rows = sum(new.row_count for new in prints.values())
        if total_rows and changed_rows > WHOLE_WRITE_CHANGED_SHARE * total_rows:
            return ServingWrite("whole", f"{changed_rows:,} of {total_rows:,} rows changed")
        write = ServingWrite("patched", f"{changed_rows:,} of {total_rows:,} rows changed")
        for mart in set(stored) - set(prints):
            connection.execute(f"drop table if exists marts.{mart}")
        for mart, parts in plan.items():
            if parts is None or (parts and not prints[mart].monthly):  # new, columns changed, or changed whole
                _write_mart(connection, version_dir, mart)
                write.replaced[mart] = ["whole"]
            elif parts:
                _replace_months(connection, version_dir, mart, parts)
                write.replaced[mart] = [str(p) if p else "no month" for p in parts]
            _comment(connection, mart, docs)  # descriptions may change without the data
        patched = [mart for mart, parts in write.replaced.items() if parts != ["whole"]]
        if wrong := [mart for mart in patched if _fingerprint(connection, f"marts.{mart}") != prints[mart]]:
            return ServingWrite("whole", f"the patched file differs from the Parquet in {', '.join(sorted(wrong))}")
        _finish(connection, prints, version)
    return write


def write_serving_file(
    settings: Settings,
    path: Path,
    version_dir: Path,
    marts: list[str],
    docs: Docs,
    version: str,
    current: Path | None = None,
) -> ServingWrite:
    """Write the serving file of a version at `path`: a patched copy of `current` when it has one, else whole
    (see the module doc). The caller swaps it in."""
    prints = version_prints(settings, version_dir, marts)
    write = ServingWrite("whole", "no current serving file")
    if current is not None and current.exists():
        try:
            write = _patch(settings, path, version_dir, prints, docs, version, current)
        except duckdb.Error as error:  # an unreadable or foreign current file: start afresh
            write = ServingWrite("whole", f"the current file could not be patched: {error}")
    if write.mode == "whole":
        _write_whole(settings, path, version_dir, prints, docs, version)
        write.replaced = {mart: ["whole"] for mart in marts}
    return write
