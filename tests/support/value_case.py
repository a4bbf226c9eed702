"""The hand-worked case of customer lifetime profit (DOMAIN.md §6), shared by the DuckDB/PostgreSQL and
the Spark value tests: the raw rows, the oracle computed from them in plain Python (expected_clv), and
how to land them and build the value models (see tests/test_value_clv.py for the case itself)."""

from __future__ import annotations

import csv
import io
import os
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from orchestration.engines import engine_for
from orchestration.ingest import ingest_all
from orchestration.settings import load_settings
from tests.support import DbtRunner

AS_OF_DATE = "2025-03-31"
RATES = {
    "call_cost_per_minute": Decimal("1.5"),
    "complaint_handling_cost": Decimal("80"),
    "negative_referral_cost": {
        "low": Decimal(0), "medium": Decimal(20), "high": Decimal(100), "critical": Decimal(300),
    },
    "referral_credit_share": Decimal("0.5"),
    "referral_credit_months": 12,
    "clv_discount_rate": 0.08,
    "default_margin_rate": Decimal("0.30"),
}

CUSTOMERS = [
    # customer_id, created_at, acquisition_channel, referred_by
    {"customer_id": "C1", "created_at": "2024-01-02T09:00:00", "acquisition_channel": "online", "referred_by": ""},
    {"customer_id": "C2", "created_at": "2024-01-05T09:00:00", "acquisition_channel": "store", "referred_by": "C1"},
    {"customer_id": "C3", "created_at": "2024-02-01T09:00:00", "acquisition_channel": "online", "referred_by": ""},
    {"customer_id": "C4", "created_at": "2024-01-10T09:00:00", "acquisition_channel": "store", "referred_by": ""},
    {"customer_id": "C5", "created_at": "2024-03-01T09:00:00", "acquisition_channel": "partner", "referred_by": "C4"},
]
ORDERS = [
    # C1: first order electronics (base), books later (cross-sell), one return, one cancellation
    {"order_id": "O01", "customer_id": "C1", "ordered_at": "2024-01-15T10:00:00", "status": "completed",
     "gross_amount": "1000.00", "discount_amount": "100.00", "cost_amount": "600.00",
     "product_category": "electronics"},
    {"order_id": "O02", "customer_id": "C1", "ordered_at": "2024-03-20T10:00:00", "status": "completed",
     "gross_amount": "200.00", "discount_amount": "", "cost_amount": "120.00", "product_category": "books"},
    {"order_id": "O03", "customer_id": "C1", "ordered_at": "2024-04-10T10:00:00", "status": "returned",
     "gross_amount": "500.00", "discount_amount": "50.00", "cost_amount": "300.00", "product_category": "electronics"},
    {"order_id": "O04", "customer_id": "C1", "ordered_at": "2024-05-05T10:00:00", "status": "cancelled",
     "gross_amount": "300.00", "discount_amount": "", "cost_amount": "100.00", "product_category": "books"},
    # C2 (referred by C1): month 0 and month 11 orders earn C1 a referral gain, month 13 does not
    {"order_id": "O05", "customer_id": "C2", "ordered_at": "2024-02-10T12:00:00", "status": "completed",
     "gross_amount": "400.00", "discount_amount": "40.00", "cost_amount": "200.00", "product_category": "books"},
    {"order_id": "O06", "customer_id": "C2", "ordered_at": "2025-03-01T12:00:00", "status": "completed",
     "gross_amount": "300.00", "discount_amount": "0", "cost_amount": "150.00", "product_category": "books"},
    {"order_id": "O07", "customer_id": "C2", "ordered_at": "2025-01-20T12:00:00", "status": "completed",
     "gross_amount": "100.00", "discount_amount": "10.00", "cost_amount": "50.00", "product_category": "electronics"},
    # C3: two orders at the same instant; the lower order_id (electronics) is the first category.
    # O08 has no cost: the default margin rate applies (cost = gross x (1 - 0.30))
    {"order_id": "O09", "customer_id": "C3", "ordered_at": "2024-02-15T08:00:00", "status": "completed",
     "gross_amount": "50.00", "discount_amount": "", "cost_amount": "30.00", "product_category": "books"},
    {"order_id": "O08", "customer_id": "C3", "ordered_at": "2024-02-15T08:00:00", "status": "completed",
     "gross_amount": "300.00", "discount_amount": "", "cost_amount": "", "product_category": "electronics"},
    # C5 (referred by the prospect C4): nobody is credited
    {"order_id": "O10", "customer_id": "C5", "ordered_at": "2024-03-05T12:00:00", "status": "completed",
     "gross_amount": "80.00", "discount_amount": "", "cost_amount": "40.00", "product_category": "toys"},
]
CALLS = [
    {"call_id": "K1", "customer_id": "C1", "direction": "outbound", "purpose": "sales",
     "started_at": "2024-01-10T09:00:00", "duration_seconds": "600"},
    # at the very instant of the first order: not before it, so service cost
    {"call_id": "K2", "customer_id": "C1", "direction": "inbound", "purpose": "service",
     "started_at": "2024-01-15T10:00:00", "duration_seconds": "120"},
    {"call_id": "K3", "customer_id": "C1", "direction": "inbound", "purpose": "service",
     "started_at": "2024-06-01T15:00:00", "duration_seconds": "300"},
    {"call_id": "K4", "customer_id": "C2", "direction": "outbound", "purpose": "sales",
     "started_at": "2024-01-20T11:00:00", "duration_seconds": "186"},
    {"call_id": "K5", "customer_id": "C4", "direction": "outbound", "purpose": "sales",
     "started_at": "2024-01-12T11:00:00", "duration_seconds": "240"},
    {"call_id": "K6", "customer_id": "", "direction": "inbound", "purpose": "service",
     "started_at": "2024-02-01T11:00:00", "duration_seconds": "60"},
    {"call_id": "K7", "customer_id": "C3", "direction": "inbound", "purpose": "service",
     "started_at": "2024-03-03T11:00:00", "duration_seconds": ""},
    {"call_id": "K8", "customer_id": "C2", "direction": "outbound", "purpose": "follow_up",
     "started_at": "2024-12-03T11:00:00", "duration_seconds": "90"},
]
COMPLAINTS = [
    {"complaint_id": "P1", "customer_id": "C1", "order_id": "O03", "opened_at": "2024-04-12T10:00:00",
     "severity": "high", "compensation_amount": "50.00"},
    {"complaint_id": "P2", "customer_id": "C2", "order_id": "", "opened_at": "2024-02-20T10:00:00",
     "severity": "medium", "compensation_amount": ""},
    # opened before C3's first order: dated m = 0
    {"complaint_id": "P3", "customer_id": "C3", "order_id": "", "opened_at": "2024-02-10T10:00:00",
     "severity": "low", "compensation_amount": ""},
    {"complaint_id": "P4", "customer_id": "C2", "order_id": "O07", "opened_at": "2025-02-02T10:00:00",
     "severity": "critical", "compensation_amount": "25.50"},
]
MARKETING_SPEND = [
    {"channel": "online", "month": "2024-01", "spend_amount": "300.00"},
    {"channel": "online", "month": "2024-02", "spend_amount": "500.00"},
    {"channel": "store", "month": "2024-02", "spend_amount": "120.00"},
    # nobody acquired by store in January (C4 never buys): unallocated
    {"channel": "store", "month": "2024-01", "spend_amount": "90.00"},
]
RAW = {
    "customers": CUSTOMERS,
    "orders": ORDERS,
    "calls": CALLS,
    "complaints": COMPLAINTS,
    "marketing_spend": MARKETING_SPEND,
}

