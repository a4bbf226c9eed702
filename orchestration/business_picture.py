"""The business picture of the as-of month (customers per stage, churn rate, quick ratio, the top 20%'s
share of lifetime profit, the call list by priority), how the CLV models did on their holdout period, and
the rejected rows per reason. One definition, printed by `make run` (from the warehouse) and shown in the
lifecycle report (from the serving file)."""

from __future__ import annotations

from typing import Any

import pandas as pd

# the as-of month: the last month of the lifecycle history (dbt var as_of_date, else the last order day)
AS_OF_MONTH_SQL = "select max(month_start_date) as as_of from marts.fct_customer_lifecycle_monthly"
BUSINESS_SQL = {
    "stages": "select stage_code, count(*) as customers from marts.fct_customer_lifecycle_monthly "
    "where month_start_date = '{as_of}' group by stage_code order by stage_code",
    "kpis": "select churn_rate, quick_ratio, active_customers from marts.kpi_monthly "
    "where dimension_name = 'overall' and month_start_date = '{as_of}'",
    "top_tier": "select lifetime_profit_share from marts.fct_value_tier_summary "
    "where tiering = 'historical' and value_tier = 'A'",
    "call_list": "select priority, count(*) as customers from marts.fct_call_list group by priority order by priority",
}


REJECTED_SQL = (
    "select table_name, rejection_reason, count(*) as n from staging.stg_crm__rejected_rows "
    "group by table_name, rejection_reason order by table_name, rejection_reason"
)


def rejected_rows_by_reason(reader: Any) -> list[dict[str, Any]]:
    """Rejected raw rows per table and reason code (empty before staging is built)."""
    if not reader.relation_exists("staging", "stg_crm__rejected_rows"):
        return []
    frame = reader.query(REJECTED_SQL)
    return [{"table": t, "reason": r, "rows": int(n)} for t, r, n in frame.itertuples(index=False, name=None)]


def _number(value: Any) -> float | None:
    # None, NaN (0/0 rates) and pandas' NA (a null of a nullable integer column) are "no value"
    return None if value is None or pd.isna(value) else float(value)


def business_picture(reader: Any) -> dict[str, Any] | None:
    """Customers per stage, churn rate, quick ratio, the top-20% profit share and the call list by
    priority, for the as-of month; None while the marts are not built."""
    needed = ("fct_customer_lifecycle_monthly", "kpi_monthly", "fct_value_tier_summary", "fct_call_list")
    if not all(reader.relation_exists("marts", mart) for mart in needed):
        return None
    as_of = reader.query(AS_OF_MONTH_SQL)["as_of"].iloc[0]
    if as_of is None or as_of != as_of:
        return None
    as_of = str(as_of)[:10]
    stages = reader.query(BUSINESS_SQL["stages"].format(as_of=as_of))
    kpis = reader.query(BUSINESS_SQL["kpis"].format(as_of=as_of))
    top_tier = reader.query(BUSINESS_SQL["top_tier"])
    call_list = reader.query(BUSINESS_SQL["call_list"])
    return {
        "as_of_month": as_of[:7],
        "customers_per_stage": {str(s): int(n) for s, n in stages.itertuples(index=False, name=None)},
        "active_customers": int(kpis["active_customers"].iloc[0]) if len(kpis) else None,
        "churn_rate": _number(kpis["churn_rate"].iloc[0]) if len(kpis) else None,
        "quick_ratio": _number(kpis["quick_ratio"].iloc[0]) if len(kpis) else None,
        "top_20_percent_profit_share": _number(top_tier["lifetime_profit_share"].iloc[0]) if len(top_tier) else None,
        "call_list_by_priority": {int(p): int(n) for p, n in call_list.itertuples(index=False, name=None)},
    }


HOLDOUT_SQL = (
    "select status, status_reason, holdout_days, predicted_holdout_purchases, actual_holdout_purchases, "
    "purchases_relative_error, spend_relative_error from marts.fct_clv_holdout_summary"
)


def clv_holdout(reader: Any) -> dict[str, Any] | None:
    """The CLV holdout evaluation's summary row (fct_clv_holdout_summary); None while it is not built."""
    if not reader.relation_exists("marts", "fct_clv_holdout_summary"):
        return None
    frame = reader.query(HOLDOUT_SQL)
    if frame.empty:
        return None
    row = frame.iloc[0]
    return {
        "status": str(row["status"]),
        "status_reason": None if pd.isna(row["status_reason"]) else str(row["status_reason"]),
        "holdout_days": None if pd.isna(row["holdout_days"]) else int(row["holdout_days"]),
        "predicted_holdout_purchases": _number(row["predicted_holdout_purchases"]),
        "actual_holdout_purchases": _number(row["actual_holdout_purchases"]),
        "purchases_relative_error": _number(row["purchases_relative_error"]),
        "spend_relative_error": _number(row["spend_relative_error"]),
    }
