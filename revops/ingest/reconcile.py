"""The ingestion invariant, checked before anything downstream may be published.

For every file whose latest attempt loaded: rows read = rows loaded + rows rejected + rows
quarantined; rows read = rows counted (the probe's own count, which does not use DuckDB's
parser); and the raw table holds exactly the rows the ledger says were loaded, file by file. A
raw row lost or added behind the ledger's back (a manual delete, a half-restored backup) fails
the check.

`check_object` is what each ingestion step runs: the ledger side in full (a few hundred rows
per object), the raw table's side against the last passing check recorded in
`raw._reconciled`. A raw table that only grew since (its rows = the rows verified then + the
rows loaded after the newest `_loaded_at` verified then, no removal recorded) is checked on its
new rows only; one that did not change is not scanned (its verdict is carried, and says so).
Anything else (a removal, a count that does not add up, no passing check recorded, a failing
one, the last full check `max_age_days` old, a full re-check asked for) scans every row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from revops.contract import ExportObject
from revops.ingest.warehouse import (
    LEDGER_TABLE,
    RAW_SCHEMA,
    RECONCILED_TABLE,
    REMOVALS_TABLE,
    literal,
    raw_table,
)
from revops.settings import duckdb_config

MAX_PROBLEMS = 20

# How much of the raw table a check read (`Reconciliation.raw_scan`).
SCAN_FULL = "full"  # every row, grouped by file version and load
SCAN_NEW_ROWS = "new rows"  # the rows loaded since the last passing check, and a count
SCAN_CARRIED = "carried"  # nothing loaded since the last passing check: only counted


@dataclass
class Reconciliation:
    """The outcome for one object: `problems` lists each file that does not add up."""

    object: str
    files: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_quarantined: int = 0
    raw_rows: int = 0
    latest_delivery_date: dt.date | None = None  # newest delivery among loaded files
    # when ingestion last appended rows to the raw table (what source freshness measures)
    latest_loaded_at: dt.datetime | None = None
    problems: list[str] = field(default_factory=list)
    raw_scan: str = SCAN_FULL
    rows_scanned: int = 0  # raw rows this check grouped by file (0 when carried)
    # why every row was scanned (`check_object`); empty for a scoped or carried check
    full_reason: str = ""
    # when every raw row was last checked (this check when it scanned them all)
    full_checked_at: dt.datetime | None = None
    # the delivery days of the loaded files (what `freshness.rhythm` reads)
    delivery_dates: set[dt.date] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.problems


def _table_exists(con: duckdb.DuckDBPyConnection, obj: ExportObject) -> bool:
    (exists,) = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
        [RAW_SCHEMA, obj.raw_table],
    ).fetchone()
    return bool(exists)


def _ledger_rows(con: duckdb.DuckDBPyConnection, obj: ExportObject) -> list[tuple]:
    return con.execute(
        f"""
        select file_path, file_sha256, load_id, rows_read, rows_loaded, rows_rejected,
            rows_counted, delivery_date, coalesce(rows_quarantined, 0)
        from {LEDGER_TABLE}
        where source = {literal(obj.source)} and object = {literal(obj.name)}
            and status = 'loaded'
        """
    ).fetchall()


def _add_ledger(result: Reconciliation, ledger: list[tuple]) -> dict[tuple, int]:
    """The ledger side: totals, newest delivery and each file's own identities into `result`;
    returns rows loaded per (path, sha, load id)."""
    expected: dict[tuple, int] = {}
    for path, sha, load_id, read, loaded, rejected, counted, delivered, quarantined in ledger:
        result.files += 1
        if delivered is not None:
            result.delivery_dates.add(delivered)
        if delivered and (
            not result.latest_delivery_date or delivered > result.latest_delivery_date
        ):
            result.latest_delivery_date = delivered
        result.rows_read += read or 0
        result.rows_loaded += loaded
        result.rows_rejected += rejected
        result.rows_quarantined += quarantined
        expected[(path, sha, load_id)] = loaded
        if read is not None and read != loaded + rejected + quarantined:
            result.problems.append(
                f"{path} (load {load_id}): {read} rows read != {loaded} loaded + {rejected} "
                f"rejected + {quarantined} quarantined"
            )
        # Null on ledger rows written before the probe counted records (docs/INGESTION.md).
        if read is not None and counted is not None and read != counted:
            result.problems.append(
                f"{path} (load {load_id}): {read} rows read != {counted} records counted in "
                "the file"
            )
    return expected


def _cap(result: Reconciliation) -> Reconciliation:
    if len(result.problems) > MAX_PROBLEMS:
        more = len(result.problems) - MAX_PROBLEMS
        result.problems = [*result.problems[:MAX_PROBLEMS], f"... and {more} more"]
    return result


def reconcile_object(con: duckdb.DuckDBPyConnection, obj: ExportObject) -> Reconciliation:
    """Check `obj`'s raw table against the ledger, every row (read-only; any open connection
    works)."""
    result = Reconciliation(object=f"{obj.source}/{obj.name}")
    table = raw_table(obj)
    exists = _table_exists(con, obj)
    ledger = _ledger_rows(con, obj)
    if not exists:
        if ledger:
            result.problems.append(f"{table}: missing, but the ledger has {len(ledger)} file(s)")
        return result
    # One scan of the raw table: the rows per file version and load, and the newest load time.
    groups = con.execute(
        f"select _file_path, _file_sha256, _load_id, count(*), max(_loaded_at) from {table} "
        "group by all"
    ).fetchall()
    raw_counts = {(path, sha, load): n for path, sha, load, n, _ in groups}
    result.latest_loaded_at = max(
        (loaded for *_, loaded in groups if loaded is not None), default=None
    )
    expected = _add_ledger(result, ledger)
    for (path, sha, load_id), loaded in expected.items():
        got = raw_counts.get((path, sha, load_id), 0)
        if got != loaded:
            result.problems.append(
                f"{path} (load {load_id}): the ledger says {loaded} rows loaded, {table} holds "
                f"{got}"
            )
    for (path, _sha, load_id), n in raw_counts.items():
        result.raw_rows += n
        if (path, _sha, load_id) not in expected:
            result.problems.append(
                f"{path} (load {load_id}): {n} rows in {table} without a loaded ledger entry"
            )
    result.rows_scanned = result.raw_rows
    return _cap(result)


def _removals(con: duckdb.DuckDBPyConnection, obj: ExportObject) -> str:
    """The removals `forget_file` recorded for the object's raw table, as one comparable text."""
    n, latest = con.execute(
        f"select count(*), max(removed_at) from {REMOVALS_TABLE} where raw_table = ?",
        [obj.raw_table],
    ).fetchone()
    return f"{n} {latest.isoformat() if latest is not None else '-'}"


