"""The `revops` command: generate a demo company, ingest exports, refresh, publish."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from revops import contract
from revops.generator.config import (
    DEFAULT_DAYS,
    DEFAULT_SEED,
    DEFAULT_START,
    SCALES,
    GeneratorConfig,
)

DEFAULT_DATA = Path("data")
LANDING_HELP = "landing folder (default $REVOPS_LANDING or data/landing)"
WAREHOUSE_HELP = "warehouse DuckDB file (default $REVOPS_WAREHOUSE or data/warehouse.duckdb)"


def _default_path(env: str, fallback: Path) -> Path:
    return Path(os.environ.get(env, str(fallback)))


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def build_parser() -> argparse.ArgumentParser:
    _scales = ", ".join(f"{k}={v:,}" for k, v in SCALES.items())
    parser = argparse.ArgumentParser(
        prog="revops",
        description="Sales Ops and RevOps metrics from CRM, marketing and billing exports.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = sub.add_parser(
        "generate",
        help="write a simulated SaaS company's exports into a landing folder",
        description="Simulate a B2B SaaS company and write its daily exports (docs/EXPORTS.md) "
        "and truth.json. Same arguments, byte-identical files.",
    )
    gen.add_argument(
        "--scale",
        choices=list(SCALES),
        default="s",
        help=f"size preset (leads: {_scales})",
    )
    gen.add_argument("--leads", type=int, help="target number of leads (overrides --scale)")
    gen.add_argument(
        "--start-date",
        type=_date,
        default=DEFAULT_START,
        help="first simulated day (default %(default)s)",
    )
    gen.add_argument(
        "--days",
        type=int,
        default=DEFAULT_DAYS,
        help="number of simulated days (default %(default)s)",
    )
    gen.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)"
    )
    gen.add_argument(
        "--dirty",
        action="store_true",
        help="add the faults real exports have (listed in truth.json)",
    )
    gen.add_argument(
        "--out", type=Path, help="landing folder (default $REVOPS_LANDING or data/landing)"
    )

    demo = sub.add_parser(
        "demo",
        help="generate the demo company and show what was generated",
        description="Generate the `s` company into the landing folder and summarise it.",
    )
    demo.add_argument("--scale", choices=list(SCALES), default="s")
    demo.add_argument("--out", type=Path, help=LANDING_HELP)
    demo.add_argument("--warehouse", type=Path, help=WAREHOUSE_HELP)

    ing = sub.add_parser(
        "ingest",
        help="load new delivery files from the landing folder into the warehouse",
        description="Load every delivery file not yet in the load ledger into "
        "raw.<source>__<object> (docs/INGESTION.md). Exits 1 if any file failed; the other "
        "files still load.",
    )
    ing.add_argument("--landing", type=Path, help=LANDING_HELP)
    ing.add_argument("--warehouse", type=Path, help=WAREHOUSE_HELP)

    sub.add_parser("contract", help="print the export contract as Markdown (docs/EXPORTS.md)")
    return parser


def _progress(console: Console):
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def run_generate(config: GeneratorConfig, console: Console):
    from revops.generator.run import generate

    with _progress(console) as progress:
        task = progress.add_task("simulating", total=1.0)

        def on_step(name: str, fraction: float) -> None:
            progress.update(task, completed=fraction, description=name)

        return generate(config, on_step)


def _summary(result, console: Console) -> None:
    truth = result.truth
    gen = truth["generator"]
    console.print(
        f"Generated [bold]{gen['start_date']} .. {gen['end_date']}[/] ({gen['days']} days, seed "
        f"{gen['seed']}{', dirty' if gen['dirty'] else ''}) into [bold]{result.out}[/] "
        f"in {result.seconds:.1f} s: {result.files:,} files."
    )
    table = Table(title="Rows written per export object", show_lines=False)
    table.add_column("object")
    table.add_column("files", justify="right")
    table.add_column("rows", justify="right")
    for folder, d in truth["deliveries"].items():
        table.add_row(folder, f"{d['files']:,}", f"{d['data_rows']:,}")
    console.print(table)
    totals = truth["totals"]
    t2 = Table(title="The simulated company (ground truth, truth.json)")
    t2.add_column("measure")
    t2.add_column("value", justify="right")
    for key, value in totals.items():
        t2.add_row(key.replace("_", " "), f"{value:,}" if isinstance(value, int) else str(value))
    console.print(t2)
    if truth["dirty"]:
        console.print("Faults added (--dirty): " + ", ".join(f["fault"] for f in truth["dirty"]))


INGEST_COLUMNS = (
    "object",
    "files_loaded",
    "files_duplicate",
    "files_failed",
    "files_unchanged",
    "rows_loaded",
    "rows_rejected",
)


def run_ingest(landing: Path, warehouse: Path, console: Console) -> bool:
    from revops.ingest import ingest_landing

    if not landing.is_dir():
        raise ValueError(f"landing folder {landing} does not exist")
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with console.status(f"ingesting {landing} into {warehouse}", spinner="dots"):
        summary = ingest_landing(landing, warehouse)
    rows = summary.to_rows()
    table = Table(title=f"Ingested {landing} into {warehouse} (load {summary.load_id})")
    for key in INGEST_COLUMNS:
        table.add_column(key.replace("_", " "), justify="left" if key == "object" else "right")
    for row in [*rows, summary.totals()] if rows else []:
        table.add_row(
            *(f"{row[k]:,}" if isinstance(row[k], int) else str(row[k]) for k in INGEST_COLUMNS)
        )
    console.print(table)
    for path in summary.unknown_paths:
        console.print(f"[yellow]warning:[/] {path} is not an object of the export contract")
    for error in summary.errors:
        console.print(f"[red]error:[/] {error}")
    return summary.ok


def run_build(warehouse: Path, console: Console) -> bool:
    """Build the dbt project into the warehouse and print headline figures from the marts."""
    import duckdb

    from revops.transform import dbt_build

    with console.status("building the dbt models and running their tests", spinner="dots"):
        result = dbt_build(warehouse)
    if not result.ok:
        console.print(result.output[-4000:])
        console.print(f"[red]error:[/] dbt build failed: {result.summary}")
        return False
    console.print(f"dbt build: {result.summary}")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(HEADLINE_SQL).fetchall()
    finally:
        con.close()
    table = Table(title="Headline metrics (all segments, last six months of history)")
    for name in ("month", "MRR", "ARR", "customers", "leads", "MQLs", "SQLs", "won", "close rate"):
        table.add_column(name, justify="left" if name == "month" else "right")
    for month, mrr, arr, customers, leads, mqls, sqls, won, lost in rows:
        rate = f"{won / (won + lost):.0%}" if won + lost else "-"
        table.add_row(
            str(month)[:7], f"{mrr:,.0f}", f"{arr:,.0f}", f"{customers:,}", f"{leads:,}",
            f"{mqls:,}", f"{sqls:,}", f"{won:,}", rate,
        )  # fmt: skip
    console.print(table)
    return True


# MRR from mrr_by_month; funnel counts by the month of each event (docs/METRICS.md).
HEADLINE_SQL = """
with
mrr as (
    select month, mrr, arr, customers from mrr_by_month where segment = 'All'
),
funnel as (
    select date_trunc('month', created_at) as month, count(*) as leads from fct_lead_funnel
    group by 1
),
mqls as (
    select date_trunc('month', mql_at) as month, count(*) as mqls from fct_lead_funnel
    where mql_at is not null group by 1
),
sqls as (
    select date_trunc('month', sql_at) as month, count(*) as sqls from fct_lead_funnel
    where sql_at is not null group by 1
),
closed as (
    select date_trunc('month', close_date) as month,
        count(*) filter (where is_won) as won,
        count(*) filter (where not is_won) as lost
    from fct_opportunities where is_closed group by 1
)
select mrr.month, mrr.mrr, mrr.arr, mrr.customers, coalesce(funnel.leads, 0),
    coalesce(mqls.mqls, 0), coalesce(sqls.sqls, 0), coalesce(closed.won, 0),
    coalesce(closed.lost, 0)
