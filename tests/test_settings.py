"""The DuckDB memory bound: one set of defaults for Python connections and dbt's profile, applied to
every connection the project opens."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from orchestration.duckdb_connection import connect
from orchestration.settings import DEFAULT_DUCKDB_MEMORY_LIMIT, DEFAULT_DUCKDB_THREADS, PROJECT_DIR, load_settings


def _profile_default(variable: str) -> str:
    text = (PROJECT_DIR / "profiles.yml").read_text()
    match = re.search(rf"env_var\('{variable}', '([^']*)'\)", text)
    assert match, f"profiles.yml does not read {variable}"
    return match.group(1)


def test_profile_and_python_share_the_duckdb_defaults() -> None:
    assert _profile_default("CLM_DUCKDB_MEMORY_LIMIT") == DEFAULT_DUCKDB_MEMORY_LIMIT
    assert _profile_default("CLM_DUCKDB_THREADS") == str(DEFAULT_DUCKDB_THREADS)


def test_connections_carry_the_memory_bound(tmp_path: Path) -> None:
    settings = load_settings({
        "CLM_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
        "CLM_DUCKDB_MEMORY_LIMIT": "700MB",
        "CLM_DUCKDB_THREADS": "1",
    })
    settings.warehouse_dir.mkdir()
    with connect(settings) as connection:
        limit, threads, temp, order = connection.execute(
            "select current_setting('memory_limit'), current_setting('threads'), "
            "current_setting('temp_directory'), current_setting('preserve_insertion_order')"
        ).fetchone()
    # DuckDB reports the limit in its own units (700MB = 667.5 MiB)
    assert limit.endswith("MiB") and 600 < float(limit.split()[0]) < 700
    assert int(threads) == 1
    assert Path(temp) == tmp_path / "warehouse" / "duckdb_tmp"
    assert order is False
    assert (tmp_path / "warehouse" / "duckdb_tmp").is_dir()


def test_dbt_opens_duckdb_with_the_same_bound(tmp_path: Path) -> None:
    """dbt-duckdb applies profile `settings` on every new cursor, and DuckDB refuses to switch the temp
    directory once a query has spilled: the bound must be connection config (config_options)."""
    env = dict(
        os.environ,
        CLM_WAREHOUSE_DIR=str(tmp_path / "warehouse"),
        DBT_TARGET_PATH=str(tmp_path / "target"),
        DBT_LOG_PATH=str(tmp_path / "logs"),
        CLM_DUCKDB_MEMORY_LIMIT="700MB",
        CLM_DUCKDB_THREADS="1",
        CLM_TARGET="duckdb",
    )
    (tmp_path / "warehouse").mkdir()
    shown = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "show", "--quiet", "--output", "json", "--inline",
         "select current_setting('memory_limit') as memory_limit, current_setting('threads') as threads, "
         "current_setting('temp_directory') as temp_directory, "
         "current_setting('preserve_insertion_order') as insertion_order"],
        env=env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300,
    )
    assert shown.returncode == 0, shown.stdout[-2000:] + shown.stderr[-2000:]
    row = json.loads(shown.stdout)["show"][0]
    assert row["memory_limit"].endswith("MiB") and 600 < float(row["memory_limit"].split()[0]) < 700
    assert int(row["threads"]) == 1
    assert Path(row["temp_directory"]) == tmp_path / "warehouse" / "duckdb_tmp"
    assert row["insertion_order"] is False
    profile = (PROJECT_DIR / "profiles.yml").read_text()
    settings_block = profile.split("      settings:\n", 1)[1].split("\n    postgres:", 1)[0]
    assert "temp_directory" not in settings_block and "memory_limit" not in settings_block


# Modules that open DuckDB themselves, and why they need not carry the warehouse's bound.
UNBOUNDED_DUCKDB_OPENERS = {
    "orchestration/duckdb_connection.py": "the one place that applies the bound",
    "orchestration/assets/publish.py": "open_serving: the BI reader's connection, locked down for the reader",
    "orchestration/bench.py": "row counts of the bench warehouse, a developer tool",
    "orchestration/bench_reference.py": "the hand-written reference, given the bound as its own config",
    "orchestration/compare_marts.py": "a developer tool comparing two warehouse files",
    "orchestration/ingest/staging.py": "casts one landed Parquet file's columns to text in memory",
}


def test_the_project_opens_duckdb_through_the_bounded_connection() -> None:
    """A new `duckdb.connect` in the pipeline would open the warehouse without memory_limit or a spill
    folder: every opener is either duckdb_connection or a listed exception."""
    openers = {
        str(path.relative_to(PROJECT_DIR))
        for path in (PROJECT_DIR / "orchestration").rglob("*.py")
        if "duckdb.connect(" in path.read_text(encoding="utf-8")
    }
    assert openers - set(UNBOUNDED_DUCKDB_OPENERS) == set()
    publish = (PROJECT_DIR / "orchestration/assets/publish.py").read_text(encoding="utf-8")
    assert publish.count("duckdb.connect(") == 1  # only open_serving
