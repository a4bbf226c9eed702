"""The README's PostgreSQL path, exactly: `make postgres` (scripts/postgres-up.sh) leaves a server with the
project's role and database, and `CLM_TARGET=postgres make run` then succeeds on it and prints the summary.
A fresh database name keeps it apart from other tests; the script must create it."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import psycopg2
import pytest

from orchestration.generate import generate
from orchestration.settings import load_settings
from tests.conftest import require_postgres
from tests.support import _admin_dsn

PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.mark.postgres
def test_make_postgres_then_make_run_on_postgres(tmp_path: Path) -> None:
    require_postgres()
    if os.geteuid() != 0:
        pytest.skip("scripts/postgres-up.sh manages the server as root")
    database = f"clm_make_run_{uuid.uuid4().hex[:8]}"
    env = dict(os.environ)
    env.update(
        CLM_TARGET="postgres",
        CLM_PG_DATABASE=database,
        CLM_LANDING_DIR=str(tmp_path / "landing"),
        CLM_WAREHOUSE_DIR=str(tmp_path / "warehouse"),
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
        DBT_TARGET_PATH=str(tmp_path / "dbt_target"),
        DBT_LOG_PATH=str(tmp_path / "dbt_logs"),
    )
    generate(scale=0.002, seed=21, start="2025-07-01", end="2026-03-31", out=tmp_path / "landing", dirty=0.01)
    try:
        up = subprocess.run(["make", "postgres"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300)
        assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-2000:]
        assert f"database {database}" in up.stdout
        run = subprocess.run(["make", "run"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=900)
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
        assert "warehouse (postgres): postgres database " + database in run.stdout
        assert "warehouse_job succeeded" in run.stdout
        with psycopg2.connect(load_settings(env).postgres.dsn()) as conn, conn.cursor() as cur:
            cur.execute("select count(*) from marts.fct_customer_lifecycle_monthly")
            assert cur.fetchone()[0] > 0
    finally:
        admin = psycopg2.connect(_admin_dsn())
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{database}" with (force)')
        admin.close()
