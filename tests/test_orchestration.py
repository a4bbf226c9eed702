"""The Dagster code location on a real temporary warehouse: the asset graph, a full materialization,
blocking checks that stop publishing, the lifecycle backfill by month, and the landed-files sensor."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from orchestration.assets.clv_assets import HOLDOUT_TABLES
from orchestration.assets.dbt_assets import dbt_asset_key, mart_models, published_marts, relation_docs
from orchestration.assets.publish import (
    PUBLISH_PHASES,
    PUBLISHED_MARTS_KEY,
    PublishBlockedError,
    open_serving,
    publish_marts,
)
from orchestration.checks import suites
from orchestration.checks.results import blocking_failures
from orchestration.checks.sql_validation import validate_in_warehouse
from orchestration.definitions import WAREHOUSE_JOB, build_definitions
from orchestration.engines import engine_for
from orchestration.generate import generate
from orchestration.ingest import ingest_all
from orchestration.lifecycle_report import REPORT_HTML
from orchestration.lifecycle_report.browser import render, screenshot
from orchestration.manifest import ManifestMissingError, build_manifest, load_manifest
from orchestration.partitions import BACKFILL_JOB
from orchestration.sensors import landed_files_sensor
from orchestration.settings import load_settings

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
        result = definitions.resolve_job_def(WAREHOUSE_JOB).execute_in_process(instance=instance, raise_on_error=False)
        yield {"env": env, "manifest": manifest, "definitions": definitions, "instance": instance, "result": result}


def _settings():
    return load_settings()


def _run_selection(warehouse: dict[str, Any], selection: list[dg.AssetKey], **config: Any) -> dg.ExecuteInProcessResult:
    """warehouse_job for the selected assets on the module's warehouse, with the resource `warehouse`
    configured as the Launchpad sets it (full_refresh, dbt_vars); it must succeed."""
    result = (
        warehouse["definitions"]
        .resolve_job_def(WAREHOUSE_JOB)
        .execute_in_process(
            instance=warehouse["instance"],
            asset_selection=selection,
            run_config={"resources": {"warehouse": {"config": config}}} if config else None,
            raise_on_error=False,
        )
    )
    assert result.success, [e.step_key for e in result.all_events if e.is_step_failure]
    return result


def _run_messages(warehouse: dict[str, Any], result: dg.ExecuteInProcessResult) -> list[str]:
    return [entry.user_message or "" for entry in warehouse["instance"].all_logs(result.run_id)]


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
    # publish waits for every mart it publishes (the exposure's list), the report for publish
    published = {dbt_asset_key(manifest, m) for m in published_marts(manifest)}
    assert published == {k for k in graph.get(PUBLISHED_MARTS_KEY).parent_keys if k.path[0] == "marts"}
    assert dbt_asset_key(manifest, "metricflow_time_spine") not in published
    assert PUBLISHED_MARTS_KEY in graph.get(dg.AssetKey(["serving", "run_report"])).parent_keys
    # descriptions and column schemas come from the dbt docs
    clv_spec = graph.get(dbt_asset_key(manifest, "fct_customer_clv"))
    assert clv_spec.description
    assert "dagster/column_schema" in clv_spec.metadata
    assert clv_spec.owners


def test_only_the_marts_that_read_predictions_wait_for_the_clv_fit(warehouse: dict[str, Any]) -> None:
    graph = warehouse["definitions"].resolve_asset_graph()
    waiting = {
        key.path[-1]
        for key in graph.get_all_asset_keys()
        if key.path[0] == "marts" and any(k.path[0] == "python_models" for k in graph.get_ancestor_asset_keys(key))
    }
    # each of these shows a predicted figure (p_alive, predicted CLV or tier, the holdout evaluation)
    assert waiting == {
        "fct_customer_clv",
        "fct_customer_value_tiers",
        "fct_value_tier_summary",
        "fct_early_warning",
        "fct_call_list",
        "fct_clv_holdout_customers",
        "fct_clv_holdout_by_frequency",
        "fct_clv_holdout_tracking",
        "fct_clv_holdout_summary",
    }
    # the customer dimension, the KPI marts and the historical tiers are built before the fit
    built_before = {"dim_customers", "fct_customer_kpi_monthly", "kpi_monthly", "fct_value_pareto"}
    built_before |= {"fct_stage_tier_counts", "fct_churn_analysis", "fct_cohort_retention"}
    assert waiting.isdisjoint(built_before)


def test_every_dbt_test_runs_once_in_the_step_that_builds_its_last_parent(warehouse: dict[str, Any]) -> None:
    result: dg.ExecuteInProcessResult = warehouse["result"]
    graph = warehouse["definitions"].resolve_asset_graph()
    evaluated = [e.asset_check_key for e in result.get_asset_check_evaluations()]
    assert len(evaluated) == len(set(evaluated)), "a check was evaluated twice"
    assert set(graph.asset_check_keys) - set(evaluated) == set()
    # the test that reads the stage engine and a KPI mart runs with the KPI mart (three dbt steps)
    kpi_check = dg.AssetCheckKey(
        dbt_asset_key(warehouse["manifest"], "fct_customer_kpi_monthly"), "assert_kpi_churned_are_moves_into_churned"
    )
    assert kpi_check in evaluated
    steps = {e.step_key for e in result.all_events if e.step_key and e.step_key.startswith("dbt_")}
    assert steps == {"dbt_before_clv", "dbt_lifecycle_marts", "dbt_after_clv"}


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
    job = definitions.resolve_job_def(WAREHOUSE_JOB)
    assert job.executor_def is dg.in_process_executor
    assert job.tags["dagster/max_retries"] == "1"
    backfill = definitions.resolve_job_def(BACKFILL_JOB)
    assert isinstance(backfill.partitions_def, dg.MonthlyPartitionsDefinition)
    assert {s.name for s in definitions.schedules} == {"daily_warehouse", "monthly_close"}
    assert [s.name for s in definitions.sensors] == ["new_landed_files"]


def test_backfill_partitions_start_at_the_data_and_a_full_build_shows_its_months(warehouse: dict[str, Any]) -> None:
    settings = _settings()
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as conn:
        months = [
            str(m)
            for (m,) in conn.execute(
                "select distinct cast(month_start_date as date) from marts.fct_customer_lifecycle_monthly order by 1"
            ).fetchall()
        ]
        first_order = conn.execute("select min(ordered_date) from staging.stg_crm__orders").fetchone()[0]
    assert months[0] <= str(first_order)[:7] + "-01"  # the history starts no later than the first order
    lifecycle = dbt_asset_key(warehouse["manifest"], "fct_customer_lifecycle_monthly")
    # the full build (no partition) reported every month it wrote as a materialized partition
    assert warehouse["instance"].get_materialized_partitions(lifecycle) == set(months)
    # definitions loaded after the build start the partitions at the first month of the data
    reloaded = build_definitions(warehouse["manifest"]).resolve_job_def(BACKFILL_JOB).partitions_def
    assert reloaded.get_first_partition_key() == months[0]
    assert set(months) <= set(reloaded.get_partition_keys())


# ---- a full run -------------------------------------------------------------------------------


def test_full_run_materializes_everything_and_publishes(warehouse: dict[str, Any]) -> None:
    result: dg.ExecuteInProcessResult = warehouse["result"]
    failures = [e.step_key for e in result.all_events if e.is_step_failure]
    assert result.success, f"failed steps: {failures}"
    graph = warehouse["definitions"].resolve_asset_graph()
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    expected = {k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}
    assert expected - materialized == set()
    # the publish reports where its time went: each phase, together within the step's own time
    (publish,) = [e for e in result.get_asset_materialization_events() if e.asset_key == PUBLISHED_MARTS_KEY]
    phases = publish.event_specific_data.materialization.metadata["seconds"].value
    (step,) = [
        s for s in warehouse["instance"].get_run_step_stats(result.run_id) if s.step_key == "serving__published_marts"
    ]
    assert tuple(phases) == PUBLISH_PHASES and all(seconds > 0 for seconds in phases.values())
    assert sum(phases.values()) <= step.end_time - step.start_time
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
    # the serving file answers like the warehouse, for the marts the exposure lists (not the time spine)
    published = published_marts(warehouse["manifest"])
    assert "metricflow_time_spine" not in published and set(published) < set(marts)
    reader = open_serving(settings.published_dir / "serving.duckdb")
    try:
        served = {
            name
            for (name,) in reader.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
        assert served == set(published)
        for mart in published:
            assert reader.execute(f"select count(*) from marts.{mart}").fetchone()[0] == marts[mart]
        # each published relation and column carries its dbt description
        description, columns = relation_docs(warehouse["manifest"], "fct_customer_clv")
        comment = reader.execute(
            "select comment from duckdb_tables() where schema_name = 'marts' and table_name = 'fct_customer_clv'"
        ).fetchone()[0]
        assert description and comment == description.strip()
        column_comments = dict(
            reader.execute(
                "select column_name, comment from duckdb_columns() "
                "where schema_name = 'marts' and table_name = 'fct_customer_clv'"
            ).fetchall()
        )
        assert column_comments["customer_id"] == columns["customer_id"].strip() != ""
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
    marts = published_marts(warehouse["manifest"])  # what the job publishes
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
    # the new file was patched from the current one; publishing the same marts again replaces nothing
    assert result.serving is not None and result.serving.mode == "patched"
    again = publish_marts(settings, marts)
    assert again.serving is not None and (again.serving.mode, again.serving.replaced) == ("patched", {})
    assert not list((settings.published_dir / "versions").glob(".*.partial"))


def test_the_serving_file_travels(warehouse: dict[str, Any], tmp_path: Path) -> None:
    """A copy of the serving file answers the same with the warehouse and the published folder gone."""
    settings = _settings()
    published = published_marts(warehouse["manifest"])
    original = open_serving(settings.published_dir / "serving.duckdb")
    try:
        before = {m: sorted(original.execute(f"select * from marts.{m}").fetchall(), key=repr) for m in published}
    finally:
        original.close()
    copy = tmp_path / "bi_server" / "serving.duckdb"
    copy.parent.mkdir()
    shutil.copy(settings.published_dir / "serving.duckdb", copy)
    moved = settings.warehouse_dir.with_name(settings.warehouse_dir.name + "_moved")
    settings.warehouse_dir.rename(moved)  # the original warehouse and its Parquet are gone
    try:
        reader = open_serving(copy)
        try:
            for mart in published:
                assert sorted(reader.execute(f"select * from marts.{mart}").fetchall(), key=repr) == before[mart]
        finally:
            reader.close()
    finally:
        moved.rename(settings.warehouse_dir)


def test_the_lifecycle_report_renders_offline_with_the_marts_numbers(warehouse: dict[str, Any], tmp_path: Path) -> None:
    settings = _settings()
    page = settings.published_dir / REPORT_HTML
    version = (settings.published_dir / "CURRENT").read_text().strip()
    assert (settings.published_dir / "versions" / version / REPORT_HTML).read_text() == page.read_text()
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)  # nothing loaded from elsewhere
    rendered = render(page)  # headless Chromium, network off
    assert rendered.console == []  # no error, no warning, no log line
    errors = re.search(r'<div id="report-errors">(.*?)</div>', rendered.dom, re.DOTALL)
    assert errors is not None and errors.group(1).strip() == ""
    charts = re.findall(r'<div class="chart[^"]*" id="chart-(\d+)"([^>]*)>(.*?)</section>', rendered.dom, re.DOTALL)
    assert len(charts) == 13
    for number, attributes, body in charts:
        assert 'data-rendered="true"' in attributes, f"chart {number} did not render"
        assert "<svg" in body and re.search(r'class="mark-(rect|area|line|rule|text|tick|symbol)', body), number
    shown = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', rendered.dom))
    # the figures on the page, against the warehouse's marts (not the serving file the page was made from)
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as conn:
        as_of = conn.execute("select max(month_start_date) from marts.fct_customer_lifecycle_monthly").fetchone()[0]
        stages = conn.execute(
            "select stage_code, count(*) from marts.fct_customer_lifecycle_monthly where month_start_date = ? "
            "group by 1",
            [as_of],
        ).fetchall()
        active, churn, quick = conn.execute(
            "select active_customers, churn_rate, quick_ratio from marts.kpi_monthly "
            "where dimension_name = 'overall' and month_start_date = ?",
            [as_of],
        ).fetchone()
        top_share = conn.execute(
            "select sum(lifetime_profit) filter (where value_tier = 'A') / sum(lifetime_profit) "
            "from marts.fct_customer_value_tiers"
        ).fetchone()[0]
        call_list = conn.execute("select count(*) from marts.fct_call_list").fetchone()[0]
    assert shown["as_of_month"] == str(as_of)[:7]
    assert shown["active_customers"] == f"{int(active):,}"
    assert shown["churn_rate"] == f"{float(churn):.1%}" and shown["quick_ratio"] == f"{float(quick):.2f}"
    assert shown["call_list"] == f"{call_list:,}"
    assert {k.removeprefix("stage_"): v for k, v in shown.items() if k.startswith("stage_")} == {
        code: f"{n:,}" for code, n in stages
    }
    assert shown["top_20_percent_profit_share"] == f"{float(top_share):.1%}"
    png = screenshot(page, tmp_path / "first_screen.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


HOLDOUT_FROM_ORDERS = """
    with days as (
        select distinct customer_id, ordered_date as day from staging.stg_crm__orders
        where is_completed and ordered_date <= $obs_end
    ),
    firsts as (select customer_id, min(day) as first_day from days group by customer_id),
    cohort as (select * from firsts where first_day <= $cal_end),
    per_customer as (
        select cohort.customer_id,
               count(*) filter (where days.day <= $cal_end) - 1 as calibration_frequency,
               count(*) filter (where days.day > $cal_end) as holdout_purchases,
               count(*) filter (where days.day > cohort.first_day) as repeat_purchases
        from cohort join days using (customer_id) group by cohort.customer_id
    )
    select count(*) as customers, sum(holdout_purchases) as holdout_purchases,
           sum(repeat_purchases) as repeat_purchases,
           list(least(calibration_frequency, 7) order by customer_id) as bins
    from per_customer"""


def test_the_clv_holdout_evaluation_agrees_with_the_staged_orders(warehouse: dict[str, Any]) -> None:
    """The holdout marts against an independent count from staging: the split, the customers, their
    actual holdout purchases, the bins and the tracking's end; and the warn limit of its suite."""
    settings = _settings()
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as conn:
        row = conn.execute("select * from marts.fct_clv_holdout_summary").df().iloc[0]
        obs_end = conn.execute("select max(ordered_date) from staging.stg_crm__orders").fetchone()[0]
        cal_end = obs_end - dt.timedelta(days=182)  # the default clv_holdout_days
        customers, holdout, repeats, bins = conn.execute(
            HOLDOUT_FROM_ORDERS, {"obs_end": obs_end, "cal_end": cal_end}
        ).fetchone()
        by_frequency = conn.execute(
            "select frequency_bin_order, customers from marts.fct_clv_holdout_by_frequency"
        ).fetchall()
        per_customer = conn.execute(
            "select count(*), sum(actual_holdout_purchases) from marts.fct_clv_holdout_customers"
        ).fetchone()
        last_week = conn.execute(
            "select week_end_date, actual_cumulative_repeat_purchases from marts.fct_clv_holdout_tracking "
            "order by week_end_date desc limit 1"
        ).fetchone()
    assert row["status"] == "evaluated" and row["bg_nbd_converged"]
    assert (row["calibration_end_date"].date(), row["holdout_end_date"].date()) == (cal_end, obs_end)
    assert row["customers"] == customers == per_customer[0] == sum(n for _, n in by_frequency)
    assert row["actual_holdout_purchases"] == holdout == per_customer[1]
    assert dict(by_frequency) == {b: bins.count(b) for b in set(bins)}
    assert last_week == (obs_end, repeats)  # the tracking ends at the observation end
    # the warn limit of the summary's suite is var clv_holdout_max_error
    error = abs(float(row["purchases_relative_error"]))
    with engine_for(settings).reader() as reader:
        for limit, warns in ((error / 2, True), (error * 2 + 1e-9, False)):
            suite = suites.mart_suite("fct_clv_holdout_summary", {}, {"clv_holdout_max_error": limit})
            summary, _ = validate_in_warehouse(suite, reader)
            assert bool(summary["warn_failed"]) is warns and not summary["error_failed"]
    report = json.loads((settings.warehouse_dir / "report.json").read_text())
    assert report["clv_holdout"]["actual_holdout_purchases"] == holdout


