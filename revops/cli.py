"""The `revops` command: generate a demo company, ingest exports, refresh, publish."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from revops import contract
from revops.generator import profiles
from revops.generator.config import (
    CRMS,
    DEFAULT_DAYS,
    DEFAULT_SEED,
    DEFAULT_START,
    SCALES,
    GeneratorConfig,
)
from revops.ingest.summary import unknown_path_warning
from revops.publish import PublishError

DEFAULT_DATA = Path("data")
LANDING_HELP = "landing folder (default $REVOPS_LANDING or data/landing)"
WAREHOUSE_HELP = "warehouse DuckDB file (default $REVOPS_WAREHOUSE or data/warehouse.duckdb)"
SERVING_HELP = "serving folder BI tools read (default $REVOPS_SERVING or data/serving)"


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
        "and truth.json. Same arguments, byte-identical files. With --until, only the "
        "deliveries up to that day; run it again with a later --until to add the next days of "
        "the same company (recorded in the folder's .revops-generator.json, whose arguments "
        "are the defaults then). A folder holding another company is refused.",
    )
    gen.add_argument(
        "--scale",
        choices=list(SCALES),
        default=None,
        help=f"size preset (leads: {_scales}; default s)",
    )
    gen.add_argument("--leads", type=int, help="target number of leads (overrides --scale)")
    gen.add_argument(
        "--start-date",
        type=_date,
        default=None,
        help=f"first simulated day (default {DEFAULT_START}, or the org profile's)",
    )
    gen.add_argument(
        "--days",
        type=int,
        default=None,
        help=f"number of simulated days (default {DEFAULT_DAYS}, or the org profile's)",
    )
    gen.add_argument("--seed", type=int, default=None, help=f"random seed (default {DEFAULT_SEED})")
    gen.add_argument(
        "--dirty",
        action="store_true",
        default=None,
        help="add the faults real exports have (listed in truth.json)",
    )
    gen.add_argument(
        "--org-profile",
        choices=list(profiles.PROFILES),
        default=None,
        help="how the org's exports look: "
        + "; ".join(f"{p.name}: {p.description}" for p in profiles.PROFILES.values())
        + f" (default {profiles.DEFAULT_PROFILE})",
    )
    gen.add_argument(
        "--crm",
        choices=list(CRMS),
        default=None,
        help="the CRM whose exports hold the company's leads, accounts and deals: salesforce "
        "(CSV, salesforce/) or hubspot (CRM v3 JSON Lines, hubspot/); the same company and "
        "truth.json either way (default salesforce)",
    )
    gen.add_argument(
        "--until",
        type=_date,
        default=None,
        metavar="DATE",
        help="write the deliveries up to this day (YYYY-MM-DD) only; again with a later day "
        "to add the next days of the same company (default: the last day of its history)",
    )
    gen.add_argument(
        "--out", type=Path, help="landing folder (default $REVOPS_LANDING or data/landing)"
    )

    demo = sub.add_parser(
        "demo",
        help="generate the demo company, refresh it, and print its headline metrics",
        description="Generate the `s` company over its whole history into the landing folder, "
        "run the refresh on a new warehouse (ingest, dbt build and tests, publish), and print "
        "the headline metrics from the published snapshot.",
    )
    demo.add_argument("--scale", choices=list(SCALES), default="s")
    demo.add_argument(
        "--crm", choices=list(CRMS), default="salesforce", help="the CRM the company exports from"
    )
    demo.add_argument("--out", type=Path, help=LANDING_HELP)
    demo.add_argument("--warehouse", type=Path, help=WAREHOUSE_HELP)
    demo.add_argument("--serving", type=Path, help=SERVING_HELP)
    demo.add_argument("--verbose", action="store_true", help="print the traceback of a failed step")

    refresh = sub.add_parser(
        "refresh",
        help="ingest new files, build and test the models, publish a snapshot",
        description="Run the Dagster `refresh` job headless: load new delivery files, dbt build "
        "(models and tests), and, only if every blocking check passed, publish the marts as a "
        "new read-only snapshot <serving>/revops.duckdb (docs/SERVING.md). A file that failed "
        "to load is reported and published without, unless --strict. When nothing changed "
        "since the served snapshot (no new landing file, no load since, the same models, seeds, "
        "settings and code) it says so and exits 0 without building (--force rebuilds). Exits "
        "1 when a refresh did not publish; the served snapshot, if any, stays served. Every "
        "run is kept in the run history (`revops runs`).",
    )
    refresh.add_argument("--landing", type=Path, help=LANDING_HELP)
    refresh.add_argument("--warehouse", type=Path, help=WAREHOUSE_HELP)
    refresh.add_argument("--serving", type=Path, help=SERVING_HELP)
    refresh.add_argument(
        "--keep",
        type=int,
        default=None,
        help="snapshots kept for rollback (default 7)",
    )
    refresh.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild incremental models from scratch (every data test then checks every row)",
    )
    refresh.add_argument(
        "--full-recheck",
        action="store_true",
        help="run every data test on every row, and reconcile every raw row with the load "
        "ledger (a daily increment checks the rows of the big staging tables loaded since each "
        "test last passed, and the raw rows loaded since the reconciliation last passed; every "
        "row is checked again at least every `test_full_recheck_days`, 7 by default; "
        "docs/SERVING.md)",
    )
    refresh.add_argument(
        "--all-models",
        action="store_true",
        help="build every model and run every test, none left out as unchanged since its last "
        "build (a daily increment leaves out the models whose raw inputs and logic did not "
        "change; docs/SERVING.md)",
    )
    refresh.add_argument(
        "--strict",
        action="store_true",
        help="publish nothing while a landing file's latest load attempt failed (default: "
        "publish without it, and warn; also the `strict` setting, $REVOPS_STRICT; "
        "docs/INGESTION.md)",
    )
    refresh.add_argument(
        "--history-start",
        type=_date,
        metavar="YYYY-MM-DD",
        help="the `history_start` setting for this run (over $REVOPS_HISTORY_START and the "
        "settings file): months before it are left out; it may only narrow the history the "
        "data spans (docs/CONFIGURATION.md)",
    )
    _refresh_options(refresh)

    runs = sub.add_parser(
        "runs",
        help="show the latest refreshes from the run history",
        description="The latest refreshes recorded in <warehouse folder>/runs/history.jsonl "
        "(docs/SERVING.md, 'Run history'): outcome, counts, failed checks, stale sources, "
        "snapshot, dbt log. Exits 1 when the latest run failed.",
    )
    runs.add_argument("--warehouse", type=Path, help=WAREHOUSE_HELP)
    runs.add_argument(
        "--last", type=int, default=10, metavar="N", help="runs shown (default %(default)s)"
    )
    runs.add_argument("--json", action="store_true", help="print the records as JSON lines")

    rollback = sub.add_parser(
        "rollback",
        help="serve an earlier snapshot again",
        description="Serve an earlier kept snapshot again as <serving>/revops.duckdb, with "
        "its report as <serving>/report.html (built from the snapshot now when it has none) "
        "(default: the one published before the served one). --list shows the kept snapshots.",
    )
    rollback.add_argument("--serving", type=Path, help=SERVING_HELP)
    rollback.add_argument("--to", metavar="SNAPSHOT_ID", help="the snapshot to serve")
    rollback.add_argument("--list", action="store_true", help="list kept snapshots and exit")

    ing = sub.add_parser(
        "ingest",
        help="load new delivery files from the landing folder into the warehouse",
        description="Load every delivery file not yet in the load ledger into "
        "raw.<source>__<object> (docs/INGESTION.md). Exits 1 while any file's latest load "
        "attempt failed (this run's or an earlier one's); the other files still load.",
    )
    ing.add_argument("--landing", type=Path, help=LANDING_HELP)
    ing.add_argument("--warehouse", type=Path, help=WAREHOUSE_HELP)

    reset = sub.add_parser(
        "reset",
        help="remove the warehouse and the published snapshots (never the landing folder)",
        description="Remove the warehouse (with the files the refresh keeps beside it) and "
        "every published snapshot with its report, after listing them and asking; the "
        "landing folder is never touched. The next refresh loads every landing file again.",
    )
    reset.add_argument("--landing", type=Path, help=LANDING_HELP + "; kept")
    reset.add_argument("--warehouse", type=Path, help=WAREHOUSE_HELP)
    reset.add_argument("--serving", type=Path, help=SERVING_HELP)
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    sub.add_parser("contract", help="print the export contract as Markdown (docs/EXPORTS.md)")
    return parser


def _refresh_options(refresh: argparse.ArgumentParser) -> None:
    refresh.add_argument(
        "--force",
        action="store_true",
        help="build and publish even when nothing changed since the served snapshot",
    )
    refresh.add_argument(
        "--as-of",
        type=_date,
        metavar="YYYY-MM-DD",
        help="measure staleness against this date (default: the newest delivery in the "
        "landing folder; never the wall clock)",
    )
    refresh.add_argument(
        "--verbose",
        action="store_true",
        help="print the traceback of a failed step after the summary, and Dagster's log lines",
    )


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


def generator_config(args: argparse.Namespace, out: Path) -> GeneratorConfig:
    """The company to generate: the arguments given, else the company the folder already
    holds (its .revops-generator.json), else the defaults."""
    from revops.generator.company import read_manifest

    manifest = read_manifest(out)
    held = manifest.company if manifest else None
    if args.leads is not None:
        leads = args.leads
    elif args.scale is not None:
        leads = SCALES[args.scale]
    else:
        leads = held.leads if held else SCALES["s"]

    def pick(given, attribute: str, default):
        if given is not None:
            return given
        return getattr(held, attribute) if held else default

    return GeneratorConfig(
        out=out,
        leads=leads,
        start_date=pick(args.start_date, "start_date", None),
        days=pick(args.days, "days", None),
        seed=pick(args.seed, "seed", DEFAULT_SEED),
        dirty=pick(args.dirty, "dirty", False),
        org_profile=pick(args.org_profile, "org_profile", profiles.DEFAULT_PROFILE),
        until=args.until,
        crm=pick(args.crm, "crm", "salesforce"),
    )


def _summary(result, console: Console) -> None:
    if result.delivered_through is None:
        held = (
            "the whole history of this company"
            if result.complete
            else "these days of this company (a later --until adds the next ones)"
        )
        console.print(f"Nothing new: [bold]{result.out}[/] already holds {held}.")
        return
    span = f"{result.delivered_from} .. {result.delivered_through}"
    if not result.truth:
        console.print(
            f"Delivered [bold]{span}[/] into [bold]{result.out}[/] in {result.seconds:.1f} s: "
            f"{result.files:,} files. truth.json comes with the last day of the history; "
            "`revops refresh` loads the new files."
        )
        return
    truth = result.truth
    gen = truth["generator"]
    console.print(
        f"Generated [bold]{gen['start_date']} .. {gen['end_date']}[/] ({gen['days']} days, seed "
        f"{gen['seed']}{', dirty' if gen['dirty'] else ''}, org profile {gen['org_profile']}"
        f"{'' if gen.get('crm', 'salesforce') == 'salesforce' else ', CRM ' + gen['crm']}) "
        f"into [bold]{result.out}[/] "
        f"in {result.seconds:.1f} s: {result.files:,} files"
        + (
            f" (the deliveries of {span}; the folder now holds the whole history)."
            if str(result.delivered_from) != gen["start_date"]
            else "."
        )
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
    "rows_quarantined",
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
        console.print(f"[yellow]warning:[/] {escape(unknown_path_warning(path))}")
    for obj in summary.objects:
        if obj.rows_quarantined:
            samples = "; ".join(obj.quarantine_samples)
            console.print(
                f"[yellow]warning:[/] {obj.folder}: {obj.rows_quarantined:,} row(s) quarantined "
                "(raw._quarantine; released when a corrected version arrives), e.g. "
                + escape(samples),
                highlight=False,
            )
    for error in summary.errors:
        console.print(f"[red]error:[/] {error}")
    # The failed-file policy (docs/INGESTION.md): a file that failed in an earlier run is not
    # read again while unchanged, and is still reported, with the same exit code, every run.
    earlier = [u for o in summary.objects for u in o.unresolved if u not in summary.errors]
    for message in earlier:
        console.print(
            f"[red]failed file:[/] {escape(message)} (an earlier run; open until a corrected "
            "file loads)"
        )
    return summary.ok and not earlier


# The refresh summary's ingest line: (RefreshResult field, label), files then rows. Each is a
# count of this run's ledger rows (revops/ingest/ledger.py COUNTS).
REFRESH_FILE_COUNTS = (
    ("files_loaded", "files loaded"),
    ("files_duplicate", "duplicate"),
    ("files_failed", "failed"),
)
REFRESH_ROW_COUNTS = (
    ("rows_loaded", "rows"),
    ("rows_rejected", "rejected"),
    ("rows_quarantined", "quarantined"),
)


def _count(value: int | None) -> str:
    return "unknown" if value is None else f"{value:,}"


def ingest_line(result) -> str:
    """`2 files loaded, 0 duplicate, 1 failed; 4 rows, 0 rejected` of a RefreshResult."""
    return "; ".join(
        ", ".join(f"{_count(getattr(result, name))} {label}" for name, label in counts)
        for counts in (REFRESH_FILE_COUNTS, REFRESH_ROW_COUNTS)
    )


class _RefreshProgress:
    """Per-step progress of a refresh: bars with counts on a terminal; on anything else one
    plain, timestamped line as each stage starts and ends (logs stay readable)."""

    def __init__(self, console: Console) -> None:
        # bound to the stream stdout is now: the refresh sends stdout (dbt's output) to its log
        self.console = Console(
            file=console.file, width=console.width, force_terminal=console.is_terminal
        )
        self.tty = self.console.is_terminal
        self.bars = None
        self.tasks: dict[str, object] = {}
        self.started: set[str] = set()
        self.ended: set[str] = set()

    def __enter__(self):
        if self.tty:
            self.bars = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TextColumn("{task.fields[note]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self.bars.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.bars is not None:
            self.bars.__exit__(*exc)

    def _line(self, text: str) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%H:%M:%S")
        self.console.print(f"{stamp} {text}", highlight=False, markup=False)

    def __call__(self, p) -> None:
        from revops.refresh import DBT, INGEST, PUBLISH

        lines = {
            INGEST: (
                "ingest",
                p.objects_done,
                p.objects_total,
                f"objects, {p.files_loaded:,} files loaded",
            ),
            DBT: (
                "dbt build",
                p.models_done,
                p.models_total,
                f"models, {p.tests_done:,}/{p.tests_total:,} tests",
            ),
            PUBLISH: ("publish", int(PUBLISH in p.finished), 1, "snapshot and report"),
        }
        if self.bars is not None:
            for stage, (label, done, total, note) in lines.items():
                if stage not in self.tasks and (stage == p.stage or stage in p.finished):
                    self.tasks[stage] = self.bars.add_task(label, total=total, note="")
                if stage in self.tasks:
                    self.bars.update(self.tasks[stage], completed=done, note=note)
            return
        for stage, (label, done, total, note) in lines.items():
            if stage == p.stage and stage not in self.started:
                self.started.add(stage)
                self._line(f"{label}: started")
            if stage in p.finished and stage not in self.ended:
                self.ended.add(stage)
                outcome = "failed" if stage in p.failed else "done"
                self._line(f"{label}: {outcome}, {done:,}/{total:,} {note}")


def run_refresh(
    landing: Path,
    warehouse: Path,
    serving: Path,
    console: Console,
    keep: int | None = None,
    full_refresh: bool = False,
    history_start: dt.date | None = None,
    strict: bool = False,
    force: bool = True,
    full_recheck: bool = False,
    as_of: dt.date | None = None,
    verbose: bool = False,
    trigger: str = "revops refresh",
    all_models: bool = False,
):
    """Run the refresh job and print what it did; returns its RefreshResult. Without `force`,
    a refresh with nothing new is a no-op (revops/noop.py)."""
    from revops.refresh import run_refresh as refresh

    with _RefreshProgress(console) as progress:
        result = refresh(
            landing,
            warehouse,
            serving,
            keep=keep,
            full_refresh=full_refresh,
            full_recheck=full_recheck,
            all_models=all_models,
            history_start=history_start,
            strict=strict,
            as_of=as_of,
            skip_if_unchanged=not force,
            progress=progress,
            verbose=verbose,
            trigger=trigger,
        )
    if result.noop:
        console.print(
            f"Nothing to do: {result.noop_reason} (no new landing file, no load since, same "
            f"models, seeds, settings and code); served: {result.served_snapshot}. "
            "Nothing was built or published (--force rebuilds).",
            highlight=False,
        )
        console.print(_freshness_basis(result, as_of), highlight=False)
        _print_failed_files(result, console)
        _print_stale(result, console)
        _print_history(result, console)
        return result
    table = Table(title=f"Refresh {result.run_id[:8]} in {result.seconds:.0f} s")
    table.add_column("step")
    table.add_column("result")
    table.add_row("ingest", ingest_line(result))
    if result.open_failures:
        table.add_row(
            "failed files",
            f"{len(result.open_failures)} open"
            + (" (strict: nothing is published)" if result.strict else ", published without"),
        )
    table.add_row(
        "models",
        f"{result.models:,} materialized"
        + (
            f"; {len(result.marts_left_out)} marts left out as unchanged, Dagster told they "
            "are current"
            if result.marts_left_out
            else ""
        ),
    )
    if result.left_out_summary:
        # how many models, seeds and tests were unchanged since their last build, and why
        table.add_row("left out", result.left_out_summary.removeprefix("models left out: "))
    table.add_row(
        "checks",
        f"{result.checks_passed:,} passed, {len(result.checks_failed)} failed, "
        f"{len(result.checks_warned)} warned"
        + (f", {result.tests_left_out:,} left out (unchanged)" if result.tests_left_out else ""),
    )
    if result.published:
        meta = result.published
        table.add_row(
            "publish",
            f"snapshot {meta['snapshot_id']}: {meta['tables']} tables, {meta['rows']:,} rows "
            f"-> {meta['path']}"
            + (
                f" (marts: {meta['marts_copied']} copied whole, {meta['marts_delta']} updated "
                f"by their changed rows, {meta['marts_carried_over']} carried over)"
                if "marts_delta" in meta
                else ""
            ),
        )
    elif result.served_snapshot:
        table.add_row(
            "publish",
            f"[red]not published[/]: the previous snapshot stays served ({result.served_snapshot})",
        )
    else:
        table.add_row("publish", "[red]not published[/]: no snapshot is served yet")
    if result.report:
        table.add_row("report", result.report)
    table.add_row("freshness", _freshness_basis(result, as_of))
    if result.settings_file:
        table.add_row(
            "settings", f"{result.settings_file} ({result.mapping_overrides} mapping rows)"
        )
    console.print(table)
    _print_failed_files(result, console)
    _print_checks(result, console)
    _print_stale(result, console)
    for error in result.errors:
        console.print(f"[red]error:[/] {escape(error)}")
    if verbose:
        for trace in result.tracebacks:
            console.print(trace, highlight=False, markup=False)
    elif result.tracebacks:
        console.print("(--verbose prints the traceback of each failed step)")
    console.print(f"dbt output: {result.log_file}", highlight=False)
    _print_history(result, console)
    return result


def _freshness_basis(result, as_of: dt.date | None) -> str:
    """What staleness was measured against: the data's newest delivery (and how old that is
    by the calendar, so that a feed that stopped altogether is seen), or --as-of."""
    if result.freshness_as_of is None:
        return "no delivery in the landing folder: staleness not measured"
    if as_of is not None:
        return f"staleness measured against --as-of {as_of}"
    age = (dt.datetime.now(dt.UTC).date() - result.freshness_as_of).days
    return (
        f"newest delivery in the landing folder: {result.freshness_as_of} ({age} day(s) ago); "
        "staleness is measured against it"
    )


def _print_stale(result, console: Console) -> None:
    """Stale sources, named, against the data's newest delivery (revops/freshness.py)."""
    if result.stale_sources:
        from revops import freshness

        line = freshness.warning_line(
            result.stale_sources, result.freshness_as_of, result.max_delivery_age_days
        )
        console.print(f"[yellow]warning:[/] {escape(line)}", highlight=False)


