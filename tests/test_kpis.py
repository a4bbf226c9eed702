"""KPIs, cohorts and churn analysis (DOMAIN.md §8) on real data.

The whole project is built once per engine on the same generated (slightly dirty) data by the session
fixtures of tests/conftest.py (tests/engines.py); the KPI marts are then checked against computations done
here in Python, independently of the SQL: the growth-accounting identities, churned = moves into the churned
stage, cohort sizes = acquired customers, the Kaplan–Meier curves against a plain Python Kaplan–Meier on the
same lifecycle data, and every ratio metric of the semantic layer against its kpi_monthly column (in the
manifest, and answered by MetricFlow's `mf query` on DuckDB and PostgreSQL). PostgreSQL
and Spark must give the same numbers as DuckDB. The edge cases (a won-back customer, a one-customer cohort,
censoring) are dbt unit tests in models/*/kpis/, run by those builds.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tests.engines import BuiltWarehouse, query_frame

PROJECT_DIR = Path(__file__).resolve().parent.parent
# the stage grouping is the seed's (one place); the test's own computations read it from there
_STAGES = pd.read_csv(PROJECT_DIR / "seeds" / "lifecycle_stages.csv")
ACTIVE_STAGES = frozenset(_STAGES.loc[_STAGES["is_active"], "stage_code"])
DIMENSIONS = ("overall", "acquisition_channel", "customer_type", "city", "value_tier")
ADDITIVE_COLUMNS = (
    "active_customers",
    "new_customers",
    "retained_customers",
    "resurrected_customers",
    "churned_customers",
    "active_customers_at_start",
    "buying_customers",
    "repeat_buying_customers",
    "completed_orders",
    "complaints_opened",
    "active_customers_with_complaint",
    "active_customers_with_follow_up_call",
    "outbound_sales_calls",
    "converted_sales_calls",
)


# --- reading a built warehouse ---------------------------------------------------------------------


def read_manifest(warehouse: BuiltWarehouse) -> dict:
    return json.loads((Path(warehouse.env["DBT_TARGET_PATH"]) / "manifest.json").read_text(encoding="utf-8"))


# --- independent computations (Python, from the lifecycle fact and the staged orders) ----------------


def months_between(first: date, second: date) -> int:
    return (second.year - first.year) * 12 + second.month - first.month


def as_date(value: object) -> date:
    return pd.Timestamp(value).date()


def lifecycle_with_previous(warehouse: BuiltWarehouse) -> pd.DataFrame:
    lifecycle = query_frame(
        warehouse, "select customer_id, month_start_date, stage_code from marts.fct_customer_lifecycle_monthly"
    )
    lifecycle["month_start_date"] = lifecycle["month_start_date"].map(as_date)
    lifecycle = lifecycle.sort_values(["customer_id", "month_start_date"]).reset_index(drop=True)
    lifecycle["stage_before"] = lifecycle.groupby("customer_id")["stage_code"].shift(1)
    return lifecycle


def moves_into_churned(lifecycle: pd.DataFrame) -> pd.DataFrame:
    moved = (lifecycle["stage_code"] == "churned") & (lifecycle["stage_before"] != "churned")
    return lifecycle.loc[moved, ["customer_id", "month_start_date"]]


def acquisition_months(warehouse: BuiltWarehouse) -> dict[str, date]:
    """Month of each customer's first completed order on or before the as-of date, from staged orders."""
    orders = query_frame(
        warehouse,
        "select orders.customer_id, orders.ordered_date"
        " from staging.stg_crm__orders as orders"
        " cross join intermediate.int_as_of_dates as as_of"
        " where orders.status = 'completed' and orders.ordered_date <= as_of.as_of_date",
    )
    first = orders.groupby("customer_id")["ordered_date"].min()
    return {customer: as_date(day).replace(day=1) for customer, day in first.items()}


def as_of_month(warehouse: BuiltWarehouse) -> date:
    as_of = query_frame(warehouse, "select as_of_date from intermediate.int_as_of_dates").iloc[0, 0]
    return as_date(as_of).replace(day=1)


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


def survival_subjects(warehouse: BuiltWarehouse) -> dict[str, list[tuple[int, bool]]]:
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


def kpis(warehouse: BuiltWarehouse) -> pd.DataFrame:
    frame = query_frame(warehouse, "select * from marts.kpi_monthly")
    frame["month_start_date"] = frame["month_start_date"].map(as_date)
    for column in frame.columns:
        if column not in {"kpi_month_id", "month_start_date", "month_end_date", "dimension_name", "dimension_value"}:
            frame[column] = pd.to_numeric(frame[column]).astype(float)
    return frame


