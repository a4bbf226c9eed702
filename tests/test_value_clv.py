"""Customer lifetime profit (DOMAIN.md §6) on a hand-worked case, on DuckDB and PostgreSQL.

Raw rows are landed as CSV and ingested, dbt builds the value models, and every component, the
lifetime profit and the NPV are compared with an oracle computed here in plain Python from the raw
rows (not from any model). The case has five customers in three channels: a referral (C2 referred
by C1, one referred order inside the 12-month window and one outside), a referrer who never bought
(C4 refers C5, so nobody is credited), a return and a cancellation, a complaint of each kind of
severity cost, discounts, two categories (base vs cross-sell), a same-instant tie for the first
order, calls before and after acquisition (one at the very instant of acquisition, one without a
duration, one from an unknown caller), a channel with no spend row and a spend row nobody was
acquired in.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date

import pytest

from orchestration.engines import engine_for
from orchestration.settings import load_settings
from tests.support import DbtRunner, postgres_available, postgres_database
from tests.support.value_case import (
    AS_OF_DATE,
    COMPONENTS,
    build_value_models,
    expected_clv,
    isolated_env,
    query_warehouse,
)


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def warehouse_env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """An isolated environment per engine, shared by the tests of one module (dbt runs once per engine)."""
    env = isolated_env(tmp_path_factory.mktemp(f"value_{request.param}"))
    if request.param == "duckdb":
        yield env
        return
    if not postgres_available():
        pytest.skip("PostgreSQL is not reachable (run scripts/postgres-up.sh)")
    name = f"clm_test_{uuid.uuid4().hex[:10]}"
    with postgres_database(name):
        yield dict(env, CLM_TARGET="postgres", CLM_PG_DATABASE=name)


@pytest.fixture(scope="module")
def built(warehouse_env: dict[str, str]) -> Callable[[str], list[tuple]]:
    build_value_models(warehouse_env)
    return lambda sql: query_warehouse(warehouse_env, sql)


def test_clv_components_match_the_hand_worked_case(built: Callable[[str], list[tuple]]) -> None:
    expected = expected_clv()
    columns = (*COMPONENTS, "lifetime_profit", "historical_clv")
    rows = built(f"select customer_id, {', '.join(columns)} from marts.fct_customer_clv order by customer_id")
    actual = {row[0]: dict(zip(columns, (float(v) for v in row[1:]), strict=True)) for row in rows}

    # only customers with a completed order; the prospect C4 has no CLV
    assert sorted(actual) == ["C1", "C2", "C3", "C5"] == sorted(expected)
    for customer, values in expected.items():
        for column, value in values.items():
            assert actual[customer][column] == pytest.approx(value, abs=1e-3), (customer, column)

    # a few of the numbers by hand, so the oracle itself is checked
    c1, c2, c3 = actual["C1"], actual["C2"], actual["C3"]
    assert c1["base_profit"] == pytest.approx(1000 - 600)  # the return O03 contributes nothing
    assert c1["cross_sell_profit"] == pytest.approx(200 - 120)  # the cancellation O04 neither
    assert c1["referral_gain"] == pytest.approx(0.5 * (400 - 40 - 200) + 0.5 * (100 - 10 - 50))  # not O06 (m = 13)
    assert c1["acquisition_cost"] == pytest.approx(300 + 10 * 1.5)  # K2 at the instant of acquisition is service
    assert c1["service_cost"] == pytest.approx((2 + 5) * 1.5 + 80 + 50)
    assert c1["negative_referral_cost"] == pytest.approx(100)
    assert c2["acquisition_cost"] == pytest.approx(120 + 3.1 * 1.5)
    assert c2["negative_referral_cost"] == pytest.approx(20 + 300)
    assert c3["base_profit"] == pytest.approx(300 * 0.3) and c3["cross_sell_profit"] == pytest.approx(20)
    assert actual["C5"]["acquisition_spend_cost"] == 0  # partner channel has no spend row
    assert c3["service_cost"] == pytest.approx(80)  # K7 without a duration costs nothing


def test_monthly_cash_flows_are_dense_and_discounted(built: Callable[[str], list[tuple]]) -> None:
    rows = built(
        "select customer_id, month_start_date, months_since_acquisition, net_cash_flow, discounted_cash_flow "
        "from intermediate.int_customer_cash_flows_monthly order by customer_id, month_start_date"
    )
    by_customer: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        by_customer[row[0]].append(row)
    # one row per month from acquisition to the as-of month (March 2025)
    assert len(by_customer["C1"]) == 15 and len(by_customer["C2"]) == 14
    for customer_rows in by_customer.values():
        assert [r[2] for r in customer_rows] == list(range(len(customer_rows)))
        for _, _, m, net, discounted in customer_rows:
            assert float(discounted) == pytest.approx(float(net) / 1.08 ** (m / 12), abs=1e-4)
    # C1's referral gain from C2's January 2025 order lands in C1's month 12
    c1_month_12 = by_customer["C1"][12]
    assert c1_month_12[1] == date(2025, 1, 1)
    assert float(c1_month_12[3]) == pytest.approx(0.5 * (100 - 10 - 50))


def test_acquisition_costs_by_channel_and_month(built: Callable[[str], list[tuple]]) -> None:
    rows = built(
        "select acquisition_channel, month_start_date, spend_amount, customers_acquired, cost_per_acquisition, "
        "unallocated_spend_amount, prospect_call_cost, unconverted_prospect_call_cost "
        "from marts.fct_acquisition_costs order by acquisition_channel, month_start_date"
    )
    table = {(r[0], r[1]): tuple(None if v is None else float(v) for v in r[2:]) for r in rows}
    assert table[("online", date(2024, 1, 1))] == (300, 1, 300, 0, 15, 0)  # C1, call K1 before buying
    assert table[("online", date(2024, 2, 1))] == (500, 1, 500, 0, 0, 0)  # C3
    # store: January spend acquired nobody; calls K4 (C2, later bought) and K5 (C4, never bought)
    assert table[("store", date(2024, 1, 1))] == (90, 0, None, 90, pytest.approx(3.1 * 1.5 + 4 * 1.5), 6)
    assert table[("store", date(2024, 2, 1))] == (120, 1, 120, 0, 0, 0)
    assert table[("partner", date(2024, 3, 1))] == (0, 1, 0, 0, 0, 0)
    assert len(table) == 5


def test_tiers_summary_pareto_and_monthly_snapshots_agree(built: Callable[[str], list[tuple]]) -> None:
    expected = expected_clv()
    tiers = built("select customer_id, value_rank, value_tier from marts.fct_customer_value_tiers order by value_rank")
    # ranked by historical CLV computed independently; n = 4 -> b = round(0.8), round(3.2) = 1, 3
    ranking = sorted(expected, key=lambda c: (-expected[c]["historical_clv"], c))
    assert [row[0] for row in tiers] == ranking
    assert [row[2] for row in tiers] == ["A", "B", "B", "C"]

    summary = built(
        "select value_tier, customers, lifetime_profit, clv_share from marts.fct_value_tier_summary "
        "where tiering = 'historical' order by value_tier"
    )
    total_clv = sum(v["historical_clv"] for v in expected.values())
    assert [(r[0], r[1]) for r in summary] == [("A", 1), ("B", 2), ("C", 1)]
    assert float(summary[0][2]) == pytest.approx(expected[ranking[0]]["lifetime_profit"], abs=1e-3)
    assert float(summary[0][3]) == pytest.approx(expected[ranking[0]]["historical_clv"] / total_clv, abs=1e-6)

    pareto = built("select value_rank, cumulative_customer_share, cumulative_clv_share from marts.fct_value_pareto "
                   "order by value_rank")
    assert [float(r[1]) for r in pareto] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert float(pareto[-1][2]) == pytest.approx(1.0)

    # the as-of month's snapshot is the current tiering; C5 (acquired March 2024) first appears then
    latest = built(
        "select customer_id, value_tier, cumulative_clv from marts.fct_value_tiers_monthly "
        "where month_start_date = date '2025-03-01' order by value_rank"
    )
    assert [(r[0], r[1]) for r in latest] == [(r[0], r[2]) for r in tiers]
    for customer, _, cumulative in latest:
        assert float(cumulative) == pytest.approx(expected[customer]["historical_clv"], abs=1e-3)
    first_months = built(
        "select customer_id, min(month_start_date), count(*) from marts.fct_value_tiers_monthly group by customer_id "
        "order by customer_id"
    )
    assert [(r[0], r[1], r[2]) for r in first_months] == [
        ("C1", date(2024, 1, 1), 15), ("C2", date(2024, 2, 1), 14),
        ("C3", date(2024, 2, 1), 14), ("C5", date(2024, 3, 1), 13),
    ]
    moves = built("select tier_move, count(*) from marts.fct_value_tiers_monthly group by tier_move")
    assert dict((r[0], r[1]) for r in moves)["new"] == 4


def test_stage_tier_counts_cover_every_customer(
    built: Callable[[str], list[tuple]], warehouse_env: dict[str, str]
) -> None:
    """Stage x tier needs the lifecycle marts (dim_customers), built here on top of the value models."""
    DbtRunner(warehouse_env)(
        "build", "--select", "+fct_stage_tier_counts", "--exclude", "resource_type:test",
        vars={"as_of_date": AS_OF_DATE},
    )
    rows = built("select stage_code, value_tier, customers from marts.fct_stage_tier_counts")
    per_tier: dict[str, int] = defaultdict(int)
    for _, tier, customers in rows:
        per_tier[tier] += customers
    # 4 customers with a completed order (1/2/1 tiers) and the prospect C4, who has no tier
    assert dict(per_tier) == {"A": 1, "B": 2, "C": 1, "unranked": 1}
    prospect_stages = [r[0] for r in rows if r[1] == "unranked"]
    assert prospect_stages == ["prospect"]


def test_predictions_feed_total_clv_and_survive_a_rerun(
    built: Callable[[str], list[tuple]], warehouse_env: dict[str, str]
) -> None:
    """Runs last in this module: it writes python_models.clv_customer_predictions like the Python asset."""
    assert built("select count(*) from python_models.clv_customer_predictions") == [(0,)]
    assert built("select count(*) from marts.fct_customer_clv where predicted_future_clv is not null") == [(0,)]
    insert = (
        "insert into python_models.clv_customer_predictions values "
        "('C5', 0.9, 3.0, 45.0, 20.0, 5000.0), ('C1', 0.2, 0.1, 500.0, 150.0, 10.0)"
    )
    engine_for(load_settings(warehouse_env)).execute([insert])
    DbtRunner(warehouse_env)(
        "run", "--select", "fct_customer_clv", "fct_customer_value_tiers", vars={"as_of_date": AS_OF_DATE}
    )
    expected = expected_clv()
    rows = built(
        "select clv.customer_id, clv.p_alive, clv.predicted_future_clv, clv.total_clv, tiers.predicted_value_tier "
        "from marts.fct_customer_clv as clv inner join marts.fct_customer_value_tiers as tiers "
        "on clv.customer_id = tiers.customer_id order by clv.customer_id"
    )
    by_customer = {r[0]: r[1:] for r in rows}
    assert float(by_customer["C5"][2]) == pytest.approx(expected["C5"]["historical_clv"] + 5000, abs=1e-3)
    assert float(by_customer["C1"][2]) == pytest.approx(expected["C1"]["historical_clv"] + 10, abs=1e-3)
    assert by_customer["C2"][0] is None and float(by_customer["C2"][2]) == pytest.approx(
        expected["C2"]["historical_clv"], abs=1e-3
    )
    assert by_customer["C5"][3] == "A"  # 5000 of predicted value puts C5 on top of the predicted tiering
    # the on-run-start hook of that second run did not empty the asset's table
    assert built("select count(*) from python_models.clv_customer_predictions") == [(2,)]
