"""The run history and the per-run dbt logs, kept beside the warehouse by default:

    <warehouse folder>/runs/history.jsonl          one JSON line per refresh (`revops runs`)
    <warehouse folder>/runs/logs/<start>-<id>.log  dbt's output of that run: no colour codes,
                                                   each line stamped with its UTC time; the
                                                   newest `run_logs_kept` logs are kept
    <warehouse folder>/refresh.log                 a link to the latest run's log

A line of history.jsonl (docs/SERVING.md, "Run history"): run_id, started_at, finished_at,
seconds, outcome (`published`, `failed`, `no-op`), counts (files, rows, models, checks),
failed_checks, warned_checks, stale_sources, errors, snapshot_id, log_file, alert.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
from pathlib import Path
from typing import Any

RUNS_DIR = "runs"
HISTORY_FILE = "history.jsonl"
LOGS_DIR = "logs"
RUN_LOGS_KEPT_ENV = "REVOPS_RUN_LOGS_KEPT"
DEFAULT_RUN_LOGS_KEPT = 30
LATEST_LOG_LINK = "refresh.log"  # beside the warehouse: a link to the latest run's log
OUTCOMES = ("published", "failed", "no-op")
# CSI sequences (colours, cursor moves) and the two-character escapes terminals understand
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")


def runs_dir(warehouse: Path) -> Path:
    return Path(warehouse).resolve().parent / RUNS_DIR


def history_path(warehouse: Path) -> Path:
    return runs_dir(warehouse) / HISTORY_FILE


def run_logs_kept(environ: dict[str, str] | None = None) -> int:
    """The `run_logs_kept` setting ($REVOPS_RUN_LOGS_KEPT, the settings file; default 30)."""
    environ = os.environ if environ is None else environ
    value = (environ.get(RUN_LOGS_KEPT_ENV) or "").strip()
    if not value:
        return DEFAULT_RUN_LOGS_KEPT
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"${RUN_LOGS_KEPT_ENV}: run_logs_kept must be a whole number >= 1")
    return int(value)


def log_path(warehouse: Path, run_id: str, started: dt.datetime) -> Path:
    stamp = started.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return runs_dir(warehouse) / LOGS_DIR / f"{stamp}-{run_id[:8]}.log"


def prune_logs(warehouse: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` run logs (names sort by start time)."""
    folder = runs_dir(warehouse) / LOGS_DIR
    logs = sorted(folder.glob("*.log")) if folder.is_dir() else []
    removed = logs[: max(0, len(logs) - keep)]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def link_latest(link: Path, target: Path) -> None:
    """`link` (`refresh.log` beside the warehouse) -> the latest run's log, replaced in one
    rename (an older version's plain `refresh.log` file too)."""
    staged = link.with_name(f".{link.name}.tmp")
    staged.unlink(missing_ok=True)
    os.symlink(os.path.relpath(target, link.parent), staged)
    os.replace(staged, link)


class TimestampedLog(io.TextIOBase):
    """A text stream that writes each line to `handle` prefixed with its UTC time, colour codes
    removed (what `contextlib.redirect_stdout` of the dbt step writes into)."""

    def __init__(self, handle: io.TextIOBase) -> None:
        self._handle = handle
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._line(line)
        return len(text)

    def _line(self, line: str) -> None:
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
        self._handle.write(f"{now} {line}\n")

    def flush(self) -> None:
        self._handle.flush()

    def close(self) -> None:
        if self._pending:
            self._line(self._pending)
            self._pending = ""
        self._handle.flush()


def append(warehouse: Path, record: dict[str, Any]) -> Path:
    """Append one run's record to the history (one line, written in one call)."""
    path = history_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, default=str, sort_keys=False) + "\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    return path


def read(warehouse: Path, last: int | None = None) -> list[dict[str, Any]]:
    """The recorded runs, oldest first (the last `last` of them). A line that is not JSON
    (a run killed while writing it) is returned as {"outcome": "unreadable", "line": n}."""
    path = history_path(warehouse)
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            records.append({"outcome": "unreadable", "line": number})
    return records[-last:] if last else records
