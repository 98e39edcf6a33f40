"""Publishing: the marts, copied into a new serving DuckDB file and swapped in atomically.

BI tools never open the warehouse. They open `<serving>/revops.duckdb` read-only, which is
always one complete, tested snapshot:

    <serving>/
        revops.duckdb          the served snapshot (a hard link to one file in snapshots/)
        report.html            the HTML report of that snapshot, when one was built
        snapshots/
            <id>.duckdb        every kept snapshot, newest last (ids sort by publish time)
            <id>.json          what it holds: tables, row counts, run, publish time
            <id>.html          its report
        latest_refresh.json    the latest refresh that did not publish, and why (removed by
                               the next publish); report.html then says so

A snapshot is written to a temporary file, checkpointed, closed, verified, renamed into
snapshots/, and only then swapped in with one `rename(2)` over `revops.duckdb`. A reader that
opened the previous file keeps reading it (the rename does not touch open files); a process
killed at any point leaves the old or the new snapshot served, never a mix. Rollback swaps an
older snapshot back in the same way. docs/SERVING.md has the read-only recipes per BI tool.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from revops import contract
from revops.ingest.summary import source_status
from revops.settings import duckdb_config

SERVING_FILE = "revops.duckdb"
REPORT_FILE = "report.html"
SNAPSHOT_DIR = "snapshots"
LOCK_FILE = ".publish.lock"
DEFAULT_KEEP = 7
SNAPSHOT_TABLE = "revops_snapshot"
SOURCES_TABLE = "revops_sources"
CHECKS_TABLE = "revops_checks"
FAILED_FILES_TABLE = "revops_failed_files"
LATEST_REFRESH_FILE = "latest_refresh.json"

# Personal data never leaves the warehouse. A mart column declares its policy in its YAML
# (`meta: {pii: hash}` or `meta: {pii: drop}`); a column whose name looks personal and has no
# policy is hashed anyway, so a new column cannot leak by omission.
PII_NAME = re.compile(r"(^|_)(email|phone|mobile|first_name|last_name|ip_address)(_|$)")
PII_POLICIES = ("hash", "drop", "keep")


class PublishError(RuntimeError):
    """Publishing stopped; the served snapshot is unchanged."""


@dataclass(frozen=True)
class MartColumn:
    name: str
    description: str = ""
    pii: str | None = None  # hash | drop | keep (declared), None (not personal)


@dataclass(frozen=True)
class MartTable:
    """A mart model to publish, with its columns as the dbt manifest describes them."""

    name: str
    description: str = ""
    columns: tuple[MartColumn, ...] = ()

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
    hashed_columns: list[str] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)
    path: str = ""
    report: str | None = None
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def mart_tables(manifest_path: Path, folder: str = "marts") -> list[MartTable]:
    """Every enabled model under `models/<folder>/` in dbt's manifest, sorted by name."""
    manifest = json.loads(Path(manifest_path).read_text())
    tables = []
    for node in manifest["nodes"].values():
        fqn = node.get("fqn", [])
        if node.get("resource_type") != "model" or len(fqn) < 3 or fqn[1] != folder:
            continue
        if node.get("config", {}).get("materialized") not in ("table", "incremental"):
            continue
        columns = []
        for col in node.get("columns", {}).values():
            pii = (col.get("meta") or {}).get("pii") or (
                col.get("config", {}).get("meta") or {}
            ).get("pii")
            if pii is not None and pii not in PII_POLICIES:
                raise PublishError(
                    f"model {node['name']}, column {col['name']}: meta.pii must be one of "
                    f"{', '.join(PII_POLICIES)}, not {pii!r}"
                )
            columns.append(MartColumn(col["name"], col.get("description") or "", pii))
        tables.append(MartTable(node["name"], node.get("description") or "", tuple(columns)))
    return sorted(tables, key=lambda t: t.name)


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
    stem = _served_stem(Path(serving))  # the served file is a hard link to one snapshot
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
            found.append(Snapshot(**json.loads(sidecar.read_text())))
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


def _swap_in(source: Path, target: Path) -> None:
    """Make `target` the same file as `source` in one rename (a hard link, or a copy where the
    file system has none)."""
    staged = target.with_name(f".{target.name}.swap")
    staged.unlink(missing_ok=True)
    try:
        os.link(source, staged)
    except OSError:
        import shutil

        shutil.copyfile(source, staged)
        _fsync_file(staged)
    os.replace(staged, target)
    _fsync_dir(target.parent)


