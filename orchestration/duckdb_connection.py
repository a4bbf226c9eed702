"""Every DuckDB connection the project opens from Python, with the memory bound of the settings
(memory_limit, threads, temp_directory for spilling, preserve_insertion_order off). dbt's own
connection gets the same values from profiles.yml."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.settings import Settings


def connect(
    settings: Settings,
    *,
    read_only: bool = False,
    path: Path | None = None,
    extra_config: dict[str, str] | None = None,
) -> duckdb.DuckDBPyConnection:
    """The warehouse file (or another DuckDB file at `path`: the serving file), bounded by the settings;
    `read_only` for readers; `extra_config` adds settings of that file (e.g. its storage version)."""
    config = {**settings.duckdb.config(), **(extra_config or {})}
    if not read_only:
        settings.duckdb.temp_directory.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path or settings.duckdb_path), read_only=read_only, config=config)


def connect_in_memory(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A scratch in-memory database (parsing landed files), bounded the same way."""
    settings.duckdb.temp_directory.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(":memory:", config=settings.duckdb.config())
