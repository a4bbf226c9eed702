"""The purchase summary of predictive CLV: the SQL model int_customer_purchase_summary against the pandas
computation tests/support/purchase_summary.py, on a small hand-worked orders table, in both time units.

The parent relation staging.stg_crm__orders is created by hand with the staging contract's columns, so
the test exercises this model's rules only (staging has its own tests).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import psycopg2
import pytest

from orchestration.clv.scoring import fit_and_score
from orchestration.settings import load_settings
from tests.engines import BuiltWarehouse
from tests.support import DbtRunner
from tests.support.purchase_summary import SUMMARY_OUTPUT_COLUMNS, purchase_summary

MODEL = "int_customer_purchase_summary"
OBSERVATION_END = dt.date(2024, 3, 31)

# (order_id, customer_id, status, ordered_at, gross, discount, cost)
ORDERS = [
    # c1: two orders on one day (one discounted) = one purchase day; a returned order is no purchase;
    # a late-evening order dates by its business-local day; the April order is after the observation end
    ("o01", "c1", "completed", "2024-01-05 09:00:00", 100.00, 0.00, 60.00),
    ("o02", "c1", "completed", "2024-01-05 18:30:00", 50.00, 10.00, 30.00),
    ("o03", "c1", "returned", "2024-01-20 12:00:00", 400.00, 0.00, 250.00),
    ("o04", "c1", "completed", "2024-02-01 23:59:00", 80.00, 0.00, 50.00),
    ("o05", "c1", "completed", "2024-03-15 10:00:00", 120.00, 20.00, 70.00),
    ("o06", "c1", "completed", "2024-04-10 10:00:00", 999.00, 0.00, 1.00),
    # c2: one purchase day only, so no monetary value
    ("o07", "c2", "completed", "2024-02-10 08:00:00", 70.00, 0.00, 49.00),
    # c3: only a cancelled order: not in the summary
    ("o08", "c3", "cancelled", "2024-03-01 08:00:00", 20.00, 0.00, 10.00),
    # c4: a fully discounted first order (net spend 0) and one repeat day with two orders
    ("o09", "c4", "completed", "2024-01-01 00:00:00", 40.00, 40.00, 25.00),
    ("o10", "c4", "completed", "2024-03-30 10:00:00", 30.00, 0.00, 20.00),
    ("o11", "c4", "completed", "2024-03-30 16:00:00", 30.00, 5.00, 20.00),
    # c5: buys only after the observation end
    ("o12", "c5", "completed", "2024-04-20 10:00:00", 60.00, 0.00, 40.00),
    # the last loaded order (cancelled) fixes the default observation end at 2024-04-25
    ("o13", "c3", "cancelled", "2024-04-25 10:00:00", 20.00, 0.00, 10.00),
]

STAGED_COLUMNS = (
    "order_id varchar, customer_id varchar, status varchar, is_completed boolean, ordered_at timestamp, "
    "ordered_date date, gross_amount decimal(18,2), discount_amount decimal(18,2), cost_amount decimal(18,2), "
    "net_amount decimal(18,2), margin_amount decimal(18,2)"
)


def staged_orders() -> pd.DataFrame:
    orders = pd.DataFrame(
        ORDERS,
        columns=["order_id", "customer_id", "status", "ordered_at", "gross_amount", "discount_amount", "cost_amount"],
    )
    orders["ordered_at"] = pd.to_datetime(orders["ordered_at"])
    orders["ordered_date"] = orders["ordered_at"].dt.date
    orders["is_completed"] = orders["status"] == "completed"
    orders["net_amount"] = orders["gross_amount"] - orders["discount_amount"]
    orders["margin_amount"] = orders["gross_amount"] - orders["cost_amount"]
    return orders


def _insert_statement() -> str:
    return (
        "insert into staging.stg_crm__orders (order_id, customer_id, status, is_completed, ordered_at, "
        "ordered_date, gross_amount, discount_amount, cost_amount, net_amount, margin_amount) "
        "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )


def _rows(orders: pd.DataFrame) -> list[tuple]:
    columns = [
        "order_id", "customer_id", "status", "is_completed", "ordered_at", "ordered_date",
        "gross_amount", "discount_amount", "cost_amount", "net_amount", "margin_amount",
    ]  # fmt: skip
    return [
        tuple(v.to_pydatetime() if isinstance(v, pd.Timestamp) else v for v in row)
        for row in orders[columns].itertuples(index=False)
    ]


# The summary reads the purchase days (int_customer_purchase_days, built from the staged orders with it);
# that model's bookkeeping reads the change stamps and the as-of date, stubbed here: no stamps, one date.
BOOKKEEPING_STUBS = (
    "create schema if not exists intermediate",
    "create table intermediate.int_customer_change_stamps (customer_id varchar(64), changed_at timestamp)",
    "create table intermediate.int_as_of_dates as select cast('2024-04-30' as date) as as_of_date",
)
BUILT = ("int_customer_purchase_days", MODEL)


def create_staged_orders_duckdb(database: Path, orders: pd.DataFrame) -> None:
    database.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(database)) as con:
        con.execute("create schema if not exists staging")
        con.execute(f"create or replace table staging.stg_crm__orders ({STAGED_COLUMNS})")
        con.executemany(_insert_statement().replace("%s", "?"), _rows(orders))
        for statement in BOOKKEEPING_STUBS:
            con.execute(statement.replace("create table", "create or replace table"))


def create_staged_orders_postgres(dsn: str, orders: pd.DataFrame) -> None:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("create schema if not exists staging")
        cur.execute(f"create table staging.stg_crm__orders ({STAGED_COLUMNS})")
        cur.executemany(_insert_statement(), _rows(orders))
        for statement in BOOKKEEPING_STUBS:
            cur.execute(statement)


def normalised(frame: pd.DataFrame) -> pd.DataFrame:
    """Engine-neutral types: dates as datetime.date, numbers as float, ordered by customer."""
    out = frame[list(SUMMARY_OUTPUT_COLUMNS)].copy()
    for column in ("first_purchase_date", "last_purchase_date", "observation_end_date"):
        out[column] = pd.to_datetime(out[column]).dt.date
    for column in SUMMARY_OUTPUT_COLUMNS:
        if column not in {"customer_id", "time_unit"} and not column.endswith("_date"):
            out[column] = pd.to_numeric(out[column]).astype("float64")
    return out.sort_values("customer_id").reset_index(drop=True)


def dbt_vars(time_unit: str, observation_end: dt.date | None) -> dict:
    return {
        "clv_time_unit": time_unit,
        "clv_observation_end": observation_end.isoformat() if observation_end else None,
        "as_of_date": None,
    }


# --- the pandas oracle against hand-worked numbers --------------------------------------------------


def test_pandas_summary_hand_worked_days() -> None:
    summary = purchase_summary(staged_orders(), time_unit="day", observation_end=OBSERVATION_END)
    rows = summary.set_index("customer_id")
    assert list(rows.index) == ["c1", "c2", "c4"]  # c3 only cancelled, c5 only after the end
    c1 = rows.loc["c1"]
    # purchase days 01-05 (spend 140, margin 50), 02-01 (80, 30), 03-15 (100, 30)
    assert (c1["purchase_days"], c1["frequency"]) == (3, 2)
    assert c1["first_purchase_date"] == dt.date(2024, 1, 5)
    assert c1["last_purchase_date"] == dt.date(2024, 3, 15)
    assert (c1["recency"], c1["t"]) == (70.0, 86.0)
    assert c1["monetary_value"] == pytest.approx(90.0)
    assert c1["repeat_margin"] == pytest.approx(30.0)
    assert c1["margin_rate"] == pytest.approx(110.0 / 320.0)
    c2 = rows.loc["c2"]
    assert (c2["frequency"], c2["recency"], c2["t"]) == (0, 0.0, 50.0)
    assert pd.isna(c2["monetary_value"]) and pd.isna(c2["repeat_margin"])
    c4 = rows.loc["c4"]
    # first day: net spend 0, margin -25; repeat day 03-30: spend 55, margin 15
    assert (c4["frequency"], c4["recency"], c4["t"]) == (1, 89.0, 90.0)
    assert c4["monetary_value"] == pytest.approx(55.0)
    assert c4["margin_rate"] == pytest.approx(-10.0 / 55.0)


def test_pandas_summary_default_end_and_weeks() -> None:
    summary = purchase_summary(staged_orders(), time_unit="week").set_index("customer_id")
    # the last loaded order of any status (a cancellation on 04-25) ends the observation
    assert set(summary["observation_end_date"]) == {dt.date(2024, 4, 25)}
    assert list(summary.index) == ["c1", "c2", "c4", "c5"]
    assert summary.loc["c1", "frequency"] == 3  # the April order now counts
    assert summary.loc["c1", "recency"] == pytest.approx(96 / 7)
    assert summary.loc["c5", "t"] == pytest.approx(5 / 7)


def test_pandas_summary_null_margin_rate_without_spend() -> None:
    orders = staged_orders()
    free = orders[orders["order_id"] == "o09"]
    summary = purchase_summary(free, time_unit="day")
    assert summary["total_net_spend"].iloc[0] == 0
    assert pd.isna(summary["margin_rate"].iloc[0])


# --- the SQL model against the pandas oracle --------------------------------------------------------


# Each dbt run parses the whole project (tens of seconds on a busy machine), so the two time units are
# paired with the two ways of ending the observation rather than crossed with them.
@pytest.mark.parametrize(
    ("time_unit", "observation_end"),
    [("day", OBSERVATION_END), ("week", None)],
    ids=["day_var_end", "week_default_end"],
)
def test_sql_summary_matches_pandas_duckdb(
    dbt: DbtRunner, clm_env: dict[str, str], time_unit: str, observation_end: dt.date | None
) -> None:
    orders = staged_orders()
    database = load_settings(clm_env).duckdb_path
    create_staged_orders_duckdb(database, orders)
    dbt("run", "--select", *BUILT, vars=dbt_vars(time_unit, observation_end))
    with duckdb.connect(str(database), read_only=True) as con:
        actual = con.execute(f"select * from intermediate.{MODEL}").df()
    expected = purchase_summary(orders, time_unit=time_unit, observation_end=observation_end)
    assert len(expected) >= 3
    pd.testing.assert_frame_equal(normalised(actual), normalised(expected), check_exact=False, rtol=1e-12)


@pytest.mark.postgres
def test_sql_summary_matches_pandas_postgres(pg_env: dict[str, str]) -> None:
    time_unit = "week"
    orders = staged_orders()
    create_staged_orders_postgres(load_settings(pg_env).postgres.dsn(), orders)
    DbtRunner(pg_env)("run", "--select", *BUILT, vars=dbt_vars(time_unit, OBSERVATION_END))
    with psycopg2.connect(load_settings(pg_env).postgres.dsn()) as conn, conn.cursor() as cur:
        cur.execute(f"select * from intermediate.{MODEL}")
        actual = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
    expected = purchase_summary(orders, time_unit=time_unit, observation_end=OBSERVATION_END)
    pd.testing.assert_frame_equal(normalised(actual), normalised(expected), check_exact=False, rtol=1e-12)


# --- the whole project on generated data ------------------------------------------------------------


def test_summary_and_fit_on_the_generated_warehouse(duckdb_warehouse: BuiltWarehouse) -> None:
    """On the session's full build (generated, dirty data through ingest and staging), the SQL summary
    equals the pandas one computed from the staged orders, and both models fit it."""
    database = load_settings(duckdb_warehouse.env).duckdb_path
    with duckdb.connect(str(database), read_only=True) as con:
        orders = con.execute("select * from staging.stg_crm__orders").df()
        actual = con.execute(f"select * from intermediate.{MODEL}").df()
    expected = purchase_summary(orders, time_unit="day")  # the build runs with the default vars
    assert len(expected) > 100 and (expected["frequency"] > 0).sum() > 50
    pd.testing.assert_frame_equal(normalised(actual), normalised(expected), check_exact=False, rtol=1e-9)

    result = fit_and_score(actual, horizon_months=12, annual_discount_rate=0.08, time_unit="day")
    predictions = result.predictions
    assert len(predictions) == len(actual)
    assert predictions["p_alive"].between(0, 1).all()
    assert predictions["expected_purchases"].ge(0).all()
    assert predictions["predicted_future_clv"].notna().all()
