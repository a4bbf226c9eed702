"""The key figures every engine must agree on (counts exactly, money within a cent), shared by the
DuckDB-PostgreSQL and the DuckDB-Spark agreement tests."""

from __future__ import annotations

from decimal import Decimal

COUNT_QUERIES = {
    "staged and rejected rows per table": """
        select table_name, raw_rows, staged_rows, rejected_rows, superseded_rows
        from staging.stg_crm__row_reconciliation order by 1""",
    "rejected rows per reason": """
        select table_name, rejection_reason, count(*) from staging.stg_crm__rejected_rows
        group by 1, 2 order by 1, 2""",
    "customers per stage per month": """
        select cast(month_end_date as varchar(10)), stage_code, count(*)
        from marts.fct_customer_lifecycle_monthly group by 1, 2 order by 1, 2""",
    "lifecycle transitions": """
        select cast(month_end_date as varchar(10)), from_stage_code, to_stage_code, customers
        from marts.fct_lifecycle_transitions order by 1, 2, 3""",
    "current stage per customer": """
        select customer_id, stage_code from marts.dim_customers order by 1""",
    "tier counts": """
        select value_tier, count(*) from marts.fct_customer_value_tiers group by 1 order by 1""",
    "tier per customer": """
        select customer_id, value_tier from marts.fct_customer_value_tiers order by 1""",
    "kpi rows": """
        select cast(month_end_date as varchar(10)), dimension_name, dimension_value, active_customers,
               new_customers, retained_customers, resurrected_customers, churned_customers
        from marts.kpi_monthly order by 1, 2, 3""",
    "cohort sizes": """
        select cast(acquisition_month_start_date as varchar(10)), months_since_acquisition, cohort_size,
               customers_purchasing, customers_active
        from marts.fct_cohort_retention order by 1, 2""",
    "call list": """
        select customer_id from marts.fct_call_list order by 1""",
}

MONEY_QUERIES = {
    "total lifetime profit": "select sum(lifetime_profit), sum(historical_clv) from marts.fct_customer_clv",
    "lifetime profit per customer": """
        select customer_id, lifetime_profit, historical_clv from marts.fct_customer_clv order by 1""",
    "acquisition cost per channel and month": """
        select acquisition_channel, cast(month_start_date as varchar(10)), spend_amount, customers_acquired,
               total_acquisition_cost
        from marts.fct_acquisition_costs order by 1, 2""",
}


def assert_money_rows_agree(name: str, reference: list[tuple], other: list[tuple]) -> None:
    """Row for row: numbers within a cent, everything else equal."""
    assert reference and len(reference) == len(other)
    for row_r, row_o in zip(reference, other, strict=True):
        for value_r, value_o in zip(row_r, row_o, strict=True):
            if isinstance(value_r, (int, float, Decimal)):
                assert value_o is not None and abs(float(value_r) - float(value_o)) <= 0.01, (name, row_r, row_o)
            else:
                assert value_r == value_o, (name, row_r, row_o)


def normalise_numbers(rows: list[tuple]) -> list[tuple]:
    return [tuple(int(v) if isinstance(v, (int, Decimal)) and float(v).is_integer() else v for v in r)
            for r in rows]
