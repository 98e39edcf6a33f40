"""Publishing: the marts, copied into a new serving DuckDB file and served together with its
report in one atomic step.

BI tools never open the warehouse. They open `<serving>/revops.duckdb` read-only, which is
always one complete, tested snapshot, and `<serving>/report.html` always describes that same
snapshot:

    <serving>/
        revops.duckdb -> current/revops.duckdb   the served snapshot (a fixed symlink)
        report.html   -> current/report.html     its report (a fixed symlink)
        current       -> served/<pair>           the served pair: the one pointer that changes
        served/
            <id>.<stamp>/       one served pair: revops.duckdb (a hard link to
                                snapshots/<id>.duckdb) and report.html (a report of that
                                snapshot: its kept report, the same with a "latest refresh did
                                not publish" banner, or a page saying it has no report)
        snapshots/
            <id>.duckdb        every kept snapshot, newest last (ids sort by publish time)
            <id>.json          what it holds: tables, row counts, run, publish time, and
                               each mart's content signature
            <id>.html          its report
        latest_refresh.json    the latest refresh that did not publish, and why (removed by
                               the next publish); report.html then says so

A snapshot is written to a temporary file (a new one, or a byte copy of the served snapshot:
it keeps the marts whose signature is unchanged, updates a large changed mart published the
same way by its changed rows only, deleting the served rows whose row hash is not as often in
the warehouse and inserting the warehouse's, and copies the other changed marts whole from
the warehouse), checkpointed, closed, verified and renamed into snapshots/; its report is built
from that file and checked to name its id; then a new pair folder is staged beside the served
one and swapped in with one `rename(2)` of the `current` symlink, which switches the database
and the report together. A reader that opened the previous files keeps reading them (the
rename does not touch open files); a process killed, or a disk that fills, at any point leaves
the old pair or the new pair served, never a mix. Rollback and the failed-refresh banner build
a pair the same way. docs/SERVING.md has the read-only recipes per BI tool.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from revops import contract, state
from revops.ingest.summary import source_status
from revops.metric_definitions import MetricDefinition
from revops.settings import duckdb_config
from revops.transform import read_manifest

SERVING_FILE = "revops.duckdb"
REPORT_FILE = "report.html"
SNAPSHOT_DIR = "snapshots"
SERVED_DIR = "served"
CURRENT_LINK = "current"
LOCK_FILE = ".publish.lock"
DEFAULT_KEEP = 7
SNAPSHOT_TABLE = "revops_snapshot"
SOURCES_TABLE = "revops_sources"
CHECKS_TABLE = "revops_checks"
FAILED_FILES_TABLE = "revops_failed_files"
METRIC_DEFINITIONS_TABLE = "metric_definitions"
LATEST_REFRESH_FILE = "latest_refresh.json"
# A mart is carried over from the served snapshot when its signature (_content_signatures) is
# the one recorded there. Bump PUBLISH_FORMAT when the way a mart is copied changes: no mart is
# then carried over from a snapshot written the old way.
PUBLISH_FORMAT = 1
SIGNATURE_SALT = "'revops-publish'"
# Start from a copy of the served snapshot only when the marts it can reuse (carried over, or
# updated by their changed rows) hold at least this share of its mart rows (below it, copying
# the whole file costs more than it saves).
CARRY_MIN_SHARE = 0.25
# A changed mart published the same way as in the served snapshot (the same columns, types,
# comments and policies) and holding at least DELTA_MIN_ROWS rows there is updated in the copy
# by its changed rows (`_apply_delta`) rather than copied whole; smaller marts cost less to
# copy than to compare. When the rows the delta would delete and insert are more than
# DELTA_MAX_SHARE of the mart's rows, it is copied whole after all.
DELTA_MIN_ROWS = 20_000
DELTA_MAX_SHARE = 0.5
# The served file is not copied, and a new file is written, once it has grown to this many
# times the size of the snapshot its chain of copies started from (Snapshot.base_bytes).
COMPACT_GROWTH = 2.0
# Every report names the snapshot it describes in this tag, in its first few kilobytes: a
# publish checks it before serving the pair, and a reader can check it against the database.
REPORT_META = "revops-snapshot-id"
_REPORT_ID = re.compile(
    r'<meta name="revops-snapshot-id" content="([^"]*)"|<title>revops report - ([^<\s]+)'
)

# Personal data never leaves the warehouse. A mart column declares its policy in its YAML
# (`meta: {pii: hash}` or `meta: {pii: drop}`); a column whose name looks personal and has no
# policy is hashed anyway, so a new column cannot leak by omission.
PII_NAME = re.compile(r"(^|_)(email|phone|mobile|first_name|last_name|ip_address)(_|$)")
PII_POLICIES = ("hash", "drop", "keep")
# Columns named `_...` are the pipeline's bookkeeping (an incremental model's input signature,
# the load time it has read up to: docs/SERVING.md, "Daily increments"), never published.
BOOKKEEPING_PREFIX = "_"


class PublishError(RuntimeError):
    """Publishing stopped; the served snapshot is unchanged."""


@dataclass(frozen=True)
class MartColumn:
    name: str
    description: str = ""
    pii: str | None = None  # hash | drop | keep (declared), None (not personal)
    # a ratio column's parts, declared in its YAML (`config: {meta: {numerator: ...,
    # denominator: ...}}`) when their names do not follow `<ratio>_numerator` (metric_definitions)
    numerator: str | None = None
    denominator: str | None = None


@dataclass(frozen=True)
class MartTable:
    """A mart model to publish, with its columns as the dbt manifest describes them."""

    name: str
    description: str = ""
    columns: tuple[MartColumn, ...] = ()
    grain: tuple[str, ...] = ()  # the key columns its uniqueness test names (one row per ...)

    def policy(self, column: str) -> str:
        declared = next((c.pii for c in self.columns if c.name == column), None)
        if declared:
            return declared
        return "hash" if PII_NAME.search(column.lower()) else "keep"


@dataclass
class Snapshot:
    """One published snapshot, as its sidecar JSON records it."""

    snapshot_id: str
    published_at: str
    run_id: str
    tables: dict[str, int]
    checks_passed: int = 0
    # data tests left out of the run's build: their models unchanged (revops/unchanged.py)
    checks_left_out: int = 0
    hashed_columns: list[str] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)
    path: str = ""
    report: str | None = None
    seconds: float = 0.0
    # "data through": the newest loaded delivery of every export object (`source/Object` ->
    # YYYY-MM-DD, null when never delivered), and the freshness judged against `freshness_as_of`
    # (revops/freshness.py): the objects more than `max_delivery_age_days` behind it
    data_through: dict[str, str | None] = field(default_factory=dict)
    # `source/Object` -> [delivery days, longest gap in days] (revops/freshness.py Rhythm)
    delivery_rhythm: dict[str, list[int | None]] = field(default_factory=dict)
    freshness_as_of: str | None = None
    max_delivery_age_days: int | None = None
    stale_sources: list[str] = field(default_factory=list)
    # what it was built from (revops/state.py): {"project": sha256, "ledger": sha256}; a
    # refresh with the same fingerprints and no new landing file is a no-op (revops/noop.py)
    fingerprint: dict[str, str] = field(default_factory=dict)
    # per mart, the signature of the warehouse table it was published from (_content_signatures);
    # the next publish carries over, from this file, every mart whose signature is unchanged
    signatures: dict[str, str] = field(default_factory=dict)
    copied: list[str] = field(default_factory=list)  # marts copied from the warehouse
    carried_over: list[str] = field(default_factory=list)  # marts kept from `carried_from`
    # marts of `carried_from` updated by their changed rows (`_apply_delta`), and per mart the
    # rows that deleted and inserted
    delta: list[str] = field(default_factory=list)
    delta_rows: dict[str, list[int]] = field(default_factory=dict)
    carried_from: str | None = None  # the snapshot file this one started as a copy of
    # bytes of the file that started this chain of copies (the last snapshot written as a new
    # file); a copy grows with each delta (deleted rows stay in the file until DuckDB merges
    # row groups), so a publish writes a new file once the served one is COMPACT_GROWTH times
    # that (`compacted`: this snapshot was written anew for that reason)
    base_bytes: int | None = None
    compacted: bool = False

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    @property
    def data_through_date(self) -> str | None:
        """The newest delivery of any source (what the report's header says)."""
        dates = [d for d in self.data_through.values() if d]
        return max(dates) if dates else None


def mart_tables(manifest_path: Path, folder: str = "marts") -> list[MartTable]:
    """Every enabled model under `models/<folder>/` in dbt's manifest, sorted by name."""
    manifest = read_manifest(manifest_path)
    grains = _grains(manifest)
    tables = []
    for node in manifest["nodes"].values():
        fqn = node.get("fqn", [])
        if node.get("resource_type") != "model" or len(fqn) < 3 or fqn[1] != folder:
            continue
        if node.get("config", {}).get("materialized") not in ("table", "incremental"):
            continue
        columns = []
        for col in node.get("columns", {}).values():
            meta = {**(col.get("meta") or {}), **(col.get("config", {}).get("meta") or {})}
            pii = meta.get("pii")
            if pii is not None and pii not in PII_POLICIES:
                raise PublishError(
                    f"model {node['name']}, column {col['name']}: meta.pii must be one of "
                    f"{', '.join(PII_POLICIES)}, not {pii!r}"
                )
            columns.append(
                MartColumn(
                    col["name"],
                    col.get("description") or "",
                    pii,
                    meta.get("numerator"),
                    meta.get("denominator"),
                )
            )
        tables.append(
            MartTable(
                node["name"],
                node.get("description") or "",
                tuple(columns),
                grains.get(node["unique_id"], ()),
            )
        )
    return sorted(tables, key=lambda t: t.name)


def _grains(manifest: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Model unique id -> the columns of its primary-key test (`unique_combination`, else an
    unfiltered `unique` on one column): what one row of the model is."""
    grains: dict[str, tuple[str, ...]] = {}
    for node in manifest["nodes"].values():
        test = node.get("test_metadata") or {}
        model = node.get("attached_node")
        if node.get("resource_type") != "test" or not model:
            continue
        if (node.get("config") or {}).get("where"):
            continue
        if test.get("name") == "unique_combination":
            grains[model] = tuple(test.get("kwargs", {}).get("columns") or ())
        elif test.get("name") == "unique" and model not in grains:
            grains[model] = (test.get("kwargs", {}).get("column_name"),)
    return {model: grain for model, grain in grains.items() if all(grain)}


def new_snapshot_id(run_id: str = "", now: dt.datetime | None = None) -> str:
    """`YYYYMMDDTHHMMSSffffffZ[-run]`: sorts by publish time, safe in file names."""
    now = now or dt.datetime.now(dt.UTC)
    suffix = re.sub(r"[^0-9a-zA-Z]", "", run_id)[:8]
    return now.strftime("%Y%m%dT%H%M%S%fZ") + (f"-{suffix}" if suffix else "")


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """The hardened read-only connection every reader should use (docs/SERVING.md): no writes,
    no access to files or the network beyond the database itself, settings locked."""
    return duckdb.connect(
        str(path),
        read_only=True,
        config={
            "enable_external_access": False,
            "autoload_known_extensions": False,
            "autoinstall_known_extensions": False,
            "lock_configuration": True,
        },
    )


def served_snapshot_id(serving: Path) -> str | None:
    """The id of the snapshot `<serving>/revops.duckdb` holds (None before the first publish)."""
    served = Path(serving) / SERVING_FILE
    if not served.exists():
        return None
    stem = _served_stem(Path(serving))  # the served pair's name, or the hard link's inode
    if stem is not None:
        return stem
    con = connect_read_only(served)  # a copy (file systems without hard links)
    try:
        return con.execute(f"select snapshot_id from {SNAPSHOT_TABLE}").fetchone()[0]
    finally:
        con.close()


def list_snapshots(serving: Path) -> list[Snapshot]:
    """Kept snapshots, oldest first (those whose file and sidecar both exist)."""
    folder = Path(serving) / SNAPSHOT_DIR
    found = []
    for sidecar in sorted(folder.glob("*.json")):
        if (folder / f"{sidecar.stem}.duckdb").exists():
            meta = json.loads(sidecar.read_text())
            known = Snapshot.__dataclass_fields__
            found.append(Snapshot(**{k: v for k, v in meta.items() if k in known}))
    return found


@contextlib.contextmanager
def _publish_lock(serving: Path) -> Iterator[None]:
    """One publisher (or rollback) at a time per serving folder."""
    serving.mkdir(parents=True, exist_ok=True)
    with open(serving / LOCK_FILE, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PublishError(
                f"{serving}: another publish or rollback is running (lock {LOCK_FILE})"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    _fsync_file(tmp)
    os.replace(tmp, path)


def _link_or_copy(source: Path, target: Path) -> None:
    """`target` becomes the same file as `source` (a hard link, or a copy where the file system
    has none)."""
    try:
        os.link(source, target)
    except OSError:
        import shutil

        shutil.copyfile(source, target)
        _fsync_file(target)


def report_snapshot_id(path: Path) -> str | None:
    """The snapshot id a report names (its `revops-snapshot-id` tag, or the title of a report
    written before the tag existed); None when the file is missing or names none."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            head = handle.read(65536)
    except OSError:
        return None
    found = _REPORT_ID.search(head)
    return (found.group(1) or found.group(2)) if found else None


def write_no_report_page(out: Path, snapshot_id: str, reason: str) -> Path:
    """A page that says snapshot `snapshot_id` has no report, and why: what is served rather
    than a report of another snapshot."""
    from html import escape

    sid = escape(snapshot_id)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="{REPORT_META}" content="{sid}">
<title>revops report - {sid} (no report)</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 760px; margin: 40px auto;">
<h1>No report for snapshot {sid}</h1>
<p id="no-report">The served database <code>revops.duckdb</code> is snapshot <b>{sid}</b>.
No report of this snapshot could be served: {escape(reason)}</p>
<p>Its numbers are in the database; <code>revops rollback --list</code> shows the kept
snapshots (docs/SERVING.md).</p>
</body></html>
"""
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        tmp.write_text(page, encoding="utf-8")
        _fsync_file(tmp)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _build_checked(
    build: Callable[[Path, Path], Any], database: Path, out: Path, snapshot_id: str
) -> None:
    """Build the report of `database` into `out` through a temporary file: `out` appears
    whole, names `snapshot_id`, and is on disk; or it does not appear at all and this
    raises (a half-written file is removed)."""
    staged = out.with_name(f".{out.name}.tmp")
    partial = [staged, staged.with_name(staged.name + ".tmp")]  # build_report's own temp file
    try:
        build(database, staged)
        named = report_snapshot_id(staged)
        if named != snapshot_id:
            raise PublishError(
                f"the report built from {database} names snapshot {named!r}, not {snapshot_id!r}"
            )
        _fsync_file(staged)
        os.replace(staged, out)
    finally:
        for path in partial:
            path.unlink(missing_ok=True)


def _served_pair(serving: Path) -> Path | None:
    """The served pair's folder (`current`'s target), None before the first publish or in
    the layout of earlier versions (a plain revops.duckdb, migrated by _ensure_layout)."""
    current = serving / CURRENT_LINK
    if not current.is_symlink():
        return None
    pair = serving / os.readlink(current)
    return pair if pair.is_dir() else None


def _pair_snapshot_id(pair: Path) -> str:
    return pair.name.rsplit(".", 1)[0]


def _stage_pair(serving: Path, snapshot_id: str, report: Path | None, reason: str) -> Path:
    """A new pair folder `served/<id>.<stamp>`, complete and on disk but not served yet:
    the snapshot's database (hard link) and `report` (hard link; it must name the snapshot),
    or a page saying the snapshot has no report, and why."""
    served = serving / SERVED_DIR
    served.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = served / f"{snapshot_id}.{stamp}"
    staged = served / f".{final.name}.tmp"
    staged.mkdir()
    try:
        _link_or_copy(serving / SNAPSHOT_DIR / f"{snapshot_id}.duckdb", staged / SERVING_FILE)
        if report is not None and report_snapshot_id(report) == snapshot_id:
            _link_or_copy(report, staged / REPORT_FILE)
        else:
            write_no_report_page(staged / REPORT_FILE, snapshot_id, reason)
        _fsync_dir(staged)
        os.rename(staged, final)
        _fsync_dir(served)
    except BaseException:
        _remove_pair(staged)
        raise
    return final


def _remove_pair(pair: Path) -> None:
    if pair.is_dir() and not pair.is_symlink():
        for child in pair.iterdir():
            child.unlink(missing_ok=True)
        pair.rmdir()


def _serve_pair(serving: Path, pair: Path) -> Path | None:
    """Serve `pair`: one rename(2) of the `current` symlink switches database and report
    together. Then make sure the fixed links readers open point through `current` (they do
    after the first publish; this also finishes a migration from the earlier layout).
    Returns the pair served before (None if none)."""
    previous = _served_pair(serving)
    staged = serving / f".{CURRENT_LINK}.tmp"
    staged.unlink(missing_ok=True)
    os.symlink(os.path.relpath(pair, serving), staged)
    os.replace(staged, serving / CURRENT_LINK)
    _fsync_dir(serving)
    for name in (SERVING_FILE, REPORT_FILE):
        _fixed_link(serving, name)
    return previous


def _fixed_link(serving: Path, name: str) -> None:
    """`<serving>/<name>` -> `current/<name>`, the path readers open; made once."""
    link, target = serving / name, f"{CURRENT_LINK}/{name}"
    if link.is_symlink() and os.readlink(link) == target:
        return
    staged = serving / f".{name}.link.tmp"
    staged.unlink(missing_ok=True)
    os.symlink(target, staged)
    os.replace(staged, link)
    _fsync_dir(serving)


def _ensure_layout(serving: Path) -> None:
    """Move a serving folder of an earlier version (plain `revops.duckdb` and `report.html`
    files, swapped one after the other), or a copy that followed the links (Python's
    `copytree`, `rsync` without `-l`: plain files and a plain `current` folder), to the pair
    layout without changing what is served: the files served now become the first pair, then
    the fixed links replace them."""
    database = serving / SERVING_FILE
    if _served_pair(serving) is not None or database.is_symlink() or not database.is_file():
        return
    sid = _served_stem(serving)
    if sid is None:
        con = connect_read_only(database)
        try:
            sid = con.execute(f"select snapshot_id from {SNAPSHOT_TABLE}").fetchone()[0]
        finally:
            con.close()
    served = serving / SERVED_DIR
    served.mkdir(exist_ok=True)
    staged = served / f".{sid}.migrated.tmp"
    _remove_pair(staged)
    staged.mkdir()
    _link_or_copy(database, staged / SERVING_FILE)
    # the report served with it, unless it describes another snapshot (what this layout
    # prevents); then the snapshot's kept report, or a page saying there is none
    reports = [serving / REPORT_FILE, serving / SNAPSHOT_DIR / f"{sid}.html"]
    report = next((r for r in reports if r.is_file() and report_snapshot_id(r) == sid), None)
    if report is not None:
        _link_or_copy(report, staged / REPORT_FILE)
    else:
        write_no_report_page(staged / REPORT_FILE, sid, "it was published without one")
    _fsync_dir(staged)
    pair = served / f"{sid}.migrated"
    _remove_pair(pair)
    os.rename(staged, pair)
    _fsync_dir(served)
    current = serving / CURRENT_LINK
    if current.is_dir() and not current.is_symlink():
        # a copy of a pair, not a link to one: readers open the plain files meanwhile
        import shutil

        shutil.rmtree(current)
    _serve_pair(serving, pair)


def _drop_unserved_pairs(serving: Path, previous: Path | None = None) -> None:
    """Pair folders that are not served: earlier pairs, and pairs of a killed publish. The
    pair served just before (`previous`) stays until the next publish, so that a reader that
    was resolving the links during the switch still finds its files."""
    served = serving / SERVED_DIR
    current = _served_pair(serving)
    if not served.is_dir() or current is None:
        return
    keep = {current.resolve(), *([previous.resolve()] if previous else [])}
    for pair in served.iterdir():
        if pair.resolve() not in keep:
            _remove_pair(pair)


def _clean_leftovers(serving: Path) -> None:
    """Temporary files of a publish that was killed: never served, safe to remove."""
    for leftover in [
        *serving.glob(".*.swap"),
        *serving.glob(".*.tmp"),
        *(serving / SNAPSHOT_DIR).glob("*.tmp"),
        *(serving / SNAPSHOT_DIR).glob(".*.tmp"),
        *(serving / SNAPSHOT_DIR).glob("*.tmp.wal"),
        *(serving / SERVED_DIR).glob("*/.*.tmp"),  # a failed-refresh page being written
    ]:
        if not leftover.is_dir() or leftover.is_symlink():
            leftover.unlink(missing_ok=True)
    _drop_unserved_pairs(serving)
    # a snapshot file without its sidecar was killed between the two: not a kept snapshot
    for orphan in (serving / SNAPSHOT_DIR).glob("*.duckdb"):
        if not orphan.with_suffix(".json").exists() and orphan.stem != _served_stem(serving):
            orphan.unlink(missing_ok=True)


def _served_stem(serving: Path) -> str | None:
    pair = _served_pair(serving)
    if pair is not None:
        return _pair_snapshot_id(pair)
    served = serving / SERVING_FILE
    if not served.exists():
        return None
    ino = served.stat().st_ino
    for candidate in (serving / SNAPSHOT_DIR).glob("*.duckdb"):
        if candidate.stat().st_ino == ino:
            return candidate.stem
    return None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# Comments on the columns of the tables the publisher writes beside the marts (the marts' come
# from their YAML): every published column has one (tests/test_serving_metadata.py).
METADATA_COLUMNS: dict[str, dict[str, str]] = {
    SNAPSHOT_TABLE: {
        "snapshot_id": "Id of this snapshot (publish time, then the run id's first characters).",
        "published_at": "When the snapshot was published (UTC).",
        "run_id": "The refresh run (Dagster run id) that built and published it.",
        "models": "How many mart tables the snapshot holds.",
        "checks_passed": "Data tests and checks of the run that passed before publishing.",
        "checks_left_out": "Data tests the run left out: they read only models left out of the "
        "build as unchanged since their last build, when the tests passed.",
        "latest_delivery_date": "The latest delivery date of any source in the snapshot.",
    },
    SOURCES_TABLE: {
        "source": "Export source: salesforce, stripe, google_ads, ... (docs/EXPORTS.md).",
        "object": "Exported object of the source, e.g. Opportunity, invoices.",
        "raw_table": "The warehouse table the object loads into (raw schema).",
        "latest_delivery_date": "Latest delivery date loaded for the object; null if none.",
        "files_loaded": "Files of the object loaded (latest attempt per file).",
        "files_duplicate": "Files skipped because the same content was already loaded.",
        "files_failed": "Files whose latest load attempt failed: not in this snapshot.",
        "rows_loaded": "Rows loaded from the object's loaded files.",
        "rows_rejected": "Rows ingestion rejected or quarantined (docs/INGESTION.md).",
        "last_loaded_at": "When a file of the object was last loaded (UTC).",
        "status": "ok (a file loaded), failed (a latest load failed), missing, or not delivered "
        "(optional).",
    },
    CHECKS_TABLE: {
        "check_name": "Name of the dbt test or check that did not pass.",
        "status": "Its outcome: warn (a published run had no blocking failure).",
        "severity": "warn or error, as configured for the check.",
        "meaning": "What a failure of this check means, in words.",
        "failures": "Failing rows the check counted; null when it counts none.",
        "model": "The model the check tests; null when not tied to one.",
        "column_name": "The column the check tests; null when not tied to one.",
        "sample_rows": "Up to five failing rows, as a JSON list.",
    },
    FAILED_FILES_TABLE: {
        "source": "Export source of the failed file.",
        "object": "Exported object of the failed file.",
        "file_path": "Path of the file in the landing folder.",
        "error": "Why its latest load failed.",
        "failed_at": "When its latest load attempt failed (UTC).",
    },
}


def _comment_columns(con: duckdb.DuckDBPyConnection, table: str) -> None:
    _run_script(
        con,
        [
            f"comment on column {_quote(table)}.{_quote(column)} is {_sql_str(comment)}"
            for column, comment in METADATA_COLUMNS[table].items()
        ],
    )


def _run_script(con: duckdb.DuckDBPyConnection, statements: Sequence[str]) -> None:
    """Run `statements` in one call (DuckDB parses the script; one round trip, not one each)."""
    if statements:
        con.execute(";\n".join(statements))


def _insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Sequence[Any]]) -> None:
    """Insert `rows` (equal-length tuples) into `table` in one statement: `executemany` runs
    one statement per row (~1-2 ms each here). The values are bound as parameters, typed by
    the table's columns."""
    if not rows:
        return
    marks = "(" + ", ".join("?" for _ in rows[0]) + ")"
    con.execute(
        f"insert into {table} values " + ", ".join(marks for _ in rows),
        [value for row in rows for value in row],
    )


def _write_metric_definitions(
    con: duckdb.DuckDBPyConnection, definitions: Sequence[MetricDefinition]
) -> None:
    """`metric_definitions`: every metric of docs/METRICS.md, its formula, grain and the
    columns that hold it (revops/metric_definitions.py)."""
    from revops import metric_definitions as md

    columns = ", ".join(f"{_quote(name)} {kind}" for name, kind, _ in md.COLUMNS)
    con.execute(f"create table {METRIC_DEFINITIONS_TABLE} ({columns})")
    _insert_rows(con, METRIC_DEFINITIONS_TABLE, [d.row() for d in definitions])
    _run_script(
        con,
        [f"comment on table {METRIC_DEFINITIONS_TABLE} is {_sql_str(md.TABLE_COMMENT)}"]
        + [
            f"comment on column {METRIC_DEFINITIONS_TABLE}.{_quote(name)} is {_sql_str(comment)}"
            for name, _, comment in md.COLUMNS
        ],
    )


SOURCES_SQL = """
with ledger as (
    select
        source,
        object,
        file_path,
        delivery_date,
        status,
        rows_loaded,
        rows_rejected,
        finished_at,
        row_number() over (
            partition by source, object, file_path order by finished_at desc, started_at desc
        ) as attempt_rank
    from wh.raw._load_ledger
),

latest as (
    select * from ledger where attempt_rank = 1
)

select
    source,
    object,
    max(delivery_date) filter (where status = 'loaded') as latest_delivery_date,
    count(*) filter (where status = 'loaded') as files_loaded,
    count(*) filter (where status = 'duplicate') as files_duplicate,
    count(*) filter (where status = 'failed') as files_failed,
    coalesce(sum(rows_loaded) filter (where status = 'loaded'), 0) as rows_loaded,
    coalesce(sum(rows_rejected), 0) as rows_rejected,
    max(finished_at) filter (where status = 'loaded') as last_loaded_at
from latest
group by source, object
"""


def _write_checks(con: duckdb.DuckDBPyConnection, outcomes: Sequence[Any]) -> None:
    """The checks of the snapshot's run that did not pass (warnings: a published run had no
    blocking failure), explained as revops.checks.CheckOutcome."""
    con.execute(
        f"""
        create table {CHECKS_TABLE} (
            check_name varchar not null,
            status varchar not null,
            severity varchar not null,
            meaning varchar not null,
            failures bigint,
            model varchar,
            column_name varchar,
            sample_rows varchar
        )
        """
    )
    values = [
        (o.name, o.status, o.severity, o.meaning, o.failures, o.model, o.column,
         json.dumps(o.samples))
        for o in outcomes
    ]  # fmt: skip
    _insert_rows(con, CHECKS_TABLE, values)
    con.execute(
        f"comment on table {CHECKS_TABLE} is "
        f"{_sql_str('Checks of the run that did not pass (warnings): meaning, rows, samples.')}"
    )
    _comment_columns(con, CHECKS_TABLE)


def _write_failed_files(con: duckdb.DuckDBPyConnection, has_ledger: bool) -> None:
    """The open failed files when the snapshot was published (revops/ingest/ledger.py): the
    files it was published without, which the report names in a banner."""
    from revops.ingest.ledger import open_failures_sql

    con.execute(
        f"""
        create table {FAILED_FILES_TABLE} (
            source varchar not null,
            object varchar not null,
            file_path varchar not null,
            error varchar,
            failed_at timestamp not null
        )
        """
    )
    if has_ledger:
        con.execute(
            f"""
            insert into {FAILED_FILES_TABLE}
            select source, object, file_path, error, timezone('UTC', finished_at)
            from ({open_failures_sql("wh.raw._load_ledger")})
            """
        )
    con.execute(
        f"comment on table {FAILED_FILES_TABLE} is "
        f"{_sql_str('Landing files whose latest load attempt failed: not in this snapshot.')}"
    )
    _comment_columns(con, FAILED_FILES_TABLE)


def _write_metadata(
    con: duckdb.DuckDBPyConnection,
    snapshot: Snapshot,
    models: int,
    has_ledger: bool,
    freshness_as_of: dt.date | None = None,
    max_delivery_age_days: int | None = None,
) -> None:
    from revops import freshness

    max_age = (
        freshness.DEFAULT_MAX_DELIVERY_AGE_DAYS
        if max_delivery_age_days is None
        else max_delivery_age_days
    )
    rows = {}
    rhythms: dict[str, freshness.Rhythm] = {}
    if has_ledger:
        for row in con.execute(SOURCES_SQL).fetchall():
            rows[(row[0], row[1])] = row
        rhythms = freshness.delivery_rhythm(con, "wh.raw._load_ledger")
    con.execute(
        f"""
        create table {SOURCES_TABLE} (
            source varchar not null,
            object varchar not null,
            raw_table varchar not null,
            latest_delivery_date date,
            files_loaded bigint not null,
            files_duplicate bigint not null,
            files_failed bigint not null,
            rows_loaded bigint not null,
            rows_rejected bigint not null,
            last_loaded_at timestamp,
            status varchar not null,
            days_behind integer,
            longest_gap_days integer,
            is_stale boolean not null
        )
        """
    )
    values = []
    # The CRM a company does not use is not expected (contract.ALTERNATIVE_SOURCES).
    delivered = {source for (source, _), row in rows.items() if row[3] or row[2] is not None}
    for obj in contract.OBJECTS:
        row = rows.get((obj.source, obj.name))
        if row is None:
            row = (obj.source, obj.name, None, 0, 0, 0, 0, 0, None)
        _, _, latest, loaded, duplicate, failed, rows_loaded, rejected, last_loaded = row
        status = source_status(obj, loaded, failed, delivered)
        if last_loaded is not None:
            last_loaded = last_loaded.astimezone(dt.UTC).replace(tzinfo=None)
        behind = freshness.days_behind(latest, freshness_as_of)
        rhythm = rhythms.get(obj.folder)
        gap = rhythm.longest_gap if rhythm else None
        days = rhythm.deliveries if rhythm else 0
        stale = freshness.is_stale(
            latest, freshness_as_of, max_age, not obj.expected(delivered), gap, days, obj.folder
        )
        snapshot.data_through[obj.folder] = latest.isoformat() if latest else None
        snapshot.delivery_rhythm[obj.folder] = [days, gap]
        if stale:
            snapshot.stale_sources.append(obj.folder)
        values.append(
            (obj.source, obj.name, obj.raw_table, latest, loaded, duplicate, failed, rows_loaded,
             rejected, last_loaded, status, behind, gap, stale)
        )  # fmt: skip
    snapshot.freshness_as_of = freshness_as_of.isoformat() if freshness_as_of else None
    snapshot.max_delivery_age_days = max_age
    _insert_rows(con, SOURCES_TABLE, values)
    latest_delivery = con.execute(
        f"select max(latest_delivery_date) from {SOURCES_TABLE}"
    ).fetchone()[0]
    con.execute(
        f"""
        create table {SNAPSHOT_TABLE} (
            snapshot_id varchar not null,
            published_at timestamp not null,
            run_id varchar not null,
            models bigint not null,
            checks_passed bigint not null,
            latest_delivery_date date,
            freshness_as_of date,
            max_delivery_age_days integer not null,
            checks_left_out bigint not null
        )
        """
    )
    published = dt.datetime.fromisoformat(snapshot.published_at).replace(tzinfo=None)
    con.execute(
        f"insert into {SNAPSHOT_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [snapshot.snapshot_id, published, snapshot.run_id, models, snapshot.checks_passed,
         latest_delivery, freshness_as_of, max_age, snapshot.checks_left_out],
    )  # fmt: skip
    comments = [
        f"comment on column {table}.{column} is {_sql_str(text)}"
        for table, column, text in (
        (SOURCES_TABLE, "days_behind", "Days from this object's newest loaded delivery to "
         "freshness_as_of of revops_snapshot (null: never delivered, or no reference date)."),
        (SOURCES_TABLE, "longest_gap_days", "The longest gap in days between two consecutive "
         "delivery days of this object (null with fewer than two)."),
        (SOURCES_TABLE, "is_stale", "True when a required object is more than "
         "max_delivery_age_days (or longest_gap_days, when longer) behind freshness_as_of, or "
         "never delivered; an object delivered on one day only is not judged."),
        (SNAPSHOT_TABLE, "freshness_as_of", "The date staleness is measured against: the newest "
         "delivery in the landing folder, or the refresh's --as-of; never the wall clock."),
        (SNAPSHOT_TABLE, "max_delivery_age_days", "How many days behind freshness_as_of an "
         "object may be before it is stale."),
        )
    ]  # fmt: skip
    comments.append(
        f"comment on table {SNAPSHOT_TABLE} is "
        f"{_sql_str('The snapshot this file holds: when it was published and from which run.')}"
    )
    comments.append(
        f"comment on table {SOURCES_TABLE} is "
        f"{_sql_str('Per export object: latest delivery, files and rows loaded, rejects, status.')}"
    )
    _run_script(con, comments)
    _comment_columns(con, SNAPSHOT_TABLE)
    _comment_columns(con, SOURCES_TABLE)


