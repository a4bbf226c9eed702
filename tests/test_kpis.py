"""KPIs, cohorts and churn analysis (DOMAIN.md §8) on real data.

The demo generator's landing files are ingested and built by dbt on DuckDB (and on PostgreSQL); the marts
are then checked against computations done here in Python, independently of the SQL: the growth-accounting
identities, churned = moves into the churned stage, cohort sizes = acquired customers, the Kaplan–Meier
curves against a plain Python Kaplan–Meier on the same lifecycle data, and every ratio metric of the
semantic layer against its kpi_monthly column. The edge cases (a won-back customer, a one-customer cohort,
censoring) are dbt unit tests in models/*/kpis/, run here too.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import psycopg2
import pytest

from orchestration.generate import generate
from orchestration.ingest.pipeline import ingest_all
from orchestration.settings import load_settings
from tests.support import DbtRunner, postgres_available, postgres_database

SCALE = 0.01  # about 1,000 customers over three years
SEED = 11
ACTIVE_STAGES = frozenset({"new", "growing", "mature", "declining", "won_back"})
KPI_MODELS = ("+kpi_monthly", "+fct_cohort_retention", "+fct_cohort_survival", "+fct_churn_analysis",
              "metricflow_time_spine")
KPI_TESTS = ("path:models/intermediate/kpis", "path:models/marts/kpis", "path:tests/dbt/kpis")
DIMENSIONS = ("overall", "acquisition_channel", "customer_type", "city", "value_tier")
ADDITIVE_COLUMNS = (
    "active_customers", "new_customers", "retained_customers", "resurrected_customers", "churned_customers",
    "active_customers_at_start", "buying_customers", "repeat_buying_customers", "completed_orders",
    "complaints_opened", "active_customers_with_complaint", "active_customers_with_follow_up_call",
    "outbound_sales_calls", "converted_sales_calls",
)


# --- the warehouse under test ----------------------------------------------------------------------


@dataclass(frozen=True)
class Warehouse:
    env: dict[str, str]

    def frame(self, sql: str) -> pd.DataFrame:
        settings = load_settings(self.env)
        if settings.target == "duckdb":
            con = duckdb.connect(str(settings.duckdb_path), read_only=True)
            try:
                return con.execute(sql).df()
            finally:
                con.close()
        conn = psycopg2.connect(settings.postgres.dsn())
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                columns = [d[0] for d in cur.description]
                return pd.DataFrame(cur.fetchall(), columns=columns)
        finally:
            conn.close()

    def manifest(self) -> dict:
        return json.loads((Path(self.env["DBT_TARGET_PATH"]) / "manifest.json").read_text(encoding="utf-8"))


def isolated_env(root: Path, landing: Path, target: str = "duckdb") -> dict[str, str]:
    """The isolation of tests/conftest.py's clm_env, for fixtures shared by this module's tests."""
    env = dict(os.environ)
    env.update(
        CLM_LANDING_DIR=str(landing),
        CLM_WAREHOUSE_DIR=str(root / "warehouse"),
        CLM_TARGET=target,
        DBT_TARGET_PATH=str(root / "dbt_target"),
        DBT_LOG_PATH=str(root / "dbt_logs"),
        DAGSTER_HOME=str(root / "dagster_home"),
    )
    for folder in ("warehouse", "dagster_home"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    return env


def build_kpis(env: dict[str, str]) -> Warehouse:
    ingest_all(load_settings(env))
    dbt = DbtRunner(env)
    # build, not run: the models need the seeds (stage labels, tier labels); tests come next, on the KPI area
    dbt("build", "--select", *KPI_MODELS, "--exclude", "resource_type:test", "resource_type:unit_test")
    dbt("test", "--select", *KPI_TESTS)  # unit tests, identity tests and column tests of the KPI area
    return Warehouse(env)


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("kpi_landing")
    generate(scale=SCALE, seed=SEED, out=folder)
    return folder


@pytest.fixture(scope="module")
def duckdb_warehouse(landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    return build_kpis(isolated_env(tmp_path_factory.mktemp("kpi_duckdb"), landing))


@pytest.fixture(scope="module")
def postgres_warehouse(landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable in CI: scripts/postgres-up.sh should have started it")
        pytest.skip("PostgreSQL is not reachable (run scripts/postgres-up.sh)")
    name = f"clm_test_kpis_{os.getpid()}"
    with postgres_database(name):
        env = isolated_env(tmp_path_factory.mktemp("kpi_postgres"), landing, target="postgres")
        env["CLM_PG_DATABASE"] = name
        yield build_kpis(env)


# --- independent computations (Python, from the lifecycle fact and the staged orders) ----------------


def months_between(first: date, second: date) -> int:
    return (second.year - first.year) * 12 + second.month - first.month


def as_date(value: object) -> date:
    return pd.Timestamp(value).date()


def lifecycle_with_previous(warehouse: Warehouse) -> pd.DataFrame:
    lifecycle = warehouse.frame(
        "select customer_id, month_start_date, stage_code from marts.fct_customer_lifecycle_monthly"
    )
    lifecycle["month_start_date"] = lifecycle["month_start_date"].map(as_date)
    lifecycle = lifecycle.sort_values(["customer_id", "month_start_date"]).reset_index(drop=True)
    lifecycle["stage_before"] = lifecycle.groupby("customer_id")["stage_code"].shift(1)
    return lifecycle


def moves_into_churned(lifecycle: pd.DataFrame) -> pd.DataFrame:
    moved = (lifecycle["stage_code"] == "churned") & (lifecycle["stage_before"] != "churned")
    return lifecycle.loc[moved, ["customer_id", "month_start_date"]]


def acquisition_months(warehouse: Warehouse) -> dict[str, date]:
    """Month of each customer's first completed order on or before the as-of date, from staged orders."""
    orders = warehouse.frame(
        "select orders.customer_id, orders.ordered_date"
        " from staging.stg_crm__orders as orders"
        " cross join intermediate.int_as_of_dates as as_of"
        " where orders.status = 'completed' and orders.ordered_date <= as_of.as_of_date"
    )
    first = orders.groupby("customer_id")["ordered_date"].min()
    return {customer: as_date(day).replace(day=1) for customer, day in first.items()}


