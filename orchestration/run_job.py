"""The main job of `python -m orchestration.run` (orchestration/run.py, which starts `dbt parse` before it
imports this module): load the definitions from the parsed manifest, free the slots of dead runs, run
warehouse_job in this process, print one line per step and the summary.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import IO

import dagster as dg

from orchestration.assets.dbt_assets import mart_models
from orchestration.assets.report import build_report, format_report
from orchestration.definitions import WAREHOUSE_JOB, build_definitions
from orchestration.manifest import ManifestBuild, load_manifest
from orchestration.recovery import release_dead_runs, this_process_tags
from orchestration.run_output import (
    PROGRESS_LOGGER,
    StepProgress,
    elapsed,
    log_path,
    output_to_file,
    progress_logger,
    steps_of,
)
from orchestration.settings import load_settings


def run_warehouse_job(
    instance: dg.DagsterInstance, terminal: IO[str], parsing: ManifestBuild, *, full_refresh: bool = False
) -> dg.ExecuteInProcessResult:
    """The definitions come from the manifest `parsing` writes (the explicit manifest step), so they match
    the models. The incremental models take only what new files change, unless `full_refresh`
    (docs/incremental.md)."""
    parsing.wait()
    manifest = load_manifest()
    job = build_definitions(manifest).resolve_job_def(WAREHOUSE_JOB)
    for released in release_dead_runs(instance):
        reason = "its process is gone: marked failed" if released.was_dead else "it had finished"
        terminal.write(f"freed the warehouse slots of run {released.run_id} ({reason})\n")
        terminal.flush()
    total, check_steps = steps_of(job)
    progress = StepProgress(terminal=terminal, total_steps=total, check_steps=check_steps)
    job = job.with_logger_defs({"console": dg.colored_console_logger, PROGRESS_LOGGER: progress_logger(progress)})
    return job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        tags=this_process_tags(),
        run_config={
            "loggers": {"console": {"config": {"log_level": "DEBUG"}}, PROGRESS_LOGGER: {}},
            "resources": {"warehouse": {"config": {"full_refresh": full_refresh}}},
        },
    )


def _instance() -> dg.DagsterInstance:
    if os.environ.get("DAGSTER_HOME"):
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def run_and_report(parsing: ManifestBuild, *, full_refresh: bool = False) -> int:
    """Run warehouse_job, print the summary; the exit status of `python -m orchestration.run`."""
    settings = load_settings()
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    log = log_path(settings.warehouse_dir)
    mode = "full refresh" if full_refresh else "incremental where the warehouse has history"
    print(f"warehouse_job on {settings.target} ({mode}); the full log: {log}", flush=True)
    started = time.monotonic()
    try:
        with output_to_file(log) as terminal, _instance() as instance:
            result = run_warehouse_job(instance, terminal, parsing, full_refresh=full_refresh)
            report = build_report(settings, mart_models(load_manifest()))
    except KeyboardInterrupt:
        parsing.stop()
        print(f"interrupted after {elapsed(time.monotonic() - started)}: the run stopped (details in {log})")
        return 130
    print(format_report(report, log))
    took = elapsed(time.monotonic() - started)
    if not result.success:
        failed = [event.step_key for event in result.all_events if event.is_step_failure]
        print(
            f"warehouse_job FAILED after {took} (run {result.run_id}); failed steps: "
            f"{', '.join(failed) or 'see the log'}; details in {log}",
            file=sys.stderr,
        )
        return 1
    print(f"warehouse_job succeeded in {took} (run {result.run_id})")
    return 0
