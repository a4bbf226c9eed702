"""A run when new files land: only files the ledger has not recorded (ingest.pending_files). STOPPED on a
new instance, like the schedules; CLM_SENSOR_INTERVAL_SECONDS sets how often it looks (default 60)."""

from __future__ import annotations

import hashlib
import os

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from orchestration.ingest import pending_files
from orchestration.settings import load_settings

SENSOR_NAME = "new_landed_files"


def pending_run_key(paths: list[str]) -> str:
    """One run per set of pending files: while a requested run is still loading them, the same set
    gives the same key and Dagster does not request it again."""
    return "landed-" + hashlib.sha256("\n".join(sorted(paths)).encode()).hexdigest()[:16]


def landed_files_sensor(warehouse_job: UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR_NAME,
        job=warehouse_job,
        minimum_interval_seconds=int(os.environ.get("CLM_SENSOR_INTERVAL_SECONDS", "60")),
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Requests warehouse_job when landed files are not yet in raw._load_ledger.",
    )
    def new_landed_files(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        settings = load_settings()
        try:
            pending = [str(p) for p in pending_files(settings)]
        except Exception as error:  # noqa: BLE001 - a locked or missing warehouse is "try again later"
            return dg.SkipReason(f"could not read the load ledger: {error}")
        if not pending:
            return dg.SkipReason("no new landed files")
        context.log.info(f"{len(pending)} new landed files, e.g. {pending[0]}")
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(run_key=pending_run_key(pending), tags={"clm/pending_files": str(len(pending))})
            ]
        )

    return new_landed_files