def as_of_month(warehouse: Warehouse) -> date:
    return as_date(warehouse.frame("select as_of_date from intermediate.int_as_of_dates").iloc[0, 0]).replace(day=1)


def kaplan_meier(subjects: list[tuple[int, bool]]) -> list[float]:
    """S(t) for t = 0..max duration; subjects are (duration, churned) with censoring at the duration."""
    survival, curve = 1.0, []
    for t in range(max(duration for duration, _ in subjects) + 1):
        at_risk = sum(1 for duration, _ in subjects if duration >= t)
        churned = sum(1 for duration, event in subjects if duration == t and event)
        if at_risk:
            survival *= 1 - churned / at_risk
        curve.append(survival)
    return curve


def survival_subjects(warehouse: Warehouse) -> dict[str, list[tuple[int, bool]]]:
    """(months to first churn after acquisition or to the as-of month, churned?) per cohort and 'all'."""
    acquired = acquisition_months(warehouse)
    churns = moves_into_churned(lifecycle_with_previous(warehouse))
    censor_month = as_of_month(warehouse)
    first_churn: dict[str, date] = {}
    for customer, month in zip(churns["customer_id"], churns["month_start_date"], strict=True):
        if customer in acquired and month >= acquired[customer]:
            first_churn[customer] = min(month, first_churn.get(customer, month))
    subjects: dict[str, list[tuple[int, bool]]] = {"all": []}
    for customer, cohort in acquired.items():
        end = first_churn.get(customer, censor_month)
        subject = (months_between(cohort, end), customer in first_churn)
        subjects.setdefault(cohort.isoformat(), []).append(subject)
        subjects["all"].append(subject)
    return subjects


def kpis(warehouse: Warehouse) -> pd.DataFrame:
    frame = warehouse.frame("select * from marts.kpi_monthly")
    frame["month_start_date"] = frame["month_start_date"].map(as_date)
    for column in frame.columns:
        if column not in {"kpi_month_id", "month_start_date", "month_end_date", "dimension_name", "dimension_value"}:
            frame[column] = pd.to_numeric(frame[column]).astype(float)
    return frame


# --- DuckDB ---------------------------------------------------------------------------------------


def test_active_is_new_plus_retained_plus_resurrected(duckdb_warehouse: Warehouse) -> None:
    frame = kpis(duckdb_warehouse)
    assert len(frame) > 0 and frame["active_customers"].sum() > 0
    identity = frame["new_customers"] + frame["retained_customers"] + frame["resurrected_customers"]
    assert (frame["active_customers"] == identity).all()
    # every customer active at the start of a month is retained or churned by its end
    assert (frame["active_customers_at_start"] == frame["retained_customers"] + frame["churned_customers"]).all()
    assert frame["resurrected_customers"].sum() > 0, "the data should contain won-back customers"


