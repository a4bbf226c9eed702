"""Serving (DOMAIN.md §9): the marts as Parquet plus a DuckDB file of views over them, swapped atomically.

    $CLM_WAREHOUSE_DIR/published/
        versions/<version>/<mart>.parquet   one folder per publish (written as .<version>.partial, renamed)
        serving.duckdb                      views marts.<mart> over the current version's Parquet
        CURRENT                             the current version's name

The serving file is written under a temporary name and moved over the old one with os.replace, so a
reader sees the old or the new version, never half of one; a reader that still has the old file open
keeps working because the previous versions' Parquet is kept (KEEP_VERSIONS). A failed publish
leaves the published folder as it was. BI users open the file with `open_serving` (read-only, file
access limited to the published folder).
"""

import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.checks.results import blocking_failures
from orchestration.resources import WarehouseResource
from orchestration.settings import Settings

SERVING_FILE = "serving.duckdb"
KEEP_VERSIONS = 3  # the current one and two before it, for readers still holding an older file
SERVING_STORAGE_VERSION = "v1.0.0"  # readable by every DuckDB 1.x


class PublishBlockedError(RuntimeError):
    """A blocking data-quality check of a mart failed: nothing is published."""


@dataclass
class PublishResult:
    version: str
    version_dir: Path
    serving_path: Path
    rows: dict[str, int] = field(default_factory=dict)


def _version_name() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _export_duckdb(settings: Settings, marts: list[str], folder: Path) -> dict[str, int]:
    import duckdb

    rows: dict[str, int] = {}
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as connection:
        for mart in marts:
            columns = connection.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'marts' and table_name = ? order by ordinal_position",
                [mart],
            ).fetchall()
            # HUGEINT (DuckDB's sum of integers) has no Parquet type: counts fit in BIGINT
            select = ", ".join(
                f'cast("{name}" as bigint) as "{name}"' if kind == "HUGEINT" else f'"{name}"' for name, kind in columns
            )
            target = folder / f"{mart}.parquet"
            connection.execute(
                f"copy (select {select} from marts.{mart}) to '{target}' (format parquet, compression zstd)"
            )
            rows[mart] = int(connection.execute(f"select count(*) from marts.{mart}").fetchone()[0])
    return rows


def _export_postgres(settings: Settings, marts: list[str], folder: Path) -> dict[str, int]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from orchestration.resources import open_reader

    rows: dict[str, int] = {}
    with open_reader(settings) as reader:
        for mart in marts:
            frame = reader.query(f"select * from marts.{mart}")
            pq.write_table(
                pa.Table.from_pandas(frame, preserve_index=False), folder / f"{mart}.parquet", compression="zstd"
            )
            rows[mart] = len(frame)
    return rows


def _write_serving_file(path: Path, version_dir: Path, rows: dict[str, int], version: str) -> None:
    import duckdb

    path.unlink(missing_ok=True)
    with duckdb.connect(str(path), config={"storage_compatibility_version": SERVING_STORAGE_VERSION}) as connection:
        connection.execute("create schema marts")
        for mart in rows:
            parquet = (version_dir / f"{mart}.parquet").resolve()
            connection.execute(f"create view marts.{mart} as select * from read_parquet('{parquet}')")
        connection.execute(
            "create table main.publish_info (version varchar, published_at timestamp, mart varchar, row_count bigint)"
        )
        published_at = datetime.now(UTC).replace(tzinfo=None)
        connection.executemany(
            "insert into main.publish_info values (?, ?, ?, ?)",
            [(version, published_at, m, n) for m, n in rows.items()],
        )
        connection.execute("checkpoint")


def _prune(versions_dir: Path, keep: int) -> None:
    finished = sorted(p for p in versions_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in finished[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    for partial in versions_dir.glob(".*.partial"):
        shutil.rmtree(partial, ignore_errors=True)  # left by a publish that died


def publish_marts(settings: Settings, marts: list[str], *, check_gate: bool = True) -> PublishResult:
    """Export the marts to a new version folder and swap the serving file to it (see the module doc)."""
    if check_gate and (failed := blocking_failures(settings)):
        raise PublishBlockedError(f"blocking data-quality checks failed, nothing published: {', '.join(failed)}")
    published = settings.published_dir
    versions_dir = published / "versions"
    versions_dir.mkdir(parents=True, exist_ok=True)
    version = _version_name()
    partial = versions_dir / f".{version}.partial"
    partial.mkdir()
    try:
        if settings.target == "duckdb":
            rows = _export_duckdb(settings, marts, partial)
        elif settings.target == "postgres":
            rows = _export_postgres(settings, marts, partial)
        else:
            raise NotImplementedError(f"publishing from {settings.target!r} is not implemented")
        version_dir = versions_dir / version
        partial.rename(version_dir)
        temporary = published / f".{SERVING_FILE}.{version}.tmp"
        _write_serving_file(temporary, version_dir, rows, version)
        os.replace(temporary, published / SERVING_FILE)  # the atomic swap
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    current_tmp = published / ".CURRENT.tmp"
    current_tmp.write_text(version + "\n", encoding="utf-8")
    os.replace(current_tmp, published / "CURRENT")
    _prune(versions_dir, KEEP_VERSIONS)
    return PublishResult(version=version, version_dir=version_dir, serving_path=published / SERVING_FILE, rows=rows)


def open_serving(path: str | Path) -> Any:
    """How a BI reader opens the serving file: read-only, file access limited to the published folder,
    configuration locked (a query cannot widen it)."""
    import duckdb

    path = Path(path).resolve()
    connection = duckdb.connect(str(path), read_only=True)
    connection.execute(f"set allowed_directories = ['{path.parent}/']")
    connection.execute("set enable_external_access = false")
    connection.execute("set lock_configuration = true")
    return connection


def publish_asset(mart_keys: dict[str, dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["serving", "published_marts"]),
        deps=list(mart_keys.values()),
        group_name="serving",
        description="The marts as Parquet and a read-only DuckDB serving file of views over them (atomic swap).",
        owners=["team:data-platform"],
        kinds={"parquet", "duckdb"},
        retry_policy=dg.RetryPolicy(max_retries=1, delay=5),
    )
    def published_marts(context: AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        settings = warehouse.settings()
        try:
            result = publish_marts(settings, sorted(mart_keys))
        except PublishBlockedError as error:
            raise dg.Failure(str(error), allow_retries=False) from error
        context.log.info(f"published version {result.version} to {result.version_dir}")
        return dg.MaterializeResult(
            metadata={
                "version": result.version,
                "serving_file": dg.MetadataValue.path(str(result.serving_path)),
                "parquet_folder": dg.MetadataValue.path(str(result.version_dir)),
                "marts": len(result.rows),
                "rows": dg.MetadataValue.json(result.rows),
                "dq_results": dg.MetadataValue.path(str(settings.warehouse_dir / "dq" / "latest.json")),
            }
        )

    return published_marts
