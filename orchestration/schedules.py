"""The daily run and the monthly close. Both are STOPPED on a new instance (docs/DECISIONS.md): an
operator turns them on in the UI (Automation) or with `dagster schedule start`.

CLM_DAILY_CRON sets the daily run's time (cron, business time zone; default 06:00)."""

from __future__ import annotations

import os

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from orchestration.lifecycle_months import business_time_zone

DEFAULT_DAILY_CRON = "0 6 * * *"


def daily_schedule(warehouse_job: UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    """Every morning, after the overnight extracts have landed: load, build, check, publish."""
    return dg.ScheduleDefinition(
        name="daily_warehouse",
        job=warehouse_job,
        cron_schedule=os.environ.get("CLM_DAILY_CRON", DEFAULT_DAILY_CRON),
        execution_timezone=business_time_zone(),
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )


def monthly_close_schedule(backfill_job: UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    """On the 1st, once the daily run has seen the whole month: rebuild the month just closed in the
    lifecycle history, so late-arriving rows of that month are counted."""
    return dg.build_schedule_from_partitioned_job(
        backfill_job,
        name="monthly_close",
        hour_of_day=8,
        day_of_month=1,
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
