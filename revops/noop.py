"""The no-op refresh: when nothing changed since the served snapshot, `revops refresh` says so
and exits 0 in seconds, without building or publishing (`--force` rebuilds).

Nothing changed means all of: a snapshot is served and no refresh failed since it was
published; its project fingerprint (models, seeds, macros, tests, settings, the pipeline's
code, dbt's version; revops/state.py) equals the current one; its ledger fingerprint equals the
warehouse's (no load, failure or `forget_file` since); and every file in the landing folder is
one the ledger already knows by path, size and modification time (what ingestion would skip).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from revops import contract, freshness, publish, state
from revops.ingest.landing import scan_object, unknown_entries
from revops.ingest.ledger import OpenFailure, open_failures
from revops.ingest.warehouse import LEDGER_TABLE
from revops.settings import duckdb_config


@dataclass
class Verdict:
    unchanged: bool
    reason: str  # why not (or, when unchanged, what was compared)
    snapshot: publish.Snapshot | None = None
    open_failures: list[OpenFailure] = field(default_factory=list)
    unknown_paths: list[str] = field(default_factory=list)
    stale_sources: list[freshness.StaleSource] = field(default_factory=list)
    reference: dt.date | None = None
    max_delivery_age_days: int = freshness.DEFAULT_MAX_DELIVERY_AGE_DAYS


def _listing(landing: Path, obj) -> list[tuple[str, int, int]] | None:
    """(path, size, mtime) of every non-hidden file below the object's folder, with one
    `scandir` per folder; None when a symlink is met (then `scan_object`, which confines
    symlinks to the landing folder, decides: it costs a `realpath` per entry)."""
    root = Path(landing) / obj.source / obj.name
    if not root.is_dir() or root.is_symlink():
        return None if root.is_symlink() else []
    out: list[tuple[str, int, int]] = []
    stack = [(str(root), f"{obj.source}/{obj.name}")]
    while stack:
        folder, rel = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_symlink():
                    return None
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, f"{rel}/{entry.name}"))
                elif entry.is_file(follow_symlinks=False):
                    stat = entry.stat(follow_symlinks=False)
                    out.append((f"{rel}/{entry.name}", stat.st_size, stat.st_mtime_ns))
    return out


def pending_files(landing: Path, known: set[tuple[str, int, int]]) -> list[str]:
    """Landing files the ledger does not know by (path, size, mtime): what a refresh loads."""
    pending = []
    for obj in contract.OBJECTS:
        listing = _listing(landing, obj)
        if listing is None:
            listing = [(f.rel_path, f.size, f.mtime_ns) for f in scan_object(landing, obj)]
        pending.extend(path for path, size, mtime in listing if (path, size, mtime) not in known)
    return sorted(pending)


def check(
    landing: Path,
    warehouse: Path,
    serving: Path,
    reference: dt.date | None = None,
    strict: bool = False,
) -> Verdict:
    """Whether a refresh of these folders would publish the served snapshot again. Run it with
    the run's environment (the settings exported): the project fingerprint reads it."""
    served = publish.served_snapshot_id(serving)
    if served is None:
        return Verdict(False, "no snapshot is served yet")
    snapshot = next((s for s in publish.list_snapshots(serving) if s.snapshot_id == served), None)
    if snapshot is None or not snapshot.fingerprint:
        return Verdict(False, f"the served snapshot {served} records no fingerprint")
    failed = publish.latest_failed_refresh(serving)
    if failed:
        return Verdict(False, f"refresh {failed.get('run_id')} did not publish since {served}")
    if not Path(warehouse).is_file():
        return Verdict(False, f"the warehouse {warehouse} does not exist")
    if state.project_fingerprint() != snapshot.fingerprint.get("project"):
        return Verdict(False, "models, seeds, settings or code changed since " + served)
    try:
        with duckdb.connect(str(warehouse), config=duckdb_config()) as con:
            if state.ledger_fingerprint(con) != snapshot.fingerprint.get("ledger"):
                return Verdict(False, f"files were loaded or removed since {served}")
            known = {
                (path, size, mtime)
                for path, size, mtime in con.execute(
                    f"select file_path, file_bytes, file_mtime_ns from {LEDGER_TABLE}"
                ).fetchall()
            }
            failures = open_failures(con)
    except duckdb.Error as exc:
        return Verdict(False, f"the warehouse could not be read: {str(exc).splitlines()[0]}")
    pending = pending_files(landing, known)
    if pending:
        return Verdict(False, f"{len(pending)} new landing file(s), e.g. {pending[0]}")
    if strict and failures:
        return Verdict(False, f"strict, and {len(failures)} open failed file(s)")
    max_age = snapshot.max_delivery_age_days
    if max_age is None:
        max_age = freshness.DEFAULT_MAX_DELIVERY_AGE_DAYS
    latest = {
        folder: dt.date.fromisoformat(day) if day else None
        for folder, day in snapshot.data_through.items()
    }
    rhythms = {
        folder: freshness.Rhythm(latest.get(folder), int(days or 0), gap)
        for folder, (days, gap) in snapshot.delivery_rhythm.items()
    }
    return Verdict(
        True,
        f"nothing changed since snapshot {served}",
        snapshot=snapshot,
        open_failures=failures,
        unknown_paths=unknown_entries(landing),
        stale_sources=freshness.stale_sources(latest, reference, max_age, rhythms),
        reference=reference,
        max_delivery_age_days=max_age,
    )


def result(verdict: Verdict, started_at: dt.datetime):
    """The RefreshResult of a no-op: nothing loaded, built or published; what is still open
    (failed files, unknown paths, stale sources) is reported as on every run."""
    from revops.refresh import RefreshResult

    snapshot = verdict.snapshot
    assert snapshot is not None
    return RefreshResult(
        ok=True,
        run_id=f"noop-{uuid.uuid4().hex[:8]}",
        seconds=0.0,
        noop=True,
        noop_reason=verdict.reason,
        open_failures=verdict.open_failures,
        unknown_paths=verdict.unknown_paths,
        stale_sources=verdict.stale_sources,
        freshness_as_of=verdict.reference,
        max_delivery_age_days=verdict.max_delivery_age_days,
        served_snapshot=snapshot.snapshot_id,
    )
