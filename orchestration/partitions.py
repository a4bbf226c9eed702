"""The lifecycle backfill: a run of a month (or a range of months, in one run) rebuilds exactly those
months of fct_customer_lifecycle_monthly (dbt vars lifecycle_backfill_start_month/_end_month, passed by
the dbt asset of a partitioned run). The partitions are the months of the loaded history
(orchestration/lifecycle_months.py).
"""

from typing import Any

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from orchestration.assets.dbt_assets import dbt_asset_key
from orchestration.lifecycle_months import LIFECYCLE_MODEL

BACKFILL_JOB = "lifecycle_backfill_job"


def lifecycle_backfill_job(manifest: dict[str, Any]) -> UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        BACKFILL_JOB,
        selection=dg.AssetSelection.assets(dbt_asset_key(manifest, LIFECYCLE_MODEL)),
        description=f"Rebuild the months of {LIFECYCLE_MODEL} of a partition (or a range) from the UI.",
        tags={"dagster/max_retries": "1"},
    )
