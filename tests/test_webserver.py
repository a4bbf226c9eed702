"""dagster-webserver on 127.0.0.1: read the asset graph through GraphQL, launch a run, wait for success."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from orchestration.generate import generate
from orchestration.manifest import build_manifest

WEBSERVER = str(Path(sys.executable).parent / "dagster-webserver")
INGEST_KEYS = [["crm", t] for t in ("customers", "orders", "calls", "complaints", "marketing_spend")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = requests.post(url, json={"query": query, "variables": variables or {}}, timeout=60)
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def _wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"dagster-webserver exited with {proc.returncode}")
        try:
            data = _graphql(
                url,
                "{ workspaceOrError { __typename ... on Workspace { locationEntries { name "
                "locationOrLoadError { __typename } } } } }",
            )
            entries = data["workspaceOrError"]["locationEntries"]
            if (
                entries
                and entries[0]["locationOrLoadError"]
                and entries[0]["locationOrLoadError"]["__typename"] == "RepositoryLocation"
            ):
                return
            if (
                entries
                and entries[0]["locationOrLoadError"]
                and entries[0]["locationOrLoadError"]["__typename"] == "PythonError"
            ):
                raise AssertionError(f"code location failed to load: {data}")
        except requests.RequestException:
            pass
        time.sleep(2)
    raise AssertionError("dagster-webserver did not come up")


def test_webserver_serves_the_graph_and_runs_a_job(clm_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in clm_env.items():
        monkeypatch.setenv(key, value)
    generate(scale=0.002, seed=5, start="2026-01-01", end="2026-03-31", out=clm_env["CLM_LANDING_DIR"])
    build_manifest(clm_env)
    # runs start at once (the default coordinator queues them for a daemon this test does not start)
    (Path(clm_env["DAGSTER_HOME"]) / "dagster.yaml").write_text(
        "run_coordinator:\n  module: dagster.core.run_coordinator\n  class: DefaultRunCoordinator\n"
        "telemetry:\n  enabled: false\n"
    )
    port = _free_port()
    url = f"http://127.0.0.1:{port}/graphql"
    log = Path(clm_env["DAGSTER_HOME"]) / "webserver.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [WEBSERVER, "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
            env=clm_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=str(Path(__file__).resolve().parent.parent),
        )
    try:
        _wait_until_up(url, proc)
        data = _graphql(url, "{ assetNodes { assetKey { path } groupName } }")
        nodes = {tuple(n["assetKey"]["path"]): n["groupName"] for n in data["assetNodes"]}
        assert all(nodes[tuple(k)] == "ingest" for k in INGEST_KEYS)
        assert nodes[("python_models", "clv_customer_predictions")] == "python_models"
        assert nodes[("serving", "published_marts")] == "serving"
        assert nodes[("marts", "fct_customer_clv")] == "marts"

        repos = _graphql(
            url, "{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }"
        )
        repo = repos["repositoriesOrError"]["nodes"][0]
        launched = _graphql(
            url,
            """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
                 __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
                 ... on InvalidSubsetError { message } ... on RunConfigValidationInvalid { errors { message } } } }""",
            {
                "params": {
                    "selector": {
                        "repositoryLocationName": repo["location"]["name"],
                        "repositoryName": repo["name"],
                        "jobName": "warehouse_job",
                        "assetSelection": [{"path": k} for k in INGEST_KEYS],
                    },
                    "mode": "default",
                }
            },
        )
        assert launched["launchRun"]["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["launchRun"]["run"]["runId"]
        status = None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            status = _graphql(
                url, "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }", {"id": run_id}
            )["runOrError"]["status"]
            if status in {"SUCCESS", "FAILURE", "CANCELED"}:
                break
            time.sleep(2)
        if status != "SUCCESS":
            events = _graphql(
                url,
                """query($id: ID!) { logsForRun(runId: $id) { ... on EventConnection { events {
                     __typename ... on MessageEvent { message }
                     ... on ExecutionStepFailureEvent { error { message cause { message } } }
                     ... on RunFailureEvent { pipelineName } } } } }""",
                {"id": run_id},
            )["logsForRun"]["events"]
            failures = [
                e for e in events if "Failure" in e["__typename"] or "error" in (e.get("message") or "").lower()
            ]
            raise AssertionError(f"run {run_id} ended {status}: {json.dumps(failures)[-4000:]}")
        import duckdb

        with duckdb.connect(str(Path(clm_env["CLM_WAREHOUSE_DIR"]) / "clm.duckdb"), read_only=True) as conn:
            assert conn.execute("select count(*) from raw.orders").fetchone()[0] > 0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