@dataclass(frozen=True)
class _TablePlan:
    """How one mart is published: its select list over the warehouse table, the columns it
    hashes and drops, and `spec`, a digest of everything but the rows that makes up the
    published table (columns, their types and policies, the comments, the DuckDB version)."""

    table: MartTable
    columns: tuple[str, ...]  # the published columns, in order
    select: tuple[str, ...]  # their expressions over the warehouse table
    hashed: tuple[str, ...]
    dropped: tuple[str, ...]
    spec: str


def _warehouse_columns(
    con: duckdb.DuckDBPyConnection, names: Sequence[str]
) -> dict[str, list[tuple[str, str]]]:
    """(column, type) of each named table of the warehouse attached as `wh`, in order: one
    catalog query for every mart (information_schema per table cost ~3 ms each)."""
    present: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in con.execute(
        "select table_name, column_name, data_type from duckdb_columns() "
        "where database_name = 'wh' and schema_name = 'main' and list_contains(?, table_name) "
        "order by table_name, column_index",
        [list(names)],
    ).fetchall():
        present.setdefault(table, []).append((column, data_type))
    return present


def _plan_table(table: MartTable, present: Sequence[tuple[str, str]]) -> _TablePlan:
    """The plan of `table` from its columns as the warehouse has them ((name, type), in order)."""
    present = [tuple(column) for column in present]
    if not present:
        raise PublishError(f"mart {table.name} is not in the warehouse (was the build run?)")
    columns, select, hashed, dropped = [], [], [], []
    for column, _ in present:
        if column.startswith(BOOKKEEPING_PREFIX):
            continue  # what an incremental mart was built from: not the mart's data
        policy = table.policy(column)
        if policy == "drop":
            dropped.append(column)
            continue
        columns.append(column)
        if policy == "hash":
            hashed.append(column)
            select.append(
                f"sha256(lower(trim(cast({_quote(column)} as varchar)))) as {_quote(column)}"
            )
        else:
            select.append(_quote(column))
    spec = {
        "format": PUBLISH_FORMAT,
        "duckdb": duckdb.__version__,
        "table": asdict(table),
        "columns": present,
        "select": select,
    }
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()
    return _TablePlan(
        table, tuple(columns), tuple(select), tuple(hashed), tuple(dropped), digest[:16]
    )


