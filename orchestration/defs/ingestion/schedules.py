"""The daily ingestion run: a safety net beside the sensor (late files, a stopped sensor)."""

from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:  # the type of a job made by define_asset_job (not exported)
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )

from orchestration.defs.ingestion.assets import ingestion_job

DEFAULT_CRON = "0 6 * * *"  # 06:00 UTC, after the vendors' nightly exports


def build_ingestion_schedule(
    cron_schedule: str = DEFAULT_CRON,
    timezone: str = "UTC",
    name: str = "ingest_landing_daily",
    default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.RUNNING,
    job: "UnresolvedAssetJobDefinition" = ingestion_job,
) -> dg.ScheduleDefinition:
    """Run `job` (by default: ingest every object's new files) on `cron_schedule` (in
    `timezone`)."""
    return dg.ScheduleDefinition(
        name=name,
        job=job,
        cron_schedule=cron_schedule,
        execution_timezone=timezone,
        default_status=default_status,
        description=f"Run `{job.name}` on `{cron_schedule}` ({timezone}).",
    )