def test_overall_growth_accounting_matches_the_lifecycle_fact(duckdb_warehouse: Warehouse) -> None:
    lifecycle = lifecycle_with_previous(duckdb_warehouse)
    active = lifecycle["stage_code"].isin(ACTIVE_STAGES)
    was_active = lifecycle["stage_before"].isin(ACTIVE_STAGES)
    was_churned = lifecycle["stage_before"] == "churned"
    expected = pd.DataFrame({
        "month_start_date": lifecycle["month_start_date"],
        "active_customers": active,
        "new_customers": active & ~was_active & ~was_churned,
        "retained_customers": active & was_active,
        "resurrected_customers": active & was_churned,
        "active_customers_at_start": was_active,
    }).groupby("month_start_date").sum().astype(float)
    overall = kpis(duckdb_warehouse).query("dimension_name == 'overall'").set_index("month_start_date")
    pd.testing.assert_frame_equal(
        overall[list(expected.columns)].sort_index(), expected.sort_index(), check_names=False
    )


def test_churned_customers_are_exactly_the_moves_into_churned(duckdb_warehouse: Warehouse) -> None:
    moves = moves_into_churned(lifecycle_with_previous(duckdb_warehouse))
    assert len(moves) > 0
    events = duckdb_warehouse.frame("select customer_id, churn_month_start_date from marts.fct_churn_analysis")
    expected = set(zip(moves["customer_id"], moves["month_start_date"], strict=True))
    actual = set(zip(events["customer_id"], events["churn_month_start_date"].map(as_date), strict=True))
    assert actual == expected
    overall = kpis(duckdb_warehouse).query("dimension_name == 'overall'")
    counted = dict(zip(overall["month_start_date"], overall["churned_customers"], strict=True))
    per_month = moves.groupby("month_start_date").size()
    assert {month: count for month, count in counted.items() if count} == {
        month: float(count) for month, count in per_month.items()
    }


def test_every_dimension_partitions_the_overall_counts(duckdb_warehouse: Warehouse) -> None:
    frame = kpis(duckdb_warehouse)
    assert set(frame["dimension_name"]) == set(DIMENSIONS)
    sums = frame.groupby(["dimension_name", "month_start_date"])[list(ADDITIVE_COLUMNS)].sum()
    overall = sums.loc["overall"]
    for dimension in DIMENSIONS:
        pd.testing.assert_frame_equal(sums.loc[dimension], overall, check_names=False)


def test_cohort_sizes_sum_to_the_acquired_customers(duckdb_warehouse: Warehouse) -> None:
    acquired = acquisition_months(duckdb_warehouse)
    retention = duckdb_warehouse.frame("select * from marts.fct_cohort_retention")
    first_months = retention[retention["months_since_acquisition"] == 0]
    sizes = {as_date(m): int(n) for m, n in zip(first_months["acquisition_month_start_date"],
                                                first_months["cohort_size"], strict=True)}
    assert sizes == dict(pd.Series(list(acquired.values())).value_counts().items())
    assert sum(sizes.values()) == len(acquired) > 0
    # a cohort has one row per month from acquisition to the as-of month, and month 0 is everyone buying
    last = as_of_month(duckdb_warehouse)
    assert len(retention) == sum(months_between(cohort, last) + 1 for cohort in sizes)
    assert (first_months["purchasing_share"] == 1).all()


def test_cohort_purchasing_counts_match_the_orders(duckdb_warehouse: Warehouse) -> None:
    acquired = acquisition_months(duckdb_warehouse)
    orders = duckdb_warehouse.frame(
        "select distinct orders.customer_id, orders.ordered_date from staging.stg_crm__orders as orders"
        " cross join intermediate.int_as_of_dates as as_of"
        " where orders.status = 'completed' and orders.ordered_date <= as_of.as_of_date"
    )
    buyers = {(acquired[c], months_between(acquired[c], as_date(d).replace(day=1)), c)
              for c, d in zip(orders["customer_id"], orders["ordered_date"], strict=True)}
    expected = pd.Series([(cohort, k) for cohort, k, _ in buyers]).value_counts()
    retention = duckdb_warehouse.frame("select * from marts.fct_cohort_retention where customers_purchasing > 0")
    actual = {(as_date(m), int(k)): int(n) for m, k, n in zip(
        retention["acquisition_month_start_date"], retention["months_since_acquisition"],
        retention["customers_purchasing"], strict=True)}
    assert actual == dict(expected.items())