def _content_signatures(
    con: duckdb.DuckDBPyConnection, plans: Sequence[_TablePlan]
) -> dict[str, str]:
    """Mart name -> `<spec>:<rows>:<sum of row hashes>:<sum of rehashed row hashes>` of each
    warehouse table (attached as `wh`): equal signatures mean the published table would be the
    same (the same rows, as a multiset, published the same way). A changed row keeps its 64-bit
    hash by chance only (about one in 2^64, the odds row_set_signature takes too); a change of
    several rows keeps both sums only if they cancel out in both.

    One query for every mart (a `union all` of one aggregate per mart): DuckDB schedules the
    small tables' scans side by side instead of one query after the other (half the CPU of
    41 queries at `m`), and the sums are those of one query per mart."""
    if not plans:
        return {}
    parts = [
        f"select {position} as position, count(*) as row_count, "
        f"coalesce(sum(row_hash), 0)::varchar as first_sum, "
        f"coalesce(sum(hash(row_hash, {SIGNATURE_SALT})), 0)::varchar as second_sum "
        f"from (select hash(t) as row_hash from wh.main.{_quote(plan.table.name)} as t)"
        for position, plan in enumerate(plans)
    ]
    found = {
        position: (rows, first, second)
        for position, rows, first, second in con.execute(" union all ".join(parts)).fetchall()
    }
    return {
        plan.table.name: "{}:{}:{}:{}".format(plan.spec, *found[position])
        for position, plan in enumerate(plans)
    }