# --- DuckDB ---------------------------------------------------------------------------------------


def test_active_is_new_plus_retained_plus_resurrected(duckdb_warehouse: BuiltWarehouse) -> None:
    frame = kpis(duckdb_warehouse)
    assert len(frame) > 0 and frame["active_customers"].sum() > 0
    identity = frame["new_customers"] + frame["retained_customers"] + frame["resurrected_customers"]
    assert (frame["active_customers"] == identity).all()
    # every customer active at the start of a month is retained or churned by its end; the only churns not
    # from an active customer are first purchases closed in the same month (prospect -> churned)
    lifecycle = lifecycle_with_previous(duckdb_warehouse)
    first_month_churns = lifecycle[(lifecycle["stage_code"] == "churned") & (lifecycle["stage_before"] == "prospect")]
    overall = frame[frame["dimension_name"] == "overall"].set_index("month_start_date")
    churned_not_from_active = first_month_churns.groupby("month_start_date").size().reindex(overall.index).fillna(0)
    assert (
        overall["active_customers_at_start"] + churned_not_from_active
        == overall["retained_customers"] + overall["churned_customers"]
    ).all()
    assert (frame["active_customers_at_start"] <= frame["retained_customers"] + frame["churned_customers"]).all()
    assert frame["resurrected_customers"].sum() > 0, "the data should contain won-back customers"


def test_overall_growth_accounting_matches_the_lifecycle_fact(duckdb_warehouse: BuiltWarehouse) -> None:
    lifecycle = lifecycle_with_previous(duckdb_warehouse)
    active = lifecycle["stage_code"].isin(ACTIVE_STAGES)
    was_active = lifecycle["stage_before"].isin(ACTIVE_STAGES)
    was_churned = lifecycle["stage_before"] == "churned"
    expected = (
        pd.DataFrame(
            {
                "month_start_date": lifecycle["month_start_date"],
                "active_customers": active,
                "new_customers": active & ~was_active & ~was_churned,
                "retained_customers": active & was_active,
                "resurrected_customers": active & was_churned,
                "active_customers_at_start": was_active,
            }
        )
        .groupby("month_start_date")
        .sum()
        .astype(float)
    )
    overall = kpis(duckdb_warehouse).query("dimension_name == 'overall'").set_index("month_start_date")
    pd.testing.assert_frame_equal(
        overall[list(expected.columns)].sort_index(), expected.sort_index(), check_names=False
    )


def test_churned_customers_are_exactly_the_moves_into_churned(duckdb_warehouse: BuiltWarehouse) -> None:
    moves = moves_into_churned(lifecycle_with_previous(duckdb_warehouse))
    assert len(moves) > 0
    events = query_frame(duckdb_warehouse, "select customer_id, churn_month_start_date from marts.fct_churn_analysis")
    expected = set(zip(moves["customer_id"], moves["month_start_date"], strict=True))
    actual = set(zip(events["customer_id"], events["churn_month_start_date"].map(as_date), strict=True))
    assert actual == expected
    overall = kpis(duckdb_warehouse).query("dimension_name == 'overall'")
    counted = dict(zip(overall["month_start_date"], overall["churned_customers"], strict=True))
    per_month = moves.groupby("month_start_date").size()
    assert {month: count for month, count in counted.items() if count} == {
        month: float(count) for month, count in per_month.items()
    }


def test_every_dimension_partitions_the_overall_counts(duckdb_warehouse: BuiltWarehouse) -> None:
    frame = kpis(duckdb_warehouse)
    assert set(frame["dimension_name"]) == set(DIMENSIONS)
    sums = frame.groupby(["dimension_name", "month_start_date"])[list(ADDITIVE_COLUMNS)].sum()
    overall = sums.loc["overall"]
    for dimension in DIMENSIONS:
        pd.testing.assert_frame_equal(sums.loc[dimension], overall, check_names=False)


def test_cohort_sizes_sum_to_the_acquired_customers(duckdb_warehouse: BuiltWarehouse) -> None:
    acquired = acquisition_months(duckdb_warehouse)
    retention = query_frame(duckdb_warehouse, "select * from marts.fct_cohort_retention")
    first_months = retention[retention["months_since_acquisition"] == 0]
    sizes = {
        as_date(m): int(n)
        for m, n in zip(first_months["acquisition_month_start_date"], first_months["cohort_size"], strict=True)
    }
    assert sizes == dict(pd.Series(list(acquired.values())).value_counts().items())
    assert sum(sizes.values()) == len(acquired) > 0
    # a cohort has one row per month from acquisition to the as-of month, and month 0 is everyone buying
    last = as_of_month(duckdb_warehouse)
    assert len(retention) == sum(months_between(cohort, last) + 1 for cohort in sizes)
    assert (first_months["purchasing_share"] == 1).all()


