"""A `python -m orchestration.run` killed with SIGKILL (its whole process group) during ingest, dbt or
publish, then started again, ends with the same marts as an uninterrupted run, without waiting on the
dead run's pool slot; the dead run is marked failed with a message. The three kills are one chain (each
restart is killed in turn, then one runs to the end): the file runs the job to its end twice instead of
four times. SIGTERM stops a run promptly."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from orchestration.compare_marts import compare
from orchestration.generate import generate

PROJECT_DIR = Path(__file__).resolve().parent.parent
RUN_TIMEOUT_S = 900


def _env(root: Path, landing: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        CLM_LANDING_DIR=str(landing),
        CLM_WAREHOUSE_DIR=str(root / "warehouse"),
        CLM_TARGET="duckdb",
        DBT_TARGET_PATH=str(root / "dbt_target"),
        DBT_LOG_PATH=str(root / "dbt_logs"),
        DAGSTER_HOME=str(root / "dagster_home"),
    )
    (root / "dagster_home").mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_DIR / "dagster.yaml", root / "dagster_home" / "dagster.yaml")
    return env


def _start(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.run"],
        env=env, cwd=PROJECT_DIR, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )


def _run_to_end(env: dict[str, str], log: Path) -> None:
    process = _start(env, log)
    try:
        assert process.wait(timeout=RUN_TIMEOUT_S) == 0, log.read_text()[-4000:]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def _run_log(env: dict[str, str]) -> str:
    """The newest run log under the warehouse (the terminal only gets one line per finished step)."""
    logs = sorted((Path(env["CLM_WAREHOUSE_DIR"]) / "logs").glob("run-*.log"))
    return logs[-1].read_text(encoding="utf-8", errors="replace") if logs else ""


def _wait_for_step(process: subprocess.Popen, env: dict[str, str], log: Path, step: str) -> None:
    marker = f'Started execution of step "{step}"'
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while marker not in _run_log(env):
        assert process.poll() is None, f"the run ended before step {step} started:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"step {step} never started"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("crash_landing")
    generate(scale=0.005, seed=11, start="2025-01-01", end="2026-06-30", out=path, dirty=0.01)
    return path


@pytest.fixture(scope="module")
def clean_warehouse(tmp_path_factory: pytest.TempPathFactory, landing: Path) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("clean_run")
    _run_to_end(_env(root, landing), root / "run.log")
    yield root / "warehouse" / "clm.duckdb"


def test_a_run_prints_one_line_per_step_and_the_summary_once(clean_warehouse: Path) -> None:
    output = (clean_warehouse.parent.parent / "run.log").read_text(encoding="utf-8")
    lines = output.splitlines()
    assert len(lines) < 80, output
    assert "Warning" not in output and "WARNING" not in output and "DEBUG" not in output, output
    assert output.count("rows per mart") == 1 and output.count("as-of month") == 1, output
    steps = [line for line in lines if line.startswith("[")]
    assert any("dbt_before_clv" in line and " done " in line for line in steps), output
    assert steps[-1].split("]")[0].split("/")[0].strip("[ ") == steps[-1].split("/")[1].split("]")[0], steps[-1]
    assert re.search(r"customers per stage: .*churned [0-9,]+", output), output
    assert re.search(r"churn rate [0-9.]+%, quick ratio [0-9.]+", output), output
    assert re.search(r"call list: [0-9,]+ customers \(P1 ", output), output
    log_file = Path(re.search(r"run log: +(\S+)", output).group(1))
    assert 'Started execution of step "dbt_before_clv"' in log_file.read_text(encoding="utf-8")


# Where the three runs of the chain are killed, in turn. Publish takes well under a second on this data:
# kill the moment its step starts.
KILLS = (("crm__orders", 0.0), ("dbt_before_clv", 3.0), ("serving__published_marts", 0.0))


def test_each_killed_run_is_recovered_by_the_next(tmp_path: Path, landing: Path, clean_warehouse: Path) -> None:
    """Three runs killed in turn, during ingest, dbt and publish, each started on what the one before left;
    then a fourth runs to the end. Each run after a kill frees the dead run's slot (it would otherwise wait
    on it forever) and gets past the step where the one before died; the marts equal the uninterrupted
    run's once dbt has completed after the kill during dbt, and again at the end."""
    env = _env(tmp_path, landing)
    warehouse = tmp_path / "warehouse" / "clm.duckdb"
    for index, (step, settle_s) in enumerate(KILLS):
        log = tmp_path / f"killed-{index}.log"
        killed = _start(env, log)
        try:
            _wait_for_step(killed, env, log, step)
            time.sleep(settle_s)
        finally:
            os.killpg(killed.pid, signal.SIGKILL)
            killed.wait()
        if index:  # reaching `step` means it got past the step where the previous run was killed
            assert "its process is gone: marked failed" in log.read_text(), log.read_text()
        if step == "serving__published_marts":  # every dbt step completed after the kill during dbt
            assert compare(clean_warehouse, warehouse) == []

    _run_to_end(env, tmp_path / "rerun.log")

    assert "its process is gone: marked failed" in (tmp_path / "rerun.log").read_text()
    assert compare(clean_warehouse, warehouse) == []
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        runs = instance.get_runs()
        statuses = sorted(run.status.value for run in runs)
        assert statuses == ["FAILURE"] * len(KILLS) + ["SUCCESS"], statuses
        for dead in (run for run in runs if run.status == dg.DagsterRunStatus.FAILURE):
            failure = instance.all_logs(dead.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
            assert "no longer exists" in failure[-1].message
        assert instance.event_log_storage.get_concurrency_run_ids() == set()


def test_sigterm_stops_a_run_promptly(tmp_path: Path, landing: Path) -> None:
    env = _env(tmp_path, landing)
    process = _start(env, tmp_path / "run.log")
    try:
        _wait_for_step(process, env, tmp_path / "run.log", "dbt_before_clv")
        time.sleep(2.0)
        started = time.monotonic()
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
        assert time.monotonic() - started < 15
        assert process.returncode != 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        ended = {dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
        assert [run.status in ended for run in instance.get_runs()] == [True]
        assert instance.event_log_storage.get_concurrency_run_ids() == set()