def _create_table(con: duckdb.DuckDBPyConnection, plan: _TablePlan) -> int:
    """Copy the mart into the snapshot (attached warehouse `wh`), with its comments; its rows.
    One call: the statements (the copy, a comment per column, the count) go to DuckDB as one
    script, not one round trip each."""
    table = plan.table
    statements = [
        f"create table main.{_quote(table.name)} as "
        f"select {', '.join(plan.select)} from wh.main.{_quote(table.name)}"
    ]
    if table.description:
        statements.append(f"comment on table {_quote(table.name)} is {_sql_str(table.description)}")
    kept = {c.name: c for c in table.columns}
    for column in plan.columns:
        described = kept.get(column)
        if described and described.description:
            statements.append(
                f"comment on column {_quote(table.name)}.{_quote(column)} is "
                f"{_sql_str(described.description)}"
            )
    statements.append(f"select count(*) from main.{_quote(table.name)}")
    return con.execute(";\n".join(statements)).fetchone()[0]


def _sign_marts(
    warehouse_sql: str, tables: Sequence[MartTable]
) -> tuple[list[_TablePlan], dict[str, str]]:
    """The publish plan and the content signature of every mart, read from the warehouse:
    one catalog query and one query of every mart's rows."""
    con = duckdb.connect(":memory:", config=duckdb_config())
    try:
        con.execute(f"attach {warehouse_sql} as wh (read_only)")
        present = _warehouse_columns(con, [table.name for table in tables])
        plans = [_plan_table(table, present.get(table.name, ())) for table in tables]
        return plans, _content_signatures(con, plans)
    finally:
        con.close()