COMPONENTS = (
    "base_profit", "cross_sell_profit", "referral_gain", "acquisition_spend_cost", "acquisition_call_cost",
    "acquisition_cost", "price_concessions", "service_call_cost", "complaint_handling_cost",
    "compensation_cost", "service_cost", "negative_referral_cost",
)


# --- the oracle: plain Python from the raw rows -------------------------------------------------


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _money(text: str) -> Decimal:
    return Decimal(text) if text else Decimal(0)


def _month(moment: datetime | date) -> date:
    return date(moment.year, moment.month, 1)


def _months_between(first: date, second: date) -> int:
    return (second.year - first.year) * 12 + second.month - first.month


def _cost(order: dict[str, str]) -> Decimal:
    if order["cost_amount"]:
        return Decimal(order["cost_amount"])
    return (Decimal(order["gross_amount"]) * (1 - RATES["default_margin_rate"])).quantize(Decimal("0.01"))


def expected_clv() -> dict[str, dict[str, float]]:
    """Per acquired customer: every component, lifetime profit and historical CLV."""
    as_of = date.fromisoformat(AS_OF_DATE)
    completed = sorted(
        (o for o in ORDERS if o["status"] == "completed" and _ts(o["ordered_at"]).date() <= as_of),
        key=lambda o: (_ts(o["ordered_at"]), o["order_id"]),
    )
    first: dict[str, dict[str, str]] = {}
    for order in completed:
        first.setdefault(order["customer_id"], order)
    acquired_at = {c: _ts(o["ordered_at"]) for c, o in first.items()}
    acq_month = {c: _month(t) for c, t in acquired_at.items()}
    channel = {c["customer_id"]: c["acquisition_channel"] for c in CUSTOMERS}

    # flows[customer][month][component]
    flows: dict[str, dict[date, dict[str, Decimal]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(Decimal)))

    def add(customer: str, when: date, component: str, amount: Decimal) -> None:
        if customer in acq_month:
            flows[customer][max(_month(when), acq_month[customer])][component] += amount

    for order in completed:
        customer = order["customer_id"]
        margin = Decimal(order["gross_amount"]) - _cost(order)
        same = order["product_category"] == first[customer]["product_category"]
        when = _ts(order["ordered_at"]).date()
        add(customer, when, "base_profit" if same else "cross_sell_profit", margin)
        add(customer, when, "price_concessions", _money(order["discount_amount"]))
        referrer = next(c["referred_by"] for c in CUSTOMERS if c["customer_id"] == customer)
        if referrer and _months_between(acq_month[customer], _month(when)) < RATES["referral_credit_months"]:
            net_margin = Decimal(order["gross_amount"]) - _money(order["discount_amount"]) - _cost(order)
            add(referrer, when, "referral_gain", RATES["referral_credit_share"] * net_margin)

    acquired_per_channel_month: dict[tuple[str, date], int] = defaultdict(int)
    for customer, month in acq_month.items():
        acquired_per_channel_month[(channel[customer], month)] += 1
    for customer, month in acq_month.items():
        spend = next(
            (_money(s["spend_amount"]) for s in MARKETING_SPEND
             if s["channel"] == channel[customer] and s["month"] == month.strftime("%Y-%m")),
            Decimal(0),
        )
        add(customer, month, "acquisition_spend_cost", spend / acquired_per_channel_month[(channel[customer], month)])

    for call in CALLS:
        customer = call["customer_id"]
        started = _ts(call["started_at"])
        if not customer or customer not in acquired_at or started.date() > as_of:
            continue
        cost = _money(call["duration_seconds"]) / 60 * RATES["call_cost_per_minute"]
        component = "acquisition_call_cost" if started < acquired_at[customer] else "service_call_cost"
        add(customer, started.date(), component, cost)

    for complaint in COMPLAINTS:
        opened = _ts(complaint["opened_at"]).date()
        add(complaint["customer_id"], opened, "complaint_handling_cost", RATES["complaint_handling_cost"])
        add(complaint["customer_id"], opened, "compensation_cost", _money(complaint["compensation_amount"]))
        add(complaint["customer_id"], opened, "negative_referral_cost",
            RATES["negative_referral_cost"][complaint["severity"]])

    result: dict[str, dict[str, float]] = {}
    for customer, months in flows.items():
        totals: dict[str, float] = {name: 0.0 for name in COMPONENTS}
        lifetime_profit = 0.0
        npv = 0.0
        for month, parts in months.items():
            parts["acquisition_cost"] = parts["acquisition_spend_cost"] + parts["acquisition_call_cost"]
            parts["service_cost"] = (
                parts["service_call_cost"] + parts["complaint_handling_cost"] + parts["compensation_cost"]
            )
            net = (
                parts["base_profit"] + parts["cross_sell_profit"] + parts["referral_gain"]
                - parts["acquisition_cost"] - parts["price_concessions"] - parts["service_cost"]
                - parts["negative_referral_cost"]
            )
            m = _months_between(acq_month[customer], month)
            lifetime_profit += float(net)
            npv += float(net) / (1 + RATES["clv_discount_rate"]) ** (m / 12)
            for name in COMPONENTS:
                totals[name] += float(parts[name])
        result[customer] = {**totals, "lifetime_profit": lifetime_profit, "historical_clv": npv}
    return result


