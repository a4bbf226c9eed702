"""Crash recovery for runs started by `python -m orchestration.run`.

A run killed with SIGKILL never reports its end: the instance keeps it STARTED and the warehouse
writer pool keeps its slot, so the next run would wait for that slot forever. Every run this
process starts carries the host and process id that execute it (RUN_HOST_TAG, RUN_PID_TAG); before
a new run starts, `release_dead_runs` marks each unfinished run whose process is gone as failed
(with a message saying so) and frees the pool slots of every finished or dead run.

Runs launched by the daemon (the UI, schedules, sensors) carry no such tags: the daemon's run
monitoring (dagster.yaml) detects their dead workers.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import dagster as dg
from dagster._core.storage.dagster_run import FINISHED_STATUSES

RUN_HOST_TAG = "clm/host"
RUN_PID_TAG = "clm/pid"


def this_process_tags() -> dict[str, str]:
    """The tags that let a later run tell whether this run's process is still alive."""
    return {RUN_HOST_TAG: socket.gethostname(), RUN_PID_TAG: str(os.getpid())}


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_dead_local_run(run: dg.DagsterRun) -> bool:
    pid = run.tags.get(RUN_PID_TAG)
    if run.tags.get(RUN_HOST_TAG) != socket.gethostname() or pid is None:
        return False
    return int(pid) != os.getpid() and not _process_alive(int(pid))


@dataclass(frozen=True)
class Released:
    run_id: str
    was_dead: bool


def release_dead_runs(instance: dg.DagsterInstance) -> list[Released]:
    """Fail unfinished runs whose process died; free the pool slots of every run that cannot use them."""
    released: list[Released] = []
    unfinished = instance.get_runs(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING,
                                        dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.CANCELING])
    )
    for run in unfinished:
        if _is_dead_local_run(run):
            instance.report_run_failed(
                run,
                message=(
                    f"Marked failed by a later run: its process {run.tags[RUN_PID_TAG]} on "
                    f"{run.tags[RUN_HOST_TAG]} no longer exists (killed or crashed)."
                ),
            )
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            released.append(Released(run.run_id, was_dead=True))
    for run_id in instance.event_log_storage.get_concurrency_run_ids():
        run = instance.get_run_by_id(run_id)
        if run is None or run.status in FINISHED_STATUSES:
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
            released.append(Released(run_id, was_dead=False))
    return released