def _print_history(result, console: Console) -> None:
    for alert in result.alerts:
        colour = "green" if alert["ok"] else "red"
        console.print(
            f"[{colour}]alert {alert['hook']}:[/] {escape(str(alert['detail']))}", highlight=False
        )
    if result.history_file:
        console.print(f"run history: {result.history_file} (revops runs)", highlight=False)


def _print_failed_files(result, console: Console) -> None:
    """The failed-file policy (docs/INGESTION.md): each open failed file, every run until a
    corrected file loads; then paths of the landing folder the contract does not know."""
    for failure in result.open_failures:
        console.print(
            f"[{'red' if result.strict else 'yellow'}]failed file:[/] {escape(failure.message)}"
        )
    if result.open_failures and not result.strict:
        them = "it" if len(result.open_failures) == 1 else "them"
        console.print(
            f"    not loaded; published without {them} until a corrected file is delivered "
            "(--strict: publish nothing meanwhile)"
        )
    for path in result.unknown_paths:
        console.print(f"[yellow]warning:[/] {escape(unknown_path_warning(path))}")


def _check_name(name: str) -> str:
    """`asset/key:check_name` -> `check_name` (a dbt test's name is the check's name)."""
    return name.rsplit(":", 1)[-1]


def _print_checks(result, console: Console) -> None:
    """Each check that did not pass: what it means, how many rows fail, sample rows."""
    details = {d.name: d for d in result.check_details}
    failed = [_check_name(n) for n in result.checks_failed]
    failed += [d.name for d in result.check_details if d.blocking and d.name not in failed]
    for name in failed:
        detail = details.get(name)
        if detail is None:
            console.print(f"[red]failed check:[/] {name}")
            continue
        rows = "could not run" if detail.failures is None else f"{detail.failures:,} failing rows"
        console.print(f"[red]failed check:[/] {name}: {detail.meaning} ({rows})", highlight=False)
        for sample in detail.sample_keys():
            console.print(f"    e.g. {sample}", highlight=False, markup=False)
        if detail.sample_error and not detail.samples:
            console.print(f"    ({detail.sample_error})", highlight=False, markup=False)
        if detail.message:
            console.print(f"    {detail.message[:500]}", highlight=False, markup=False)
    warned = [_check_name(n) for n in result.checks_warned]
    warned += [d.name for d in result.check_details if not d.blocking and d.name not in warned]
    # printed by _print_failed_files, file by file
    warned = [n for n in warned if n not in ("no_unresolved_failed_files", "no_unknown_folders")]
    # stale sources: printed by _print_stale, named, with how far behind each is
    stale = [n for n in warned if n.endswith("latest_delivery_is_recent")]
    for name in (n for n in warned if n not in stale):
        detail = details.get(name)
        if detail is None:
            console.print(f"[yellow]warning:[/] check {name} warned")
            continue
        rows = "" if detail.failures is None else f" ({detail.failures:,} rows)"
        console.print(f"[yellow]warning:[/] {name}: {detail.meaning}{rows}", highlight=False)
        # the rows say what to fix: the unmapped value, the currency and days without a rate
        for sample in detail.sample_keys():
            console.print(f"    e.g. {sample}", highlight=False, markup=False)


