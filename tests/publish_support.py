"""Small synthetic warehouses and report builders for the publishing tests: one mart table, no
dbt, so a publish takes a fraction of a second and a child process can be killed mid-step."""

from __future__ import annotations

import errno
import json
import sys
import time
from pathlib import Path

import duckdb

from revops import publish

MART = publish.MartTable("mrr_by_month", "One row per month.", (publish.MartColumn("mrr"),))


def make_warehouse(path: Path, rows: int = 3) -> Path:
    """A warehouse with one mart table (`main.mrr_by_month`, `rows` rows) and no ledger."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "create table main.mrr_by_month as "
            f"select range as month_number, range * 10 as mrr from range({rows})"
        )
    finally:
        con.close()
    return path


def snapshot_id_of(database: Path) -> str:
    con = publish.connect_read_only(database)
    try:
        return con.execute(f"select snapshot_id from {publish.SNAPSHOT_TABLE}").fetchone()[0]
    finally:
        con.close()


def page(snapshot_id: str, body: str = "") -> str:
    return (
        f'<!DOCTYPE html><html><head><meta name="{publish.REPORT_META}" '
        f'content="{snapshot_id}"><title>revops report - {snapshot_id}</title></head>'
        f"<body>report of {snapshot_id}{body}</body></html>\n"
    )


def fake_report(snapshot_db: Path, out: Path, failed_refresh: dict | None = None) -> None:
    """A report read from the snapshot it describes, as build_report does (its id only)."""
    banner = ""
    if failed_refresh:
        banner = f"<p>Latest refresh did not publish: {failed_refresh['run_id']}</p>"
    Path(out).write_text(page(snapshot_id_of(snapshot_db), banner))


def half_written(out: Path) -> None:
    """The first half of a report, as a writer that stops midway leaves it."""
    with open(out, "w") as handle:
        handle.write("<!DOCTYPE html><html><head><title>revops report - half")
        handle.flush()


def disk_full_report(snapshot_db: Path, out: Path, failed_refresh: dict | None = None) -> None:
    """A report writer that runs out of disk halfway through the file."""
    half_written(out)
    raise OSError(errno.ENOSPC, "No space left on device", str(out))


def served_pair(serving: Path) -> tuple[str | None, str | None]:
    """(the snapshot id inside `<serving>/revops.duckdb`, the id `<serving>/report.html`
    names), read the way readers find them: through the documented paths."""
    database, report = serving / publish.SERVING_FILE, serving / publish.REPORT_FILE
    return (
        snapshot_id_of(database) if database.exists() else None,
        publish.report_snapshot_id(report),
    )


def files_under(serving: Path) -> set[str]:
    """Every file and folder in the serving folder but the lock file, as relative paths."""
    return {str(p.relative_to(serving)) for p in serving.rglob("*") if p.name != publish.LOCK_FILE}


def child_publish(
    warehouse: str, serving: str, block_at: str, ready: str, delta_min_rows: str = ""
) -> None:
    """Publish in this (child) process and block forever at `block_at`, after touching `ready`:
    `report` blocks inside the report writer with half the file written; any other value
    blocks at the publish step whose message starts with it. `delta_min_rows`: the smallest
    mart updated by its changed rows (default publish.DELTA_MIN_ROWS)."""

    def block() -> None:
        Path(ready).touch()
        time.sleep(600)

    def report(snapshot_db: Path, out: Path) -> None:
        if block_at == "report":
            half_written(out)
            block()
        fake_report(snapshot_db, out)

    def on_step(message: str) -> None:
        if message.startswith(block_at):
            block()

    publish.publish_snapshot(
        Path(warehouse),
        Path(serving),
        [MART],
        run_id="child",
        report=report,
        on_step=on_step,
        delta_min_rows=int(delta_min_rows) if delta_min_rows else None,
    )
    Path(ready).write_text(json.dumps({"finished": True}))


if __name__ == "__main__":
    child_publish(*sys.argv[1:])
