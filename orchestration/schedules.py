"""The daily run and the monthly close."""

from __future__ import annotations

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

BUSINESS_TIME_ZONE = "Asia/Shanghai"  # dbt var business_time_zone


def daily_schedule(warehouse_job: UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    """Every morning, after the overnight extracts have landed: load, build, check, publish."""
    return dg.ScheduleDefinition(
        name="daily_warehouse",
        job=warehouse_job,
        cron_schedule="0 6 * * *",
        execution_timezone=BUSINESS_TIME_ZONE,
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )


def monthly_close_schedule(backfill_job: dg.JobDefinition) -> dg.ScheduleDefinition:
    """On the 1st, once the daily run has seen the whole month: rebuild the month just closed in the
    lifecycle history, so late-arriving rows of that month are counted."""
    return dg.build_schedule_from_partitioned_job(
        backfill_job,
        name="monthly_close",
        hour_of_day=8,
        day_of_month=1,
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
