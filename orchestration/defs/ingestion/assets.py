"""One asset per export object: its new delivery files loaded into `raw.<source>__<object>`.

Asset keys are `[source, object lower]`, which is what dagster-dbt gives the dbt source
`source('<source>', '<object lower>')`, so staging models hang off these assets in one graph.
The work is `revops.ingest.ingest_object`; this module only says what each asset is.
"""

import atexit
import datetime as dt
import errno
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.defs.ingestion.resources import LandingFolder, Warehouse
from orchestration.owners import DATA_PLATFORM
from revops import contract, freshness, settings, test_scope
from revops.contract import ExportObject
from revops.ingest import (
    FAILED,
    LINEAGE_COLUMNS,
    ObjectSummary,
    ingest_object,
    new_load_id,
    source_status,
    unknown_entries,
    unknown_path_warning,
)
from revops.ingest.reconcile import SCAN_CARRIED, SCAN_FULL, Reconciliation, check_object
from revops.ingest.warehouse import SharedConnection

GROUP = "ingestion"
# Every asset that writes the warehouse takes a slot of this pool: DuckDB allows one writing
# process per file. Give the pool a limit of 1 in the Dagster instance (docs/INGESTION.md).
WAREHOUSE_POOL = "warehouse"
UNRESOLVED_CHECK = "no_unresolved_failed_files"
RECONCILED_CHECK = "loaded_plus_rejected_equals_file_rows"
FRESHNESS_CHECK = "latest_delivery_is_recent"
LANDING_KEY = dg.AssetKey("landing_folder")
# The metadata key Dagster's last-update freshness checks read instead of the step's end time.
LAST_UPDATED = "dagster/last_updated_timestamp"
UNKNOWN_CHECK = "no_unknown_folders"
# A source whose newest loaded delivery is more than this many days behind the landing folder's
# newest delivery (or the run's `as_of`) warns (revops/freshness.py).
DEFAULT_MAX_DELIVERY_AGE_DAYS = freshness.DEFAULT_MAX_DELIVERY_AGE_DAYS

