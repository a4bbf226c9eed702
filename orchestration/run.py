"""`python -m orchestration.run` (what `make run` runs): materialize every asset (warehouse_job) in this
process against the configured warehouse (CLM_* environment variables), then print the summary.

The terminal gets one line per step and the summary once; Dagster's event log, dbt's and GX's output and
any warning go to `<warehouse>/logs/run-<time>.log` (orchestration/run_output.py).
Uses the Dagster instance of DAGSTER_HOME when it is set (the run shows in the UI), else an ephemeral one.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import IO

import dagster as dg

from orchestration.assets.dbt_assets import mart_models
from orchestration.assets.report import build_report, format_report
from orchestration.definitions import WAREHOUSE_JOB, build_definitions
from orchestration.manifest import build_manifest, load_manifest
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
    instance: dg.DagsterInstance, terminal: IO[str], *, full_refresh: bool = False
) -> dg.ExecuteInProcessResult:
    """Parse the project first (the explicit manifest step), so the definitions match the models. The
    incremental models take only what new files change, unless `full_refresh` (docs/incremental.md)."""
    build_manifest()
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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m orchestration.run", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every incremental model from all raw rows (after a rule, framework or salt change)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM stops the run the way Ctrl-C does: the step in progress is interrupted (dbt's subprocess
    # too), the run is reported as ended, and the DuckDB file is closed by its owner
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    settings = load_settings()
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    log = log_path(settings.warehouse_dir)
    mode = "full refresh" if args.full_refresh else "incremental where the warehouse has history"
    print(f"warehouse_job on {settings.target} ({mode}); the full log: {log}", flush=True)
    started = time.monotonic()
    try:
        with output_to_file(log) as terminal, _instance() as instance:
            result = run_warehouse_job(instance, terminal, full_refresh=args.full_refresh)
            report = build_report(settings, mart_models(load_manifest()))
    except KeyboardInterrupt:
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


if __name__ == "__main__":
    raise SystemExit(main())