def test_kaplan_meier_matches_an_independent_python_computation(duckdb_warehouse: Warehouse) -> None:
    subjects = survival_subjects(duckdb_warehouse)
    survival = duckdb_warehouse.frame("select * from marts.fct_cohort_survival")
    assert set(survival["cohort_key"]) == set(subjects)
    for cohort_key, members in subjects.items():
        curve = survival[survival["cohort_key"] == cohort_key].sort_values("months_since_acquisition")
        expected = kaplan_meier(members)
        assert list(curve["months_since_acquisition"]) == list(range(len(expected)))
        actual = [float(value) for value in curve["survival_probability"]]
        assert all(math.isclose(a, e, abs_tol=1e-9) for a, e in zip(actual, expected, strict=True)), cohort_key
        assert all(later <= earlier for earlier, later in zip(actual, actual[1:], strict=False)), cohort_key
        assert int(curve["cohort_size"].iloc[0]) == len(members)
    pooled = survival[survival["cohort_key"] == "all"]
    assert pooled["censored_customers"].sum() > 0 and pooled["churned_customers"].sum() > 0
    # the pooled curve is where censoring matters: it differs from "share never churned"
    assert pooled["survival_probability"].astype(float).min() < 1


def test_ratio_metrics_of_the_semantic_layer_match_kpi_monthly(duckdb_warehouse: Warehouse) -> None:
    manifest = duckdb_warehouse.manifest()
    metrics = {metric["name"]: metric for metric in manifest["metrics"].values()}
    frame = kpis(duckdb_warehouse)
    ratios = [m for m in metrics.values() if m["type"] == "ratio"]
    assert len(ratios) >= 9
    for metric in ratios:
        numerator = metric["type_params"]["numerator"]["name"]
        denominator = metric["type_params"]["denominator"]["name"]
        for name in (numerator, denominator):  # simple metrics on measures of the same name
            assert metrics[name]["type_params"]["measure"]["name"] == name
        expected = frame[numerator] / frame[denominator].where(frame[denominator] != 0)
        pd.testing.assert_series_equal(frame[metric["name"]], expected, check_names=False, rtol=1e-9)
    quick = metrics["quick_ratio"]
    assert quick["type"] == "derived"
    expected = (frame["new_customers"] + frame["resurrected_customers"]) / frame["churned_customers"].where(
        frame["churned_customers"] != 0
    )
    pd.testing.assert_series_equal(frame["quick_ratio"], expected, check_names=False, rtol=1e-9)


def test_churn_analysis_describes_each_churn(duckdb_warehouse: Warehouse) -> None:
    events = duckdb_warehouse.frame("select * from marts.fct_churn_analysis")
    assert events["stage_path"].str.endswith("churned").all()
    assert (events["tenure_months_at_churn"].dropna() >= 0).all()
    assert set(events["churn_reason"]) <= {"account_closed", "no_recent_purchase"}
    # a repeated churn needs a win-back in between
    repeated = events[events["churn_sequence_number"] > 1]
    lifecycle = lifecycle_with_previous(duckdb_warehouse)
    won_back = set(lifecycle.loc[lifecycle["stage_code"] == "won_back", "customer_id"])
    assert set(repeated["customer_id"]) <= won_back


# --- PostgreSQL: the same data, the same numbers ----------------------------------------------------


def test_postgres_gives_the_same_kpis_and_curves(duckdb_warehouse: Warehouse, postgres_warehouse: Warehouse) -> None:
    keys = ["month_start_date", "dimension_name", "dimension_value"]
    on_duckdb = kpis(duckdb_warehouse).drop(columns=["month_end_date"]).sort_values(keys).reset_index(drop=True)
    on_postgres = kpis(postgres_warehouse).drop(columns=["month_end_date"]).sort_values(keys).reset_index(drop=True)
    # CLV is discounted with floating-point powers upstream, so engines agree to about 1e-9 relative there;
    # counts and rates of counts must be identical, and a difference of one customer is far above 1e-6
    pd.testing.assert_frame_equal(on_postgres, on_duckdb, check_dtype=False, rtol=1e-6)
    survival_sql = (
        "select cohort_key, months_since_acquisition, customers_at_risk, churned_customers, survival_probability"
        " from marts.fct_cohort_survival order by cohort_key, months_since_acquisition"
    )
    left = duckdb_warehouse.frame(survival_sql).astype({"survival_probability": float, "customers_at_risk": int})
    right = postgres_warehouse.frame(survival_sql).astype({"survival_probability": float, "customers_at_risk": int})
    pd.testing.assert_frame_equal(right, left, check_dtype=False, atol=1e-9)
    churn_sql = "select churn_event_id, stage_path, complaints_before_churn from marts.fct_churn_analysis order by 1"
    pd.testing.assert_frame_equal(
        postgres_warehouse.frame(churn_sql), duckdb_warehouse.frame(churn_sql), check_dtype=False
    )