# Another process holding the warehouse (a dbt run, a notebook, the CLI) is the one transient
# failure: wait for it, longer each time (5, 15, 35, 75, 155 s, +/- 5 s: about 5 minutes).
LOCK_RETRY_POLICY = dg.RetryPolicy(
    max_retries=5, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
LOCK_ERROR = "Could not set lock on file"
# OS errors worth waiting for: a flaky disk or network share, a busy file. Anything else
# (a missing folder, permissions, a bad file) fails the same way on every attempt.
TRANSIENT_ERRNOS = frozenset(
    {errno.EIO, errno.EAGAIN, errno.EBUSY, errno.EINTR, errno.ETIMEDOUT, errno.ESTALE}
)
OPTIONAL_NOTE = (
    " Optional object: an org that never delivers it loses nothing (the models fall back to "
    "the mapping seeds), and its freshness check never warns."
)


class IngestConfig(dg.Config):
    """Run options of an ingestion asset (defaults: only new files, failed ones left alone)."""

    retry_failed: bool = False  # attempt again files whose unchanged bytes failed before
    rehash: bool = False  # hash every file, even those the ledger knows by path, size and mtime
    min_age_seconds: float = 0.0  # leave files modified more recently for a later run
    # the freshness check warns when the newest loaded delivery is more than this many days
    # behind the reference date: `as_of` (YYYY-MM-DD, `revops refresh --as-of`), else the
    # landing folder's newest delivery of any object; never the wall clock
    max_delivery_age_days: int = DEFAULT_MAX_DELIVERY_AGE_DAYS
    as_of: str = ""
    # the reconciliation check reads every row of the raw table, not only the rows loaded
    # since its last pass (`revops refresh --full-recheck`; it does at least every
    # `test_full_recheck_days`, 7 by default)
    full_recheck: bool = False


def is_transient(exc: BaseException) -> bool:
    """True for the errors an ingestion asset retries: DuckDB's lock and I/O errors (another
    process holds the warehouse, a read failed) and transient OS errors. Everything else is
    deterministic and fails the step once."""
    if isinstance(exc, duckdb.Error):
        return LOCK_ERROR in str(exc) or isinstance(exc, duckdb.IOException)
    return isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS


def _first_line(obj: ExportObject, exc: BaseException) -> str:
    """`<object>: <cause>`: the cause first, not buried in a traceback."""
    text = str(exc).strip()
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror  # without the path, which may name something outside the landing
    return f"{obj.folder}: {text.splitlines()[0] if text else type(exc).__name__}"


# The landing folder's newest delivery, once per run and folder: every ingestion step of a
# run measures freshness against it, and finding it lists every object's folder (34 steps x
# 34 listings of ~1,100 days each). One reference per run is also one answer for the run.
_REFERENCES: dict[tuple[str, str], dt.date | None] = {}


def _reference_date(run_id: str, landing: Path, as_of: str) -> dt.date | None:
    if as_of:
        return freshness.reference_date(landing, as_of)
    key = (run_id, str(landing))
    if key not in _REFERENCES:
        if len(_REFERENCES) > 16:
            _REFERENCES.clear()  # a long-lived process: keep only the recent runs'
        _REFERENCES[key] = freshness.reference_date(landing)
    return _REFERENCES[key]


def asset_key(obj: ExportObject) -> dg.AssetKey:
    return dg.AssetKey([obj.source, obj.name.lower()])


# The run's one warehouse connection for its ingestion steps (SharedConnection): the steps of
# `revops refresh` run one after the other in one process.
_SHARED = SharedConnection()
atexit.register(_SHARED.close)


def close_shared_connection() -> bool:
    """Close the ingestion steps' shared connection if it is still open (a step listed for the
    run that never released it): the steps after ingestion (dbt, the publish) must find the
    warehouse file free. Whether one was open."""
    was_open = _SHARED.is_open
    _SHARED.close()
    return was_open


# The op (and step) names of the ingestion assets.
INGEST_STEPS = frozenset(asset_key(o).to_python_identifier() for o in contract.OBJECTS)


# Executors that run a run's steps one after the other in the run's process: Dagster's
# in-process executor, and what `execute_in_process` (`revops refresh`, `dg.materialize`) uses.
IN_PROCESS_EXECUTORS = frozenset({"in_process", "execute_in_process_executor"})


def _shared_steps(context: dg.AssetExecutionContext) -> frozenset[str] | None:
    """The run's ingestion steps when they run one after the other in this process, else
    None: each step then opens its own connection (a step process of the multiprocess
    executor exits when its step ends)."""
    if context.job_def.executor_def.name not in IN_PROCESS_EXECUTORS:
        return None
    # the steps this run executes: listed for a subset or a re-execution, else every node of
    # the job (an asset's only step is named after its op)
    keys = context.run.step_keys_to_execute or [node.name for node in context.job_def.nodes]
    return frozenset(k for k in keys if k in INGEST_STEPS) or None


_RECHECK_DAYS: dict[str, int] = {}


def _recheck_days(run_id: str) -> int:
    """`test_full_recheck_days` (docs/CONFIGURATION.md), once per run."""
    if run_id not in _RECHECK_DAYS:
        if len(_RECHECK_DAYS) > 16:
            _RECHECK_DAYS.clear()
        _RECHECK_DAYS[run_id] = test_scope.recheck_days(settings.load_settings())
    return _RECHECK_DAYS[run_id]


def _column_schema(obj: ExportObject) -> dg.TableSchema:
    columns = [
        dg.TableColumn(c.name, "VARCHAR", description=f"{c.type} as delivered. {c.description}")
        for c in obj.columns
    ]
    columns += [dg.TableColumn(name, type_.upper()) for name, type_ in LINEAGE_COLUMNS]
    return dg.TableSchema(columns=columns)


def _metadata(summary: ObjectSummary) -> dict[str, object]:
    return {
        "files_new": len(summary.files),
        "files_loaded": summary.files_loaded,
        "files_duplicate": summary.files_duplicate,
        "files_failed": summary.files_failed,
        "files_unchanged": summary.files_unchanged,
        "files_settling": summary.files_settling,
        "new_versions": summary.new_versions,
        "rows_loaded": summary.rows_loaded,
        "rows_rejected": summary.rows_rejected,
        "rows_quarantined": summary.rows_quarantined,
        "extra_columns": ", ".join(summary.extra_columns) or "none",
        "load_seconds": round(summary.seconds, 2),
        "dagster/row_count": summary.raw_rows or 0,
    }


def _scan_note(reconciled: Reconciliation) -> str:
    """What the reconciliation read, for the step's log line."""
    if reconciled.raw_scan == SCAN_FULL:
        why = f" ({reconciled.full_reason})" if reconciled.full_reason else ""
        return f"every row of the raw table read{why}"
    if reconciled.rows_scanned:
        return f"the {reconciled.rows_scanned} row(s) loaded since its last pass read"
    return "nothing loaded since its last pass: verdict carried, rows counted"


def build_ingestion_asset(obj: ExportObject) -> dg.AssetsDefinition:
    """The asset that ingests `obj`'s new delivery files."""
    key = asset_key(obj)

    @dg.asset(
        key=key,
        group_name=GROUP,
        pool=WAREHOUSE_POOL,
        retry_policy=LOCK_RETRY_POLICY,
        kinds={"duckdb", "json" if obj.format == "jsonl" else obj.format},
        owners=DATA_PLATFORM,
        description=(
            f"Delivery files of `{obj.folder}` ({obj.format}), loaded as delivered text into "
            f"`raw.{obj.raw_table}` with lineage columns. {obj.grain}"
            + (OPTIONAL_NOTE if obj.optional else "")
        ),
        metadata={
            "landing_folder": obj.folder,
            "format": obj.format,
            "key": ", ".join(obj.key),
            "optional": obj.optional,
            "dagster/table_name": f"raw.{obj.raw_table}",
            "dagster/column_schema": _column_schema(obj),
        },
        check_specs=[
            dg.AssetCheckSpec(
                UNRESOLVED_CHECK,
                asset=key,
                description=(
                    "Warns while the object has an open failed file: a path whose latest "
                    "load attempt (raw._load_ledger) failed, this run's or an earlier one's. "
                    "Lists each path and its error, and stays WARN until a corrected file "
                    "loads (or `forget_file`). Non-blocking: the refresh publishes without "
                    "the file, unless `strict` (docs/INGESTION.md, failed-file policy)."
                ),
            ),
            dg.AssetCheckSpec(
                RECONCILED_CHECK,
                asset=key,
                blocking=True,
                description=(
                    "Blocking: for every loaded file, rows read = rows loaded + rows rejected "
                    "+ rows quarantined, rows read = rows counted by the probe, and the raw "
                    "table holds exactly the rows the ledger says were loaded. The raw "
                    "table's rows are read in full when it changed otherwise than by loads, "
                    "and at least every `test_full_recheck_days`; else only the rows loaded "
                    "since the last pass (none: the verdict is carried; metadata `raw_scan`). "
                    "Nothing downstream is built or published when it fails."
                ),
            ),
            dg.AssetCheckSpec(
                FRESHNESS_CHECK,
                asset=key,
                description=(
                    "Warns when the newest loaded delivery of this object is more than "
                    f"`max_delivery_age_days` (default {DEFAULT_MAX_DELIVERY_AGE_DAYS}) days "
                    "(or the object's own longest gap between two deliveries, when longer) "
                    "behind the newest delivery in the landing folder (or the run's `as_of`), "
                    "not the wall clock; an object delivered on one day only is not judged"
                    + (
                        ". Passes for this optional object: it is delivered when it changes, "
                        "if ever, so its age says nothing (the metadata shows it)."
                        if obj.optional
                        else ", or when it was never delivered."
                    )
                ),
            ),
        ],
        op_tags={"revops/object": obj.folder},
    )
    def _ingest(
        context: dg.AssetExecutionContext,
        config: IngestConfig,
        landing: LandingFolder,
        warehouse: Warehouse,
    ) -> dg.MaterializeResult:
        inspected: dict[str, object] = {}
        run_id = context.run.run_id
        try:
            max_age_days = _recheck_days(run_id)
        except settings.SettingsError as exc:  # the dbt step fails on it; loading need not
            context.log.warning(f"{exc}: the reconciliation reads every raw row")
            max_age_days = 0

        def inspect(con: duckdb.DuckDBPyConnection) -> None:
            # On the load's own connection, after its commits: the checks read what is
            # committed, without opening the warehouse file twice more per step.
            inspected["reconciled"] = check_object(
                con, obj, full_recheck=config.full_recheck, max_age_days=max_age_days
            )
            inspected["sources"] = freshness.loaded_sources(con)

        steps = _shared_steps(context)
        step = context.get_step_execution_context().step.key if steps else ""
        failed = retried = False
        try:
            con = _SHARED.acquire(run_id, warehouse.resolve(), steps) if steps else None
            summary = ingest_object(
                landing.resolve(),
                warehouse.resolve(),
                obj,
                # the whole run id: the refresh summary finds this run's ledger rows by it
                load_id=new_load_id(suffix=run_id),
                rehash=config.rehash,
                retry_failed=config.retry_failed,
                min_age_seconds=config.min_age_seconds,
                after=inspect,
                con=con,
                prepared=_SHARED.prepared,
            )
            if con is not None:
                _SHARED.prepared = True
        except Exception as exc:
            failed = True
            if is_transient(exc):
                retried = context.retry_number < (LOCK_RETRY_POLICY.max_retries or 0)
                raise  # the retry policy waits for the other writer, or the disk
            # Deterministic: the same files would fail the same way on every attempt.
            raise dg.Failure(_first_line(obj, exc), allow_retries=False) from exc
        finally:
            if steps:
                _SHARED.release(step, failed=failed, retried=retried)
        metadata = _metadata(summary)
        reconciled: Reconciliation = inspected["reconciled"]  # type: ignore[assignment]
        if reconciled.latest_loaded_at is not None:
            # What the Dagster freshness check of this asset measures, as dbt's source
            # freshness does: when rows last arrived, not when this step last ran.
            metadata[LAST_UPDATED] = dg.MetadataValue.timestamp(reconciled.latest_loaded_at)
        if summary.errors:
            # Not a file's fault, and no ledger row records it (an unreadable file, a folder
            # that cannot be listed): the files that loaded are committed; the step fails.
            raise dg.Failure(
                description="\n".join(summary.errors), metadata=metadata, allow_retries=False
            )
        # A failed file does not fail the asset (the failed-file policy, docs/INGESTION.md):
        # it has its ledger row, and the check below warns on this run and every later one
        # until a corrected file loads.
        for failed in (f for f in summary.files if f.status == FAILED):
            context.log.warning(f"failed file (not loaded): {failed.message}")
        if summary.files or reconciled.raw_scan != SCAN_CARRIED:
            # An object with nothing new logs nothing (an event less per step): its
            # materialization and its check's metadata (`raw_scan: carried`) say it all.
            context.log.info(
                f"{obj.folder}: {summary.files_loaded} file(s) loaded, "
                f"{summary.files_duplicate} duplicate(s), {summary.rows_loaded} row(s), "
                f"{summary.rows_rejected} rejected, {summary.rows_quarantined} quarantined; "
                f"reconciled: {_scan_note(reconciled)}"
            )
        for sample in summary.quarantine_samples:
            context.log.warning(f"{obj.folder}: quarantined {sample}")
        latest = reconciled.latest_delivery_date
        reference = _reference_date(context.run.run_id, landing.resolve(), config.as_of)
        age = freshness.days_behind(latest, reference)
        # The CRM a company does not use is not expected (contract.ALTERNATIVE_SOURCES).
        # The ledger, and the landing folder: on a first run the other CRM's step may not
        # have run yet (steps run in key order: hubspot before salesforce).
        delivered: set[str] = set(inspected["sources"])  # type: ignore[arg-type]
        delivered |= freshness.alternative_sources_in_landing(landing.resolve())
        status = source_status(obj, reconciled.files, len(summary.unresolved), delivered)
        # from the ledger rows the reconciliation read (freshness.delivery_rhythm's numbers)
        rhythm = freshness.rhythm(reconciled.delivery_dates)
        gap = rhythm.longest_gap if rhythm else None
        days = rhythm.deliveries if rhythm else 0
        stale = freshness.is_stale(
            latest,
            reference,
            config.max_delivery_age_days,
            not obj.expected(delivered),
            gap,
            days,
            obj.folder,
        )
        return dg.MaterializeResult(
            metadata=metadata,
            check_results=[
                dg.AssetCheckResult(
                    check_name=RECONCILED_CHECK,
                    passed=reconciled.ok,
                    metadata={
                        "files": reconciled.files,
                        "rows_read": reconciled.rows_read,
                        "rows_loaded": reconciled.rows_loaded,
                        "rows_rejected": reconciled.rows_rejected,
                        "rows_quarantined": reconciled.rows_quarantined,
                        "raw_rows": reconciled.raw_rows,
                        "problems": "\n".join(reconciled.problems) or "none",
                        # how much of the raw table this check read (revops/ingest/reconcile.py)
                        "raw_scan": reconciled.raw_scan,
                        "raw_rows_scanned": reconciled.rows_scanned,
                        "full_scan_reason": reconciled.full_reason or "none",
                        "last_full_check": dg.MetadataValue.timestamp(
                            reconciled.full_checked_at or dt.datetime.now(dt.UTC)
                        ),
                    },
                    description=(
                        None if reconciled.ok else f"{obj.folder}: {reconciled.problems[0]}"
                    ),
                ),
                dg.AssetCheckResult(
                    check_name=FRESHNESS_CHECK,
                    # An optional object (a metadata export such as a picklist) is delivered
                    # when it changes, if ever: neither its absence nor its age is a problem.
                    passed=not stale,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={
                        "status": status,
                        "source": obj.folder,
                        "latest_delivery_date": str(latest) if latest else "none",
                        "freshness_as_of": str(reference) if reference else "none",
                        "days_behind": age if age is not None else -1,
                        "max_delivery_age_days": config.max_delivery_age_days,
                        "delivery_days": days,
                        "longest_gap_days": gap if gap is not None else -1,
                    },
                    description=(
                        f"{obj.folder}: "
                        + (
                            f"newest delivery {latest}, {age} days behind {reference}"
                            if latest
                            else f"never delivered (newest delivery of any source: {reference})"
                        )
                        if stale
                        else None
                    ),
                ),
                dg.AssetCheckResult(
                    check_name=UNRESOLVED_CHECK,
                    passed=not summary.unresolved,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={
                        "unresolved_files": len(summary.unresolved),
                        "errors": "\n".join(summary.unresolved) or "none",
                    },
                    description=(
                        f"{len(summary.unresolved)} open failed file(s): "
                        + "; ".join(summary.unresolved)[:1000]
                        if summary.unresolved
                        else None
                    ),
                ),
            ],
        )

    return _ingest


ingestion_assets: list[dg.AssetsDefinition] = [build_ingestion_asset(o) for o in contract.OBJECTS]


@dg.asset(
    key=LANDING_KEY,
    group_name=GROUP,
    kinds={"file"},
    owners=DATA_PLATFORM,
    description=(
        "The landing folder as scanned: the folders and files at its top two levels that no "
        "object of the export contract claims (`hubspot/`, `salesforce/Leads/`). Nothing is "
        "loaded from them; `revops ingest` and `revops refresh` print the same warning."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            UNKNOWN_CHECK,
            asset=LANDING_KEY,
            description=(
                "Warns while the landing folder holds a source or object folder the export "
                "contract does not know (a typo, a new tool): its files are not loaded. "
                "Non-blocking."
            ),
        )
    ],
)
def landing_folder(
    context: dg.AssetExecutionContext, landing: LandingFolder
) -> dg.MaterializeResult:
    root = landing.resolve()
    unknown = unknown_entries(root)  # [] when the folder does not exist (the ingestion fails)
    for path in unknown:
        context.log.warning(unknown_path_warning(path))
    listed = "\n".join(unknown) or "none"
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(root)), "unknown_paths": listed},
        check_results=[
            dg.AssetCheckResult(
                check_name=UNKNOWN_CHECK,
                passed=not unknown,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"unknown_paths": len(unknown), "paths": listed},
                description=(
                    "; ".join(unknown_path_warning(p) for p in unknown)[:1000] if unknown else None
                ),
            )
        ],
    )


