"""A real standalone Spark cluster (issue: beyond one machine): scripts/spark-up.sh starts a master and a
worker from the pyspark wheel on 127.0.0.1 (idempotently), a driver with CLM_SPARK_MASTER set runs its
work on the worker's executors through the engine adapter, and scripts/spark-down.sh stops the cluster."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support import PROJECT_DIR

pytestmark = pytest.mark.spark

# not the default ports, so a developer's own cluster (make spark) is left alone
MASTER, UI = "spark://127.0.0.1:7177", "http://127.0.0.1:8180/json/"

DRIVER = """
import json
from orchestration.engines import engine_for
from orchestration.settings import load_settings

with engine_for(load_settings()).reader() as reader:
    columns, rows = reader.rows("select count(*) as n, sum(id) as total from range(0, 100000, 1, 4)")
    context = reader.spark.sparkContext
    print(json.dumps({"rows": [list(r) for r in rows], "app": context.applicationId, "master": context.master}))
"""


def _master_state() -> dict | None:
    try:
        with urllib.request.urlopen(UI, timeout=5) as response:
            return json.load(response)
    except OSError:
        return None


def _script(name: str, env: dict[str, str]) -> str:
    done = subprocess.run(["bash", f"scripts/{name}"], env=env, cwd=PROJECT_DIR, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_standalone_cluster_runs_the_drivers_work_on_its_executors(tmp_path: Path) -> None:
    if shutil.which("java") is None:
        if os.environ.get("CI"):
            pytest.fail("Java is not installed in CI: .ci/run should have installed it")
        pytest.skip("Spark needs Java (apt-get install openjdk-17-jre-headless)")
    env = dict(
        os.environ,
        PYTHON=sys.executable,
        CLM_SPARK_RUN_DIR=str(tmp_path / "cluster"),
        CLM_SPARK_MASTER_PORT="7177",
        CLM_SPARK_MASTER_UI_PORT="8180",
        CLM_SPARK_WORKER_UI_PORT="8181",
        CLM_SPARK_WORKER_CORES="1",
        CLM_SPARK_WORKER_MEMORY="1g",
    )
    try:
        assert "Spark is up" in _script("spark-up.sh", env)
        assert "already up" in _script("spark-up.sh", env)  # idempotent
        driver_env = dict(
            env,
            CLM_TARGET="spark",
            CLM_WAREHOUSE_DIR=str(tmp_path / "warehouse"),
            CLM_SPARK_MASTER=MASTER,
            SPARK_LOCAL_IP="127.0.0.1",
        )
        done = subprocess.run(
            [sys.executable, "-c", DRIVER], env=driver_env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr[-4000:]
        result = json.loads(done.stdout.strip().splitlines()[-1])
        assert result["rows"] == [[100_000, 4_999_950_000]]
        assert result["master"] == MASTER
        print(f"Spark application {result['app']} ran on {MASTER}")  # the master UI lists it with its executors
        state = _master_state()
        assert state is not None and state["aliveworkers"] == 1
        apps = {app["id"]: app for app in state["activeapps"] + state["completedapps"]}
        assert result["app"] in apps and apps[result["app"]]["cores"] >= 1  # executors on the worker
    finally:
        _script("spark-down.sh", env)
    assert _master_state() is None