def test_cohort_purchasing_counts_match_the_orders(duckdb_warehouse: BuiltWarehouse) -> None:
    acquired = acquisition_months(duckdb_warehouse)
    orders = query_frame(
        duckdb_warehouse,
        "select distinct orders.customer_id, orders.ordered_date from staging.stg_crm__orders as orders"
        " cross join intermediate.int_as_of_dates as as_of"
        " where orders.status = 'completed' and orders.ordered_date <= as_of.as_of_date",
    )
    buyers = {
        (acquired[c], months_between(acquired[c], as_date(d).replace(day=1)), c)
        for c, d in zip(orders["customer_id"], orders["ordered_date"], strict=True)
    }
    expected = pd.Series([(cohort, k) for cohort, k, _ in buyers]).value_counts()
    retention = query_frame(duckdb_warehouse, "select * from marts.fct_cohort_retention where customers_purchasing > 0")
    actual = {
        (as_date(m), int(k)): int(n)
        for m, k, n in zip(
            retention["acquisition_month_start_date"],
            retention["months_since_acquisition"],
            retention["customers_purchasing"],
            strict=True,
        )
    }
    assert actual == dict(expected.items())


def test_kaplan_meier_matches_an_independent_python_computation(duckdb_warehouse: BuiltWarehouse) -> None:
    subjects = survival_subjects(duckdb_warehouse)
    survival = query_frame(duckdb_warehouse, "select * from marts.fct_cohort_survival")
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


def test_ratio_metrics_of_the_semantic_layer_match_kpi_monthly(duckdb_warehouse: BuiltWarehouse) -> None:
    manifest = read_manifest(duckdb_warehouse)
    metrics = {metric["name"]: metric for metric in manifest["metrics"].values()}
    frame = kpis(duckdb_warehouse)
    # the KPI metrics (the value metrics of _value__semantic.yml are checked against the value marts below)
    ratios = [
        m for m in metrics.values() if m["type"] == "ratio" and m["original_file_path"].endswith("_kpis__semantic.yml")
    ]
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


def test_churn_analysis_describes_each_churn(duckdb_warehouse: BuiltWarehouse) -> None:
    events = query_frame(duckdb_warehouse, "select * from marts.fct_churn_analysis")
    assert events["stage_path"].str.endswith("churned").all()
    assert (events["tenure_months_at_churn"].dropna() >= 0).all()
    assert set(events["churn_reason"]) <= {"account_closed", "no_recent_purchase"}
    # a repeated churn needs a win-back in between
    repeated = events[events["churn_sequence_number"] > 1]
    lifecycle = lifecycle_with_previous(duckdb_warehouse)
    won_back = set(lifecycle.loc[lifecycle["stage_code"] == "won_back", "customer_id"])
    assert set(repeated["customer_id"]) <= won_back


# --- PostgreSQL: the same data, the same numbers ----------------------------------------------------


def assert_same_kpis_and_curves(reference: BuiltWarehouse, other: BuiltWarehouse) -> None:
    keys = ["month_start_date", "dimension_name", "dimension_value"]
    expected = kpis(reference).drop(columns=["month_end_date"]).sort_values(keys).reset_index(drop=True)
    actual = kpis(other).drop(columns=["month_end_date"]).sort_values(keys).reset_index(drop=True)
    # CLV is discounted with floating-point powers upstream, so engines agree to about 1e-9 relative there;
    # counts and rates of counts must be identical, and a difference of one customer is far above 1e-6
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False, rtol=1e-6)
    survival_sql = (
        "select cohort_key, months_since_acquisition, customers_at_risk, churned_customers, survival_probability"
        " from marts.fct_cohort_survival order by cohort_key, months_since_acquisition"
    )
    types = {"survival_probability": float, "customers_at_risk": int, "churned_customers": int}
    pd.testing.assert_frame_equal(
        query_frame(other, survival_sql).astype(types),
        query_frame(reference, survival_sql).astype(types),
        check_dtype=False,
        atol=1e-9,
    )
    churn_sql = (
        "select churn_event_id, stage_path, complaints_before_churn from marts.fct_churn_analysis"
        " order by churn_event_id"
    )
    pd.testing.assert_frame_equal(
        query_frame(other, churn_sql).astype({"complaints_before_churn": int}),
        query_frame(reference, churn_sql).astype({"complaints_before_churn": int}),
        check_dtype=False,
    )


