"""`python -m orchestration.run`: materialize every asset (warehouse_job) in this process against the
configured warehouse (CLM_* environment variables), then print where everything is and how many rows.

Uses the Dagster instance of DAGSTER_HOME when it is set (the run shows in the UI), else an ephemeral one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dagster as dg

from orchestration.assets.dbt_assets import mart_models
from orchestration.assets.report import build_report, format_report
from orchestration.definitions import WAREHOUSE_JOB, build_definitions
from orchestration.manifest import build_manifest, load_manifest
from orchestration.settings import load_settings


def run_warehouse_job(instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
    """Parse the project first (the explicit manifest step), so the definitions match the models."""
    build_manifest()
    manifest = load_manifest()
    definitions = build_definitions(manifest)
    job = definitions.get_job_def(WAREHOUSE_JOB)
    return job.execute_in_process(instance=instance, raise_on_error=False)


def main() -> int:
    settings = load_settings()
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    if os.environ.get("DAGSTER_HOME"):
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        with dg.DagsterInstance.get() as instance:
            result = run_warehouse_job(instance)
    else:
        result = run_warehouse_job(dg.DagsterInstance.ephemeral())
    report = build_report(settings, mart_models(load_manifest()))
    print(format_report(report))
    if not result.success:
        failed = [event.step_key for event in result.all_events if event.is_step_failure]
        print(
            f"warehouse_job FAILED (run {result.run_id}); failed steps: {', '.join(failed) or 'see the run log'}",
            file=sys.stderr,
        )
        return 1
    print(f"warehouse_job succeeded (run {result.run_id})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
