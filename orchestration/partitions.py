"""Monthly partitions of the lifecycle history: a backfill over a range of months rebuilds only those
months of fct_customer_lifecycle_monthly (dbt vars lifecycle_backfill_start_month/_end_month).

The partitions start at CLM_HISTORY_START_MONTH (default 2023-01-01, before the demo data's first
month); a month without data rebuilds to nothing.
"""

import json
import os
from typing import Any

import dagster as dg
from dagster import OpExecutionContext
from dagster_dbt import DbtCliResource

from orchestration.assets.dbt_assets import dbt_asset_key
from orchestration.resources import WAREHOUSE_WRITER_POOL

LIFECYCLE_MODEL = "fct_customer_lifecycle_monthly"
DEFAULT_HISTORY_START = "2023-01-01"
BACKFILL_JOB = "lifecycle_backfill_job"


def history_start(env: dict[str, str] | None = None) -> str:
    env = dict(os.environ if env is None else env)
    return env.get("CLM_HISTORY_START_MONTH", DEFAULT_HISTORY_START)


def lifecycle_months(env: dict[str, str] | None = None) -> dg.MonthlyPartitionsDefinition:
    return dg.MonthlyPartitionsDefinition(start_date=history_start(env), timezone="Asia/Shanghai")


def backfill_vars(first_month: str, last_month: str) -> dict[str, str]:
    """The dbt vars that rebuild the months first_month..last_month (month starts, 'YYYY-MM-01')."""
    return {"lifecycle_backfill_start_month": first_month, "lifecycle_backfill_end_month": last_month}


def lifecycle_backfill_job(
    manifest: dict[str, Any], partitions_def: dg.MonthlyPartitionsDefinition
) -> dg.JobDefinition:
    lifecycle_key = dbt_asset_key(manifest, LIFECYCLE_MODEL)

    @dg.op(pool=WAREHOUSE_WRITER_POOL, retry_policy=dg.RetryPolicy(max_retries=1, delay=10), out={})
    def rebuild_lifecycle_months(context: OpExecutionContext, dbt: DbtCliResource):  # noqa: ANN201
        keys = context.partition_keys  # one month per run, or a range in a single-run backfill
        first, last = min(keys), max(keys)
        args = ["run", "--select", LIFECYCLE_MODEL, "--vars", json.dumps(backfill_vars(first, last))]
        dbt.cli(args, manifest=manifest, raise_on_error=True).wait()
        context.log.info(f"rebuilt {LIFECYCLE_MODEL} for {first}..{last}")
        yield dg.AssetMaterialization(
            asset_key=lifecycle_key,
            description=f"lifecycle history rebuilt for months {first} to {last}",
            metadata={"first_month": first, "last_month": last},
        )

    @dg.job(
        name=BACKFILL_JOB,
        partitions_def=partitions_def,
        description=f"Rebuild the months of {LIFECYCLE_MODEL} of a partition (or a range) from the UI.",
        tags={"dagster/max_retries": "1"},
    )
    def backfill() -> None:
        rebuild_lifecycle_months()

    return backfill