@pytest.mark.postgres
def test_postgres_gives_the_same_kpis_and_curves(
    duckdb_warehouse: BuiltWarehouse, postgres_warehouse: BuiltWarehouse
) -> None:
    assert_same_kpis_and_curves(duckdb_warehouse, postgres_warehouse)


# --- the semantic layer queried with MetricFlow (`mf query`, as `make metrics` runs it) -------------------
# Its answers equal the marts: every monthly ratio and the quick ratio against kpi_monthly's overall rows,
# and the top tier's share of lifetime profit against fct_value_tier_summary, on DuckDB and PostgreSQL.

BIN = Path(sys.executable).parent
PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "snapshots", "tests", "analyses")
MONTHLY_METRICS = ("churn_rate", "retention_rate", "repeat_purchase_rate", "complaint_rate", "quick_ratio")


def _project(root: Path) -> Path:
    """The dbt project behind links, with its own target/ (mf reads <project>/target/semantic_manifest.json)."""
    project = root / "project"
    if not project.exists():
        project.mkdir(parents=True)
        for name in PROJECT_FILES:
            if (PROJECT_DIR / name).exists():
                (project / name).symlink_to(PROJECT_DIR / name)
    return project


def _mf_query(warehouse: BuiltWarehouse, root: Path, *args: str) -> pd.DataFrame:
    project = _project(root)
    env = {k: v for k, v in warehouse.env.items() if k != "DBT_TARGET_PATH"}
    env["DBT_PROFILES_DIR"] = str(project)
    if not (project / "target" / "semantic_manifest.json").exists():
        subprocess.run([str(BIN / "dbt"), "parse", "--quiet"], cwd=project, env=env, check=True, timeout=300)
    out = root / "mf.csv"
    proc = subprocess.run(
        [str(BIN / "mf"), "query", *args, "--csv", str(out)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return pd.read_csv(io.StringIO(out.read_text(encoding="utf-8")))


def _close(a: float, b: float) -> bool:
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)) or (isinstance(b, float) and math.isnan(b)):
        return (a is None or a != a) and (b is None or b != b)
    # kpi_monthly stores rates as decimal(28, 10): equal to the 10th decimal (half a unit, plus float noise)
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=6e-11)


def _check_metrics_equal_marts(warehouse: BuiltWarehouse, root: Path) -> None:
    answer = _mf_query(
        warehouse,
        root,
        "--metrics",
        ",".join(MONTHLY_METRICS),
        "--group-by",
        "metric_time__month",
        "--order",
        "metric_time__month",
    )
    kpis = query_frame(
        warehouse,
        f"select month_start_date, {', '.join(MONTHLY_METRICS)} from marts.kpi_monthly "
        "where dimension_name = 'overall' order by month_start_date",
    )
    answer["month"] = pd.to_datetime(answer["metric_time__month"]).dt.date.astype(str)
    kpis["month"] = pd.to_datetime(kpis["month_start_date"]).dt.date.astype(str)
    joined = kpis.merge(answer, on="month", how="left", suffixes=("_mart", "_mf"))
    assert len(joined) == len(kpis) > 6
    for metric in MONTHLY_METRICS:
        mismatched = [
            (row["month"], row[f"{metric}_mart"], row[f"{metric}_mf"])
            for _, row in joined.iterrows()
            if not _close(row[f"{metric}_mart"], row[f"{metric}_mf"])
        ]
        # a month with no churn has no quick ratio in both; a month MetricFlow has no rows for is all-null there
        assert mismatched == [], (metric, mismatched[:5])

    share = _mf_query(warehouse, root, "--metrics", "top_tier_profit_share")["top_tier_profit_share"].iloc[0]
    expected = query_frame(
        warehouse,
        "select lifetime_profit_share from marts.fct_value_tier_summary "
        "where tiering = 'historical' and value_tier = 'A'",
    )["lifetime_profit_share"].iloc[0]
    assert math.isclose(float(share), float(expected), rel_tol=1e-9)


def test_metricflow_answers_equal_the_marts_on_duckdb(duckdb_warehouse: BuiltWarehouse, tmp_path: Path) -> None:
    _check_metrics_equal_marts(duckdb_warehouse, tmp_path)


@pytest.mark.postgres
def test_metricflow_answers_equal_the_marts_on_postgres(postgres_warehouse: BuiltWarehouse, tmp_path: Path) -> None:
    _check_metrics_equal_marts(postgres_warehouse, tmp_path)
