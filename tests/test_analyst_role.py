"""PostgreSQL: the `analyst` role created by the project reads the marts and nothing else (DOMAIN.md §9)."""

from __future__ import annotations

import psycopg2
import pytest
from psycopg2 import errors

from tests.engines import BuiltWarehouse

pytestmark = pytest.mark.postgres


def _analyst(warehouse: BuiltWarehouse):
    env = warehouse.env
    conn = psycopg2.connect(
        host=env.get("CLM_PG_HOST", "127.0.0.1"), port=env.get("CLM_PG_PORT", "5432"), user="analyst",
        password=env.get("CLM_PG_ANALYST_PASSWORD", "analyst"), dbname=env["CLM_PG_DATABASE"],
    )
    conn.autocommit = True
    return conn


def _fails(conn, sql: str, error: type[Exception] = errors.InsufficientPrivilege) -> None:
    with conn.cursor() as cur, pytest.raises(error):
        cur.execute(sql)


def test_analyst_reads_every_mart(postgres_warehouse: BuiltWarehouse) -> None:
    conn = _analyst(postgres_warehouse)
    with conn.cursor() as cur:
        cur.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        )
        marts = [r[0] for r in cur.fetchall()]
        assert {"dim_customers", "fct_customer_clv", "fct_customer_lifecycle_monthly"} <= set(marts)
        for mart in marts:
            cur.execute(f'select count(*) from marts."{mart}"')
            assert cur.fetchone()[0] >= 0
        cur.execute("select count(*) from marts.dim_customers")
        assert cur.fetchone()[0] > 0
    conn.close()


@pytest.mark.parametrize(
    "relation",
    ["raw.orders", "raw.customers", "raw._load_ledger", "staging.stg_crm__customers",
     "staging.stg_crm__rejected_rows", "intermediate.int_customer_cash_flows_monthly",
     "python_models.clv_customer_predictions"],
)
def test_analyst_cannot_read_outside_marts(postgres_warehouse: BuiltWarehouse, relation: str) -> None:
    conn = _analyst(postgres_warehouse)
    _fails(conn, f"select * from {relation} limit 1")
    conn.close()


@pytest.mark.parametrize(
    "statement",
    [
        "insert into marts.dim_customers (customer_id) values ('X')",
        "update marts.dim_customers set customer_id = customer_id",
        "delete from marts.fct_customer_clv",
        "truncate marts.fct_customer_clv",
        "drop table marts.fct_customer_clv",
        "create table marts.analyst_scratch (x int)",
        "create table raw.analyst_scratch (x int)",
        "alter table marts.dim_customers add column x int",
    ],
)
def test_analyst_cannot_write(postgres_warehouse: BuiltWarehouse, statement: str) -> None:
    conn = _analyst(postgres_warehouse)
    # dropping/altering another role's table is "must be owner" (InsufficientPrivilege as well)
    _fails(conn, statement)
    conn.close()
