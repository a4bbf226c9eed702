"""The lifecycle report: a self-contained HTML page of charts written beside each published version.

    $CLM_WAREHOUSE_DIR/published/versions/<version>/lifecycle_report.html   the version's report
    $CLM_WAREHOUSE_DIR/published/lifecycle_report.html                      the latest (stable path)

Written by every publish (orchestration.assets.publish.publish_marts), from the serving file it has
just swapped in, so its numbers are those of the version it sits beside; the rejected rows per reason come
from the warehouse (staging is not published).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from orchestration.business_picture import business_picture, rejected_rows_by_reason
from orchestration.duckdb_connection import connect
from orchestration.engines import engine_for
from orchestration.lifecycle_report.data import REPORTED_MARTS, read_report_data
from orchestration.lifecycle_report.page import render_page
from orchestration.lifecycle_report.vega_bundle import vega_bundle
from orchestration.settings import Settings

REPORT_HTML = "lifecycle_report.html"


class _ServingReader:
    """business_picture's reader interface over a connection to the serving file."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def query(self, sql: str) -> pd.DataFrame:
        return self.connection.execute(sql).df()

    def relation_exists(self, schema: str, table: str) -> bool:
        sql = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
        return self.connection.execute(sql, [schema, table]).fetchone()[0] > 0


def latest_report(settings: Settings) -> Path:
    return settings.published_dir / REPORT_HTML


def _rejected_rows(settings: Settings) -> list[dict[str, Any]]:
    with engine_for(settings).reader() as reader:
        return rejected_rows_by_reason(reader)


def render_lifecycle_report(settings: Settings, serving_file: Path, version: str) -> str | None:
    """The report page of a version, read from its serving file; None when the file lacks marts it shows
    (a partial publish, a few marts by hand). Publish reads the new file before swapping it in: in a
    process that still holds the old file open, DuckDB would hand the same path back as the old file."""
    connection = connect(settings, read_only=True, path=serving_file)  # bounded like every connection
    try:
        reader = _ServingReader(connection)
        if not all(reader.relation_exists("marts", mart) for mart in REPORTED_MARTS):
            return None
        data = read_report_data(connection)
        business = business_picture(reader)
    finally:
        connection.close()
    if business is None:
        return None
    return render_page(data, business, _rejected_rows(settings), version, vega_bundle(settings.cache_dir))


def write_lifecycle_report(settings: Settings, page: str, version: str) -> None:
    """The page beside the version's Parquet and as the latest report (latest_report)."""
    published = settings.published_dir
    for target in (published / "versions" / version / REPORT_HTML, latest_report(settings)):
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_text(page, encoding="utf-8")
        os.replace(temporary, target)  # a reader sees the old or the new page, never half of one


__all__ = ["REPORT_HTML", "latest_report", "render_lifecycle_report", "write_lifecycle_report"]
