"""Helpers for tests: run dbt in a subprocess with a given environment, reach the test PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
DBT = str(Path(sys.executable).parent / "dbt")


DBT_TIMEOUT_S = 1200  # one dbt command of a test (small data); the longest take about three minutes


class DbtRunner:
    """Runs the project's dbt with an environment of its own; fails the test with dbt's output."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *args: str, vars: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [DBT, *args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
        if vars:
            cmd += ["--vars", json.dumps(vars)]
        # a bound, so that a dbt waiting on something that never comes fails the test instead of the suite
        proc = subprocess.run(
            cmd, env=self.env, capture_output=True, text=True, cwd=PROJECT_DIR, timeout=DBT_TIMEOUT_S
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}")
        return proc


def _admin_dsn(database: str = "postgres") -> str:
    return (
        f"host={os.environ.get('CLM_PG_HOST', '127.0.0.1')} port={os.environ.get('CLM_PG_PORT', '5432')} "
        f"user={os.environ.get('CLM_PG_USER', 'clm')} password={os.environ.get('CLM_PG_PASSWORD', 'clm')} "
        f"dbname={database} connect_timeout=3"
    )


def postgres_available() -> bool:
    try:
        psycopg2.connect(_admin_dsn()).close()
        return True
    except psycopg2.OperationalError:
        return False


@contextmanager
def postgres_database(name: str) -> Iterator[str]:
    conn = psycopg2.connect(_admin_dsn())
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
        cur.execute(f'create database "{name}"')
    try:
        yield name
    finally:
        with conn.cursor() as cur:
            cur.execute(f'drop database if exists "{name}" with (force)')
        conn.close()
