"""The benchmark (orchestration/bench.py): the before/after comparison (`make bench BEFORE_AFTER=lifecycle`)
must leave out exactly the lifecycle work; the hand-written references (bench/*.sql) must compute what the
models compute, or the ratios compare different work; dbt's run results and the report's layout.
The benchmark itself is run by hand (timings belong in docs/benchmarks.md, not in tests)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from orchestration.assets.publish import PUBLISHED_MARTS_KEY
from orchestration.bench import (
    LIFECYCLE_WORK,
    PROJECT_DIR,
    check_disk,
    disk_needed_gb,
    imported_package,
    job_run_results,
    job_steps,
    last_day,
    link_landing,
    model_names,
    ratio_text,
    replaced_gb,
    run_references,
    steps,
)
from orchestration.bench_report import (
    Measurement,
    ModelTime,
    StepResult,
    ratios,
    read_run_results,
    report_lines,
    slowest,
)
from orchestration.generate import generate
from orchestration.ingest import ingest_all
from orchestration.settings import load_settings
from tests.support import DbtRunner

LIFECYCLE_MODELS = {
    "int_customer_months_spined", "int_customer_months_measured", "int_customer_stages_sequenced",
    "int_customer_lifecycle_months",
    "fct_customer_lifecycle_monthly", "fct_lifecycle_transitions", "fct_stage_durations",
    "fct_stage_duration_summary", "fct_early_warning", "fct_call_list", "dim_customers",
}
FOUNDATION_AND_VALUE_MODELS = {
    "base_crm__orders", "stg_crm__orders", "stg_crm__rejected_rows", "int_customer_cash_flows_monthly",
    "int_customer_purchase_summary", "fct_customer_clv", "fct_customer_value_tiers", "fct_value_pareto",
}


def test_the_lifecycle_selector_covers_the_lifecycle_models_and_nothing_of_the_foundation(
    clm_env: dict[str, str],
) -> None:
    excluded = set(model_names(LIFECYCLE_WORK, clm_env))
    assert LIFECYCLE_MODELS.issubset(excluded), LIFECYCLE_MODELS - excluded
    assert not FOUNDATION_AND_VALUE_MODELS & excluded
    # what is built on the stages (KPIs from monthly stages, stage x tier) goes with them
    assert {"fct_customer_kpi_monthly", "kpi_monthly", "fct_stage_tier_counts"}.issubset(excluded)


def test_every_dbt_step_after_staging_leaves_the_excluded_selector_out() -> None:
    before = {name: cmd for name, cmd, _ in steps(1, Path("landing"), generated=False, excluded=LIFECYCLE_WORK)}
    after = {name: cmd for name, cmd, _ in steps(1, Path("landing"), generated=False)}
    for name in ("dbt run before clv", "dbt run after clv", "dbt snapshot", "dbt test"):
        exclude_at = before[name].index("--exclude")
        assert LIFECYCLE_WORK in before[name][exclude_at:], name
        assert LIFECYCLE_WORK not in after[name], name
    for name in ("ingest", "dbt parse", "dbt seed", "dbt run staging"):
        assert before[name] == after[name], name
    assert list(before) == list(after)


def test_ratios_read_as_after_over_before() -> None:
    assert ratio_text(30.0, 10.0) == "×3.00"
    assert ratio_text(5.0, 10.0) == "×0.50"
    assert ratio_text(7.0, 0.0) == "new"
    assert ratio_text(0.0, 0.0) == "–"


def test_the_steps_run_the_dbt_project_of_the_checkout_they_are_given() -> None:
    other = Path("/elsewhere/checkout")
    by_name = {name: cmd for name, cmd, _ in steps(1, Path("landing"), generated=False, project=other)}
    assert by_name["dbt run staging"][-4:] == ["--project-dir", str(other), "--profiles-dir", str(other)]


def test_a_python_started_in_a_checkout_imports_that_checkouts_package() -> None:
    assert imported_package(PROJECT_DIR) == (PROJECT_DIR / "orchestration").resolve()


# --- dbt's run results --------------------------------------------------------------------------------


def _run_results(path: Path, times: dict[str, float]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"results": [
        {"unique_id": unique_id, "execution_time": seconds, "status": "success"}
        for unique_id, seconds in times.items()
    ]}))
    return path


def test_run_results_give_the_models_and_the_slowest_come_first(tmp_path: Path) -> None:
    path = _run_results(tmp_path / "run_results.json", {
        "model.customer_lifecycle.base_crm__orders": 2.5,
        "model.customer_lifecycle.stg_crm__orders": 0.1,
        "model.customer_lifecycle.int_customer_months_measured": 7.0,
        "test.customer_lifecycle.not_null_x.abc": 99.0,
        "seed.customer_lifecycle.call_costs": 50.0,
        "operation.customer_lifecycle.customer_lifecycle-on-run-start-0": 30.0,
    })
    models = read_run_results(path, "dbt run staging")
    assert {m.name for m in models} == {"base_crm__orders", "stg_crm__orders", "int_customer_months_measured"}
    assert [m.name for m in slowest(models, 2)] == ["int_customer_months_measured", "base_crm__orders"]
    assert all(m.step == "dbt run staging" for m in models)
    assert read_run_results(tmp_path / "missing.json", "x") == []


def test_the_main_jobs_run_results_are_read_from_each_dbt_build_folder(tmp_path: Path) -> None:
    _run_results(tmp_path / "dbt_before_clv-1a2b3c4-9f8e7d6" / "run_results.json",
                 {"model.customer_lifecycle.base_crm__orders": 1.0})
    _run_results(tmp_path / "dbt_after_clv-1a2b3c4-0a1b2c3" / "run_results.json",
                 {"model.customer_lifecycle.fct_customer_clv": 2.0})
    models = job_run_results(tmp_path)
    assert {(m.name, m.step) for m in models} == {
        ("base_crm__orders", "dbt_before_clv"), ("fct_customer_clv", "dbt_after_clv"),
    }


# --- the report ---------------------------------------------------------------------------------------


def _measurement(label: str, job_seconds: float) -> Measurement:
    return Measurement(
        label,
        rows=[
            StepResult("generate", 0.0, 0.0, "reused"),
            StepResult("ingest", 4.0, 300.0),
            StepResult("reference: core lifecycle", 10.0, 200.0, "", "reference", 9.0),
            StepResult("reference: staging orders", 2.0, 150.0, "", "reference", 1.6),
            StepResult("reference: staging calls", 1.5, 120.0, "", "reference", 0.8),
            StepResult("dbt run staging", 6.0, 400.0),
            StepResult("main job", job_seconds, 800.0, "", "job"),
            StepResult("main job, next day (incremental)", job_seconds / 20, 700.0, "", "job"),
            StepResult("main job, later the same day (incremental)", job_seconds / 50, 600.0, "", "job"),
        ],
        models=[ModelTime(f"model_{i}", float(i), "dbt run staging") for i in range(12)]
        + [ModelTime("base_crm__orders", 2.0, "dbt run staging"), ModelTime("base_crm__calls", 1.0, "dbt run staging")],
        job_models=[ModelTime("base_crm__orders", 3.0, "dbt_before_clv")],
    )


def test_the_ratios_divide_the_job_by_the_core_reference_and_each_base_model_by_its_staging_sql() -> None:
    figures = ratios(_measurement("this run", 45.0))
    by_what = {what.split(" ")[0]: (value, bound) for what, value, bound in figures}
    assert [what.split(" ")[0] for what, _, _ in figures] == [
        "main", "base_crm__orders", "base_crm__customers", "base_crm__calls", "base_crm__complaints", "main", "main",
        "main"]
    job, peak, day, same_day = (f for f in figures if f[0].startswith("main"))
    assert "(wall)" in job[0] and job[1] == pytest.approx(4.5) and job[2] == "≤ 5"
    # the steps' execution_time (2.0 s) over the reference's SQL seconds (1.6 s), not its process wall
    assert by_what["base_crm__orders"] == (pytest.approx(1.25), "≤ 1.5")
    # each model over its own table's reference (calls: 1.0 s over 0.8 s)
    assert by_what["base_crm__calls"] == (pytest.approx(1.25), "≤ 1.5")
    # a reference that was not run gives no ratio
    assert by_what["base_crm__customers"] == (None, "≤ 1.5") and by_what["base_crm__complaints"][0] is None
    assert "peak" in peak[0] and peak[1] == pytest.approx(4.0)
    # the next day's incremental run over the full job of the same invocation
    assert "next day" in day[0] and day[1] == pytest.approx(0.05) and day[2] == "≤ 0.1"
    # a file later that day: over the same full job, no bound
    assert "same day" in same_day[0] and same_day[1] == pytest.approx(0.02) and same_day[2] == ""
    assert ratios(Measurement("nothing"))[0][1] is None


def test_one_measurement_is_one_table_with_the_ratios_and_the_ten_slowest_models() -> None:
    lines = report_lines(["", "### header", ""], [_measurement("this run", 45.0)], "What ran.")
    text = "\n".join(lines)
    assert "| measurement | wall s | peak MB | note |" in lines
    assert "| reference: core lifecycle | 10.0 | 200 |  |" in lines
    # the pipeline total (ingest + staging, no references, no generate) comes before the main job
    total = next(i for i, line in enumerate(lines) if "pipeline steps total" in line)
    assert "| 10.0 | 400 |" in lines[total] and lines[total + 1].startswith("| main job | 45.0 | 800 |")
    assert "| main job / core lifecycle reference (wall) | ×4.50 | ≤ 5 |" in lines
    assert "| base_crm__orders (dbt run_results) / staging orders reference (SQL) | ×1.25 | ≤ 1.5 |" in lines
    models = lines[lines.index("| model | dbt steps s | main job s | dbt step |") + 2:]
    model_rows = [line for line in models if line.startswith("| ")]
    assert len(model_rows) == 10 and model_rows[0] == "| model_11 | 11.00 | – | dbt run staging |"
    assert "| base_crm__orders | 2.00 | 3.00 | dbt run staging |" in model_rows
    assert text.startswith("\n### header")


def test_a_baseline_comparison_has_before_and_after_columns_with_ratios() -> None:
    lines = report_lines(["### header"], [_measurement("before", 90.0), _measurement("after", 45.0)], "x")
    assert "| measurement | before s | after s | ratio | before MB | after MB | note |" in lines
    assert "| main job | 90.0 | 45.0 | ×0.50 | 800 | 800 |  |" in lines
    assert "| main job / core lifecycle reference (wall) | ×9.00 | ×4.50 | ≤ 5 |" in lines
    header = "| model | before dbt steps s | before main job s | after dbt steps s | after main job s | dbt step |"
    assert header in lines


def test_the_job_steps_table_puts_the_full_builds_slowest_step_first_and_what_ran_outside_them() -> None:
    before, after = _measurement("before", 90.0), _measurement("after", 45.0)
    before.job_steps = [ModelTime("dbt_before_clv", 60.0, "job"), ModelTime("publish", 20.0, "job")]
    after.job_steps = [ModelTime("dbt_before_clv", 20.0, "job"), ModelTime("publish", 21.0, "job")]
    after.next_day_steps = [ModelTime("publish", 1.5, "job")]
    after.same_day_steps = [ModelTime("publish", 0.5, "job")]
    lines = report_lines(["### header"], [before, after], "x")
    table = lines[lines.index("| Dagster step | before full s | after full s | after next day s | after same day s |"):]
    # ordered by the after full build: publish (21 s) before dbt_before_clv (20 s); no next day before
    assert table[2:5] == [
        "| publish | 20.00 | 21.00 | 1.50 | 0.50 |",
        "| dbt_before_clv | 60.00 | 20.00 | – | – |",
        # the job's wall time less its steps: 90 - 80, 45 - 41, 45 / 20 - 1.5, 45 / 50 - 0.5
        "| (outside the steps) | 10.00 | 4.00 | 0.75 | 0.40 |",
    ]
    assert not any(line.startswith("| Dagster step") for line in report_lines(["x"], [_measurement("a", 1)], "x"))


def test_a_steps_phases_get_their_own_table_with_the_rest_of_the_steps_time() -> None:
    m = _measurement("after", 45.0)
    m.job_steps = [ModelTime("dbt_before_clv", 20.0, "job"), ModelTime("publish", 21.0, "job"),
                   ModelTime("export", 8.0, "publish"), ModelTime("serving_file", 12.0, "publish")]
    m.next_day_steps = [ModelTime("publish", 2.0, "job"), ModelTime("export", 1.0, "publish"),
                        ModelTime("serving_file", 0.5, "publish")]
    m.same_day_steps = [ModelTime("serving_file", 0.5, "publish")]  # its steps unknown
    lines = report_lines(["### header"], [m], "x")
    steps = lines[lines.index("| Dagster step | full s | next day s |"):]
    # the phases are not steps: the job's time outside the steps is 45 - 41 and 45 / 20 - 2, as without them
    assert steps[2:5] == ["| publish | 21.00 | 2.00 |", "| dbt_before_clv | 20.00 | – |",
                          "| (outside the steps) | 4.00 | 0.25 |"]
    phases = lines[lines.index("| phase of publish | full s | next day s | same day s |"):]
    # in the order the step ran them; the rest is the step's time less its phases, unknown without the step
    assert phases[2:5] == ["| export | 8.00 | 1.00 | – |", "| serving_file | 12.00 | 0.50 | 0.50 |",
                           "| (rest of the step) | 1.00 | 0.50 | – |"]
    assert not any(line.startswith("| phase of") for line in report_lines(["x"], [_measurement("a", 1)], "x"))


def test_the_job_steps_come_from_the_dagster_instances_newest_run(tmp_path: Path) -> None:
    import time

    import dagster as dg

    @dg.op
    def slow() -> int:
        time.sleep(0.3)
        return 1

    @dg.op
    def quick(value: int) -> int:
        return value

    @dg.job
    def two_steps() -> None:
        quick(slow())

    @dg.op
    def publish(context) -> None:  # a string annotation of a local import does not resolve
        phases = dg.MetadataValue.json({"export": 1.5, "serving_file": 2.5, "report": 0.5})
        context.log_event(dg.AssetMaterialization(PUBLISHED_MARTS_KEY, metadata={"seconds": phases}))

    @dg.job
    def publishing() -> None:
        publish()

    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        publishing.execute_in_process(instance=instance)
        two_steps.execute_in_process(instance=instance)
        assert two_steps.execute_in_process(instance=instance).success
    # the newest run published nothing: an earlier run's publish phases are not its own
    times = {t.name: t.seconds for t in job_steps(tmp_path)}
    assert set(times) == {"slow", "quick"} and times["slow"] >= 0.3 > times["quick"]
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert publishing.execute_in_process(instance=instance).success
    step = PUBLISHED_MARTS_KEY.to_python_identifier()
    assert [(t.name, t.seconds, t.step) for t in job_steps(tmp_path)] == [
        ("publish", pytest.approx(0.0, abs=5.0), "job"),
        # in the order the publish runs them (PUBLISH_PHASES), not the event log's sorted keys
        ("export", 1.5, step), ("serving_file", 2.5, step), ("report", 0.5, step)]
    (tmp_path / "no_runs").mkdir()
    assert job_steps(tmp_path / "no_runs") == []


def test_the_main_job_gets_every_day_but_the_last_and_the_next_day_run_gets_the_last(tmp_path: Path) -> None:
    landing, days = tmp_path / "landing", tmp_path / "days"
    files = ["orders/orders_2024-03-01.csv", "orders/orders_2024-03-02.csv", "calls/calls_2024-03-02.csv",
             "calls/calls_2024-02-29.csv", "marketing_spend/marketing_spend_2024-03.csv"]
    for name in files:
        (landing / name).parent.mkdir(parents=True, exist_ok=True)
        (landing / name).write_text(name)
    assert last_day(landing) == "2024-03-02"
    assert link_landing(landing, days, "2024-03-02", only_day=False) == 3
    assert sorted(str(p.relative_to(days)) for p in days.rglob("*.csv")) == [
        "calls/calls_2024-02-29.csv", "marketing_spend/marketing_spend_2024-03.csv", "orders/orders_2024-03-01.csv"]
    # the next day without its calls, then the calls later that day
    assert link_landing(landing, days, "2024-03-02", only_day=True, tables=["orders"]) == 1
    assert not (days / "calls" / "calls_2024-03-02.csv").exists()
    assert link_landing(landing, days, "2024-03-02", only_day=True, tables=["calls"]) == 1
    assert sorted(str(p.relative_to(days)) for p in days.rglob("*.csv")) == sorted(files)
    # hard links: the same file, not a copy
    assert (days / files[1]).stat().st_ino == (landing / files[1]).stat().st_ino


# --- the hand-written references on tiny data ---------------------------------------------------------


@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], list[StepResult], Path]]:
    """Tiny dirty data, ingested; the models the references stand for, built by dbt; then the references
    on the raw tables, as the benchmark runs them (each in its own process, scratch file apart)."""
    root = tmp_path_factory.mktemp("bench_references")
    env = dict(
        os.environ,
        CLM_LANDING_DIR=str(root / "landing"), CLM_WAREHOUSE_DIR=str(root / "warehouse"), CLM_TARGET="duckdb",
        DBT_TARGET_PATH=str(root / "target"), DBT_LOG_PATH=str(root / "logs"),
    )
    generate(scale=0.005, seed=11, out=root / "landing", dirty=0.02)
    ingest_all(load_settings(env))
    rows = run_references(root / "warehouse", root / "reference")
    DbtRunner(env)("run", "--select", "+int_customer_months_measured", "base_crm__calls", "base_crm__complaints")
    yield env, rows, root / "reference" / "reference.duckdb"


def _connect(scratch: Path, env: dict[str, str]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(scratch), read_only=True)
    con.execute(f"attach '{Path(env['CLM_WAREHOUSE_DIR']) / 'clm.duckdb'}' as clm (read_only)")
    return con


def _difference(con: duckdb.DuckDBPyConnection, left: str, right: str) -> int:
    """Rows of either query missing from the other (duplicates counted)."""
    one = con.execute(f"select count(*) from ({left} except all {right})").fetchone()[0]
    two = con.execute(f"select count(*) from ({right} except all {left})").fetchone()[0]
    return one + two


def test_each_reference_is_its_own_process_and_reports_its_sql_time(references) -> None:
    _, rows, _ = references
    assert [r.name for r in rows] == [
        "reference: core lifecycle", "reference: staged customers", "reference: staging orders",
        "reference: staging customers", "reference: staging calls", "reference: staging complaints"]
    for row in rows:
        assert row.kind == "reference" and row.peak_mb > 0 and 0 < row.sql_seconds < row.seconds
        assert "rows:" in row.note


# the demo data's raw calls have one version per id: no superseded calls to compare
@pytest.mark.parametrize(("table", "has_versions"), [
    ("orders", True), ("customers", True), ("calls", False), ("complaints", True)])
def test_each_staging_reference_is_its_base_model_row_for_row(references, table: str, has_versions: bool) -> None:
    env, _, scratch = references
    con = _connect(scratch, env)
    try:
        columns = [c for (c,) in con.execute(
            "select column_name from information_schema.columns where table_catalog = 'clm' "
            f"and table_schema = 'staging' and table_name = 'base_crm__{table}' order by ordinal_position").fetchall()]
        described = con.execute(f"select column_name from (describe staging_{table})").fetchall()
        assert [c for (c,) in described] == columns
        assert _difference(con, f"select * from clm.staging.base_crm__{table}", f"select * from staging_{table}") == 0
        # the dirty data exercises the checks: several reason codes, and superseded versions
        reasons = con.execute(f"select count(distinct rejection_reason), count(*) filter "
                              f"(where row_disposition = 'superseded') from staging_{table}").fetchone()
        assert reasons[0] >= 3 and (reasons[1] > 0) == has_versions
    finally:
        con.close()


def test_the_staged_customers_reference_is_the_staged_rows_of_base_crm__customers(references) -> None:
    env, _, scratch = references
    con = _connect(scratch, env)
    try:
        assert _difference(
            con, "select customer_id, created_at from staged_customers",
            "select customer_id, created_at from clm.staging.base_crm__customers where row_disposition = 'staged'",
        ) == 0
    finally:
        con.close()


def test_the_core_reference_counts_what_the_lifecycle_models_count(references) -> None:
    env, _, scratch = references
    con = _connect(scratch, env)
    models = """
        select m.customer_id, m.month_start_date, s.completed_orders, s.purchase_days, m.purchase_days_to_date,
            m.completed_orders_to_date, m.median_gap_days
        from clm.intermediate.int_customer_months_measured as m
        inner join clm.intermediate.int_customer_months_spined as s using (customer_id, month_start_date)"""
    reference = """
        select customer_id, month_start_date, completed_orders, purchase_days, purchase_days_to_date,
            completed_orders_to_date, median_gap_days
        from customer_months"""
    try:
        # the same customer-months (spine from the created month to the last order month), the same
        # completed orders in each, the same running counts and median gap to date
        assert con.execute(f"select count(*) from ({models})").fetchone()[0] > 1000
        assert _difference(con, models, reference) == 0
        # and the month's completed orders are a direct count of the staged completed orders from raw
        direct = """
            select customer_id, cast(date_trunc('month', ordered_date) as date), count(*)
            from clm.staging.stg_crm__orders where is_completed group by all"""
        assert _difference(con, direct, "select customer_id, month_start_date, completed_orders "
                                        "from customer_months where completed_orders > 0") == 0
        # the 12-month window: 12 calendar months by hand; the model's (evaluation date - 12 months,
        # evaluation date] also holds 29 February in the February after a leap year
        differing = con.execute("""
            select distinct month(r.month_start_date)
            from customer_months as r
            inner join clm.intermediate.int_customer_months_measured as m using (customer_id, month_start_date)
            where r.purchase_days_12m <> m.purchase_days_12m""").fetchall()
        assert differing in ([], [(2,)])
    finally:
        con.close()


def test_the_disk_check_counts_the_landing_once_and_each_checkouts_warehouses() -> None:
    one = disk_needed_gb(10, landing_exists=False, mode="job", checkouts=1)
    assert disk_needed_gb(10, landing_exists=True, mode="job", checkouts=1) < one
    # the steps and the job each build a warehouse; a baseline's stay beside this checkout's
    assert disk_needed_gb(10, landing_exists=True, mode="both", checkouts=1) > disk_needed_gb(
        10, landing_exists=True, mode="job", checkouts=1
    )
    twice = disk_needed_gb(10, landing_exists=True, mode="job", checkouts=2)
    assert twice == pytest.approx(2 * disk_needed_gb(10, landing_exists=True, mode="job", checkouts=1))
    assert disk_needed_gb(100, landing_exists=False, mode="job", checkouts=1) == pytest.approx(10 * one)


def test_the_disk_check_stops_a_run_that_cannot_fit_before_it_starts() -> None:
    check_disk(100, needed_gb=120.0, free_gb=130.0)
    with pytest.raises(SystemExit, match="scale 100 needs about 120 GB free.*and 50 GB are"):
        check_disk(100, needed_gb=120.0, free_gb=50.0)


def test_an_earlier_runs_warehouse_counts_as_free_but_its_landing_does_not(tmp_path: Path) -> None:
    (tmp_path / "landing" / "orders").mkdir(parents=True)
    (tmp_path / "landing" / "orders" / "orders_2024-01-01.csv").write_bytes(b"x" * 3_000_000)
    (tmp_path / "job" / "landing").mkdir(parents=True)
    os.link(tmp_path / "landing" / "orders" / "orders_2024-01-01.csv", tmp_path / "job" / "landing" / "o.csv")
    (tmp_path / "job" / "warehouse").mkdir(parents=True)
    (tmp_path / "job" / "warehouse" / "clm.duckdb").write_bytes(b"x" * 2_000_000)
    assert replaced_gb(tmp_path) == pytest.approx(0.002)
