"""The alert hook: after a refresh that failed or warned, a command and/or a webhook named in
the settings (docs/CONFIGURATION.md `alert_command`, `alert_webhook_url`) receive one JSON
payload (docs/SERVING.md, "Alerts"):

    {"kind": "revops.refresh", "version": 1, "run_id": ..., "outcome": "failed" | "warning",
     "started_at": ..., "finished_at": ..., "snapshot_id": ... | null,
     "failed_checks": [...], "warned_checks": [...], "stale_sources": [{source,
     latest_delivery_date, days_behind}], "open_failed_files": [...], "errors": [...],
     "freshness_as_of": ... | null, "log_file": ... | null, "trigger": "revops refresh" | ...}

The command gets the payload, one JSON document, on its standard input (no arguments are
added); the webhook gets it as the body of a POST with `Content-Type: application/json`. A
hook that fails is reported (returned, printed, kept in the run history) and never changes the
run's outcome.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

COMMAND_ENV = "REVOPS_ALERT_COMMAND"
WEBHOOK_ENV = "REVOPS_ALERT_WEBHOOK_URL"
PAYLOAD_KIND = "revops.refresh"
PAYLOAD_VERSION = 1
TIMEOUT_SECONDS = 15
FAILED, WARNING = "failed", "warning"


def configured(environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(command, webhook URL) of the settings; empty when not set."""
    environ = os.environ if environ is None else environ
    return (
        (environ.get(COMMAND_ENV) or "").strip(),
        (environ.get(WEBHOOK_ENV) or "").strip(),
    )


def payload(
    *,
    run_id: str,
    outcome: str,
    trigger: str,
    started_at: str | None = None,
    finished_at: str | None = None,
    snapshot_id: str | None = None,
    failed_checks: list[str] | None = None,
    warned_checks: list[str] | None = None,
    stale_sources: list[dict[str, Any]] | None = None,
    open_failed_files: list[str] | None = None,
    errors: list[str] | None = None,
    freshness_as_of: str | None = None,
    log_file: str | None = None,
) -> dict[str, Any]:
    """The documented payload (module docstring); every list is present, possibly empty."""
    if outcome not in (FAILED, WARNING):
        raise ValueError(f"an alert's outcome is {FAILED!r} or {WARNING!r}, not {outcome!r}")
    return {
        "kind": PAYLOAD_KIND,
        "version": PAYLOAD_VERSION,
        "run_id": run_id,
        "outcome": outcome,
        "trigger": trigger,
        "started_at": started_at,
        "finished_at": finished_at,
        "snapshot_id": snapshot_id,
        "failed_checks": list(failed_checks or []),
        "warned_checks": list(warned_checks or []),
        "stale_sources": list(stale_sources or []),
        "open_failed_files": list(open_failed_files or []),
        "errors": [e[:2000] for e in errors or []][:20],
        "freshness_as_of": freshness_as_of,
        "log_file": log_file,
    }


def send(body: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Call every configured hook once with `body`; returns one record per hook:
    {"hook": "command" | "webhook", "ok": bool, "detail": str}. Never raises."""
    command, url = configured(environ)
    data = json.dumps(body, default=str).encode("utf-8")
    sent = []
    if command:
        try:
            done = subprocess.run(
                shlex.split(command),
                input=data,
                capture_output=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
            ok = done.returncode == 0
            detail = f"exit {done.returncode}" + (
                f": {done.stderr.decode(errors='replace').strip()[:300]}" if not ok else ""
            )
        except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        sent.append({"hook": "command", "ok": ok, "detail": f"{command}: {detail}"})
    if url:
        request = urllib.request.Request(
            url, data=data, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                ok, detail = 200 <= response.status < 300, f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            ok, detail = False, f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        sent.append({"hook": "webhook", "ok": ok, "detail": f"{url}: {detail}"})
    return sent