def _signature_parts(signature: str) -> tuple[str, int]:
    """(the publish spec, the row count) of a `_content_signatures`."""
    spec, rows = signature.split(":")[:2]
    return spec, int(rows)


@dataclass(frozen=True)
class _Base:
    """The served snapshot a publish starts from, and what it reuses of it: the marts carried
    over as they are (name -> rows) and the marts to update by their changed rows (name ->
    rows the warehouse holds now)."""

    snapshot: Snapshot
    carried: dict[str, int]
    delta: dict[str, int]
    compact: bool = False  # the served file has grown too much: write a new file


def _carry_base(
    serving: Path, signatures: dict[str, str], delta_min_rows: int = DELTA_MIN_ROWS
) -> _Base | None:
    """The served snapshot, when it holds marts worth reusing: marts whose recorded signature
    is the one now (carried over), and changed marts published the same way (the same spec)
    with at least `delta_min_rows` rows there (updated by their changed rows). None when it
    holds none, or too few: the copy costs the whole file, so the reused marts must hold at
    least CARRY_MIN_SHARE of its mart rows. With `compact` (and nothing to reuse) when the
    served file has grown to COMPACT_GROWTH times the file its chain of copies started from."""
    served = _served_stem(serving)
    base = next((s for s in list_snapshots(serving) if s.snapshot_id == served), None)
    if base is None or not base.signatures:
        return None
    base.path = str(serving / SNAPSHOT_DIR / f"{base.snapshot_id}.duckdb")
    if base.base_bytes and Path(base.path).stat().st_size > COMPACT_GROWTH * base.base_bytes:
        return _Base(base, {}, {}, compact=True)
    carried, delta = {}, {}
    for name, signature in signatures.items():
        recorded = base.signatures.get(name)
        if recorded is None or name not in base.tables:
            continue
        if recorded == signature:
            carried[name] = base.tables[name]
        elif (
            _signature_parts(recorded)[0] == _signature_parts(signature)[0]
            and base.tables[name] >= delta_min_rows
        ):
            delta[name] = _signature_parts(signature)[1]
    total = sum(base.tables.values())
    reused = sum(carried.values()) + sum(base.tables[name] for name in delta)
    if not reused or reused < CARRY_MIN_SHARE * total:
        return None
    return _Base(base, carried, delta)


