"""Counts are BIGINT (docs/DECISIONS.md, "Counts are BIGINT"): no column the models build on DuckDB is a
HUGEINT, the type DuckDB gives a sum of integers and reads back many times slower than a BIGINT."""

from __future__ import annotations

from tests.engines import BuiltWarehouse, query

MODEL_SCHEMAS = "('staging', 'intermediate', 'marts')"


def test_no_model_column_is_hugeint(duckdb_warehouse: BuiltWarehouse) -> None:
    hugeint = query(
        duckdb_warehouse,
        "select table_schema || '.' || table_name || '.' || column_name from information_schema.columns "
        f"where table_schema in {MODEL_SCHEMAS} and data_type = 'HUGEINT' order by 1",
    )
    assert hugeint == []


def test_the_counts_are_there_as_bigint(duckdb_warehouse: BuiltWarehouse) -> None:
    """The check above looks at the built models: the counts it is about exist, typed BIGINT."""
    counts = dict(
        query(
            duckdb_warehouse,
            "select table_name || '.' || column_name, data_type from information_schema.columns "
            f"where table_schema in {MODEL_SCHEMAS} and column_name in "
            "('completed_orders_to_date', 'purchase_days_12m', 'calls_to_date', 'active_customers')",
        )
    )
    assert counts.get("fct_customer_lifecycle_monthly.completed_orders_to_date") == "BIGINT"
    assert counts.get("fct_customer_lifecycle_monthly.purchase_days_12m") == "BIGINT"
    assert counts.get("int_customer_stages_sequenced.calls_to_date") == "BIGINT"
    assert counts.get("kpi_monthly.active_customers") == "BIGINT"
