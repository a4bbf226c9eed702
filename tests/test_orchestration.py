"""The Dagster code location on a real temporary warehouse: the asset graph, a full materialization,
blocking checks that stop publishing, the lifecycle backfill by month, and the landed-files sensor."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from orchestration.assets.dbt_assets import dbt_asset_key, mart_models
from orchestration.assets.publish import PublishBlockedError, open_serving, publish_marts
from orchestration.checks import suites
from orchestration.checks.results import blocking_failures
from orchestration.definitions import WAREHOUSE_JOB, build_definitions
from orchestration.generate import generate
from orchestration.ingest import ingest_all
from orchestration.manifest import ManifestMissingError, build_manifest, load_manifest
from orchestration.partitions import BACKFILL_JOB
from orchestration.sensors import landed_files_sensor
from orchestration.settings import load_settings

PUBLISH_KEY = dg.AssetKey(["serving", "published_marts"])
SCALE = 0.005
START, END = "2025-01-01", "2026-06-30"


def _isolated_env(root: Path) -> dict[str, str]:
    env = {
        "CLM_LANDING_DIR": str(root / "landing"),
        "CLM_WAREHOUSE_DIR": str(root / "warehouse"),
        "CLM_TARGET": "duckdb",
        "DBT_TARGET_PATH": str(root / "dbt_target"),
        "DBT_LOG_PATH": str(root / "dbt_logs"),
        "DAGSTER_HOME": str(root / "dagster_home"),
    }
    for key in ("CLM_LANDING_DIR", "CLM_WAREHOUSE_DIR", "DAGSTER_HOME"):
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    return env


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Generated data, a fresh manifest and one full warehouse_job run, shared by the module's tests."""
    root = tmp_path_factory.mktemp("orch")
    env = _isolated_env(root)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        generate(scale=SCALE, seed=7, start=START, end=END, out=env["CLM_LANDING_DIR"], dirty=0.01)
        build_manifest()
        manifest = load_manifest()
        definitions = build_definitions(manifest)
        instance = dg.DagsterInstance.ephemeral()
        result = definitions.get_job_def(WAREHOUSE_JOB).execute_in_process(instance=instance, raise_on_error=False)
        yield {"env": env, "manifest": manifest, "definitions": definitions, "instance": instance, "result": result}


def _settings():
    return load_settings()


# ---- the graph --------------------------------------------------------------------------------


def test_missing_manifest_fails_with_the_command_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(ManifestMissingError, match="python -m orchestration.manifest"):
        load_manifest({"DBT_TARGET_PATH": str(tmp_path / "nowhere")})


def test_asset_graph_connects_ingest_dbt_python_and_serving(warehouse: dict[str, Any]) -> None:
    definitions: dg.Definitions = warehouse["definitions"]
    manifest = warehouse["manifest"]
    graph = definitions.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    groups = {graph.get(k).group_name for k in keys if graph.get(k).is_materializable}
    assert groups == {"ingest", "reference", "staging", "intermediate", "marts", "python_models", "serving"}
    # the ingest assets are the dbt sources: the base models depend on them directly
    base_orders = dbt_asset_key(manifest, "base_crm__orders")
    assert dg.AssetKey(["crm", "orders"]) in graph.get(base_orders).parent_keys
    # predictive CLV sits between the purchase summary and the marts that read its predictions
    predictions = dg.AssetKey(["python_models", "clv_customer_predictions"])
    assert dbt_asset_key(manifest, "int_customer_purchase_summary") in graph.get(predictions).parent_keys
    assert predictions in graph.get(dbt_asset_key(manifest, "fct_customer_clv")).parent_keys
    # publish waits for every mart, the report for publish
    assert {dbt_asset_key(manifest, m) for m in mart_models(manifest)} <= graph.get(PUBLISH_KEY).parent_keys
    assert PUBLISH_KEY in graph.get(dg.AssetKey(["serving", "run_report"])).parent_keys
    # descriptions and column schemas come from the dbt docs
    clv_spec = graph.get(dbt_asset_key(manifest, "fct_customer_clv"))
    assert clv_spec.description
    assert "dagster/column_schema" in clv_spec.metadata
    assert clv_spec.owners