# --- loading and running ---------------------------------------------------------------------


def query_warehouse(env: dict[str, str], sql: str) -> list[tuple]:
    """Rows of a query on the run's warehouse (DuckDB file or PostgreSQL database)."""
    with engine_for(load_settings(env)).reader() as reader:
        return reader.rows(sql)[1]


def land_raw(env: dict[str, str]) -> None:
    landing = Path(env["CLM_LANDING_DIR"])
    for table, rows in RAW.items():
        folder = landing / table
        folder.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        (folder / f"{table}_case.csv").write_text(buffer.getvalue(), encoding="utf-8")
    ingest_all(load_settings(env))


VALUE_MODELS = (
    "+fct_customer_clv +fct_acquisition_costs +fct_customer_value_tiers +fct_value_tier_summary "
    "+fct_value_pareto +fct_value_tiers_monthly"
)


OWN_MODELS = (
    "int_customer_acquisitions", "int_calls_costed", "int_marketing_spend_allocated",
    "int_customer_cash_flows_monthly", "fct_customer_clv", "fct_acquisition_costs", "fct_customer_value_tiers",
    "fct_value_tier_summary", "fct_value_pareto", "fct_value_tiers_monthly",
)


def build_value_models(env: dict[str, str]) -> None:
    dbt = DbtRunner(env)
    land_raw(env)
    dbt("build", "--select", *VALUE_MODELS.split(), "--exclude", "resource_type:test", vars={"as_of_date": AS_OF_DATE})
    # cautious: tests of other areas that also read an unselected model of theirs are left to them
    dbt("test", "--select", *OWN_MODELS, "--indirect-selection", "cautious", vars={"as_of_date": AS_OF_DATE})


def isolated_env(root: Path) -> dict[str, str]:
    """The same isolation as tests/conftest.py's clm_env, for a fixture shared by a module's tests."""
    env = dict(os.environ)
    env.update(
        CLM_LANDING_DIR=str(root / "landing"),
        CLM_WAREHOUSE_DIR=str(root / "warehouse"),
        CLM_TARGET="duckdb",
        DBT_TARGET_PATH=str(root / "dbt_target"),
        DBT_LOG_PATH=str(root / "dbt_logs"),
        DAGSTER_HOME=str(root / "dagster_home"),
    )
    for folder in ("landing", "warehouse", "dagster_home"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    return env