def print_headline(serving: Path, console: Console) -> None:
    """Headline metrics of the last six months of the served snapshot (all segments): the
    entries of revops.headline, the list the report's tiles and the semantic layer read.

    A month whose sources are not all delivered through its last day is marked (partial): its
    counts are month to date and its cost metrics (fully loaded CAC, LTV:CAC) read
    "incomplete", never another basis; a line gives them for the latest complete month."""
    from revops.headline import (
        COMPLETE,
        FLAGGED,
        HEADLINES,
        REPORT_MONTH,
        complete_months,
        format_value,
        month_for,
        read_headlines,
    )
    from revops.publish import SERVING_FILE, connect_read_only

    con = connect_read_only(serving / SERVING_FILE)
    try:
        months = list(reversed(read_headlines(con, 6)))
        latest_complete = read_headlines(con, 1, complete_only=True)
        found = con.execute("select any_value(reporting_currency) from mrr_by_month").fetchone()
    finally:
        con.close()
    currency = (found[0] if found else None) or "USD"
    complete = complete_months(months)
    table = Table(title="Headline metrics, all segments (docs/METRICS.md)")
    table.add_column("metric", justify="left")
    for month, row in months:
        table.add_column(str(month)[:7] + ("" if row[COMPLETE] else " (partial)"), justify="right")
    for headline in HEADLINES:
        cells = []
        for month, row in months:
            if month_for(headline, month, complete) != month:
                cells.append("incomplete")
                continue
            text = format_value(row[headline.key][1], headline.unit, currency)
            cells.append(text + " *" if headline.key in row[FLAGGED] else text)
        table.add_row(headline.label, *cells)
    console.print(table)
    if not all(row[COMPLETE] for _, row in months):
        console.print(
            "(partial): month to date, or its sources not all delivered through its last day."
        )
    for headline in HEADLINES:
        if headline.flag and any(headline.key in row[FLAGGED] for _, row in months):
            console.print(f"* {headline.label}: {headline.flag[1]} ({headline.flag[0]})")
    for headline in HEADLINES:
        if headline.month == REPORT_MONTH:
            continue
        if not latest_complete:
            console.print(f"{headline.label}: no complete month yet.")
            continue
        month, row = latest_complete[0]
        value = format_value(row[headline.key][1], headline.unit, currency)
        console.print(f"{headline.label}, latest complete month {str(month)[:7]}: {value}")