def _scoped(
    con: duckdb.DuckDBPyConnection,
    obj: ExportObject,
    verified_rows: int,
    verified_newest: dt.datetime | None,
) -> tuple[Reconciliation | None, str]:
    """The check on the rows loaded after `verified_newest` only, given that the check that
    read it passed with `verified_rows` rows: (the outcome, "") when every identity holds,
    else (None, why every row must be read)."""
    result = Reconciliation(object=f"{obj.source}/{obj.name}")
    table = raw_table(obj)
    if not _table_exists(con, obj):
        return None, f"{table} is missing"
    (total,) = con.execute(f"select count(*) from {table}").fetchone()
    if verified_newest is None:
        where, params = "true", []
    else:  # rows are appended in `_loaded_at` order: min/max statistics skip the old ones
        where, params = "_loaded_at > ?", [verified_newest]
    groups = con.execute(
        f"select _file_path, _file_sha256, _load_id, count(*), max(_loaded_at) from {table} "
        f"where {where} group by all",
        params,
    ).fetchall()
    new_rows = sum(n for *_, n, _ in groups)
    if total != verified_rows + new_rows:
        return None, (
            f"{table} holds {total} rows, not the {verified_rows} verified + {new_rows} loaded "
            "since"
        )
    expected = _add_ledger(result, _ledger_rows(con, obj))
    if result.problems:
        return None, "a loaded file's counts do not add up in the ledger"
    for path, sha, load_id, n, _ in groups:
        if expected.get((path, sha, load_id)) != n:
            return None, f"{path} (load {load_id}): {n} new rows, not what the ledger says"
    if result.rows_loaded != total:
        return None, f"the ledger says {result.rows_loaded} rows loaded, {table} holds {total}"
    result.raw_rows = total
    result.rows_scanned = new_rows
    result.raw_scan = SCAN_NEW_ROWS if new_rows else SCAN_CARRIED
    result.latest_loaded_at = max(
        [t for t in (verified_newest, *(g[4] for g in groups)) if t is not None], default=None
    )
    return result, ""


def check_object(
    con: duckdb.DuckDBPyConnection,
    obj: ExportObject,
    *,
    full_recheck: bool = False,
    max_age_days: int = 7,
    now: dt.datetime | None = None,
) -> Reconciliation:
    """`reconcile_object`, reading only what changed since the last passing check of `obj`
    (module docstring), and recording this check in `raw._reconciled` when it passes (a
    failing one erases the record: the next check reads every row again). Needs a read-write
    connection to a warehouse `ensure_warehouse` prepared."""
    now = now or dt.datetime.now(dt.UTC)
    record = con.execute(
        f"select raw_rows, newest_loaded_at, removals, full_checked_at from {RECONCILED_TABLE} "
        "where raw_table = ?",
        [obj.raw_table],
    ).fetchone()
    removals = _removals(con, obj)
    result: Reconciliation | None = None
    if full_recheck:
        why = "a full re-check was asked for"
    elif record is None:
        why = "no passing check recorded"
    elif now - record[3] >= dt.timedelta(days=max_age_days):
        why = f"last full check {max_age_days}+ day(s) ago"
    elif record[2] != removals:
        why = "rows were removed since the last check (forget_file)"
    else:
        result, why = _scoped(con, obj, record[0], record[1])
    if result is None:
        result = reconcile_object(con, obj)
        result.full_reason = why
        result.full_checked_at = now
    else:
        result.full_checked_at = record[3]
    if result.ok and result.raw_scan == SCAN_CARRIED:
        pass  # the record already says all of it: a write per unchanged object saved
    elif result.ok:
        con.execute(
            f"insert or replace into {RECONCILED_TABLE} values (?, ?, ?, ?, ?, ?)",
            [
                obj.raw_table,
                result.raw_rows,
                result.latest_loaded_at,
                removals,
                result.full_checked_at,
                now,
            ],
        )
    else:
        con.execute(f"delete from {RECONCILED_TABLE} where raw_table = ?", [obj.raw_table])
    return result


def reconcile_warehouse(warehouse: Path, objects: list[ExportObject]) -> list[Reconciliation]:
    """`reconcile_object` for each of `objects`, on one read-only connection."""
    con = duckdb.connect(str(warehouse), read_only=True, config=duckdb_config())
    try:
        return [reconcile_object(con, obj) for obj in objects]
    finally:
        con.close()