from mrr
left join funnel on funnel.month = mrr.month
left join mqls on mqls.month = mrr.month
left join sqls on sqls.month = mrr.month
left join closed on closed.month = mrr.month
order by mrr.month desc
limit 6
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    if not console.is_terminal:  # logs and pipes: wide enough that tables are not truncated
        console = Console(width=160)
    landing_default = _default_path("REVOPS_LANDING", DEFAULT_DATA / "landing")
    warehouse_default = _default_path("REVOPS_WAREHOUSE", DEFAULT_DATA / "warehouse.duckdb")
    try:
        if args.command == "contract":
            sys.stdout.write(contract.render_markdown() + "\n")
            return 0
        if args.command == "generate":
            leads = args.leads if args.leads is not None else SCALES[args.scale]
            config = GeneratorConfig(
                out=args.out or landing_default,
                leads=leads,
                start_date=args.start_date,
                days=args.days,
                seed=args.seed,
                dirty=args.dirty,
            )
            _summary(run_generate(config, console), console)
            return 0
        if args.command == "ingest":
            landing = args.landing or landing_default
            ok = run_ingest(landing, args.warehouse or warehouse_default, console)
            return 0 if ok else 1
        if args.command == "demo":
            landing = args.out or landing_default
            config = GeneratorConfig(out=landing, leads=SCALES[args.scale])
            _summary(run_generate(config, console), console)
            warehouse = args.warehouse or warehouse_default
            # the demo regenerates the company, so it starts from an empty warehouse too
            for stale in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
                stale.unlink(missing_ok=True)
            if not run_ingest(landing, warehouse, console):
                return 1
            return 0 if run_build(warehouse, console) else 1
    except (ValueError, OSError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