def run_rollback(serving: Path, to: str | None, listing: bool, console: Console) -> None:
    from revops.publish import (
        REPORT_FILE,
        SNAPSHOT_DIR,
        list_snapshots,
        report_snapshot_id,
        rollback,
        served_snapshot_id,
    )

    if listing:
        served = served_snapshot_id(serving)
        table = Table(title=f"Snapshots kept in {serving}")
        columns = ("snapshot", "published at", "data through", "tables", "rows", "report")
        for name in (*columns, "served"):
            table.add_column(name)
        for snap in list_snapshots(serving):
            kept = serving / SNAPSHOT_DIR / f"{snap.snapshot_id}.html"
            has_report = report_snapshot_id(kept) == snap.snapshot_id
            table.add_row(
                snap.snapshot_id, snap.published_at, _data_through(snap),
                str(len(snap.tables)), f"{snap.rows:,}",
                "kept" if has_report else "none (built on rollback)",
                "*" if snap.snapshot_id == served else "",
            )  # fmt: skip
        console.print(table)
        return
    snap = rollback(serving, to)
    page = serving / REPORT_FILE
    console.print(
        f"serving snapshot {snap.snapshot_id} (published {snap.published_at}) with "
        + (
            f"its report {page}"
            if snap.report
            else f"{page}: a page saying this snapshot has no report (see it for why)"
        )
    )


