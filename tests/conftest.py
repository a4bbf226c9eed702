"""Shared fixtures: an isolated environment per test (its own landing folder, warehouse and dbt target)
and a fresh PostgreSQL database when the server is reachable."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engines import (
    BuiltWarehouse,
    base_env,
    build_warehouse,
    generate_engine_test_data,
)
from tests.support import DbtRunner, postgres_available, postgres_database

# The test files that take longest, in the order test workers should start them. `make test` hands whole
# files to two workers in collection order (--dist loadfile --no-loadscope-reorder), each worker holding
# two files at a time: started first, the Spark cluster's job (the longest file by far: a quarter of the
# suite's work) runs beside everything else instead of after it, and the file queued behind it is short.
LONGEST_FIRST = ("test_spark.py", "test_crash_recovery.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the other files keep pytest's order


@pytest.fixture
def clm_env(tmp_path: Path) -> dict[str, str]:
    """Environment variables for one isolated run on embedded DuckDB."""
    env = dict(os.environ)
    env.update(
        CLM_LANDING_DIR=str(tmp_path / "landing"),
        CLM_WAREHOUSE_DIR=str(tmp_path / "warehouse"),
        CLM_TARGET="duckdb",
        DBT_TARGET_PATH=str(tmp_path / "dbt_target"),
        DBT_LOG_PATH=str(tmp_path / "dbt_logs"),
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
    )
    (tmp_path / "landing").mkdir()
    (tmp_path / "warehouse").mkdir()
    (tmp_path / "dagster_home").mkdir()
    return env


def require_postgres() -> None:
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable in CI: scripts/postgres-up.sh should have started it")
        pytest.skip("PostgreSQL is not reachable (run scripts/postgres-up.sh)")


@pytest.fixture
def pg_env(clm_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """The same, with CLM_TARGET=postgres and a fresh database that is dropped afterwards."""
    require_postgres()
    name = f"clm_test_{uuid.uuid4().hex[:10]}"
    with postgres_database(name):
        env = dict(clm_env, CLM_TARGET="postgres", CLM_PG_DATABASE=name)
        yield env


@pytest.fixture
def dbt(clm_env: dict[str, str]) -> DbtRunner:
    return DbtRunner(clm_env)


@pytest.fixture(scope="session")
def engine_test_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small dirty data set (tests/engines.py) shared by every whole-project build."""
    landing = tmp_path_factory.mktemp("engine_landing")
    generate_engine_test_data(landing)
    return landing


@pytest.fixture(scope="session")
def duckdb_warehouse(tmp_path_factory: pytest.TempPathFactory, engine_test_landing: Path) -> BuiltWarehouse:
    root = tmp_path_factory.mktemp("duckdb_build")
    return build_warehouse(base_env(root, engine_test_landing, "duckdb"))


@pytest.fixture(scope="session")
def postgres_warehouse(
    tmp_path_factory: pytest.TempPathFactory, engine_test_landing: Path
) -> Iterator[BuiltWarehouse]:
    require_postgres()
    name = f"clm_build_{uuid.uuid4().hex[:10]}"
    root = tmp_path_factory.mktemp("postgres_build")
    with postgres_database(name):
        env = dict(base_env(root, engine_test_landing, "postgres"), CLM_PG_DATABASE=name)
        yield build_warehouse(env)