def _clean_leftovers(serving: Path) -> None:
    """Temporary files of a publish that was killed: never served, safe to remove."""
    for leftover in [
        *serving.glob(".*.swap"),
        *serving.glob(".*.tmp"),
        *(serving / SNAPSHOT_DIR).glob("*.tmp"),
        *(serving / SNAPSHOT_DIR).glob(".*.tmp"),
        *(serving / SNAPSHOT_DIR).glob("*.tmp.wal"),
    ]:
        leftover.unlink(missing_ok=True)
    # a snapshot file without its sidecar was killed between the two: not a kept snapshot
    for orphan in (serving / SNAPSHOT_DIR).glob("*.duckdb"):
        if not orphan.with_suffix(".json").exists() and orphan.stem != _served_stem(serving):
            orphan.unlink(missing_ok=True)


def _served_stem(serving: Path) -> str | None:
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
    if values:
        con.executemany(f"insert into {CHECKS_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?)", values)
    con.execute(
        f"comment on table {CHECKS_TABLE} is "
        f"{_sql_str('Checks of the run that did not pass (warnings): meaning, rows, samples.')}"
    )


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


def _write_metadata(
    con: duckdb.DuckDBPyConnection,
    snapshot: Snapshot,
    models: int,
    has_ledger: bool,
) -> None:
    rows = {}
    if has_ledger:
        for row in con.execute(SOURCES_SQL).fetchall():
            rows[(row[0], row[1])] = row
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
            status varchar not null
        )
        """
    )
    values = []
    for obj in contract.OBJECTS:
        row = rows.get((obj.source, obj.name))
        if row is None:
            status = source_status(obj, 0, 0)
            values.append((obj.source, obj.name, obj.raw_table, None, 0, 0, 0, 0, 0, None, status))
            continue
        _, _, latest, loaded, duplicate, failed, rows_loaded, rejected, last_loaded = row
        status = source_status(obj, loaded, failed)
        if last_loaded is not None:
            last_loaded = last_loaded.astimezone(dt.UTC).replace(tzinfo=None)
        values.append(
            (obj.source, obj.name, obj.raw_table, latest, loaded, duplicate, failed, rows_loaded,
             rejected, last_loaded, status)
        )  # fmt: skip
    if values:
        con.executemany(
            f"insert into {SOURCES_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values
        )
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
            latest_delivery_date date
        )
        """
    )
    published = dt.datetime.fromisoformat(snapshot.published_at).replace(tzinfo=None)
    con.execute(
        f"insert into {SNAPSHOT_TABLE} values (?, ?, ?, ?, ?, ?)",
        [snapshot.snapshot_id, published, snapshot.run_id, models, snapshot.checks_passed,
         latest_delivery],
    )  # fmt: skip
    con.execute(
        f"comment on table {SNAPSHOT_TABLE} is "
        f"{_sql_str('The snapshot this file holds: when it was published and from which run.')}"
    )
    con.execute(
        f"comment on table {SOURCES_TABLE} is "
        f"{_sql_str('Per export object: latest delivery, files and rows loaded, rejects, status.')}"
    )


def _copy_table(con: duckdb.DuckDBPyConnection, table: MartTable, snapshot: Snapshot) -> int:
    present = [
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns "
            "where table_catalog = 'wh' and table_schema = 'main' and table_name = ? "
            "order by ordinal_position",
            [table.name],
        ).fetchall()
    ]
    if not present:
        raise PublishError(f"mart {table.name} is not in the warehouse (was the build run?)")
    select = []
    for column in present:
        policy = table.policy(column)
        if policy == "drop":
            snapshot.dropped_columns.append(f"{table.name}.{column}")
            continue
        if policy == "hash":
            snapshot.hashed_columns.append(f"{table.name}.{column}")
            select.append(
                f"sha256(lower(trim(cast({_quote(column)} as varchar)))) as {_quote(column)}"
            )
            continue
        select.append(_quote(column))
    con.execute(
        f"create table main.{_quote(table.name)} as "
        f"select {', '.join(select)} from wh.main.{_quote(table.name)}"
    )
    if table.description:
        con.execute(f"comment on table {_quote(table.name)} is {_sql_str(table.description)}")
    kept = {c.name: c for c in table.columns}
    for column in present:
        described = kept.get(column)
        if described and described.description and table.policy(column) != "drop":
            con.execute(
                f"comment on column {_quote(table.name)}.{_quote(column)} is "
                f"{_sql_str(described.description)}"
            )
    return con.execute(f"select count(*) from main.{_quote(table.name)}").fetchone()[0]


