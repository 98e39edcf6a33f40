"""The run-failure sensor: a failed scheduled or sensor-started `refresh` calls the alert hook
of the settings (`alert_command`, `alert_webhook_url`; docs/CONFIGURATION.md) with the payload
`revops refresh` sends (revops/alerts.py, docs/SERVING.md "Alerts").

A run started by `revops refresh` carries the tag `revops/alerts: sent`: the CLI alerts for it
itself, so that a failed run is reported exactly once. The sensor only reads the run's event
log and calls the hook: it never launches a run, so it starts running with `dagster dev`.
"""

from collections.abc import Sequence
from types import SimpleNamespace

import dagster as dg

from revops import alerts

ALERTS_TAG = "revops/alerts"  # "sent": the process that ran the job alerts for it
SENSOR_NAME = "refresh_failure_alert"


def failure_payload(
    instance: dg.DagsterInstance, run: dg.DagsterRun, trigger: str = "dagster"
) -> dict[str, object]:
    """The alert payload of failed run `run`, from its event log: the failed and warned
    checks, stale sources and step errors, as `revops refresh` reports them."""
    from revops.refresh import _summarise, alert_payload

    summary = _summarise(SimpleNamespace(success=False, run_id=run.run_id), instance, dg)
    summary.ok = False
    summary.trigger = trigger
    record = instance.get_run_record_by_id(run.run_id)
    if record is not None:
        summary.started_at = _iso(record.start_time)
        summary.finished_at = _iso(record.end_time)
    return alert_payload(summary)


def _iso(timestamp: float | None) -> str | None:
    import datetime as dt

    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat()


def build_failure_sensor(
    jobs: Sequence[object],
    name: str = SENSOR_NAME,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    """A run-failure sensor on `jobs` that calls the alert hook once per failed run."""

    @dg.run_failure_sensor(
        name=name,
        monitored_jobs=list(jobs),
        default_status=default_status,
        description=(
            "Calls the alert hook of the settings (`alert_command`, `alert_webhook_url`) once "
            "with a JSON payload (run id, outcome, failed checks, stale sources, errors) when "
            "a refresh run fails. Never launches a run. Runs of `revops refresh` alert by "
            "themselves (tag revops/alerts=sent) and are skipped here."
        ),
    )
    def _alert(context: dg.RunFailureSensorContext) -> None:
        run = context.dagster_run
        if run.tags.get(ALERTS_TAG) == "sent":
            return
        command, url = alerts.configured()
        if not (command or url):
            context.log.info(f"run {run.run_id} failed; no alert hook is configured")
            return
        for sent in alerts.send(failure_payload(context.instance, run)):
            log = context.log.info if sent["ok"] else context.log.error
            log(f"alert {sent['hook']} for run {run.run_id}: {sent['detail']}")

    return _alert
