"""The daily refresh schedule: the whole `refresh` job at 06:00 UTC, skipped when nothing changed.

Before it asks for a run, the schedule makes the check `revops refresh` makes (revops/noop.py):
when a snapshot is served, no refresh failed since, the project (models, seeds, settings, code)
and the ledger are as the snapshot recorded them, and no landing file is new, there is nothing
to build. The tick is then skipped with the reason (shown in the Dagster UI's tick history);
otherwise the run starts, tagged with why it was needed. A check that cannot be made (an
unreadable warehouse, say) never skips: the run starts and reports the problem itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

from orchestration.defs.ingestion.resources import LandingFolder, Warehouse
from orchestration.defs.ingestion.schedules import DEFAULT_CRON
from orchestration.defs.publish.resources import ServingFolder

if TYPE_CHECKING:  # the type of a job made by define_asset_job (not exported)
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )

NOOP_TAG = "revops/noop_check"  # why the scheduled run was needed


def build_refresh_schedule(
    job: UnresolvedAssetJobDefinition,
    cron_schedule: str = DEFAULT_CRON,
    timezone: str = "UTC",
    name: str = "refresh_daily",
    default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.RUNNING,
) -> dg.ScheduleDefinition:
    """Run `job` on `cron_schedule` (in `timezone`) unless nothing changed since the served
    snapshot."""

    @dg.schedule(
        name=name,
        job=job,
        cron_schedule=cron_schedule,
        execution_timezone=timezone,
        default_status=default_status,
        description=(
            f"Run `{job.name}` on `{cron_schedule}` ({timezone}); skipped when nothing changed "
            "since the served snapshot (no new landing file, same models, settings and code)."
        ),
    )
    def _refresh_schedule(
        context: dg.ScheduleEvaluationContext,
        landing: LandingFolder,
        warehouse: Warehouse,
        serving: ServingFolder,
    ) -> dg.RunRequest | dg.SkipReason:
        from revops import freshness, noop

        landing_path = landing.resolve()
        try:
            verdict = noop.check(
                landing_path,
                warehouse.resolve(),
                serving.resolve(),
                freshness.reference_date(landing_path, None),
            )
        except Exception as exc:  # the run reports it; the schedule must not hide a refresh
            context.log.warning(f"no-op check failed, refreshing anyway: {exc}")
            return dg.RunRequest(tags={NOOP_TAG: f"check failed: {type(exc).__name__}"})
        if verdict.unchanged:
            stale = ", ".join(s.folder for s in verdict.stale_sources)
            return dg.SkipReason(
                f"{verdict.reason}: nothing to refresh"
                + (f"; stale sources: {stale}" if stale else "")
            )
        return dg.RunRequest(tags={NOOP_TAG: verdict.reason[:200]})

    return _refresh_schedule
