"""The daily ingestion run: a safety net beside the sensor (late files, a stopped sensor)."""

import dagster as dg

from orchestration.defs.ingestion.assets import ingestion_job

DEFAULT_CRON = "0 6 * * *"  # 06:00 UTC, after the vendors' nightly exports


def build_ingestion_schedule(
    cron_schedule: str = DEFAULT_CRON,
    timezone: str = "UTC",
    name: str = "ingest_landing_daily",
    default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.RUNNING,
) -> dg.ScheduleDefinition:
    """Ingest every object's new files on `cron_schedule` (in `timezone`)."""
    return dg.ScheduleDefinition(
        name=name,
        job=ingestion_job,
        cron_schedule=cron_schedule,
        execution_timezone=timezone,
        default_status=default_status,
        description=f"Ingest new delivery files on `{cron_schedule}` ({timezone}).",
    )