def _data_through(snap) -> str:
    """`2026-12-05`, or `2026-12-05 (1 stale: reference/quotas 2026-09-17)` naming the sources
    the snapshot was published with as stale (the report's words, revops/freshness.py);
    `unknown` for a snapshot published before "data through" was recorded."""
    if not snap.data_through:
        return "unknown (not recorded)"
    newest = snap.data_through_date
    if newest is None:
        return "no delivery"
    if not snap.stale_sources:
        return newest
    shown = ", ".join(
        f"{folder} {snap.data_through.get(folder) or 'never'}" for folder in snap.stale_sources[:3]
    )
    more = f", +{len(snap.stale_sources) - 3} more" if len(snap.stale_sources) > 3 else ""
    return f"{newest} ({len(snap.stale_sources)} stale: {shown}{more})"


RUNS_COLUMNS = ("run", "started (UTC)", "seconds", "outcome", "loaded", "checks", "snapshot")


def _short_run_id(run_id: str) -> str:
    """A Dagster run's first 8 characters (as Dagster shows it); a no-op's whole id."""
    return run_id if run_id.startswith("noop-") else run_id[:8]


def run_runs(warehouse: Path, last: int, as_json: bool, console: Console) -> int:
    """The latest runs of the history (revops/runs.py), newest last; 1 if the latest failed."""
    import json

    from revops import runs

    records = runs.read(warehouse, last)
    if as_json:
        for record in records:
            sys.stdout.write(json.dumps(record, default=str) + "\n")
    elif not records:
        console.print(f"No runs recorded in {runs.history_path(warehouse)} yet.")
        return 0
    else:
        table = Table(title=f"The last {len(records)} run(s), {runs.history_path(warehouse)}")
        for name in RUNS_COLUMNS:
            table.add_column(name, justify="right" if name == "seconds" else "left")
        for r in records:
            counts = r.get("counts") or {}
            outcome = str(r.get("outcome"))
            colour = {"published": "green", "no-op": "cyan", "failed": "red"}.get(outcome, "")
            table.add_row(
                _short_run_id(str(r.get("run_id", ""))),
                str(r.get("started_at", ""))[:19].replace("T", " "),
                f"{r.get('seconds', 0):.0f}",
                f"[{colour}]{outcome}[/]" if colour else outcome,
                "-" if outcome == "no-op" else (
                    f"{_count(counts.get('files_loaded'))} files, "
                    f"{_count(counts.get('rows_loaded'))} rows"
                ),
                "-" if outcome == "no-op" else (
                    f"{_count(counts.get('checks_passed'))} passed, "
                    f"{counts.get('checks_failed', 0)} failed, "
                    f"{counts.get('checks_warned', 0)} warned"
                ),
                str(r.get("snapshot_id") or r.get("served_snapshot") or "none"),
            )  # fmt: skip
        console.print(table)
        latest = records[-1]
        for name in latest.get("failed_checks") or []:
            console.print(f"[red]latest run, failed check:[/] {escape(name)}")
        for error in latest.get("errors") or []:
            console.print(f"[red]latest run, error:[/] {escape(str(error))}")
        if latest.get("stale_sources"):
            stale = ", ".join(latest["stale_sources"])
            console.print(f"[yellow]latest run, stale sources:[/] {escape(stale)}")
        if latest.get("log_file"):
            console.print(f"latest run's dbt log: {latest['log_file']}", highlight=False)
    return 1 if records and records[-1].get("outcome") == "failed" else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    if not console.is_terminal:  # logs and pipes: wide enough that tables are not truncated
        console = Console(width=160)
    landing_default = _default_path("REVOPS_LANDING", DEFAULT_DATA / "landing")
    warehouse_default = _default_path("REVOPS_WAREHOUSE", DEFAULT_DATA / "warehouse.duckdb")
    serving_default = _default_path("REVOPS_SERVING", DEFAULT_DATA / "serving")
    try:
        if args.command in ("demo", "ingest", "refresh"):
            # The settings file is checked before anything runs (a bad file: exit 2, naming
            # the file and the key); the refresh exports its values for dbt.
            from revops.settings import load_settings

            load_settings()
        if args.command == "contract":
            sys.stdout.write(contract.render_markdown() + "\n")
            return 0
        if args.command == "generate":
            config = generator_config(args, args.out or landing_default)
            _summary(run_generate(config, console), console)
            return 0
        if args.command == "reset":
            from revops.reset import run_reset

            return run_reset(
                args.landing or landing_default,
                args.warehouse or warehouse_default,
                args.serving or serving_default,
                console,
                yes=args.yes,
            )
        if args.command == "ingest":
            landing = args.landing or landing_default
            ok = run_ingest(landing, args.warehouse or warehouse_default, console)
            return 0 if ok else 1
        if args.command == "demo":
            landing = args.out or landing_default
            config = GeneratorConfig(out=landing, leads=SCALES[args.scale], crm=args.crm)
            _summary(run_generate(config, console), console)
            warehouse = args.warehouse or warehouse_default
            serving = args.serving or serving_default
            # the demo regenerates the company, so it starts from an empty warehouse too
            for stale in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
                stale.unlink(missing_ok=True)
            result = run_refresh(
                landing, warehouse, serving, console, verbose=args.verbose, trigger="revops demo"
            )
            if not result.ok:
                return 1
            print_headline(serving.resolve(), console)
            if result.report:
                console.print(f"Report: [bold]{result.report}[/]")
            return 0
        if args.command == "refresh":
            result = run_refresh(
                args.landing or landing_default,
                args.warehouse or warehouse_default,
                args.serving or serving_default,
                console,
                keep=args.keep,
                full_refresh=args.full_refresh,
                full_recheck=args.full_recheck,
                all_models=args.all_models,
                history_start=args.history_start,
                strict=args.strict,
                force=args.force,
                as_of=args.as_of,
                verbose=args.verbose,
            )
            return 0 if result.ok else 1
        if args.command == "runs":
            return run_runs(args.warehouse or warehouse_default, args.last, args.json, console)
        if args.command == "rollback":
            run_rollback(args.serving or serving_default, args.to, args.list, console)
            return 0
    except (ValueError, OSError, PublishError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
