"""Times revops ingestion of a landing folder against a bare DuckDB load of the same files.

    python -m bench.ingest_bench --landing data/landing [--repeat 3] [--objects salesforce/Lead]
    python -m bench.ingest_bench --make-big /tmp/big --rows 1000000   # million-row files

"ours" is `revops.ingest.ingest_landing(objects=[obj])` into a fresh warehouse (discovery,
sha256, checks, lineage, ledger, rejects), per object; "bare" is, per object, into another fresh
file (both timed up to and including closing the file, i.e. its checkpoint):

    create table t as select * from read_csv([<every file of the object>], all_varchar = true,
        ignore_errors = true)        -- JSON Lines: read_json([...], ignore_errors = true)

with `union_by_name = true` added when the files' headers differ. `all_varchar` gives bare the
same text columns as raw; `ignore_errors` lets it finish on dirty files (dropping bad rows,
which ours keeps in raw._rejects). The last line is one `ingest_landing` of every object into
one warehouse against the sum of the bare loads. Each figure is the best of `--repeat` runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from revops.contract import ExportObject
from revops.ingest import ingest_landing, resolve_objects, scan_object


@dataclass
class Timing:
    object: str
    files: int
    mbytes: float
    rows: int
    ours_s: float
    bare_s: float
    bare_mode: str

    @property
    def ratio(self) -> float:
        return self.ours_s / self.bare_s if self.bare_s else float("nan")


def _fresh(path: Path) -> Path:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)
    return path


def time_ours(landing: Path, warehouse: Path, objects: Sequence[ExportObject]) -> tuple[float, int]:
    """Seconds (connection closed) and rows loaded of one ingest_landing into a fresh file."""
    clock = time.perf_counter()
    summary = ingest_landing(landing, _fresh(warehouse), objects)
    seconds = time.perf_counter() - clock
    if not summary.ok:
        print(f"note: {len(summary.errors)} file(s) failed (expected on --dirty data)")
    return seconds, summary.rows_loaded


def time_bare(landing: Path, warehouse: Path, obj: ExportObject) -> tuple[float, str]:
    """Seconds of the bare load of every file of `obj` (listing included), and its mode."""
    if obj.format == "csv":
        reader, options = "read_csv", "all_varchar = true, ignore_errors = true"
    else:
        reader, options = "read_json", "ignore_errors = true"
    sql = f"create table t as select * from {reader}(?, {options}{{union}})"
    for union, mode in (("", reader), (", union_by_name = true", f"{reader} union_by_name")):
        clock = time.perf_counter()
        files = sorted(str(p) for p in (landing / obj.source / obj.name).glob("*/*") if p.is_file())
        if not files:
            return 0.0, "no files"
        con = duckdb.connect(str(_fresh(warehouse)))
        try:
            con.execute(sql.format(union=union), [files])
        except duckdb.Error:
            # The files' columns differ (a renamed column, say): read them by name instead,
            # and time only that attempt.
            continue
        finally:
            con.close()
        return time.perf_counter() - clock, mode
    raise RuntimeError(f"bare load of {obj.folder} failed")


def run(landing: Path, objects: Sequence[ExportObject], repeat: int, work: Path) -> list[Timing]:
    best_ours: dict[str, tuple[float, int]] = {}
    best_bare: dict[str, tuple[float, str]] = {}
    for i in range(repeat):
        print(f"run {i + 1}/{repeat} ...", file=sys.stderr)
        whole = time_ours(landing, work / "ours.duckdb", objects)
        if "__all__" not in best_ours or whole[0] < best_ours["__all__"][0]:
            best_ours["__all__"] = whole
        for obj in objects:
            ours = time_ours(landing, work / "ours.duckdb", [obj])
            if obj.folder not in best_ours or ours[0] < best_ours[obj.folder][0]:
                best_ours[obj.folder] = ours
            seconds, mode = time_bare(landing, work / "bare.duckdb", obj)
            if obj.folder not in best_bare or seconds < best_bare[obj.folder][0]:
                best_bare[obj.folder] = (seconds, mode)
    timings = []
    for obj in objects:
        files = scan_object(landing, obj)
        timings.append(
            Timing(
                object=obj.folder,
                files=len(files),
                mbytes=round(sum(f.size for f in files) / 1e6, 1),
                rows=best_ours[obj.folder][1],
                ours_s=round(best_ours[obj.folder][0], 3),
                bare_s=round(best_bare[obj.folder][0], 3),
                bare_mode=best_bare[obj.folder][1],
            )
        )
    timings.append(
        Timing(
            object="total (sum of objects)",
            files=sum(t.files for t in timings),
            mbytes=round(sum(t.mbytes for t in timings), 1),
            rows=sum(t.rows for t in timings),
            ours_s=round(sum(t.ours_s for t in timings), 3),
            bare_s=round(sum(t.bare_s for t in timings), 3),
            bare_mode="",
        )
    )
    wall, rows = best_ours["__all__"]
    timings.append(
        Timing(
            "total (one ingest_landing run)",
            timings[-1].files,
            timings[-1].mbytes,
            rows,
            round(wall, 3),
            timings[-1].bare_s,
            "",
        )
    )
    return timings


def print_table(timings: Sequence[Timing]) -> None:
    header = (
        f"{'object':<34}{'files':>7}{'MB':>8}{'rows':>11}{'ours s':>9}{'bare s':>9}{'ratio':>7}"
    )
    print(header)
    print("-" * len(header))
    for t in timings:
        if t.object.startswith("total") and "sum" in t.object:
            print("-" * len(header))
        print(
            f"{t.object:<34}{t.files or '':>7}{t.mbytes or '':>8}{t.rows or '':>11}"
            f"{t.ours_s:>9.3f}{t.bare_s:>9.3f}{t.ratio:>7.2f}"
        )


def make_big(out: Path, rows: int) -> None:
    """A landing folder of one big file per format: salesforce/Lead (CSV) and
    stripe/invoice_line_items (JSON Lines), `rows` rows each, written by DuckDB."""
    lead = out / "salesforce" / "Lead" / "2025-03-01"
    lines = out / "stripe" / "invoice_line_items" / "2025-03-01"
    for folder in (lead, lines):
        folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(
        f"""
        copy (
            select
                '00Q5g00000' || lpad(i::varchar, 8, '0') as "Id",
                'First' || (i % 97) as "FirstName",
                'Last, ' || (i % 1013) as "LastName",
                'p' || i || '@example.com' as "Email",
                'Company ' || (i % 5000) as "Company",
                'Open - Not Contacted' as "Status",
                '0055g00000' || lpad((i % 50)::varchar, 8, '0') as "OwnerId",
                i % 10000 as "NumberOfEmployees",
                '2025-03-01T10:00:00.000Z' as "CreatedDate",
                '2025-03-01T12:00:00.000Z' as "LastModifiedDate",
                'false' as "IsConverted",
                'false' as "IsDeleted"
            from range(1, {rows} + 1) as t(i)
        ) to '{lead / "Lead.csv"}' (format csv, header true)
        """
    )
    con.execute(
        f"""
        copy (
            select
                'il_' || lpad(i::varchar, 14, '0') as id,
                'line_item' as object,
                'in_' || lpad((i // 3)::varchar, 14, '0') as invoice,
                'sub_' || lpad((i % 5000)::varchar, 14, '0') as subscription,
                'subscription' as type,
                {{'id': 'price_' || (i % 40), 'currency': 'usd', 'unit_amount': 1000 + i % 900,
                  'recurring': {{'interval': 'month', 'interval_count': 1}}}} as price,
                1 + i % 50 as quantity,
                1000 + i % 900000 as amount,
                'usd' as currency,
                false as proration,
                {{'start': 1700000000 + i, 'end': 1702592000 + i}} as period
            from range(1, {rows} + 1) as t(i)
        ) to '{lines / "invoice_line_items.jsonl"}' (format json)
        """
    )
    con.close()
    print(f"wrote {out} ({rows:,} rows per file)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_bench", description=__doc__)
    parser.add_argument("--landing", type=Path, help="landing folder to ingest")
    parser.add_argument("--objects", nargs="*", help="object folders (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (best is kept)")
    parser.add_argument("--work", type=Path, help="folder for the scratch warehouses")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--make-big", type=Path, metavar="DIR", help="write a big-file landing")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per file for --make-big")
    args = parser.parse_args(argv)
    if args.make_big:
        make_big(args.make_big, args.rows)
        return 0
    if not args.landing:
        parser.error("--landing is required (or --make-big)")
    all_objects = resolve_objects(args.objects)
    objects = [o for o in all_objects if scan_object(args.landing, o) or args.objects]
    work = args.work or Path(tempfile.mkdtemp(prefix="ingest_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        timings = run(args.landing, objects, args.repeat, work)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print_table(timings)
    if args.json:
        args.json.write_text(
            json.dumps([{**asdict(t), "ratio": round(t.ratio, 3)} for t in timings], indent=2)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