def test_dbt_tests_are_checks_on_the_asset_they_test(warehouse: dict[str, Any]) -> None:
    manifest = warehouse["manifest"]
    graph = warehouse["definitions"].resolve_asset_graph()
    checks = {(c.asset_key, c.name) for c in graph.asset_check_keys}
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    # generic tests (relationships included) sit on the model they are attached to
    generic = [t for t in tests if t.get("attached_node")]
    assert generic
    for test in generic:
        owner = manifest["nodes"][test["attached_node"]]
        assert (dbt_asset_key(manifest, owner["name"]), test["name"]) in checks
    singular = [t for t in tests if "test_metadata" not in t and len(t["depends_on"]["nodes"]) == 1]
    assert singular, "the project has single-parent singular tests"
    for test in singular:
        parent = manifest["nodes"][test["depends_on"]["nodes"][0]]["name"]
        assert (dbt_asset_key(manifest, parent), test["name"]) in checks
    # singular tests reading several models name the asset they check with meta.dagster.ref
    referenced = [t for t in tests if t["config"].get("meta", {}).get("dagster", {}).get("ref")]
    assert len(referenced) >= 3
    for test in referenced:
        ref = test["config"]["meta"]["dagster"]["ref"]["name"]
        assert (dbt_asset_key(manifest, ref), test["name"]) in checks
    # a GX suite on every raw table and every mart
    assert {
        (dg.AssetKey(["crm", t]), "gx_suite") for t in ("customers", "orders", "calls", "complaints", "marketing_spend")
    } <= checks
    assert {(dbt_asset_key(manifest, m), "gx_suite") for m in mart_models(manifest)} <= checks


def test_jobs_schedules_sensor_and_partitions(warehouse: dict[str, Any]) -> None:
    definitions: dg.Definitions = warehouse["definitions"]
    job = definitions.get_job_def(WAREHOUSE_JOB)
    assert job.executor_def is dg.in_process_executor
    assert job.tags["dagster/max_retries"] == "1"
    backfill = definitions.get_job_def(BACKFILL_JOB)
    assert isinstance(backfill.partitions_def, dg.MonthlyPartitionsDefinition)
    assert {s.name for s in definitions.schedules} == {"daily_warehouse", "monthly_close"}
    assert [s.name for s in definitions.sensors] == ["new_landed_files"]


# ---- a full run -------------------------------------------------------------------------------


def test_full_run_materializes_everything_and_publishes(warehouse: dict[str, Any]) -> None:
    result: dg.ExecuteInProcessResult = warehouse["result"]
    failures = [e.step_key for e in result.all_events if e.is_step_failure]
    assert result.success, f"failed steps: {failures}"
    graph = warehouse["definitions"].resolve_asset_graph()
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    expected = {k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}
    assert expected - materialized == set()
    checks = result.get_asset_check_evaluations()
    gx = [c for c in checks if c.check_name == "gx_suite"]
    assert gx and all(c.passed or c.severity == dg.AssetCheckSeverity.WARN for c in gx)
    settings = _settings()
    # predictions were written and read back by dbt
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as conn:
        predictions = conn.execute("select count(*) from python_models.clv_customer_predictions").fetchone()[0]
        with_p_alive = conn.execute("select count(*) from marts.fct_customer_clv where p_alive is not null").fetchone()[
            0
        ]
        marts = {
            m: conn.execute(f"select count(*) from marts.{m}").fetchone()[0] for m in mart_models(warehouse["manifest"])
        }
    assert predictions > 0 and with_p_alive > 0
    # the serving file answers like the warehouse
    reader = open_serving(settings.published_dir / "serving.duckdb")
    try:
        for mart, rows in marts.items():
            assert reader.execute(f"select count(*) from marts.{mart}").fetchone()[0] == rows
    finally:
        reader.close()
    assert (settings.published_dir / "CURRENT").exists()
    latest = json.loads((settings.warehouse_dir / "dq" / "latest.json").read_text())
    assert Path(latest["mart_dim_customers"]["result_file"]).exists()
    report = json.loads((settings.warehouse_dir / "report.json").read_text())
    assert report["rows_per_mart"] == marts


def test_serving_reader_keeps_working_during_a_publish_and_sees_the_new_version_after(
    warehouse: dict[str, Any],
) -> None:
    settings = _settings()
    marts = mart_models(warehouse["manifest"])
    serving = settings.published_dir / "serving.duckdb"
    reader = open_serving(serving)
    try:
        old_version = reader.execute("select distinct version from main.publish_info").fetchone()[0]
        before = reader.execute("select count(*) from marts.dim_customers").fetchone()[0]
        with pytest.raises(duckdb.Error):  # external access is limited to the published folder
            reader.execute("select * from read_csv('/etc/passwd')")
        result = publish_marts(settings, marts)
        # the open reader still answers from the version it opened
        assert reader.execute("select count(*) from marts.dim_customers").fetchone()[0] == before
        assert reader.execute("select distinct version from main.publish_info").fetchone()[0] == old_version
    finally:
        reader.close()
    reopened = open_serving(serving)
    try:
        assert reopened.execute("select distinct version from main.publish_info").fetchone()[0] == result.version
        for mart in marts:
            assert reopened.execute(f"select count(*) from marts.{mart}").fetchone()[0] == result.rows[mart]
    finally:
        reopened.close()
    assert not list((settings.published_dir / "versions").glob(".*.partial"))


