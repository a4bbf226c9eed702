"""Build the whole project once per engine on the same generated data, for tests that compare engines or
inspect a finished warehouse (analyst grants, PII audit). Session-scoped: the builds are the slow part."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from orchestration.engines import engine_for
from orchestration.generate import generate
from orchestration.ingest import ingest_all
from orchestration.settings import Settings, load_settings
from tests.support import DbtRunner

ENGINE_TEST_SCALE = 0.01
ENGINE_TEST_SEED = 7


@dataclass(frozen=True)
class BuiltWarehouse:
    env: dict[str, str]
    dbt: DbtRunner


def generate_engine_test_data(landing: Path) -> None:
    if not (landing / "orders").exists():
        generate(scale=ENGINE_TEST_SCALE, seed=ENGINE_TEST_SEED, out=landing, dirty=0.01)


def base_env(root: Path, landing: Path, target: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        CLM_LANDING_DIR=str(landing),
        CLM_WAREHOUSE_DIR=str(root / "warehouse"),
        CLM_TARGET=target,
        DBT_TARGET_PATH=str(root / "dbt_target"),
        DBT_LOG_PATH=str(root / "dbt_logs"),
    )
    (root / "warehouse").mkdir(parents=True, exist_ok=True)
    return env


def build_warehouse(env: dict[str, str]) -> BuiltWarehouse:
    """Ingest the landing folder and run `dbt build` (seeds, models, snapshots, tests) on env's target
    (DuckDB or PostgreSQL: Spark runs the whole job, tests/test_spark.py)."""
    ingest_all(load_settings(env))
    dbt = DbtRunner(env)
    dbt("build")
    return BuiltWarehouse(env=env, dbt=dbt)


def fetch(settings: Settings, sql: str) -> tuple[list[str], list[tuple]]:
    """Column names and rows of `sql` on the settings' engine, through its adapter; Spark's through the test
    process's one session (opening a session per query would cost seconds each)."""
    if settings.target == "spark":
        frame = spark_query_session(settings).sql(sql)
        return frame.columns, [tuple(row) for row in frame.collect()]
    with engine_for(settings).reader() as reader:
        return reader.rows(sql)


def query(warehouse: BuiltWarehouse, sql: str) -> list[tuple]:
    """Rows of `sql` on the warehouse's engine."""
    return fetch(load_settings(warehouse.env), sql)[1]


def query_frame(warehouse: BuiltWarehouse, sql: str) -> pd.DataFrame:
    """A query's result with its column names, on the warehouse's engine."""
    columns, rows = fetch(load_settings(warehouse.env), sql)
    return pd.DataFrame(rows, columns=columns)


_spark_sessions: dict[Path, object] = {}


def spark_query_session(settings: Settings):  # noqa: ANN201 - pyspark is imported only when needed
    """One Spark session per test process (a JVM has one warehouse folder and one metastore), opened on
    first use after the job has finished, closed by `close_spark_query_session`."""
    from orchestration.spark_session import start_session

    if settings.warehouse_dir not in _spark_sessions:
        if _spark_sessions:
            raise RuntimeError("a test process can query one Spark warehouse only")
        _spark_sessions[settings.warehouse_dir] = start_session(settings, app_name="clm-tests")
    return _spark_sessions[settings.warehouse_dir]


def close_spark_query_session() -> None:
    for session in _spark_sessions.values():
        session.stop()  # type: ignore[attr-defined]
    _spark_sessions.clear()
