"""Reading the load ledger: the open failed files (the failed-file policy, docs/INGESTION.md)
and what one run's ledger rows add up to (the refresh summary)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from revops.contract import ExportObject
from revops.ingest.summary import DUPLICATE, FAILED, LOADED
from revops.ingest.warehouse import LEDGER_TABLE
from revops.settings import duckdb_config


def open_failures_sql(table: str = LEDGER_TABLE, where: str = "true") -> str:
    """The open failed files of ledger `table` (rows matching `where`): source, object,
    file_path, error, load_id, finished_at. A path's latest attempt is its newest finish, then
    its newest start (a run records a path once, so ties do not happen; the order is total)."""
    return f"""
select source, object, file_path, error, load_id, finished_at
from {table}
where {where}
qualify row_number() over (
        partition by source, object, file_path order by finished_at desc, started_at desc
    ) = 1
    and status = '{FAILED}'
order by source, object, file_path
"""


@dataclass(frozen=True)
class OpenFailure:
    """A landing file whose latest ledger row is `failed`: reported on every run (CLI, Dagster
    check, report) until a later `loaded` or `duplicate` row for its path, or `forget_file`."""

    source: str
    object: str
    file_path: str
    error: str
    load_id: str
    failed_at: dt.datetime

    @property
    def folder(self) -> str:
        return f"{self.source}/{self.object}"

    @property
    def message(self) -> str:
        """`<file>: <problem>`, as every ingestion error reads."""
        return f"{self.file_path}: {self.error}"


def open_failures(
    con: duckdb.DuckDBPyConnection, obj: ExportObject | None = None
) -> list[OpenFailure]:
    """Every open failed file (of `obj`, or of every object), by object and path."""
    where, params = ("source = ? and object = ?", [obj.source, obj.name]) if obj else ("true", [])
    rows = con.execute(open_failures_sql(where=where), params).fetchall()
    return [OpenFailure(*row) for row in rows]


def _ledger_exists(con: duckdb.DuckDBPyConnection) -> bool:
    schema, table = LEDGER_TABLE.split(".")
    (present,) = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(present)


def read_open_failures(warehouse: Path, obj: ExportObject | None = None) -> list[OpenFailure]:
    """`open_failures` of a warehouse file (none when the file or its ledger does not exist).

    Opens a read-write connection: DuckDB cannot mix read-only and read-write connections to
    one file in a process, and the pipeline's own connections are read-write."""
    if not Path(warehouse).is_file():
        return []
    with duckdb.connect(str(warehouse), config=duckdb_config()) as con:
        return open_failures(con, obj) if _ledger_exists(con) else []


@dataclass
class LedgerCounts:
    """What the ledger rows of some loads (`load_ids`: one refresh's) add up to. Each count is
    one SQL aggregate in `COUNTS`; a new count is one entry there and one field here."""

    load_ids: list[str]
    files_loaded: int = 0
    files_duplicate: int = 0
    files_failed: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_quarantined: int = 0


# field of LedgerCounts -> its aggregate over the runs' ledger rows. Rows count for `loaded`
# files only (a duplicate or failed file has none in raw); zero rows sum to 0, not null.
COUNTS: dict[str, str] = {
    "files_loaded": f"count(*) filter (where status = '{LOADED}')",
    "files_duplicate": f"count(*) filter (where status = '{DUPLICATE}')",
    "files_failed": f"count(*) filter (where status = '{FAILED}')",
    "rows_loaded": f"coalesce(sum(rows_loaded) filter (where status = '{LOADED}'), 0)",
    "rows_rejected": f"coalesce(sum(rows_rejected) filter (where status = '{LOADED}'), 0)",
    "rows_quarantined": f"coalesce(sum(rows_quarantined) filter (where status = '{LOADED}'), 0)",
}


def ledger_counts(con: duckdb.DuckDBPyConnection, load_ids: Sequence[str]) -> LedgerCounts:
    """The `COUNTS` of the ledger rows whose load_id is one of `load_ids`."""
    out = LedgerCounts(load_ids=list(load_ids))
    if not load_ids:
        return out
    marks = ", ".join("?" for _ in load_ids)
    columns = ", ".join(f"{sql} as {name}" for name, sql in COUNTS.items())
    row = con.execute(
        f"select {columns} from {LEDGER_TABLE} where load_id in ({marks})", list(load_ids)
    ).fetchone()
    for name, value in zip(COUNTS, row, strict=True):
        setattr(out, name, int(value))
    return out


def run_load_ids(con: duckdb.DuckDBPyConnection, run_id: str) -> list[str]:
    """The load ids of one Dagster run: each ingestion asset loads with id
    `<UTC time>Z-<run id>` (`new_load_id(suffix=run_id)`)."""
    rows = con.execute(
        f"select distinct load_id from {LEDGER_TABLE} where load_id like ? escape '\\' "
        "order by load_id",
        ["%Z-" + run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")],
    ).fetchall()
    return [r[0] for r in rows]


def strict_refusal(failures: Sequence[OpenFailure]) -> str:
    """Why a strict refresh does not publish: the open failed files, one per line."""
    lines = [
        f"not published (strict): {len(failures)} open failed file(s); deliver a corrected "
        "file, or forget_file() it, to publish again (docs/INGESTION.md)"
    ]
    return "\n".join([*lines, *(f"  {f.message}" for f in failures)])


def read_run_counts(warehouse: Path, run_id: str) -> LedgerCounts:
    """`ledger_counts` of the loads of Dagster run `run_id` in a warehouse file."""
    if not Path(warehouse).is_file():
        return LedgerCounts(load_ids=[])
    with duckdb.connect(str(warehouse), config=duckdb_config()) as con:
        if not _ledger_exists(con):
            return LedgerCounts(load_ids=[])
        return ledger_counts(con, run_load_ids(con, run_id))
