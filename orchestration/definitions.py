"""The Dagster code location: `dagster dev -m orchestration.definitions`.

Nothing is built at import: the definitions are made when Dagster loads them (@dg.definitions), from the
dbt manifest that `python -m orchestration.manifest` wrote, and fail with that command in the message
when it is missing.

    ingest (crm/*) -> dbt seeds, staging, intermediate -> predictive CLV (python_models/*)
        -> dbt marts reading the predictions -> serving/published_marts -> serving/run_report
"""

from __future__ import annotations

from typing import Any

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from orchestration.assets.clv_assets import INPUT_MODELS, predictive_clv_asset
from orchestration.assets.dbt_assets import dbt_asset_keys, dbt_assets_from, mart_models, published_marts, relation_docs
from orchestration.assets.ingest_assets import ingest_assets, raw_asset_key
from orchestration.assets.publish import publish_asset
from orchestration.assets.report import report_asset
from orchestration.checks.asset_checks import mart_checks, raw_checks, rejected_rows_check
from orchestration.manifest import load_manifest
from orchestration.partitions import lifecycle_backfill_job
from orchestration.resources import dbt_resource, warehouse_resource
from orchestration.schedules import daily_schedule, monthly_close_schedule
from orchestration.sensors import landed_files_sensor

WAREHOUSE_JOB = "warehouse_job"
# a failed run is retried once from the failed step (needs run_retries in dagster.yaml)
RUN_RETRY_TAGS = {"dagster/max_retries": "1", "dagster/retry_strategy": "FROM_FAILURE"}


def warehouse_job() -> UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        WAREHOUSE_JOB,
        selection=dg.AssetSelection.all(),
        description="Everything: ingest, dbt build, predictive CLV, checks, publish, report.",
        executor_def=dg.in_process_executor,  # one process: one writer on the DuckDB file at a time
        tags=RUN_RETRY_TAGS,
    )


def build_definitions(manifest: dict[str, Any] | None = None) -> dg.Definitions:
    manifest = load_manifest() if manifest is None else manifest
    marts = mart_models(manifest)
    keys = dbt_asset_keys(manifest)  # resolved once
    mart_keys = {mart: keys[mart] for mart in marts}
    published = published_marts(manifest)
    job = warehouse_job()
    backfill = lifecycle_backfill_job(manifest)
    return dg.Definitions(
        assets=[
            *ingest_assets(),
            *dbt_assets_from(manifest),
            predictive_clv_asset([keys[name] for name in INPUT_MODELS]),
            publish_asset({m: mart_keys[m] for m in published}, {m: relation_docs(manifest, m) for m in published}),
            report_asset(marts),
        ],
        asset_checks=[
            *raw_checks(raw_asset_key),
            rejected_rows_check(keys["stg_crm__rejected_rows"]),
            *mart_checks(mart_keys),
        ],
        jobs=[job, backfill],
        schedules=[daily_schedule(job), monthly_close_schedule(backfill)],
        sensors=[landed_files_sensor(job)],
        resources={"dbt": dbt_resource(), "warehouse": warehouse_resource()},
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
