"""The same data gives the same key figures on every engine (issue: same models on PostgreSQL and Spark):
counts exactly, money within a cent."""

from __future__ import annotations

import pytest

from tests.engines import BuiltWarehouse, query
from tests.support.agreement import COUNT_QUERIES, MONEY_QUERIES, assert_money_rows_agree, normalise_numbers

pytestmark = pytest.mark.postgres

@pytest.mark.parametrize("name", sorted(COUNT_QUERIES))
def test_counts_agree_duckdb_postgres(
    duckdb_warehouse: BuiltWarehouse, postgres_warehouse: BuiltWarehouse, name: str
) -> None:
    on_duckdb = normalise_numbers(query(duckdb_warehouse, COUNT_QUERIES[name]))
    on_postgres = normalise_numbers(query(postgres_warehouse, COUNT_QUERIES[name]))
    assert on_duckdb, f"{name}: no rows on DuckDB"
    assert on_duckdb == on_postgres


@pytest.mark.parametrize("name", sorted(MONEY_QUERIES))
def test_money_agrees_within_a_cent(
    duckdb_warehouse: BuiltWarehouse, postgres_warehouse: BuiltWarehouse, name: str
) -> None:
    assert_money_rows_agree(
        name, query(duckdb_warehouse, MONEY_QUERIES[name]), query(postgres_warehouse, MONEY_QUERIES[name])
    )
