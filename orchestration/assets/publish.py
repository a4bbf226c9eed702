"""Serving (DOMAIN.md §9): the marts as Parquet plus a DuckDB file holding them as tables, swapped atomically.

    $CLM_WAREHOUSE_DIR/published/
        versions/<version>/<mart>.parquet   one folder per publish (written as .<version>.partial, renamed);
        versions/<version>/<mart>/*.parquet a monthly mart: one file per month (orchestration/published_layout.py)
        versions/<version>/lifecycle_report.html and lifecycle_report.html (the latest): the charts
        serving.duckdb                      the current version's marts as tables, self-contained
        CURRENT                             the current version's name

The serving file holds the data itself (tables marts.<mart>, loaded from the version's Parquet, with the
dbt descriptions as table and column comments), not views over file paths: copied or moved to another
folder or machine it answers the same, and it can never read another version's files. Only the marts
the dbt exposure `bi_serving_copy` lists are published. It is usually a patched copy of the current one,
with only the months and marts that changed replaced (orchestration/assets/serving_file.py).

The serving file is written under a temporary name and moved over the old one with os.replace, so a
reader sees the old or the new version, never half of one; a reader that still has the old file open
keeps working because the previous versions' Parquet is kept (KEEP_VERSIONS). A failed publish
leaves the published folder as it was. BI users open the file with `open_serving` (read-only, file
access limited to the published folder).
"""

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.assets.dbt_assets import relation_docs
from orchestration.assets.serving_file import Docs, ServingWrite, write_serving_file
from orchestration.checks.results import blocking_failures
from orchestration.engines import engine_for
from orchestration.lifecycle_report import render_lifecycle_report, write_lifecycle_report
from orchestration.manifest import ManifestMissingError, load_manifest
from orchestration.resources import WarehouseResource
from orchestration.settings import Settings

SERVING_FILE = "serving.duckdb"
KEEP_VERSIONS = 3  # the current one and two before it, for readers still holding an older file


class PublishBlockedError(RuntimeError):
    """A blocking data-quality check of a mart failed: nothing is published."""


@dataclass
class PublishResult:
    version: str
    version_dir: Path
    serving_path: Path
    rows: dict[str, int] = field(default_factory=dict)
    serving: ServingWrite | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # wall time of each phase (PUBLISH_PHASES)

    def timing(self) -> str:
        return ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in self.seconds.items())


PUBLISHED_MARTS_KEY = dg.AssetKey(["serving", "published_marts"])
# the phases of a publish, timed for the asset's metadata: where a run's publish time goes
EXPORT_PHASE, SERVING_FILE_PHASE, REPORT_PHASE = "export", "serving_file", "report"
PUBLISH_PHASES = (EXPORT_PHASE, SERVING_FILE_PHASE, REPORT_PHASE)


@contextmanager
def _timed(seconds: dict[str, float], phase: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds[phase] = round(time.perf_counter() - started, 3)


def _version_name() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _export(settings: Settings, marts: list[str], folder: Path, previous: Path | None) -> dict[str, int]:
    engine = engine_for(settings)
    with engine.session():
        return {mart: engine.export_mart("marts", mart, folder, previous) for mart in marts}


def _current_version_dir(published: Path) -> Path | None:
    """The folder of the version being served now, if there is one (the export may reuse its months)."""
    current = published / "CURRENT"
    if not current.exists():
        return None
    folder = published / "versions" / current.read_text(encoding="utf-8").strip()
    return folder if folder.is_dir() else None


def _docs_from_manifest(marts: list[str]) -> Docs:
    """The dbt descriptions of the marts from the project's manifest (none when it is not built)."""
    try:
        manifest = load_manifest()
    except ManifestMissingError:
        return {}
    return {mart: relation_docs(manifest, mart) for mart in marts}


def _prune(versions_dir: Path, keep: int) -> None:
    finished = sorted(p for p in versions_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in finished[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    for partial in versions_dir.glob(".*.partial"):
        shutil.rmtree(partial, ignore_errors=True)  # left by a publish that died


def publish_marts(
    settings: Settings, marts: list[str], *, docs: Docs | None = None, check_gate: bool = True
) -> PublishResult:
    """Export the marts to a new version folder and swap the serving file to it (see the module doc)."""
    if docs is None:
        docs = _docs_from_manifest(marts)
    if check_gate and (failed := blocking_failures(settings)):
        raise PublishBlockedError(f"blocking data-quality checks failed, nothing published: {', '.join(failed)}")
    published = settings.published_dir
    versions_dir = published / "versions"
    versions_dir.mkdir(parents=True, exist_ok=True)
    version = _version_name()
    partial = versions_dir / f".{version}.partial"
    partial.mkdir()
    version_dir = versions_dir / version
    temporary = published / f".{SERVING_FILE}.{version}.tmp"
    seconds: dict[str, float] = {}
    try:
        with _timed(seconds, EXPORT_PHASE):
            rows = _export(settings, marts, partial, _current_version_dir(published))
        partial.rename(version_dir)
        with _timed(seconds, SERVING_FILE_PHASE):
            serving = write_serving_file(
                settings, temporary, version_dir, list(rows), docs, version, current=published / SERVING_FILE
            )
        with _timed(seconds, REPORT_PHASE):
            page = render_lifecycle_report(settings, temporary, version)  # from exactly what is published
        os.replace(temporary, published / SERVING_FILE)  # the atomic swap
    except BaseException:  # nothing of a failed version stays: CURRENT and the serving file are the old ones
        shutil.rmtree(partial, ignore_errors=True)
        shutil.rmtree(version_dir, ignore_errors=True)
        temporary.unlink(missing_ok=True)
        raise
    current_tmp = published / ".CURRENT.tmp"
    current_tmp.write_text(version + "\n", encoding="utf-8")
    os.replace(current_tmp, published / "CURRENT")
    if page is not None:
        write_lifecycle_report(settings, page, version)
    _prune(versions_dir, KEEP_VERSIONS)
    return PublishResult(version, version_dir, published / SERVING_FILE, rows, serving, seconds)


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


def publish_asset(mart_keys: dict[str, dg.AssetKey], docs: Docs) -> dg.AssetsDefinition:
    """Publishes the marts of mart_keys (the exposure's list), with their dbt descriptions."""

    @dg.asset(
        key=PUBLISHED_MARTS_KEY,
        deps=list(mart_keys.values()),
        group_name="serving",
        description="The analyst marts as Parquet and a self-contained read-only DuckDB serving file (atomic swap).",
        owners=["team:data-platform"],
        kinds={"parquet", "duckdb"},
        retry_policy=dg.RetryPolicy(max_retries=1, delay=5),
    )
    def published_marts(context: AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        settings = warehouse.settings()
        try:
            result = publish_marts(settings, sorted(mart_keys), docs=docs)
        except PublishBlockedError as error:
            raise dg.Failure(str(error), allow_retries=False) from error
        context.log.info(f"published version {result.version} to {result.version_dir} ({result.timing()})")
        if result.serving is not None:
            context.log.info(f"serving file {result.serving.summary()}")
        return dg.MaterializeResult(
            metadata={
                "version": result.version,
                "serving_file": dg.MetadataValue.path(str(result.serving_path)),
                "parquet_folder": dg.MetadataValue.path(str(result.version_dir)),
                "marts": len(result.rows),
                "rows": dg.MetadataValue.json(result.rows),
                "serving_write": result.serving.summary() if result.serving else "",
                "seconds": dg.MetadataValue.json(result.seconds),
                "dq_results": dg.MetadataValue.path(str(settings.warehouse_dir / "dq" / "latest.json")),
            }
        )

    return published_marts
