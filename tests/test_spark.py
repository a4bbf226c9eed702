"""The whole job on a real standalone Spark cluster (issue: beyond one machine). scripts/spark-up.sh starts a
master, a worker and a Hive metastore service on 127.0.0.1 (idempotently, on ports of its own so that a
developer's `make spark` is left alone); `make run` with CLM_TARGET=spark runs every asset of the job on it:
ingest, dbt, the CLV fit reading its summary from Spark and writing predictions back, the data-quality
checks, publish and the report. Its published marts then equal those of the same job on DuckDB, row for
row (compare_marts --across-engines: money within a cent, other numbers within 1e-6 relative), as do the
key figures of the agreement queries. scripts/spark-down.sh stops the cluster at the end.

Every Spark test is in this file, so that test workers distributed by file start one cluster and run the
job on it once."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from orchestration.compare_marts import compare
from orchestration.ingest.spark_loader import read_ledger_readonly, spark_ddl
from orchestration.manifest import load_manifest
from orchestration.settings import load_settings
from orchestration.spark_session import APP_NAME, spark_conf
from tests.engines import BuiltWarehouse, base_env, close_spark_query_session, query
from tests.support import PROJECT_DIR, DbtRunner
from tests.support.agreement import COUNT_QUERIES, MONEY_QUERIES, assert_money_rows_agree, normalise_numbers
from tests.support.pii import assert_no_pii
from tests.test_dbt_unit_tests import passed_unit_tests, written_unit_tests
from tests.test_kpis import assert_same_kpis_and_curves

pytestmark = pytest.mark.spark

# not the default ports, so a developer's own cluster (make spark) is left alone
MASTER, MASTER_UI, METASTORE_PORT = "spark://127.0.0.1:7177", "http://127.0.0.1:8180/json/", 9183
CLUSTER_ENV = {
    "CLM_SPARK_MASTER_PORT": "7177",
    "CLM_SPARK_MASTER_UI_PORT": "8180",
    "CLM_SPARK_WORKER_UI_PORT": "8181",
    "CLM_SPARK_METASTORE_PORT": str(METASTORE_PORT),
    "CLM_SPARK_WORKER_CORES": "2",
    "CLM_SPARK_WORKER_MEMORY": "2g",
}


def _master_state() -> dict | None:
    try:
        with urllib.request.urlopen(MASTER_UI, timeout=5) as response:
            return json.load(response)
    except OSError:
        return None


def _metastore_answers() -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", METASTORE_PORT)) == 0


def _script(name: str, env: dict[str, str]) -> str:
    done = subprocess.run(["bash", f"scripts/{name}"], env=env, cwd=PROJECT_DIR, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A standalone master, one worker and the metastore service; the settings that reach them."""
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        if os.environ.get("CI"):
            pytest.fail("Java is not installed in CI: .ci/run should have installed it")
        pytest.skip("Spark needs Java (apt-get install openjdk-17-jre-headless)")
    env = dict(
        os.environ,
        PYTHON=sys.executable,
        SPARK_LOCAL_IP="127.0.0.1",
        CLM_SPARK_RUN_DIR=str(tmp_path_factory.mktemp("spark_cluster")),
        **CLUSTER_ENV,
    )
    try:
        assert "Spark is up" in _script("spark-up.sh", env)
        assert "already up" in _script("spark-up.sh", env)  # idempotent
        yield {"CLM_SPARK_MASTER": MASTER, "CLM_SPARK_METASTORE_URI": f"thrift://127.0.0.1:{METASTORE_PORT}"}
    finally:
        close_spark_query_session()
        _script("spark-down.sh", env)
    assert _master_state() is None
    assert not _metastore_answers()



