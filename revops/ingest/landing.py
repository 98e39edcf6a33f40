"""Finds delivery files in the landing folder: `<landing>/<source>/<object>/<YYYY-MM-DD>/<file>`.

Only reads directory entries and file metadata (size, mtime); file contents are read by
`revops.ingest.probe`. Files that sit in the wrong place are returned with a `problem` so that
they are recorded as failed instead of being silently ignored.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from revops import contract
from revops.contract import ExportObject


@dataclass(frozen=True)
class DeliveryFile:
    """One file below an object's folder, with what its path says about it."""

    obj: ExportObject
    # absolute and real (symlinks inside the landing folder resolved); a str, as `Path` objects
    # cost more to build than the rest of a scan (`path` makes one when a file is read)
    location: str
    rel_path: str  # relative to the landing folder, with forward slashes
    delivery_date: dt.date | None
    size: int
    mtime_ns: int
    problem: str | None = None  # a layout problem: the file fails without being read
    # False for an entry whose real path is outside the landing folder, or a symlink loop:
    # `path` is then the entry as listed, and nothing may open it.
    readable: bool = True

    @property
    def path(self) -> Path:
        return Path(self.location)


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


# Why an entry of the landing folder fails without being opened (docs/INGESTION.md, "The
# landing folder is a jail").
OUTSIDE = "outside the landing folder"
LOOP = "symlink loop"


def _inside(root: str, real: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _confine(root: str, path: str, ancestors: tuple[str, ...]) -> tuple[str | None, str | None]:
    """(real path, None) for an entry whose real path stays inside `root`; (None, problem) for
    one that leaves it or loops; (None, None) for a dangling symlink or a vanished entry.

    Only path names and metadata are looked at: nothing is opened. `ancestors` are the real
    paths of the folders being walked, from the landing root down: a folder symlink that
    resolves to one of them would be walked forever.
    """
    try:
        real = os.path.realpath(path, strict=True)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, LOOP
        return None, None  # nothing there to read
    if not _inside(root, real):
        return None, OUTSIDE
    if real in ancestors:
        return None, LOOP
    return real, None


# One entry found by `_walk`: (the path as the landing folder shows it, symlinks not resolved;
# the directory entry itself, for lstat; its real path, None if it fails the jail; a problem;
# its stat when the walk already has it). A tuple: a landing folder of 20,000 files makes as
# many, once per object step of every refresh.
_Found = tuple[str, str, str | None, str | None, os.stat_result | None]


def _walk(
    root: str, logical: str, real: str, ancestors: tuple[str, ...], out: list[_Found]
) -> None:
    """Append to `out` every non-hidden file below the folder `real` (shown as `logical`),
    and every entry that leaves the landing folder or loops (in no particular order: the
    caller sorts)."""
    with os.scandir(real) as it:
        entries = [e for e in it if not _is_hidden(e.name)]
    for entry in entries:
        path = os.path.join(logical, entry.name)
        if not entry.is_symlink():
            # `real` is a real path inside the landing folder and `entry.name` a plain name
            # that is no link: `entry.path` is its own real path, inside too, and no ancestor
            # (those are prefixes of `real`). `realpath` would lstat every component of it
            # again (a landing folder of 20,000 files: 160,000 lstat calls per object scan).
            if entry.is_dir(follow_symlinks=False):
                _walk(root, path, entry.path, (*ancestors, entry.path), out)
            elif entry.is_file(follow_symlinks=False):
                try:
                    stat = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue  # vanished since the listing: nothing there to read
                out.append((path, entry.path, entry.path, None, stat))
            continue
        target, problem = _confine(root, entry.path, ancestors)
        if problem:
            out.append((path, entry.path, None, problem, None))
        elif target is None:
            continue
        elif os.path.isdir(target):
            _walk(root, path, target, (*ancestors, target), out)
        elif os.path.isfile(target):
            out.append((path, entry.path, target, None, None))


def scan_object(landing: Path, obj: ExportObject) -> list[DeliveryFile]:
    """Every delivery file of `obj`, oldest delivery first.

    Files outside a `YYYY-MM-DD` folder, or in a sub-folder of one, are returned with a
    problem: the ingestion records them as failed so that nobody wonders where they went.
    So are files and folders whose real path is outside the landing folder, and symlink loops,
    with `readable` False: they are never opened, and never walked into.
    """
    root = os.path.realpath(landing)
    logical_dir = os.path.join(root, obj.source, obj.name)
    obj_real, obj_problem = _confine(
        root, logical_dir, (root, os.path.realpath(os.path.join(root, obj.source)))
    )
    found: list[_Found] = []
    if obj_problem:
        found.append((logical_dir, logical_dir, None, obj_problem, None))
    elif obj_real is None or not os.path.isdir(obj_real):
        return []
    else:
        _walk(root, logical_dir, obj_real, (root, obj_real), found)
    files: list[DeliveryFile] = []
    prefix = root.rstrip(os.sep) + os.sep  # every logical path starts with it
    days: dict[str, dt.date | None] = {}  # one parse per delivery folder, not per file
    for logical, entry, real, problem, stat in found:
        rel = logical[len(prefix) :].split(os.sep)
        inner = rel[2:]  # below <source>/<object>/
        day = None
        if len(inner) > 1:
            if inner[0] not in days:
                days[inner[0]] = parse_delivery_date(inner[0])
            day = days[inner[0]]
        if problem is None and len(inner) == 1:
            problem = f"not in a delivery folder: expected {obj.folder}/<YYYY-MM-DD>/"
        elif problem is None and day is None:
            problem = f"folder {inner[0]!r} is not a delivery date (YYYY-MM-DD)"
        elif problem is None and len(inner) > 2:
            problem = (
                "in a sub-folder of a delivery folder: files must sit directly in <YYYY-MM-DD>/"
            )
        # A jailed entry's own metadata (the link's), never its target's.
        stat = stat or (os.lstat(entry) if real is None else os.stat(real))
        files.append(
            DeliveryFile(
                obj=obj,
                location=real or logical,
                rel_path="/".join(rel),
                delivery_date=day,
                size=stat.st_size,
                mtime_ns=stat.st_mtime_ns,
                problem=problem,
                readable=real is not None,
            )
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
        real, _ = _confine(str(landing), source.path, (str(landing),))
        if real is None:
            continue  # its objects are recorded as failed (outside the landing folder, a loop)
        with os.scandir(real) as it:
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