# The ingestion's own bookkeeping tables, which dbt reads as the sources `ingest.load_ledger`
# and `ingest.quarantine`: every ingestion asset writes them (declared here so that they have a
# group, owners and kinds instead of appearing as anonymous upstreams).
ledger_specs = [
    dg.AssetSpec(
        dg.AssetKey(["ingest", name]),
        group_name=GROUP,
        kinds={"duckdb"},
        owners=DATA_PLATFORM,
        description=description,
        metadata={"dagster/table_name": f"raw._{name}"},
    )
    for name, description in (
        (
            "load_ledger",
            "`raw._load_ledger`: one row per attempt at one delivery file (loaded, duplicate, "
            "failed), written by every ingestion asset (docs/INGESTION.md).",
        ),
        (
            "quarantine",
            "`raw._quarantine`: the rows held back from their raw table, one per failing "
            "value, written by every ingestion asset (docs/INGESTION.md).",
        ),
    )
]


ingestion_job = dg.define_asset_job(
    "ingest_landing",
    selection=dg.AssetSelection.groups(GROUP),
    # Steps share one process: a fresh process per step costs ~5 s here, and the steps take
    # turns on the warehouse anyway.
    executor_def=dg.in_process_executor,
    description="Load new delivery files of the landing folder into the warehouse's raw schema.",
)
