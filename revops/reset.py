"""`revops reset`: remove the warehouse and the published snapshots, never the landing folder.

What is removed is what the refresh writes: the warehouse file with its write-ahead log and the
files it keeps beside it, and in the serving folder the served database, its report, the kept
snapshots and the publish bookkeeping. Anything else in those folders stays. The next refresh
then loads every landing file again into a new warehouse.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from revops import checks, publish, runs

# Beside the warehouse: dbt's node timings of the last build (orchestration/defs/transform/
# assets.py RUN_RESULTS_FILE), the explained checks, the link to the latest dbt log, and the
# run history with the kept per-run logs (revops/runs.py: its runs describe snapshots that a
# reset removes).
WAREHOUSE_SIDECARS = ("dbt_run_results.json", checks.CHECKS_FILE, "refresh.log", runs.RUNS_DIR)
SERVING_ENTRIES = (
    publish.SERVING_FILE,
    publish.REPORT_FILE,
    publish.SNAPSHOT_DIR,
    publish.SERVED_DIR,
    publish.CURRENT_LINK,
    publish.LOCK_FILE,
    publish.LATEST_REFRESH_FILE,
)


def reset_targets(warehouse: Path, serving: Path) -> list[Path]:
    """The paths `revops reset` removes that exist now."""
    candidates = [warehouse, warehouse.with_name(warehouse.name + ".wal")]
    candidates += [warehouse.with_name(name) for name in WAREHOUSE_SIDECARS]
    candidates += [serving / name for name in SERVING_ENTRIES]
    return [p for p in candidates if p.exists() or p.is_symlink()]


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_landing_kept(targets: list[Path], landing: Path) -> None:
    """ValueError when removing `targets` would touch the landing folder."""
    landing = landing.resolve()
    for target in targets:
        resolved = target.resolve() if not target.is_symlink() else target.absolute()
        if _within(resolved, landing) or _within(landing, resolved):
            raise ValueError(
                f"not removing {target}: the landing folder {landing} is, or holds, it "
                "(reset never touches the landing folder)"
            )


def check_not_in_use(warehouse: Path) -> None:
    """ValueError when another process holds the warehouse (a refresh, a notebook): removing
    the file under it would lose that process's work."""
    if not warehouse.is_file():
        return
    import duckdb

    try:
        duckdb.connect(str(warehouse), read_only=True).close()
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            raise ValueError(
                f"not removing {warehouse}: another process holds it ({str(exc).splitlines()[0]})"
            ) from exc
        # not a DuckDB file we can open (damaged, another version): removing it is the point


def remove(targets: list[Path]) -> None:
    for target in targets:
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink()


def run_reset(
    landing: Path, warehouse: Path, serving: Path, console: Console, yes: bool = False
) -> int:
    """List what would be removed, ask (unless `yes`), remove it. Exit code: 0 removed or
    nothing to remove, 1 not confirmed; ValueError when the landing folder is in the way."""
    targets = reset_targets(warehouse, serving)
    if not targets:
        console.print(f"Nothing to remove: no warehouse at {warehouse}, no snapshot in {serving}.")
        return 0
    check_landing_kept(targets, landing)
    check_not_in_use(warehouse)
    console.print("revops reset removes:")
    for target in targets:
        folder = target.is_dir() and not target.is_symlink()
        console.print(f"  {escape(str(target))}{'/' if folder else ''}")
    console.print(f"and keeps the landing folder {escape(str(landing))}.")
    if not yes:
        if not sys.stdin.isatty():
            console.print("[red]Nothing removed:[/] not a terminal; pass --yes to remove.")
            return 1
        answer = console.input("Remove them? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            console.print("Nothing removed.")
            return 1
    remove(targets)
    console.print(
        f"Removed {len(targets)} path(s). The next `revops refresh` loads every landing file again."
    )
    return 0
