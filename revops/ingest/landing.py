"""Finds delivery files in the landing folder: `<landing>/<source>/<object>/<YYYY-MM-DD>/<file>`.

Only reads directory entries and file metadata (size, mtime); file contents are read by
`revops.ingest.probe`. Files that sit in the wrong place are returned with a `problem` so that
they are recorded as failed instead of being silently ignored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from revops import contract
from revops.contract import ExportObject


@dataclass(frozen=True)
class DeliveryFile:
    """One file below an object's folder, with what its path says about it."""

    obj: ExportObject
    path: Path  # absolute
    rel_path: str  # relative to the landing folder, with forward slashes
    delivery_date: dt.date | None
    size: int
    mtime_ns: int
    problem: str | None = None  # a layout problem: the file fails without being read


def _is_hidden(name: str) -> bool:
    # Dot files are in-progress uploads (`.Lead.csv.part`) or OS litter (`.DS_Store`): a
    # producer that writes `.name` and renames it when complete never exposes a partial file.
    return name.startswith(".")


def parse_delivery_date(folder: str) -> dt.date | None:
    """The date of a `YYYY-MM-DD` delivery folder, or None if the name is not one."""
    if len(folder) != 10 or folder[4] != "-" or folder[7] != "-":
        return None
    try:
        return dt.date.fromisoformat(folder)
    except ValueError:
        return None


def _walk_files(folder: Path) -> Iterator[os.DirEntry[str]]:
    """Every non-hidden file below `folder`, depth first, in name order."""
    with os.scandir(folder) as it:
        entries = sorted((e for e in it if not _is_hidden(e.name)), key=lambda e: e.name)
    for entry in entries:
        if entry.is_dir():
            yield from _walk_files(Path(entry.path))
        elif entry.is_file():
            yield entry


def scan_object(landing: Path, obj: ExportObject) -> list[DeliveryFile]:
    """Every delivery file of `obj`, oldest delivery first.

    Files outside a `YYYY-MM-DD` folder, or in a sub-folder of one, are returned with a
    problem: the ingestion records them as failed so that nobody wonders where they went.
    """
    landing = landing.resolve()
    obj_dir = landing / obj.source / obj.name
    if not obj_dir.is_dir():
        return []
    files: list[DeliveryFile] = []

    def add(entry: os.DirEntry[str], day: dt.date | None, problem: str | None) -> None:
        stat = entry.stat()
        path = Path(entry.path)
        files.append(
            DeliveryFile(
                obj=obj,
                path=path,
                rel_path=path.relative_to(landing).as_posix(),
                delivery_date=day,
                size=stat.st_size,
                mtime_ns=stat.st_mtime_ns,
                problem=problem,
            )
        )

    with os.scandir(obj_dir) as it:
        entries = sorted((e for e in it if not _is_hidden(e.name)), key=lambda e: e.name)
    for entry in entries:
        if entry.is_file():
            add(entry, None, f"not in a delivery folder: expected {obj.folder}/<YYYY-MM-DD>/")
            continue
        if not entry.is_dir():
            continue
        day = parse_delivery_date(entry.name)
        if day is None:
            for inner in _walk_files(Path(entry.path)):
                add(inner, None, f"folder {entry.name!r} is not a delivery date (YYYY-MM-DD)")
            continue
        with os.scandir(entry.path) as it:
            day_entries = sorted((e for e in it if not _is_hidden(e.name)), key=lambda e: e.name)
        for inner in day_entries:
            if inner.is_file():
                add(inner, day, None)
            elif inner.is_dir():
                for nested in _walk_files(Path(inner.path)):
                    add(
                        nested,
                        day,
                        "in a sub-folder of a delivery folder: files must sit directly "
                        "in <YYYY-MM-DD>/",
                    )
    # Oldest delivery first; within a delivery, the file written first (so that of two files
    # with the same bytes the later copy is the one recorded as duplicate), then by name.
    files.sort(key=lambda f: (f.delivery_date or dt.date.max, f.mtime_ns, f.rel_path))
    return files


# `revops generate` writes its ground truth at the top of the landing folder it fills.
GENERATOR_TRUTH = "truth.json"


def unknown_entries(landing: Path) -> list[str]:
    """Top-level paths of the landing folder that no contract object claims (typos, new tools)."""
    landing = landing.resolve()
    if not landing.is_dir():
        return []
    out: list[str] = []
    with os.scandir(landing) as it:
        sources = sorted((e for e in it if not _is_hidden(e.name)), key=lambda e: e.name)
    for source in sources:
        if source.name == GENERATOR_TRUTH and source.is_file():
            continue  # the generator's ground truth, written beside its deliveries
        if not source.is_dir() or source.name not in contract.SOURCES:
            out.append(source.name + ("/" if source.is_dir() else ""))
            continue
        with os.scandir(source.path) as it:
            objects = sorted((e for e in it if not _is_hidden(e.name)), key=lambda e: e.name)
        for entry in objects:
            if not entry.is_dir() or f"{source.name}/{entry.name}" not in contract.BY_FOLDER:
                out.append(f"{source.name}/{entry.name}" + ("/" if entry.is_dir() else ""))
    return out


def fingerprint(
    landing: Path, objects: Iterable[ExportObject], settle_ns: int = 0, now_ns: int | None = None
) -> tuple[dict[str, str], int]:
    """A digest per object folder of its files' (path, size, mtime), for change detection.

    Files modified less than `settle_ns` before `now_ns` are left out (and counted in the second
    return value) so that a file still being copied does not trigger a load of half a file.
    Objects without files are left out of the dict.
    """
    now_ns = now_ns if now_ns is not None else time.time_ns()
    out: dict[str, str] = {}
    unsettled = 0
    for obj in objects:
        digest = hashlib.sha256()
        count = 0
        for f in scan_object(landing, obj):
            if settle_ns and now_ns - f.mtime_ns < settle_ns:
                unsettled += 1
                continue
            digest.update(f"{f.rel_path}\0{f.size}\0{f.mtime_ns}\n".encode())
            count += 1
        if count:
            out[obj.folder] = digest.hexdigest()[:16]
    return out, unsettled


def link_deliveries_until(source: Path, target: Path, last_day: str) -> int:
    """Hard-link into `target` every delivery file of `source` up to `last_day` (YYYY-MM-DD,
    inclusive): the landing folder as it looked that evening, for replaying a history day by
    day (tests, benchmarks). Files already in `target` are left alone; returns how many were
    linked."""
    linked = 0
    for path in sorted(Path(source).rglob("*")):
        rel = path.relative_to(source)
        # <source>/<Object>/<YYYY-MM-DD>/<file>: anything else (truth.json) is not a delivery
        if path.is_dir() or len(rel.parts) < 4 or rel.parts[2] > last_day:
            continue
        dest = Path(target) / rel
        if dest.exists():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, dest)
        linked += 1
    return linked
