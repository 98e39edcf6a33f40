"""The `raw` schema of the warehouse: raw tables, the load ledger, the rejects, and SQL helpers."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from revops import contract
from revops.contract import ExportObject
from revops.ingest.summary import FAILED, LOADED
from revops.settings import duckdb_config

RAW_SCHEMA = "raw"
LEDGER_TABLE = f"{RAW_SCHEMA}._load_ledger"
REJECTS_TABLE = f"{RAW_SCHEMA}._rejects"
# Rows held back from their raw table because a value cannot be cast to its contract type or a
# required value is empty: one row per (row, failing column), the whole row kept as JSON.
QUARANTINE_TABLE = f"{RAW_SCHEMA}._quarantine"
# Raw rows deleted after they were loaded (`forget_file`): incremental dbt models built before
# such a removal may hold rows derived from them, so the next build rebuilds them.
REMOVALS_TABLE = f"{RAW_SCHEMA}._raw_rows_removed"
# The last passing reconciliation of each raw table (revops/ingest/reconcile.py
# `check_object`): what it verified, so that the next check scans only the rows loaded since.
RECONCILED_TABLE = f"{RAW_SCHEMA}._reconciled"

# Appended to every raw table: where each row came from. Names start with `_` so that they
# cannot clash with an export's columns (no contract column starts with one).
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_file_path", "VARCHAR"),
    ("_file_sha256", "VARCHAR"),
    ("_row_number", "BIGINT"),
    ("_delivery_date", "DATE"),
    ("_load_id", "VARCHAR"),
    ("_loaded_at", "TIMESTAMPTZ"),
)
LINEAGE_NAMES = frozenset(name for name, _ in LINEAGE_COLUMNS)

LEDGER_DDL = f"""
create table if not exists {LEDGER_TABLE} (
    load_id varchar not null,
    source varchar not null,
    object varchar not null,
    raw_table varchar not null,
    file_path varchar not null,
    delivery_date date,
    file_sha256 varchar not null,
    file_bytes bigint not null,
    file_mtime_ns bigint,
    status varchar not null check (status in ('loaded', 'duplicate', 'failed')),
    is_new_version boolean not null,
    previous_sha256 varchar,
    duplicate_of varchar,
    rows_read bigint,
    rows_loaded bigint not null,
    rows_rejected bigint not null,
    extra_columns varchar[],
    missing_columns varchar[],
    error varchar,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    rows_counted bigint,
    rows_quarantined bigint
)
"""
# Columns added to the ledger after its first release, created in older warehouses too (last,
# so that old and new ledgers have the same layout).
LEDGER_ADDED_COLUMNS = (("rows_counted", "bigint"), ("rows_quarantined", "bigint"))

REJECTS_DDL = f"""
create table if not exists {REJECTS_TABLE} (
    load_id varchar not null,
    source varchar not null,
    object varchar not null,
    file_path varchar not null,
    file_sha256 varchar not null,
    line_number bigint,
    row_number bigint,
    column_name varchar,
    error_type varchar not null,
    error varchar not null,
    raw_line varchar,
    rejected_at timestamptz not null
)
"""


QUARANTINE_DDL = f"""
create table if not exists {QUARANTINE_TABLE} (
    load_id varchar not null,
    source varchar not null,
    object varchar not null,
    raw_table varchar not null,
    file_path varchar not null,
    file_sha256 varchar not null,
    row_number bigint not null,
    line_number bigint,
    column_name varchar not null,
    value varchar,
    rule varchar not null,
    message varchar not null,
    key_value varchar,
    row_json varchar not null,
    quarantined_at timestamptz not null,
    released_at timestamptz,
    released_by_file varchar,
    released_load_id varchar
)
"""


REMOVALS_DDL = f"""
create table if not exists {REMOVALS_TABLE} (
    raw_table varchar not null,
    file_path varchar not null,
    rows_removed bigint not null,
    removed_at timestamptz not null
)
"""


RECONCILED_DDL = f"""
create table if not exists {RECONCILED_TABLE} (
    raw_table varchar primary key,
    raw_rows bigint not null,
    newest_loaded_at timestamptz,
    removals varchar not null,
    full_checked_at timestamptz not null,
    -- the check that wrote this record (one that found nothing new leaves it as it is)
    checked_at timestamptz not null
)
"""


def ident(name: str) -> str:
    """A SQL identifier for any column name as delivered (dots, case, quotes included)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def raw_table(obj: ExportObject) -> str:
    return f"{RAW_SCHEMA}.{ident(obj.raw_table)}"


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A read-write connection to the warehouse file (created with its folder if missing).

    DuckDB allows one writing process per file: while this connection is open, any other
    process fails with "Could not set lock on file"; the Dagster assets retry on that error.
    """
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse), config=duckdb_config())
    # The loader numbers rows by their position in a freshly read temp table, which needs the
    # scan order kept (DuckDB's default; set here so that no configuration can turn it off).
    con.execute("set preserve_insertion_order = true")
    return con


class SharedConnection:
    """One read-write warehouse connection for the ingestion steps of one run that execute one
    after the other in one process (Dagster's in-process executor: `revops refresh`).

    Opening the warehouse file and closing it (a checkpoint) cost tens of milliseconds, once
    per object step before; DuckDB keeps a file's database open while a connection to it is.
    `acquire` opens the connection for the first of `steps` (the run's ingestion step keys)
    and hands the same one to the others; `release` closes it once every one of them has
    released it, or at once when a step failed (a retried or later step opens it again): the
    file is free before the next step that is not an ingestion step (dbt, the publish) runs.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, str] | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._steps: frozenset[str] = frozenset()
        self._done: set[str] = set()
        self.prepared = False  # `ensure_warehouse` ran on the open connection
        self.opened = 0  # connections opened (tests, the step's metadata)

    def acquire(
        self, run_id: str, warehouse: Path, steps: Iterable[str]
    ) -> duckdb.DuckDBPyConnection:
        with self._lock:
            key = (run_id, str(warehouse))
            if key != self._key:
                self._close()
                self._key, self._steps, self._done = key, frozenset(steps), set()
            if self._con is None:
                self._con = connect(warehouse)
                self.prepared = False
                self.opened += 1
            return self._con

    def release(self, step: str, *, failed: bool = False, retried: bool = False) -> None:
        """`step` is done with the connection. `failed`: it raised, and the connection is
        closed (a later step opens a new one); `retried`: it will run again, so it is not done
        yet."""
        with self._lock:
            if not retried:
                self._done.add(step)
            if failed or self._steps <= self._done:
                self._close()

    def close(self) -> None:
        with self._lock:
            self._close()
            self._key = None

    @property
    def is_open(self) -> bool:
        return self._con is not None

    def _close(self) -> None:
        if self._con is not None:
            con, self._con = self._con, None
            self.prepared = False
            con.close()


def ensure_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema, the ledger, the rejects and quarantine tables and every object's
    raw table.

    Every raw table exists from the first run on, delivered or not, so that the dbt sources
    always resolve (an object without files is an empty table, not a missing one).
    """
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(LEDGER_DDL)
    for name, sql_type in LEDGER_ADDED_COLUMNS:
        con.execute(f"alter table {LEDGER_TABLE} add column if not exists {name} {sql_type}")
    con.execute(REJECTS_DDL)
    con.execute(QUARANTINE_DDL)
    con.execute(REMOVALS_DDL)
    con.execute(RECONCILED_DDL)
    # One catalog query for every raw table (one per object costs ~1 ms each, and every
    # ingestion step calls this).
    existing: dict[str, list[str]] = {}
    for table, column in con.execute(
        "select table_name, column_name from duckdb_columns() "
        "where schema_name = ? order by table_name, column_index",
        [RAW_SCHEMA],
    ).fetchall():
        if column not in LINEAGE_NAMES:
            existing.setdefault(table, []).append(column)
    for obj in contract.OBJECTS:
        ensure_raw_table(con, obj, existing.get(obj.raw_table, []))


def table_columns(con: duckdb.DuckDBPyConnection, obj: ExportObject) -> list[str]:
    """The data columns of the object's raw table (contract and extra), lineage excluded; none
    when the table does not exist."""
    try:
        # one table's catalog entry (duckdb_columns() lists every column of every table: the
        # warehouse's hundreds of models too, several times slower)
        rows = con.execute(
            "select name from pragma_table_info(?) order by cid", [raw_table(obj)]
        ).fetchall()
    except duckdb.CatalogException:
        return []
    return [r[0] for r in rows if r[0] not in LINEAGE_NAMES]


def ensure_raw_table(
    con: duckdb.DuckDBPyConnection, obj: ExportObject, columns: list[str] | None = None
) -> list[str]:
    """Create the object's raw table (every contract column as VARCHAR, then lineage).

    A contract column missing from an existing table (the contract grew) is added. Returns the
    table's data columns. `columns`: the table's data columns as the caller just read them
    (`table_columns`), to save the catalog query.
    """
    columns = table_columns(con, obj) if columns is None else columns
    if not columns:
        cols = [f"{ident(c)} VARCHAR" for c in obj.column_names]
        cols += [f"{ident(n)} {t}" for n, t in LINEAGE_COLUMNS]
        con.execute(f"create table if not exists {raw_table(obj)} ({', '.join(cols)})")
        return list(obj.column_names)
    missing = [c for c in obj.column_names if c not in columns]
    add_columns(con, obj, missing)
    return columns + missing


def add_columns(con: duckdb.DuckDBPyConnection, obj: ExportObject, names: Iterable[str]) -> None:
    for name in names:
        con.execute(f"alter table {raw_table(obj)} add column {ident(name)} VARCHAR")


@dataclass
class LedgerState:
    """What the ledger already knows about one object's files."""

    # (path, size, mtime_ns) of every handled file: such files are not even read again.
    fingerprints: set[tuple[str, int, int]] = field(default_factory=set)
    # sha256 -> path of the first file loaded with those bytes
    loaded_sha: dict[str, str] = field(default_factory=dict)
    # path -> sha256 of the latest version loaded from that path
    current_sha: dict[str, str] = field(default_factory=dict)
    # (path, sha256) of failed attempts: not retried unless asked to
    failed: set[tuple[str, str]] = field(default_factory=set)


def ledger_state(
    con: duckdb.DuckDBPyConnection, obj: ExportObject, retry_failed: bool = False
) -> LedgerState:
    state = LedgerState()
    rows = con.execute(
        f"select file_path, file_sha256, file_bytes, file_mtime_ns, status from {LEDGER_TABLE} "
        "where source = ? and object = ? order by finished_at, file_path",
        [obj.source, obj.name],
    ).fetchall()
    for path, sha, size, mtime_ns, status in rows:
        if status == FAILED:
            if retry_failed:
                continue
            state.failed.add((path, sha))
        if mtime_ns is not None:
            state.fingerprints.add((path, size, mtime_ns))
        if status == LOADED:
            state.loaded_sha.setdefault(sha, path)
            state.current_sha[path] = sha
    return state
