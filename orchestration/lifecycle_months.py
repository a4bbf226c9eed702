"""The months of the lifecycle history (fct_customer_lifecycle_monthly) as Dagster partitions.

The partitions start at the first month of the loaded data: every build that writes the lifecycle history
records its first and last month in `<warehouse>/lifecycle_months.json`, and the partitions definition
is made from it when Dagster loads the code location (CLM_HISTORY_START_MONTH overrides it; before the
first build, a default start is used). They run to the current month.

A full build (warehouse_job, not partitioned) writes many months at once: it reports each month it wrote
as a materialized partition, so the backfill job shows the history `make run` built as materialized.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

from orchestration.resources import dbt_project_vars
from orchestration.settings import Settings, load_settings

LIFECYCLE_MODEL = "fct_customer_lifecycle_monthly"
DEFAULT_HISTORY_START = "2023-01-01"
MONTHS_FILE = "lifecycle_months.json"


def business_time_zone() -> str:
    """dbt var business_time_zone (dbt_project.yml is the one place): months and schedules follow it."""
    return str(dbt_project_vars()["business_time_zone"])


def months_file(settings: Settings) -> Path:
    return settings.warehouse_dir / MONTHS_FILE


def history_start(env: dict[str, str] | None = None) -> str:
    """CLM_HISTORY_START_MONTH, else the first month the last build wrote, else the default."""
    env = dict(os.environ if env is None else env)
    if env.get("CLM_HISTORY_START_MONTH"):
        return env["CLM_HISTORY_START_MONTH"]
    recorded = months_file(load_settings(env))
    if recorded.exists():
        try:
            return json.loads(recorded.read_text(encoding="utf-8"))["first_month"]
        except (ValueError, KeyError):
            pass  # a damaged file: the default start still lists every month
    return DEFAULT_HISTORY_START


def lifecycle_months(env: dict[str, str] | None = None) -> dg.MonthlyPartitionsDefinition:
    return dg.MonthlyPartitionsDefinition(start_date=history_start(env), timezone=business_time_zone(), end_offset=1)


def backfill_vars(first_month: str, last_month: str) -> dict[str, str]:
    """The dbt vars that rebuild the months first_month..last_month (month starts, 'YYYY-MM-01')."""
    return {"lifecycle_backfill_start_month": first_month, "lifecycle_backfill_end_month": last_month}


def months_in_history(reader: object) -> list[str]:
    """The months present in the lifecycle history, 'YYYY-MM-01', ascending."""
    frame = reader.query(  # type: ignore[attr-defined]
        f"select distinct cast(month_start_date as date) as month from marts.{LIFECYCLE_MODEL} order by 1"
    )
    return [str(month)[:10] for month in frame["month"]]


def months_rewritten_daily(target: str, dbt_vars: dict) -> int:
    """How many of the newest months an incremental build of the lifecycle fact rewrites for every customer:
    on DuckDB and PostgreSQL the month of the last run's as-of date (and newer ones: a row depends only on its
    customer's data up to its evaluation date, and changed customers are rewritten whole); on Spark, which
    replaces whole month partitions, the last `lifecycle_lookback_months`."""
    return int(dbt_vars.get("lifecycle_lookback_months", 1)) if target == "spark" else 1


def months_written(present: list[str], already_materialized: set[str], lookback_months: int) -> list[str]:
    """The months an unpartitioned build wrote: the incremental model rewrites the last `lookback_months`
    months and any month it did not have (a full refresh: every month)."""
    rewritten = set(present[-lookback_months:]) if lookback_months > 0 else set()
    return [month for month in present if month in rewritten or month not in already_materialized]


def record_months(settings: Settings, present: list[str]) -> None:
    """Remember the history's first and last month for the next load of the partitions definition."""
    if present:
        months_file(settings).write_text(
            json.dumps({"first_month": present[0], "last_month": present[-1]}), encoding="utf-8"
        )