def _make_run(env: dict[str, str]) -> subprocess.CompletedProcess:
    """`make run` exactly as the README has it (the landing folder already holds the data)."""
    run = subprocess.run(["make", "run"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=3600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "warehouse_job succeeded" in run.stdout, run.stdout[-4000:]
    return run


def _job_env(root: Path, landing: Path, target: str) -> dict[str, str]:
    env = dict(base_env(root, landing, target), DAGSTER_HOME=str(root / "dagster_home"), SPARK_LOCAL_IP="127.0.0.1")
    for name in ("CLM_SPARK_MASTER", "CLM_SPARK_METASTORE_URI"):  # a developer's own cluster is not the test's
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def duckdb_job(tmp_path_factory: pytest.TempPathFactory, engine_test_landing: Path) -> BuiltWarehouse:
    """The reference: the same job on embedded DuckDB, on the same files."""
    env = _job_env(tmp_path_factory.mktemp("duckdb_job"), engine_test_landing, "duckdb")
    _make_run(env)
    return BuiltWarehouse(env=env, dbt=DbtRunner(env))


@pytest.fixture(scope="module")
def spark_job(
    cluster: dict[str, str], tmp_path_factory: pytest.TempPathFactory, engine_test_landing: Path
) -> tuple[BuiltWarehouse, str, float]:
    """The whole job on the cluster: (warehouse, the run's output, its wall time in seconds)."""
    env = dict(_job_env(tmp_path_factory.mktemp("spark_job"), engine_test_landing, "spark"), **cluster)
    started = time.monotonic()
    run = _make_run(env)
    wall = time.monotonic() - started
    print(f"the whole job on {MASTER}: {wall:.0f} s wall (make run, manifest included)")
    return BuiltWarehouse(env=env, dbt=DbtRunner(env)), run.stdout, wall


@pytest.fixture(scope="module")
def spark_warehouse(spark_job: tuple[BuiltWarehouse, str, float]) -> BuiltWarehouse:
    return spark_job[0]


def test_profile_uses_the_session_settings_of_spark_session() -> None:
    """profiles.yml repeats orchestration/spark_session.py's settings in Jinja; the two must not drift."""
    profile = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8"))
    env = {"CLM_WAREHOUSE_DIR": "/w", "CLM_SPARK_MASTER": MASTER, "CLM_SPARK_METASTORE_URI": "thrift://h:1"}
    rendered = {
        key: re.sub(r"\{\{ env_var\('(\w+)'[^}]*\}\}", lambda m: env[m.group(1)], value)
        for key, value in profile["customer_lifecycle"]["outputs"]["spark"]["server_side_parameters"].items()
    }
    expected = spark_conf(load_settings(env))
    expected.pop("spark.sql.ansi.enabled")  # dbt-spark sets it itself
    assert rendered == expected


def test_spark_ddl_spells_text_as_string_and_stores_parquet() -> None:
    assert spark_ddl("create table if not exists raw.t (a varchar, b bigint, c_varchar varchar)") == (
        "create table if not exists raw.t (a string, b bigint, c_varchar string) using parquet"
    )
    assert spark_ddl("alter table raw.t add columns (a varchar)") == "alter table raw.t add columns (a string)"


def test_the_whole_job_ran_on_the_cluster(spark_job: tuple[BuiltWarehouse, str, float]) -> None:
    """Every asset succeeded and printed the summary; the master lists the job's applications (the Python
    steps' sessions and dbt's), each of which ran on the worker's executors."""
    _, output, _ = spark_job
    assert "warehouse (spark): spark tables in" in output and f"(master {MASTER})" in output
    assert "data quality: " in output and "errors: none" in output
    assert "report:     " in output and "lifecycle_report.html" in output
    state = _master_state()
    assert state is not None and state["aliveworkers"] == 1
    apps = state["activeapps"] + state["completedapps"]
    for app in apps:
        print(f"Spark application {app['id']} ({app['name']}): {app['cores']} cores on {MASTER}")
    names = {app["name"] for app in apps}
    assert APP_NAME in names  # ingest, the CLV fit, the checks, publish (orchestration/spark_session.py)
    assert names - {APP_NAME, "clm-tests"}, "no dbt session ran on the cluster"
    assert all(app["cores"] >= 1 for app in apps if app["name"] == APP_NAME)
    # the run's Python steps share a session between dbt steps: one application before the first dbt step
    # and after each of the four at most, plus the summary's (one per Python step would be over 40)
    assert len([app for app in apps if app["name"] == APP_NAME]) <= 6


def test_every_published_mart_equals_the_duckdb_run(
    duckdb_job: BuiltWarehouse, spark_warehouse: BuiltWarehouse
) -> None:
    """Both runs publish a serving file of every mart; they agree row for row across engines."""
    published = [load_settings(w.env).published_dir / "serving.duckdb" for w in (duckdb_job, spark_warehouse)]
    differences = compare(*published, across_engines=True)
    assert differences == []


def test_ingest_wrote_every_landed_file_to_the_ledger(spark_warehouse: BuiltWarehouse) -> None:
    """The ledger read without a JVM (straight from its parquet files) is the ledger Spark sees."""
    settings = load_settings(spark_warehouse.env)
    from_files = sorted((e.file_name, e.file_sha256, e.row_count, e.status) for e in read_ledger_readonly(settings))
    through_spark = sorted(
        (name, sha, int(rows), status)
        for name, sha, rows, status in query(
            spark_warehouse, "select file_name, file_sha256, row_count, status from raw._load_ledger"
        )
    )
    landed = [p for p in Path(spark_warehouse.env["CLM_LANDING_DIR"]).rglob("*") if p.is_file()]
    assert from_files == through_spark
    assert len(from_files) == len(landed)


def test_raw_rows_match_the_ledger(spark_warehouse: BuiltWarehouse) -> None:
    ledger = dict(
        query(
            spark_warehouse,
            "select table_name, sum(row_count) from raw._load_ledger where status = 'loaded' group by table_name",
        )
    )
    for table, rows in ledger.items():
        assert query(spark_warehouse, f"select count(*) from raw.{table}") == [(rows,)], table


def _sorted(rows: list[tuple]) -> list[tuple]:
    """Rows in one order on both engines: Spark sorts nulls first, DuckDB and PostgreSQL last."""
    return sorted(rows, key=lambda row: tuple((value is not None, value) for value in row))


@pytest.mark.parametrize("name", sorted(COUNT_QUERIES))
def test_counts_agree_duckdb_spark(duckdb_job: BuiltWarehouse, spark_warehouse: BuiltWarehouse, name: str) -> None:
    on_duckdb = _sorted(normalise_numbers(query(duckdb_job, COUNT_QUERIES[name])))
    on_spark = _sorted(normalise_numbers(query(spark_warehouse, COUNT_QUERIES[name])))
    assert on_duckdb, f"{name}: no rows on DuckDB"
    assert on_duckdb == on_spark


@pytest.mark.parametrize("name", sorted(MONEY_QUERIES))
def test_money_agrees_within_a_cent_duckdb_spark(
    duckdb_job: BuiltWarehouse, spark_warehouse: BuiltWarehouse, name: str
) -> None:
    on_duckdb = _sorted(query(duckdb_job, MONEY_QUERIES[name]))
    assert_money_rows_agree(name, on_duckdb, _sorted(query(spark_warehouse, MONEY_QUERIES[name])))


def test_spark_gives_the_same_kpis_and_curves(duckdb_job: BuiltWarehouse, spark_warehouse: BuiltWarehouse) -> None:
    assert_same_kpis_and_curves(duckdb_job, spark_warehouse)


def test_seed_text_with_apostrophes_round_trips(spark_warehouse: BuiltWarehouse) -> None:
    """dbt-spark's session cursor does not escape seed values; macros/spark/spark_seed_rows.sql does."""
    with (PROJECT_DIR / "seeds" / "stage_strategies.csv").open(encoding="utf-8", newline="") as handle:
        expected = sorted((row["stage_code"], row["recommended_action_en"]) for row in csv.DictReader(handle))
    assert any("'" in action for _, action in expected), "the seed no longer has an apostrophe to test"
    loaded = query(spark_warehouse, "select stage_code, recommended_action_en from reference.stage_strategies")
    assert sorted(loaded) == expected


def test_no_pii_outside_raw_spark(spark_warehouse: BuiltWarehouse) -> None:
    """The PII audit of tests/test_pii_audit.py on the Spark build."""
    assert_no_pii(spark_warehouse)


def test_every_unit_test_passes_on_the_cluster(spark_warehouse: BuiltWarehouse) -> None:
    """The dbt unit tests (not part of the production job) on Spark, against the job's relations."""
    # the tests' own query session would hold every core of the cluster, and dbt's would wait for one
    close_spark_query_session()
    result = spark_warehouse.dbt("test", "--select", "test_type:unit")
    assert passed_unit_tests(result.stdout) == written_unit_tests(load_manifest(spark_warehouse.env))