def test_a_failed_publish_keeps_the_previous_version(
    warehouse: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.assets import serving_file

    settings = _settings()
    current = (settings.published_dir / "CURRENT").read_text()
    serving_bytes = (settings.published_dir / "serving.duckdb").read_bytes()
    versions = sorted((settings.published_dir / "versions").iterdir())

    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    # the disk fills up while the patched copy of the serving file is being finished
    monkeypatch.setattr(serving_file, "_finish", broken)
    with pytest.raises(OSError, match="disk full"):
        publish_marts(settings, published_marts(warehouse["manifest"]))
    assert (settings.published_dir / "CURRENT").read_text() == current
    assert (settings.published_dir / "serving.duckdb").read_bytes() == serving_bytes
    # nothing of the failed version is left: no partial folder, no version folder, no half-written copy
    assert sorted((settings.published_dir / "versions").iterdir()) == versions
    assert [p.name for p in settings.published_dir.iterdir() if p.name.startswith(".")] == []


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
    job = warehouse["definitions"].resolve_job_def(BACKFILL_JOB)
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
    job = warehouse["definitions"].resolve_job_def(WAREHOUSE_JOB)
    result = job.execute_in_process(instance=warehouse["instance"], raise_on_error=False)
    assert not result.success
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert PUBLISHED_MARTS_KEY not in materialized
    # what does not read the blocked mart was built (the CLV fit); what reads it was not (the KPI marts)
    assert dg.AssetKey(["python_models", "clv_customer_predictions"]) in materialized
    assert dbt_asset_key(warehouse["manifest"], "fct_customer_kpi_monthly") not in materialized
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


def test_the_full_refresh_option_reaches_every_dbt_step_and_the_daily_run_stays_incremental(
    warehouse: dict[str, Any],
) -> None:
    """Launchpad → resource `warehouse` → `full_refresh: true` rebuilds the incremental models from all raw
    rows (dbt --full-refresh); without it the same run is incremental. Both leave the same rows."""
    manifest = warehouse["manifest"]
    selection = [dbt_asset_key(manifest, name) for name in ("base_crm__customers", "base_crm__orders")]
    table = "staging.base_crm__orders"

    def run(full_refresh: bool) -> tuple[list[str], list[tuple]]:
        result = _run_selection(warehouse, selection, full_refresh=full_refresh)
        commands = [m for m in _run_messages(warehouse, result) if "Running dbt command" in m]
        with duckdb.connect(str(_settings().duckdb_path), read_only=True) as conn:
            rows = sorted(conn.execute(f"select * from {table}").fetchall(), key=repr)
        return commands, rows

    with duckdb.connect(str(_settings().duckdb_path), read_only=True) as conn:
        built = sorted(conn.execute(f"select * from {table}").fetchall(), key=repr)
    refreshed, refreshed_rows = run(full_refresh=True)
    daily, daily_rows = run(full_refresh=False)
    assert refreshed and all("--full-refresh" in command for command in refreshed)
    assert daily and not any("--full-refresh" in command for command in daily)
    assert refreshed_rows == built and daily_rows == built


def test_the_clv_fit_is_kept_while_its_inputs_are_unchanged(warehouse: dict[str, Any]) -> None:
    """A run whose CLV inputs equal the stored fit's keeps the stored results (a file later the same day
    with no new order); a full refresh fits again, and so does a change of a fit setting (a run's var),
    and changing it back."""
    manifest = warehouse["manifest"]
    keys = [dg.AssetKey(["python_models", t]) for t in (*HOLDOUT_TABLES, "clv_model_parameters")]
    keys.append(dg.AssetKey(["python_models", "clv_customer_predictions"]))
    assert dbt_asset_key(manifest, "fct_customer_clv") not in keys

    def run(**config: Any) -> tuple[str, list[str], tuple[str, str], list[tuple]]:
        result = _run_selection(warehouse, keys, **config)
        messages = _run_messages(warehouse, result)
        with duckdb.connect(str(_settings().duckdb_path), read_only=True) as conn:
            stored = conn.execute("select input_fingerprint, fitted_by from python_models.clv_fit_inputs").fetchall()
            predictions = conn.execute("select * from python_models.clv_customer_predictions order by 1").fetchall()
        assert len(stored) == 1 and len(stored[0][0]) == 64
        return result.run_id, messages, stored[0], predictions

    with duckdb.connect(str(_settings().duckdb_path), read_only=True) as conn:
        built = conn.execute("select * from python_models.clv_customer_predictions order by 1").fetchall()
    assert built
    kept_run, kept_log, kept, kept_rows = run()
    assert any("its results are kept" in m for m in kept_log)
    assert kept[1] == warehouse["result"].run_id and kept_rows == built  # the full run's fit, untouched
    refit_run, refit_log, refit, _ = run(full_refresh=True)
    assert not any("its results are kept" in m for m in refit_log)
    assert refit == (kept[0], refit_run)  # fitted again, on the same inputs
    shorter_run, shorter_log, shorter, shorter_rows = run(dbt_vars="{clv_horizon_months: 3}")
    assert not any("its results are kept" in m for m in shorter_log)
    assert shorter[1] == shorter_run and shorter[0] != kept[0]
    clv = [row[-1] for row in shorter_rows]
    assert sum(clv) < sum(row[-1] for row in built)  # three months of future margin, not twelve
    back_run, _, back, back_rows = run()
    assert back == (kept[0], back_run)
    assert [row[0] for row in back_rows] == [row[0] for row in built]
    for new, old in zip(back_rows, built, strict=True):  # the same fit again: equal up to float noise
        assert new[1:] == pytest.approx(old[1:], rel=1e-9, abs=1e-9)


def test_a_runs_dbt_vars_reach_dbt_and_the_python_assets_alike(warehouse: dict[str, Any]) -> None:
    """A run's var overrides (config of resource `warehouse`, as the Launchpad sets it) are resolved once:
    dbt gets them as --vars (its calibration end moves) and the CLV asset reads the same (its holdout
    length). Last in the module: it leaves the holdout marts at 91 days."""
    manifest = warehouse["manifest"]
    selection = [
        *(dbt_asset_key(manifest, m) for m in ("int_clv_holdout_customers", "int_clv_holdout_daily")),
        *(dg.AssetKey(["python_models", t]) for t in HOLDOUT_TABLES),
        dg.AssetKey(["python_models", "clv_model_parameters"]),
        dg.AssetKey(["python_models", "clv_customer_predictions"]),
        dbt_asset_key(manifest, "fct_clv_holdout_summary"),
    ]
    _run_selection(warehouse, selection, dbt_vars="{clv_holdout_days: 91}")
    with duckdb.connect(str(_settings().duckdb_path), read_only=True) as conn:
        python_days = conn.execute("select holdout_days from python_models.clv_holdout_summary").fetchone()[0]
        calibration_end, holdout_end = conn.execute(
            "select calibration_end_date, holdout_end_date from marts.fct_clv_holdout_summary"
        ).fetchone()
        dbt_days = conn.execute("select distinct holdout_days from intermediate.int_clv_holdout_customers").fetchall()
    assert python_days == 91 and dbt_days == [(91,)]
    assert (holdout_end - calibration_end).days == 91