def test_a_failed_publish_keeps_the_previous_version(
    warehouse: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.assets import publish

    settings = _settings()
    current = (settings.published_dir / "CURRENT").read_text()
    serving_bytes = (settings.published_dir / "serving.duckdb").read_bytes()

    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(publish, "_write_serving_file", broken)
    with pytest.raises(OSError, match="disk full"):
        publish_marts(settings, mart_models(warehouse["manifest"]))
    assert (settings.published_dir / "CURRENT").read_text() == current
    assert (settings.published_dir / "serving.duckdb").read_bytes() == serving_bytes
    assert not list((settings.published_dir / "versions").glob(".*.partial"))


def test_partition_backfill_rebuilds_only_its_months(warehouse: dict[str, Any]) -> None:
    settings = _settings()
    with duckdb.connect(str(settings.duckdb_path)) as conn:
        counts = dict(
            conn.execute(
                "select cast(month_start_date as varchar), count(*) "
                "from marts.fct_customer_lifecycle_monthly group by 1"
            ).fetchall()
        )
        rebuilt, untouched = sorted(counts)[-3], sorted(counts)[-2]
        conn.execute(
            "delete from marts.fct_customer_lifecycle_monthly where month_start_date in (?, ?)", [rebuilt, untouched]
        )
    job = warehouse["definitions"].get_job_def(BACKFILL_JOB)
    result = job.execute_in_process(instance=warehouse["instance"], partition_key=rebuilt)
    assert result.success
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as conn:
        after = dict(
            conn.execute(
                "select cast(month_start_date as varchar), count(*) "
                "from marts.fct_customer_lifecycle_monthly group by 1"
            ).fetchall()
        )
    assert after.get(rebuilt) == counts[rebuilt]
    assert untouched not in after  # not in the partition: not rebuilt
    assert {m: n for m, n in after.items() if m != rebuilt} == {
        m: n for m, n in counts.items() if m not in (rebuilt, untouched)
    }


def test_a_failing_blocking_check_stops_publishing(warehouse: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings()
    current = (settings.published_dir / "CURRENT").read_text()
    # an impossible expectation with error severity on one mart: its check fails and blocks publish
    impossible = dataclasses.replace(suites.MART_SPECS["dim_customers"], min_rows=10**9)
    monkeypatch.setitem(suites.MART_SPECS, "dim_customers", impossible)
    job = warehouse["definitions"].get_job_def(WAREHOUSE_JOB)
    result = job.execute_in_process(instance=warehouse["instance"], raise_on_error=False)
    assert not result.success
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert PUBLISH_KEY not in materialized
    assert dbt_asset_key(warehouse["manifest"], "fct_customer_clv") in materialized  # the rest of the build ran
    failed = [c for c in result.get_asset_check_evaluations() if not c.passed and c.check_name == "gx_suite"]
    assert any(
        c.asset_key == dbt_asset_key(warehouse["manifest"], "dim_customers")
        and c.severity == dg.AssetCheckSeverity.ERROR
        for c in failed
    )
    # the previous published copy is intact and readable
    assert (settings.published_dir / "CURRENT").read_text() == current
    reader = open_serving(settings.published_dir / "serving.duckdb")
    try:
        assert reader.execute("select count(*) from marts.dim_customers").fetchone()[0] > 0
    finally:
        reader.close()
    # and publishing by hand is refused while the latest result of a blocking suite failed
    assert blocking_failures(settings) == ["mart_dim_customers"]
    with pytest.raises(PublishBlockedError, match="mart_dim_customers"):
        publish_marts(settings, mart_models(warehouse["manifest"]))


# ---- the sensor -------------------------------------------------------------------------------


def test_sensor_requests_a_run_for_new_files_only(clm_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in clm_env.items():
        monkeypatch.setenv(key, value)
    landing = Path(clm_env["CLM_LANDING_DIR"])
    generate(scale=0.002, seed=3, start="2026-01-01", end="2026-03-31", out=landing)
    sensor = landed_files_sensor(dg.define_asset_job("warehouse_job"))
    first = sensor(dg.build_sensor_context())
    assert isinstance(first, dg.SensorResult) and len(first.run_requests) == 1
    ingest_all(load_settings())
    assert isinstance(sensor(dg.build_sensor_context()), dg.SkipReason)  # everything is in the ledger
    # a new file (one new order) is pending until it is loaded
    loaded = sorted((landing / "orders").rglob("*.csv"))[0]
    new_file = landing / "orders" / "orders_2026-04-01.csv"
    lines = loaded.read_text(encoding="utf-8").splitlines()
    header, row = lines[0], lines[1].split(",")
    row[0] = "O_SENSOR_TEST"
    new_file.write_text(header + "\n" + ",".join(row) + "\n", encoding="utf-8")
    result = sensor(dg.build_sensor_context())
    assert isinstance(result, dg.SensorResult)
    assert result.run_requests[0].tags["clm/pending_files"] == "1"
    again = sensor(dg.build_sensor_context())
    assert again.run_requests[0].run_key == result.run_requests[0].run_key  # same pending set, same key
    ingest_all(load_settings())
    assert isinstance(sensor(dg.build_sensor_context()), dg.SkipReason)