def _apply_delta(
    con: duckdb.DuckDBPyConnection, plan: _TablePlan, rows: int, max_share: float
) -> tuple[int, int] | None:
    """Make mart `plan.table` of the copied snapshot hold the warehouse's rows (`wh`, published
    by `plan`) by deleting and inserting only what differs; (rows deleted, rows inserted), or
    None, the table untouched, when that would touch more than `max_share` of `rows` (the
    rows the warehouse holds).

    Rows are compared by a hash of the whole published row: every row hash whose count
    differs between the two tables (an updated, deleted, inserted or duplicated row, NULLs
    included) has all its served rows deleted and all its warehouse rows inserted, so those
    rows end up exactly as the warehouse has them, duplicates and all; the rows of every other
    hash are in both tables as often. The result is the table a whole copy gives (as a
    multiset of rows: the new rows come last) unless a row removed and a row added in the same
    publish have the same 64-bit hash (odds like those of the signatures that carry marts
    over: `_content_signatures`)."""
    name = f"main.{_quote(plan.table.name)}"
    row_hash = f"hash({', '.join(_quote(c) for c in plan.columns)})"
    # Each side's rows are hashed once, with their row ids (`rowid`: stable within the
    # transaction); the deletes and inserts then pick rows by id instead of hashing both
    # tables a second time. Published columns never start with `_` (BOOKKEEPING_PREFIX), so
    # `_revops_rowid` cannot clash with one.
    con.execute(
        f"create or replace temp table _revops_served as "
        f"select rowid as row_id, {row_hash} as row_hash from {name}"
    )
    con.execute(
        f"create or replace temp table _revops_warehouse as "
        f"select _revops_rowid as row_id, {row_hash} as row_hash from "
        f"(select t.rowid as _revops_rowid, {', '.join(plan.select)} from wh.{name} as t)"
    )
    try:
        con.execute(
            "create or replace temp table _revops_delta as "
            "select row_hash, count(*) filter (where side = 1) as served, "
            "count(*) filter (where side = 2) as warehouse "
            "from (select row_hash, 1 as side from _revops_served "
            "union all select row_hash, 2 from _revops_warehouse) "
            "group by row_hash having count(*) filter (where side = 1) "
            "<> count(*) filter (where side = 2)"
        )
        deleted, inserted = con.execute(
            "select coalesce(sum(served), 0), coalesce(sum(warehouse), 0) from _revops_delta"
        ).fetchone()
        if deleted + inserted > max_share * rows:
            return None
        if deleted:
            con.execute(
                f"delete from {name} where rowid in (select row_id from _revops_served "
                "where row_hash in (select row_hash from _revops_delta where served > 0))"
            )
        if inserted:
            con.execute(
                f"insert into {name} select {', '.join(plan.select)} from wh.{name} as t "
                "where t.rowid in (select row_id from _revops_warehouse "
                "where row_hash in (select row_hash from _revops_delta where warehouse > 0))"
            )
    finally:
        for temp in ("_revops_delta", "_revops_served", "_revops_warehouse"):
            con.execute(f"drop table if exists temp.{temp}")
    got = con.execute(f"select count(*) from {name}").fetchone()[0]
    if got != rows:
        raise PublishError(
            f"mart {plan.table.name}: updated by its changed rows (-{deleted} +{inserted}), "
            f"it holds {got} rows, not the warehouse's {rows}"
        )
    return int(deleted), int(inserted)


def _same_columns_and_types(
    con: duckdb.DuckDBPyConnection,
    plan: _TablePlan,
    have: Sequence[tuple[str, str]] | None = None,
) -> bool:
    """Whether the mart in the snapshot being written has the columns and types `plan` gives
    over the warehouse (`wh`): then its rows can be compared and inserted as they are.
    `have`: its (column, type) pairs when already read (`_snapshot_columns`)."""
    if have is None:
        have = _snapshot_columns(con).get(plan.table.name, [])
    want = con.execute(
        f"describe select {', '.join(plan.select)} from wh.main.{_quote(plan.table.name)}"
    ).fetchall()
    return [tuple(r) for r in have] == [(r[0], r[1]) for r in want]


def _early_copy(serving: Path, target: Path) -> _InThread | None:
    """Start copying the served snapshot's file to `target` in a thread (None when nothing is
    served); its result() is the file copied. The publish decides after signing the marts
    whether it starts from this copy (`_carry_base`, which reads the same served snapshot)."""
    served = _served_stem(serving)
    source = serving / SNAPSHOT_DIR / f"{served}.duckdb" if served else None
    if source is None or not source.is_file():
        return None

    def copy() -> Path:
        _copy_file(source, target)
        return source

    return _InThread(copy)


def _discard_copy(early: _InThread | None, staged: Path) -> None:
    """Remove the staged file (and its write-ahead log) once the early copy, if any, has
    stopped writing it; the copy's own error does not matter then."""
    if early is not None:
        with contextlib.suppress(Exception):
            early.result()
    for partial in (staged, staged.with_name(staged.name + ".wal")):
        partial.unlink(missing_ok=True)


def _copy_file(source: Path, target: Path) -> None:
    """A byte copy of a closed snapshot file: copy_file_range(2), which shares the blocks
    where the file system can (XFS, btrfs) and copies inside the kernel elsewhere; a plain
    copy where the call is not supported."""
    import shutil

    with open(source, "rb") as src, open(target, "wb") as dst:
        size = os.fstat(src.fileno()).st_size
        try:
            done = 0
            while done < size:
                copied = os.copy_file_range(src.fileno(), dst.fileno(), size - done)
                if copied == 0:
                    break
                done += copied
            if done == size:
                return
        except (AttributeError, OSError) as exc:
            if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
                raise
        src.seek(0)
        dst.seek(0)
        dst.truncate()
        shutil.copyfileobj(src, dst, 1 << 20)


def _snapshot_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """Table -> its (column, type) pairs in order, for every table of the snapshot being
    written (schema main): one catalog query, not one per carried mart."""
    found: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in con.execute(
        "select table_name, column_name, data_type from duckdb_columns() "
        "where database_name = current_database() and schema_name = 'main' "
        "order by table_name, column_index"
    ).fetchall():
        found.setdefault(table, []).append((column, data_type))
    return found


