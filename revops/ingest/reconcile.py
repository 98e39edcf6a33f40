"""The ingestion invariant, checked before anything downstream may be published.

For every file whose latest attempt loaded: rows read = rows loaded + rows rejected + rows
quarantined; rows read = rows counted (the probe's own count, which does not use DuckDB's
parser); and the raw table holds exactly the rows the ledger says were loaded, file by file. A
raw row lost or added behind the ledger's back (a manual delete, a half-restored backup) fails
the check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from revops.contract import ExportObject
from revops.ingest.warehouse import LEDGER_TABLE, RAW_SCHEMA, literal, raw_table
from revops.settings import duckdb_config

MAX_PROBLEMS = 20


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

    @property
    def ok(self) -> bool:
        return not self.problems


def reconcile_object(con: duckdb.DuckDBPyConnection, obj: ExportObject) -> Reconciliation:
    """Check `obj`'s raw table against the ledger (read-only; any open connection works)."""
    result = Reconciliation(object=f"{obj.source}/{obj.name}")
    table = raw_table(obj)
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
        [RAW_SCHEMA, obj.raw_table],
    ).fetchone()[0]
    ledger = con.execute(
        f"""
        select file_path, file_sha256, load_id, rows_read, rows_loaded, rows_rejected,
            rows_counted, delivery_date, coalesce(rows_quarantined, 0)
        from {LEDGER_TABLE}
        where source = {literal(obj.source)} and object = {literal(obj.name)}
            and status = 'loaded'
        """
    ).fetchall()
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
    expected_keys = set()
    for path, sha, load_id, read, loaded, rejected, counted, delivered, quarantined in ledger:
        result.files += 1
        if delivered and (
            not result.latest_delivery_date or delivered > result.latest_delivery_date
        ):
            result.latest_delivery_date = delivered
        result.rows_read += read or 0
        result.rows_loaded += loaded
        result.rows_rejected += rejected
        result.rows_quarantined += quarantined
        expected_keys.add((path, sha, load_id))
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
        got = raw_counts.get((path, sha, load_id), 0)
        if got != loaded:
            result.problems.append(
                f"{path} (load {load_id}): the ledger says {loaded} rows loaded, {table} holds "
                f"{got}"
            )
    for (path, _sha, load_id), n in raw_counts.items():
        result.raw_rows += n
        if (path, _sha, load_id) not in expected_keys:
            result.problems.append(
                f"{path} (load {load_id}): {n} rows in {table} without a loaded ledger entry"
            )
    if len(result.problems) > MAX_PROBLEMS:
        more = len(result.problems) - MAX_PROBLEMS
        result.problems = [*result.problems[:MAX_PROBLEMS], f"... and {more} more"]
    return result


def reconcile_warehouse(warehouse: Path, objects: list[ExportObject]) -> list[Reconciliation]:
    """`reconcile_object` for each of `objects`, on one read-only connection."""
    con = duckdb.connect(str(warehouse), read_only=True, config=duckdb_config())
    try:
        return [reconcile_object(con, obj) for obj in objects]
    finally:
        con.close()
