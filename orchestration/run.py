"""`python -m orchestration.run` (what `make run` runs): materialize every asset (warehouse_job) in this
process against the configured warehouse (CLM_* environment variables), then print the summary.

The terminal gets one line per step and the summary once; Dagster's event log, dbt's and GX's output and
any warning go to `<warehouse>/logs/run-<time>.log` (orchestration/run_output.py).
Uses the Dagster instance of DAGSTER_HOME when it is set (the run shows in the UI), else an ephemeral one.

This module imports only what starts `dbt parse` (the explicit manifest step): dbt parses the project in its
own process while this one imports Dagster, dbt's adapter and the assets (orchestration/run_job.py), about
9 and 12 s one after the other on a slow 2-core machine, 13 s side by side (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import signal

from orchestration.manifest import start_manifest_build


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
    parsing = start_manifest_build()
    try:
        from orchestration.run_job import run_and_report  # noqa: PLC0415 (imported while dbt parses)
    except KeyboardInterrupt:
        parsing.stop()
        print("interrupted while starting: nothing ran")
        return 130
    return run_and_report(parsing, full_refresh=args.full_refresh)


if __name__ == "__main__":
    raise SystemExit(main())
