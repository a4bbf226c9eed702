"""What `python -m orchestration.run` shows: one line per step on the terminal, everything else in a log file.

While the job runs, the process's stdout and stderr (file descriptors 1 and 2, so the dbt subprocess, GX and
Python warnings too) go to `<warehouse>/logs/run-<time>.log`, together with Dagster's full event log. The
terminal keeps a copy of the original stdout and gets one line per finished asset step:

    [ 7/41] dbt_before_clv                      done   48.2 s   (1m 02s)

(checks are counted in the progress but printed only when they fail).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import dagster as dg

PROGRESS_LOGGER = "clm_progress"


def elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{seconds:.1f} s"


@dataclass
class StepProgress:
    """Counts finished steps of the run and writes one line per asset step (and per failed check)."""

    terminal: IO[str]
    total_steps: int
    check_steps: frozenset[str]
    started_at: float = field(default_factory=time.monotonic)
    step_started: dict[str, float] = field(default_factory=dict)
    finished: int = 0

    def on_event(self, event: dg.DagsterEvent) -> None:
        step = event.step_key
        if step is None:
            return
        if event.is_step_start:
            self.step_started[step] = time.monotonic()
            return
        if not (event.is_step_success or event.is_step_failure or event.is_step_skipped):
            return
        self.finished += 1
        outcome = "done" if event.is_step_success else "FAILED" if event.is_step_failure else "skipped"
        if step in self.check_steps and event.is_step_success:
            return
        took = time.monotonic() - self.step_started.get(step, time.monotonic())
        width = len(str(self.total_steps))
        self.terminal.write(
            f"[{self.finished:>{width}}/{self.total_steps}] {step:<40} {outcome:<7} {elapsed(took):>8}"
            f"   ({elapsed(time.monotonic() - self.started_at)})\n"
        )
        self.terminal.flush()


class _ProgressHandler(logging.Handler):
    def __init__(self, progress: StepProgress) -> None:
        super().__init__(level=logging.DEBUG)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        event = (getattr(record, "dagster_meta", None) or {}).get("dagster_event")
        if event is not None:
            self.progress.on_event(event)


def progress_logger(progress: StepProgress) -> dg.LoggerDefinition:
    """A Dagster logger that feeds StepProgress with the run's step events."""

    @dg.logger(description="one terminal line per finished step (python -m orchestration.run)")
    def clm_progress(_init_context: Any) -> logging.Logger:
        logger = logging.getLogger(PROGRESS_LOGGER)
        logger.handlers = [_ProgressHandler(progress)]
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        return logger

    return clm_progress


def steps_of(job: dg.JobDefinition) -> tuple[int, frozenset[str]]:
    """How many steps the job runs, and which of them only evaluate checks."""
    assets_defs = job.asset_layer.asset_graph.assets_defs
    check_steps = frozenset(ad.node_def.name for ad in assets_defs if ad.check_keys and not ad.keys)
    return len(job.graph.node_dict), check_steps


def log_path(warehouse_dir: Path) -> Path:
    logs = warehouse_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    return logs / time.strftime("run-%Y%m%d-%H%M%S.log")


@contextlib.contextmanager
def output_to_file(path: Path) -> Iterator[IO[str]]:
    """Send fds 1 and 2 to `path` for the duration; yield a text stream on the original stdout."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved_out), "w", buffering=1, encoding="utf-8")
    with path.open("a", encoding="utf-8") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            terminal.close()