class _InThread:
    """`fn(*args)` run in a daemon thread from now on; `result()` waits for it and returns its
    value or raises its exception. For work that waits on the disk or runs Python beside
    DuckDB's queries (which release the GIL): the project's fingerprint, an fsync."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            self._value = fn(*args)
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _fsync_later(path: Path) -> _InThread:
    """fsync `path` in a thread. The file is opened now, so it may be renamed meanwhile; the
    caller waits for `result()` before anything names the file as a snapshot."""
    fd = os.open(path, os.O_RDONLY)

    def sync() -> None:
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    return _InThread(sync)


def _drop_all_but(con: duckdb.DuckDBPyConnection, keep: set[str]) -> None:
    """In a copied snapshot: drop every table and view but the carried marts `keep` (the
    changed marts, the marts no longer published and the metadata tables are written anew),
    in one script."""
    drops = []
    for schema, name, kind in con.execute(
        "select schema_name, table_name, 'table' from duckdb_tables() "
        "where database_name = current_database() "
        "union all select schema_name, view_name, 'view' from duckdb_views() "
        "where database_name = current_database() and not internal"
    ).fetchall():
        if schema == "main" and name in keep and kind == "table":
            continue
        drops.append(f"drop {kind} {_quote(schema)}.{_quote(name)}")
    _run_script(con, drops)


def publish_snapshot(
    warehouse: Path,
    serving: Path,
    tables: Sequence[MartTable],
    *,
    run_id: str = "",
    checks_passed: int = 0,
    checks_left_out: int = 0,
    keep: int = DEFAULT_KEEP,
    report: Callable[[Path, Path], Any] | None = None,
    on_step: Callable[[str], None] | None = None,
    checks: Sequence[Any] = (),
    freshness_as_of: dt.date | None = None,
    max_delivery_age_days: int | None = None,
    project_fingerprint: str | None = None,
    metric_definitions: Sequence[MetricDefinition] = (),
    carry_over: bool = True,
    delta_min_rows: int | None = None,
    delta_max_share: float = DELTA_MAX_SHARE,
) -> Snapshot:
    """Copy `tables` from `warehouse` into a new snapshot and serve it; keep `keep` snapshots.

    Only the marts whose contents changed are written (`carry_over`, the default): each mart's
    signature in the warehouse (`_content_signatures`: its rows, columns, types, comments and
    personal-data policies) is compared with the one the served snapshot's sidecar records.
    When the served file holds enough to reuse (CARRY_MIN_SHARE), the new snapshot starts as
    a copy of it and keeps the unchanged marts (`carried_over`); a changed mart published the
    same way, with at least `delta_min_rows` rows (default DELTA_MIN_ROWS), is updated there
    by its changed rows (`delta`, `_apply_delta`) unless they exceed `delta_max_share` of its
    rows; every other mart is copied whole (`copied`), as are the metadata tables. The result
    holds the same tables with the same rows as a publish that copies every mart
    (`carry_over=False`, what `revops refresh --full-refresh` does).

    `checks`: the run's checks that did not pass (revops.checks.CheckOutcome), kept in the
    snapshot's `revops_checks` table for the report. `metric_definitions`: the rows of its
    `metric_definitions` table (revops.metric_definitions.load(tables)).

    `freshness_as_of`: the date staleness is measured against (revops/freshness.py: the
    landing folder's newest delivery, or `--as-of`); each source's `days_behind` and
    `is_stale` go into `revops_sources`, the stale ones into the sidecar. The sidecar also
    records "data through" per source and the fingerprints a no-op refresh compares
    (`project_fingerprint`, default revops.state.project_fingerprint(); the ledger's).

    `report(snapshot_db, out_html)`, if given, builds the snapshot's HTML report from the
    new snapshot file before anything is served; the report must name the snapshot's id
    (`report_snapshot_id`). Database and report are then served together in one step (the
    module docstring); without `report`, the pair's report.html is a page saying the snapshot
    has no report. Raises PublishError, leaving the served pair as it was and removing the
    new snapshot's files, when a table is missing, a check of the written file fails, or the
    report cannot be built or written (an error of the builder, a full disk).
    """
    if keep < 1:
        raise ValueError("keep must be at least 1")
    started = time.monotonic()
    serving = Path(serving).resolve()
    folder = serving / SNAPSHOT_DIR
    step = on_step or (lambda _message: None)
    with _publish_lock(serving):
        folder.mkdir(parents=True, exist_ok=True)
        _clean_leftovers(serving)
        _ensure_layout(serving)
        now = dt.datetime.now(dt.UTC)
        snapshot = Snapshot(
            snapshot_id=new_snapshot_id(run_id, now),
            published_at=now.isoformat(),
            run_id=run_id,
            tables={},
            checks_passed=checks_passed,
            checks_left_out=checks_left_out,
        )
        final = folder / f"{snapshot.snapshot_id}.duckdb"
        staged = folder / f"{snapshot.snapshot_id}.duckdb.tmp"
        warehouse_sql = _sql_str(str(Path(warehouse).resolve()))
        # the project's fingerprint (files, packages: ~0.1-0.3 s of Python) is computed in a
        # thread beside the signatures (DuckDB, which releases the GIL)
        project = None if project_fingerprint else _InThread(state.project_fingerprint)
        # the served file is copied (in the kernel) while DuckDB signs the marts: a publish
        # that starts from it (every daily increment) finds the copy made; one that does not
        # removes it
        early = _early_copy(serving, staged) if carry_over else None
        try:
            step("signing the marts")
            plans, snapshot.signatures = _sign_marts(warehouse_sql, tables)
            min_rows = DELTA_MIN_ROWS if delta_min_rows is None else delta_min_rows
            reuse = _carry_base(serving, snapshot.signatures, min_rows) if carry_over else None
        except BaseException:
            _discard_copy(early, staged)
            raise
        if reuse is not None and reuse.compact:
            step(
                f"writing a new file: the served one has grown to more than {COMPACT_GROWTH}x "
                f"the snapshot its copies started from ({reuse.snapshot.base_bytes:,} bytes)"
            )
            snapshot.compacted, reuse = True, None
        base = reuse.snapshot if reuse else None
        carried = reuse.carried if reuse else {}
        deltas = reuse.delta if reuse else {}
        try:
            if base is not None:
                step(
                    f"copying snapshot {base.snapshot_id} ({len(carried)} unchanged marts, "
                    f"{len(deltas)} to update by their changed rows)"
                )
                if early is None or early.result() != Path(base.path):
                    _copy_file(Path(base.path), staged)
                snapshot.carried_from = base.snapshot_id
            else:
                _discard_copy(early, staged)
            con = duckdb.connect(str(staged), config=duckdb_config())
        except BaseException:
            _discard_copy(early, staged)
            raise
        try:
            con.execute(f"attach {warehouse_sql} as wh (read_only)")
            # one transaction: a commit per statement (every table and column comment is
            # one) would write and sync the write-ahead log hundreds of times
            con.execute("begin transaction")
            if base is not None:
                _drop_all_but(con, set(carried) | set(deltas))
            served_columns = _snapshot_columns(con) if base is not None else {}
            has_ledger = bool(
                con.execute(
                    "select count(*) from information_schema.tables where table_catalog = 'wh' "
                    "and table_schema = 'raw' and table_name = '_load_ledger'"
                ).fetchone()[0]
            )
            for plan in plans:
                name = plan.table.name
                snapshot.hashed_columns += [f"{name}.{c}" for c in plan.hashed]
                snapshot.dropped_columns += [f"{name}.{c}" for c in plan.dropped]
                have = served_columns.get(name, [])
                if name in carried and [c for c, _ in have] == list(plan.columns):
                    snapshot.tables[name] = carried[name]
                    snapshot.carried_over.append(name)
                    continue
                if name in deltas and _same_columns_and_types(con, plan, have):
                    step(f"updating {name} by its changed rows")
                    changed = _apply_delta(con, plan, deltas[name], delta_max_share)
                    if changed is not None:
                        snapshot.tables[name] = deltas[name]
                        snapshot.delta.append(name)
                        snapshot.delta_rows[name] = list(changed)
                        continue
                if name in carried or name in deltas:  # not as its record says, or too
                    con.execute(f"drop table main.{_quote(name)}")  # changed: copy it whole
                step(f"copying {name}")
                snapshot.tables[name] = _create_table(con, plan)
                snapshot.copied.append(name)
            step("writing the metadata tables")
            _write_metadata(
                con, snapshot, len(tables), has_ledger, freshness_as_of, max_delivery_age_days
            )
            snapshot.fingerprint = {
                "project": project_fingerprint or project.result(),
                "ledger": state.ledger_fingerprint(con, "wh"),
            }
            _write_checks(con, checks)
            _write_failed_files(con, has_ledger)
            _write_metric_definitions(con, metric_definitions)
            step("checkpointing")
            con.execute("commit")
            con.execute("detach wh")
            con.execute("checkpoint")
        except BaseException:
            con.close()
            for partial in (staged, staged.with_name(staged.name + ".wal")):
                partial.unlink(missing_ok=True)
            raise
        finally:
            con.close()
        # the file's fsync runs while it is verified and its report is built (both read it);
        # it is waited for before the sidecar makes it a kept snapshot. A crash before then
        # leaves a file without a sidecar, which the next publish removes (_clean_leftovers).
        synced = _fsync_later(staged)
        os.replace(staged, final)
        snapshot.path = str(final)
        snapshot.base_bytes = (
            (base.base_bytes or Path(base.path).stat().st_size) if base else final.stat().st_size
        )
        html = folder / f"{snapshot.snapshot_id}.html"
        try:
            step("verifying")
            _verify(final, snapshot)
            if report is not None:
                step("building the report")
                try:
                    _build_checked(report, final, html, snapshot.snapshot_id)
                except Exception as exc:
                    raise PublishError(
                        f"snapshot {snapshot.snapshot_id} not published: its report could not "
                        f"be built ({type(exc).__name__}: {exc}); the served snapshot and "
                        "report are unchanged"
                    ) from exc
                snapshot.report = str(html)
            synced.result()
            snapshot.seconds = round(time.monotonic() - started, 3)
            sidecar = json.dumps(asdict(snapshot), indent=2) + "\n"
            _write_atomic(final.with_suffix(".json"), sidecar)
            _fsync_dir(folder)
            step("staging the served pair")
            pair = _stage_pair(
                serving,
                snapshot.snapshot_id,
                html if snapshot.report else None,
                "it was published without one",
            )
        except BaseException:
            # nothing was served: the new snapshot is not kept either
            for suffix in (".duckdb", ".html", ".json"):
                final.with_suffix(suffix).unlink(missing_ok=True)
            raise
        step("swapping the served pair")
        previous = _serve_pair(serving, pair)
        step("served; removing earlier pairs and old snapshots")
        (serving / LATEST_REFRESH_FILE).unlink(missing_ok=True)
        _drop_unserved_pairs(serving, previous)
        _prune(serving, keep)
    return snapshot


def latest_failed_refresh(serving: Path) -> dict[str, Any] | None:
    """The latest refresh that did not publish (None when the latest one published)."""
    try:
        return json.loads((Path(serving) / LATEST_REFRESH_FILE).read_text())
    except (OSError, ValueError):
        return None


def record_failed_refresh(
    serving: Path, run_id: str, checks: Sequence[Any] = (), errors: Sequence[str] = ()
) -> Path | None:
    """Record that refresh `run_id` did not publish (`latest_refresh.json`), and rebuild
    `<serving>/report.html` from the served snapshot with a "latest refresh did not publish"
    section listing the failing checks (revops.checks.CheckOutcome) and errors. The page is
    built from the served pair's own database and replaces only that pair's report.html (one
    rename), so it describes the served snapshot; the served snapshot, its numbers and its
    kept report (`snapshots/<id>.html`, what a rollback serves) are untouched. Returns the
    report's path (None when nothing is served yet)."""
    serving = Path(serving).resolve()
    with _publish_lock(serving):
        previous = latest_failed_refresh(serving) or {}
        kept_checks = [asdict(c) if not isinstance(c, dict) else c for c in checks]
        if previous.get("run_id") == run_id and not kept_checks:
            kept_checks = previous.get("checks", [])  # a second call with less detail
        failure = {
            "run_id": run_id,
            "recorded_at": dt.datetime.now(dt.UTC).isoformat(),
            "checks": kept_checks,
            "errors": [e for e in errors if e][:20] or previous.get("errors", []),
        }
        _write_atomic(serving / LATEST_REFRESH_FILE, json.dumps(failure, indent=2) + "\n")
        _clean_leftovers(serving)
        _ensure_layout(serving)
        pair = _served_pair(serving)
        if pair is None:
            return None
        from revops.report import build_report

        _build_checked(
            lambda database, out: build_report(database, out, failed_refresh=failure),
            pair / SERVING_FILE,
            pair / REPORT_FILE,
            _pair_snapshot_id(pair),
        )
        _fsync_dir(pair)
        return serving / REPORT_FILE


def _verify(path: Path, snapshot: Snapshot) -> None:
    """Open the written file the way readers do and check it holds what was copied."""
    con = connect_read_only(path)
    try:
        for name, expected in snapshot.tables.items():
            got = con.execute(f"select count(*) from {_quote(name)}").fetchone()[0]
            if got != expected:
                raise PublishError(f"snapshot {path}: {name} has {got} rows, expected {expected}")
        sid = con.execute(f"select snapshot_id from {SNAPSHOT_TABLE}").fetchone()[0]
        if sid != snapshot.snapshot_id:
            raise PublishError(f"snapshot {path}: holds id {sid}, expected {snapshot.snapshot_id}")
    finally:
        con.close()


def _prune(serving: Path, keep: int) -> list[str]:
    """Remove all but the newest `keep` snapshots; the served one is always kept."""
    served = _served_stem(serving)
    kept = list_snapshots(serving)
    removed = []
    for old in kept[: max(0, len(kept) - keep)]:
        if old.snapshot_id == served:
            continue
        for suffix in (".duckdb", ".html", ".json"):
            (serving / SNAPSHOT_DIR / f"{old.snapshot_id}{suffix}").unlink(missing_ok=True)
        removed.append(old.snapshot_id)
    return removed


def rollback(
    serving: Path, to: str | None = None, report: Callable[[Path, Path], Any] | None = None
) -> Snapshot:
    """Serve an older kept snapshot again, `to` or the one published before the served one,
    with a report of that snapshot: its kept report, or one built from it now with `report`
    (default revops.report.build_report) and kept; when none can be built, a page saying so
    and why. Never the report of another snapshot."""
    serving = Path(serving).resolve()
    with _publish_lock(serving):
        _clean_leftovers(serving)
        _ensure_layout(serving)
        snapshots = list_snapshots(serving)
        if not snapshots:
            raise PublishError(f"{serving}: no snapshots to roll back to")
        ids = [s.snapshot_id for s in snapshots]
        served = _served_stem(serving)
        if to is None:
            if served not in ids:
                raise PublishError(f"{serving}: the served file is not a kept snapshot; pass --to")
            position = ids.index(served)
            if position == 0:
                raise PublishError(
                    f"{serving}: {served} is the oldest kept snapshot; nothing to roll back to"
                )
            target = snapshots[position - 1]
        else:
            matches = [s for s in snapshots if s.snapshot_id == to]
            if not matches:
                raise PublishError(f"{serving}: no kept snapshot {to!r} (have: {', '.join(ids)})")
            target = matches[0]
        path = serving / SNAPSHOT_DIR / f"{target.snapshot_id}.duckdb"
        _verify(path, target)
        html = path.with_suffix(".html")
        reason = ""
        if report_snapshot_id(html) != target.snapshot_id:
            if report is None:
                from revops.report import build_report

                report = build_report
            try:
                _build_checked(report, path, html, target.snapshot_id)
                target.report = str(html)
                sidecar = json.dumps(asdict(target), indent=2) + "\n"
                _write_atomic(path.with_suffix(".json"), sidecar)
            except Exception as exc:
                reason = (
                    "it was published without one, and building one at rollback failed "
                    f"({type(exc).__name__}: {str(exc)[:500]})"
                )
        if reason:
            target.report = None
        pair = _stage_pair(serving, target.snapshot_id, None if reason else html, reason)
        _drop_unserved_pairs(serving, _serve_pair(serving, pair))
        return target


def table_checksums(path: Path, tables: Sequence[str] | None = None) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent checksum of every (or each named) table in `path`:
    equal checksums mean equal contents, whatever the row order."""
    con = connect_read_only(path)
    try:
        names = tables or [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main' "
                "order by table_name"
            ).fetchall()
        ]
        out = {}
        for name in names:
            count, digest = con.execute(
                f"select count(*), coalesce(sum(hash(t)), 0)::varchar from {_quote(name)} as t"
            ).fetchone()
            out[name] = (count, hashlib.sha256(digest.encode()).hexdigest()[:16])
        return out
    finally:
        con.close()


def publish_report(serving: Path, build: Callable[[Path, Path], Any]) -> Path:
    """Rebuild the served snapshot's HTML report as `snapshots/<id>.html` and serve it with
    that snapshot (a new pair, switched in one step). `build(snapshot_db, out_html)` writes
    the file. A refresh does not need this: publish_snapshot builds the report before it
    serves the snapshot."""
    serving = Path(serving).resolve()
    with _publish_lock(serving):
        _clean_leftovers(serving)
        _ensure_layout(serving)
        sid = _served_stem(serving)
        if sid is None:
            raise PublishError(f"{serving}: no served snapshot to report on")
        snapshot = serving / SNAPSHOT_DIR / f"{sid}.duckdb"
        html = snapshot.with_suffix(".html")
        _build_checked(build, snapshot, html, sid)
        pair = _stage_pair(serving, sid, html, "its report could not be built")
        _drop_unserved_pairs(serving, _serve_pair(serving, pair))
        sidecar = snapshot.with_suffix(".json")
        if sidecar.exists():
            meta = json.loads(sidecar.read_text())
            meta["report"] = str(html)
            _write_atomic(sidecar, json.dumps(meta, indent=2) + "\n")
        return serving / REPORT_FILE