def publish_snapshot(
    warehouse: Path,
    serving: Path,
    tables: Sequence[MartTable],
    *,
    run_id: str = "",
    checks_passed: int = 0,
    keep: int = DEFAULT_KEEP,
    report: Callable[[Path, Path], Any] | None = None,
    on_step: Callable[[str], None] | None = None,
    checks: Sequence[Any] = (),
) -> Snapshot:
    """Copy `tables` from `warehouse` into a new snapshot and serve it; keep `keep` snapshots.

    `checks`: the run's checks that did not pass (revops.checks.CheckOutcome), kept in the
    snapshot's `revops_checks` table for the report.

    `report(snapshot_db, out_html)`, if given, builds the snapshot's HTML report before the
    swap. Raises PublishError (nothing served changes) when a table is missing or a check of
    the written file fails.
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
        now = dt.datetime.now(dt.UTC)
        snapshot = Snapshot(
            snapshot_id=new_snapshot_id(run_id, now),
            published_at=now.isoformat(),
            run_id=run_id,
            tables={},
            checks_passed=checks_passed,
        )
        final = folder / f"{snapshot.snapshot_id}.duckdb"
        staged = folder / f"{snapshot.snapshot_id}.duckdb.tmp"
        con = duckdb.connect(str(staged), config=duckdb_config())
        try:
            con.execute(f"attach {_sql_str(str(Path(warehouse).resolve()))} as wh (read_only)")
            has_ledger = bool(
                con.execute(
                    "select count(*) from information_schema.tables where table_catalog = 'wh' "
                    "and table_schema = 'raw' and table_name = '_load_ledger'"
                ).fetchone()[0]
            )
            for table in tables:
                step(f"copying {table.name}")
                snapshot.tables[table.name] = _copy_table(con, table, snapshot)
            _write_metadata(con, snapshot, len(tables), has_ledger)
            _write_checks(con, checks)
            _write_failed_files(con, has_ledger)
            con.execute("detach wh")
            con.execute("checkpoint")
        finally:
            con.close()
        _fsync_file(staged)
        os.replace(staged, final)
        snapshot.path = str(final)
        _verify(final, snapshot)
        if report is not None:
            step("building the report")
            html = folder / f"{snapshot.snapshot_id}.html"
            report(final, html)
            snapshot.report = str(html)
        snapshot.seconds = round(time.monotonic() - started, 3)
        _write_atomic(final.with_suffix(".json"), json.dumps(asdict(snapshot), indent=2) + "\n")
        _fsync_dir(folder)
        step("swapping the serving file")
        if snapshot.report:
            _swap_in(Path(snapshot.report), serving / REPORT_FILE)
        _swap_in(final, serving / SERVING_FILE)
        (serving / LATEST_REFRESH_FILE).unlink(missing_ok=True)
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
    section listing the failing checks (revops.checks.CheckOutcome) and errors. The served
    snapshot, its numbers and its kept report (`snapshots/<id>.html`, what a rollback serves)
    are untouched. Returns the report's path (None when nothing is served yet)."""
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
        served = serving / SERVING_FILE
        if not served.exists():
            return None
        from revops.report import build_report

        staged = serving / f".{REPORT_FILE}.failed.tmp"
        build_report(served, staged, failed_refresh=failure)
        _swap_in(staged, serving / REPORT_FILE)
        staged.unlink(missing_ok=True)
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


def rollback(serving: Path, to: str | None = None) -> Snapshot:
    """Serve an older kept snapshot again: `to`, or the one published before the served one."""
    serving = Path(serving).resolve()
    with _publish_lock(serving):
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
        report = serving / SNAPSHOT_DIR / f"{target.snapshot_id}.html"
        if report.exists():
            _swap_in(report, serving / REPORT_FILE)
        _swap_in(path, serving / SERVING_FILE)
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
    """Build the served snapshot's HTML report as `snapshots/<id>.html` and swap it in as
    `<serving>/report.html`. `build(snapshot_db, out_html)` writes the file."""
    serving = Path(serving).resolve()
    with _publish_lock(serving):
        sid = _served_stem(serving)
        if sid is None:
            raise PublishError(f"{serving}: no served snapshot to report on")
        snapshot = serving / SNAPSHOT_DIR / f"{sid}.duckdb"
        html = snapshot.with_suffix(".html")
        build(snapshot, html)
        _swap_in(html, serving / REPORT_FILE)
        sidecar = snapshot.with_suffix(".json")
        if sidecar.exists():
            meta = json.loads(sidecar.read_text())
            meta["report"] = str(html)
            _write_atomic(sidecar, json.dumps(meta, indent=2) + "\n")
        return serving / REPORT_FILE
