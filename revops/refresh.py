"""`revops refresh`: the Dagster `refresh` job, run headless in this process.

The same job `dagster dev` shows and the schedule starts: ingestion assets -> dbt build (models
and tests as asset checks) -> serving_snapshot and serving_report (one step: the report is built
before the snapshot is served, and served with it). With $DAGSTER_HOME set, the run is recorded
in that Dagster instance (and shows in the UI); otherwise an ephemeral one (in memory,
orchestration/instance.py).
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import fcntl
import gc
import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from revops import alerts, checks, freshness, runs, settings, unchanged
from revops.ingest.landing import unknown_entries
from revops.ingest.ledger import COUNTS, OpenFailure, read_open_failures, read_run_counts
from revops.settings import environment
from revops.transform import PROJECT_DIR

__all__ = ["RefreshResult", "ensure_manifest", "environment", "parse_fingerprint", "run_refresh"]


@dataclass
class RefreshResult:
    """What one refresh did, from the run's event log."""

    ok: bool
    run_id: str
    seconds: float
    # What this run's ledger rows add up to (revops/ingest/ledger.py COUNTS): one row per file
    # attempt of the run's loads (`load_ids`), whatever the steps' outcome.
    # None: the ledger could not be read after the run (see `errors`).
    files_loaded: int | None = 0
    files_duplicate: int | None = 0
    files_failed: int | None = 0
    rows_loaded: int | None = 0
    rows_rejected: int | None = 0
    rows_quarantined: int | None = 0  # held back in raw._quarantine (a value staging cannot cast)
    load_ids: list[str] = field(default_factory=list)
    # The failed-file policy (docs/INGESTION.md): every open failed file after the run, this
    # run's or an earlier one's; they block publishing only when `strict`.
    open_failures: list[OpenFailure] = field(default_factory=list)
    strict: bool = False
    unknown_paths: list[str] = field(default_factory=list)  # landing paths no object claims
    models: int = 0
    # left out of the dbt build: unchanged since their last build (revops/unchanged.py)
    models_left_out: int = 0
    seeds_left_out: int = 0
    tests_left_out: int = 0
    left_out_summary: str = ""  # how many and why, or why nothing was left out
    # marts left out as unchanged, from the outputs Dagster recorded for them (their metadata
    # says so: revops/unchanged.py LEFT_OUT_KEY); not counted in `models`
    marts_left_out: list[str] = field(default_factory=list)
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)  # blocking checks that failed
    checks_warned: list[str] = field(default_factory=list)  # non-blocking (WARN) checks
    # every dbt test that did not pass, explained (revops/checks.py), blocking ones first
    check_details: list[checks.CheckOutcome] = field(default_factory=list)
    settings_file: str | None = None  # the settings file applied ($REVOPS_SETTINGS)
    mapping_overrides: int = 0  # its mapping rows written for dbt
    published: dict[str, object] | None = None  # the serving_snapshot metadata
    report: str | None = None
    report_seconds: float | None = None  # building it, inside the publish step
    failed_steps: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    step_seconds: dict[str, float] = field(default_factory=dict)
    log_file: str = ""  # dbt's output of the run (timestamped, no colour codes; revops/runs.py)
    started_at: str = ""  # UTC, ISO 8601
    finished_at: str = ""
    # a no-op: nothing changed since the served snapshot (revops/noop.py); nothing was built
    noop: bool = False
    noop_reason: str = ""  # why a refresh was not a no-op (when the check ran)
    # freshness against the data (revops/freshness.py): the reference date, the stale sources
    freshness_as_of: dt.date | None = None
    stale_sources: list[freshness.StaleSource] = field(default_factory=list)
    max_delivery_age_days: int = freshness.DEFAULT_MAX_DELIVERY_AGE_DAYS
    served_snapshot: str | None = None  # the snapshot served after the run (None: none is)
    history_file: str = ""  # the run history this run was appended to (`revops runs`)
    alerts: list[dict[str, object]] = field(default_factory=list)  # the hooks called
    tracebacks: list[str] = field(default_factory=list)  # of failed steps (`--verbose`)
    trigger: str = "revops refresh"  # what started the run (the alert payload says it)
    # Seconds of each part of `run_refresh` outside the job's steps (`Clock`; docs/SERVING.md
    # "Daily increments"): where the fixed cost of a refresh goes. Keys in the order they ran.
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        """`published`, `no-op` or `failed` (the run history's outcome)."""
        if self.noop:
            return "no-op"
        return "published" if self.ok and self.published else "failed"


# What `dbt parse` reads: the project's files and the environment its Jinja can see.
PARSE_FILES = (
    "dbt_project.yml",
    "profiles.yml",
    "packages.yml",
    "dependencies.yml",
    "package-lock.yml",
    "selectors.yml",
    ".dbtignore",
)
PARSE_FOLDERS = ("models", "macros", "seeds", "data-tests", "analyses", "snapshots")
PARSE_STAMP = "revops_parse.stamp"  # in target/, beside the manifest it vouches for


# Variables dbt reads only when it runs a node, never while parsing: a new value each build
# must not make the parse (and the in-process build's reuse of it) stale. Besides the test
# scope, the landing and serving folders and the profile's memory limit: profiles.yml is the
# only project file that reads them, and dbt's own parse state keeps only the names of the
# profile's connection fields, never their values (tests/test_refresh_startup.py checks that
# no model, macro or dbt_project.yml reads them and that no setting shares their names).
RUN_TIME_ONLY_ENV = frozenset(
    {
        "REVOPS_TEST_SCOPE",  # revops/test_scope.py SCOPE_ENV
        "REVOPS_LANDING",
        "REVOPS_SERVING",
        "REVOPS_DUCKDB_MEMORY_LIMIT",
    }
)


def _warehouse_database(value: str) -> str:
    """The part of a warehouse path the parse sees: the database name dbt-duckdb derives from a
    file's path (its name up to the first dot: `wh.duckdb` -> `wh`), which is the `database` of
    every node. Anything else (`:memory:`, a URL such as `md:`) is kept whole."""
    if value == ":memory:" or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value):
        return value
    return os.path.basename(value).lstrip(".").split(".")[0]


# Variables the parse sees only in part: a warehouse in another folder under the same name
# needs no new parse, one under another name does.
PARSED_PART_OF_ENV = {"REVOPS_WAREHOUSE": _warehouse_database}


def parse_fingerprint() -> str:
    """A hash of everything a parse depends on: the versions of dbt and its adapters (their
    macros go into the manifest), every REVOPS_* and DBT_* environment variable, the content
    of the settings file ($REVOPS_SETTINGS) and of every project file dbt reads."""
    digest = hashlib.sha256()
    for name, version in sorted(_dbt_distributions()):
        digest.update(f"package {name}=={version}\n".encode())
    for key in sorted(k for k in os.environ if k.startswith(("REVOPS_", "DBT_"))):
        if key in RUN_TIME_ONLY_ENV:
            continue
        value = os.environ[key]
        if key in PARSED_PART_OF_ENV:
            value = PARSED_PART_OF_ENV[key](value)
        digest.update(f"env {key}={value}\n".encode())
    settings_file = settings.settings_path()
    if settings_file is not None:
        with contextlib.suppress(OSError):
            digest.update(b"settings file\n" + settings_file.read_bytes())
    files = [PROJECT_DIR / name for name in PARSE_FILES]
    for folder in (*PARSE_FOLDERS, "dbt_packages"):
        files.extend(sorted((PROJECT_DIR / folder).rglob("*")))
    for path in files:
        if path.is_file():
            digest.update(f"file {path.relative_to(PROJECT_DIR)}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _dbt_distributions() -> set[tuple[str, str]]:
    """(name, version) of dbt-core and every installed dbt adapter or plugin."""
    out = set()
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name.startswith("dbt-"):
            out.add((name, dist.version))
    return out


def _artifacts_state(target: Path) -> str:
    """Size and modification time of the parse's artifacts: another dbt command run by hand
    (another target, other variables) rewrites them, and then the stamp no longer holds."""
    parts = []
    for name in ("manifest.json", "partial_parse.msgpack"):
        stat = (target / name).stat()
        parts.append(f"{name} {stat.st_size} {stat.st_mtime_ns}")
    return "\n".join(parts)


# The parse's artifacts, moved into target/ one by one when the parse is done; the manifest
# last, so that a reader never sees a new manifest beside an old partial parse.
PARSE_ARTIFACTS = ("partial_parse.msgpack", "semantic_manifest.json", "manifest.json")
PARSE_LOCK = ".revops_parse.lock"  # in target/: one parse at a time


def ensure_manifest(*, force: bool = False) -> Path:
    """dbt's manifest, which the Dagster definitions load, current for this project and
    environment: `dbt parse` into the project's target folder, unless the manifest there
    was written by the last such parse and nothing it depends on has changed since (a parse
    costs ~5 s even when it is a partial one; the check, a few milliseconds).

    Safe beside another process doing the same (two refreshes, or test workers): one parse at
    a time (a lock file in target/), each into a scratch folder whose artifacts then replace
    target/'s by renames, so a reader of target/manifest.json never sees half a file."""
    target = PROJECT_DIR / "target"
    target.mkdir(parents=True, exist_ok=True)
    manifest, stamp = target / "manifest.json", target / PARSE_STAMP
    fingerprint = parse_fingerprint()
    with (target / PARSE_LOCK).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not force and stamp.exists():
            with contextlib.suppress(OSError):
                if stamp.read_text() == f"{fingerprint}\n{_artifacts_state(target)}":
                    return manifest
        stamp.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory(dir=target, prefix="parse-") as scratch:
            scratch_target = Path(scratch)
            previous = target / "partial_parse.msgpack"
            if previous.exists():  # keeps the parse partial
                shutil.copyfile(previous, scratch_target / previous.name)
            dbt = Path(sys.executable).parent / "dbt"
            done = subprocess.run(
                [str(dbt), "parse", "--project-dir", str(PROJECT_DIR), "--profiles-dir",
                 str(PROJECT_DIR), "--target-path", str(scratch_target), "--log-path",
                 str(scratch_target / "logs"), "--quiet"],
                cwd=PROJECT_DIR,
                capture_output=True,
                text=True,
            )  # fmt: skip
            if done.returncode != 0:
                raise RuntimeError(f"dbt parse failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
            for name in PARSE_ARTIFACTS:
                if (scratch_target / name).exists():
                    os.replace(scratch_target / name, target / name)
        stamp.write_text(f"{fingerprint}\n{_artifacts_state(target)}")
    return manifest


def _instance():
    import dagster as dg

    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    # DagsterInstance.ephemeral() with an event log storage that reuses one connection
    # (about half the work of storing each of the run's ~3,400 events; orchestration/instance.py)
    from orchestration.instance import ephemeral_instance

    return ephemeral_instance()


class Clock:
    """Laps of `run_refresh`, in seconds: `lap(name)` adds the time since the previous lap."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(self.timings.get(name, 0.0) + now - self._last, 3)
        self._last = now


# The stages `progress(Progress)` reports: ingestion, the dbt build, the publish step.
INGEST, DBT, PUBLISH = "ingest", "dbt", "publish"
DBT_STEP, PUBLISH_STEP = "revops_dbt_models", "serving_snapshot"


@dataclass
class Progress:
    """Counts of a running refresh, updated as Dagster reports each event."""

    objects_total: int = 0
    objects_done: int = 0
    files_loaded: int = 0
    models_total: int = 0
    models_done: int = 0
    tests_total: int = 0
    tests_done: int = 0
    stage: str = INGEST
    finished: set[str] = field(default_factory=set)  # stages whose steps all ended
    failed: set[str] = field(default_factory=set)


def _stage(step_key: str | None) -> str:
    if step_key == DBT_STEP:
        return DBT
    if step_key == PUBLISH_STEP:
        return PUBLISH
    return INGEST


class _Listener:
    """Turns the run's Dagster events into `Progress` and calls `callback(progress)` when a
    count or the stage changes (Dagster calls it in the step's thread, event by event)."""

    def __init__(self, progress: Progress, callback: Callable[[Progress], None], dg) -> None:
        self.progress, self.callback, self.dg = progress, callback, dg
        self.ingest_steps: set[str] = set()
        self.broken = False  # the callback raised once: not called again

    def __call__(self, record) -> None:
        event = record.dagster_event
        if event is None:
            return
        kind, p, dg = event.event_type, self.progress, self.dg
        stage = _stage(event.step_key)
        if kind == dg.DagsterEventType.STEP_START:
            p.stage = stage
            if stage == INGEST:
                self.ingest_steps.add(event.step_key)
        elif kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            if kind == dg.DagsterEventType.STEP_FAILURE:
                p.failed.add(stage)
            if stage == INGEST:
                self.ingest_steps.discard(event.step_key)
                if p.objects_done >= p.objects_total and not self.ingest_steps:
                    p.finished.add(INGEST)
            else:
                p.finished.add(stage)
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            meta = event.event_specific_data.materialization.metadata
            if stage == INGEST and "files_loaded" in meta:
                p.objects_done += 1
                p.files_loaded += int(meta["files_loaded"].value or 0)
            elif stage == DBT:
                p.models_done += 1
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION and stage == DBT:
            p.tests_done += 1
        else:
            return
        if self.broken:
            return
        try:
            self.callback(p)
        except Exception:  # a closed pipe, a console error: progress never fails the run
            self.broken = True


def _log_level(verbose: bool, log_level: str | None) -> str:
    # Dagster's console logger prints a failed step's traceback to stderr as it happens, before
    # the summary; the summary says what failed, and `--verbose` prints the tracebacks after it.
    return log_level or ("INFO" if verbose else "CRITICAL")


def run_refresh(
    landing: Path,
    warehouse: Path,
    serving: Path,
    *,
    keep: int | None = None,
    full_refresh: bool = False,
    full_recheck: bool = False,
    all_models: bool = False,
    parse: bool = True,
    log_level: str | None = None,
    log_file: Path | None = None,
    history_start: dt.date | str | None = None,
    strict: bool = False,
    as_of: dt.date | None = None,
    skip_if_unchanged: bool = False,
    progress: Callable[[Progress], None] | None = None,
    verbose: bool = False,
    trigger: str = "revops refresh",
) -> RefreshResult:
    """Run the `refresh` job on these folders; never raises for a failed step (see `ok`).

    The settings file ($REVOPS_SETTINGS, docs/CONFIGURATION.md) is checked first (a bad file
    raises `settings.SettingsError` before anything runs) and exported as REVOPS_* variables
    for the run; `history_start` sets the `history_start` setting over both, and `strict`
    turns the `strict` setting on (an open failed file then stops publishing).
    `full_recheck` runs every data test on every row (revops/test_scope.py); `all_models`
    builds every model, none left out as unchanged (revops/unchanged.py).

    `skip_if_unchanged`: when nothing changed since the served snapshot (revops/noop.py), say
    so and return a no-op result without building or publishing (`revops refresh` without
    `--force`). `as_of`: the date staleness is measured against (default: the landing
    folder's newest delivery). `progress(Progress)` is called as steps report counts.

    Every run (a no-op too) is appended to the run history beside the warehouse
    (revops/runs.py); dbt's output goes to `log_file` (default: a new timestamped log per run
    under `<warehouse folder>/runs/logs/`, the newest `run_logs_kept` kept). A failed or
    warning run calls the alert hook of the settings (revops/alerts.py) once.
    """
    clock = Clock()
    landing, warehouse, serving = (Path(p).resolve() for p in (landing, warehouse, serving))
    if not landing.is_dir():
        raise ValueError(f"landing folder {landing} does not exist")
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    serving.mkdir(parents=True, exist_ok=True)
    org = settings.load_settings()
    strict = strict or settings.strict(org)  # a bad $REVOPS_STRICT raises here, before the run
    env = {
        **settings.settings_env(org, history_start),
        "REVOPS_LANDING": str(landing),
        "REVOPS_WAREHOUSE": str(warehouse),
        "REVOPS_SERVING": str(serving),
    }
    if org.path is not None:
        env[settings.SETTINGS_ENV] = str(org.path.resolve())
    started = time.monotonic()
    started_at = dt.datetime.now(dt.UTC)
    with environment(env):
        keep_logs = runs.run_logs_kept()  # a bad value raises here, before the run
        clock.lap("settings")
        reference = freshness.reference_date(landing, as_of)
        clock.lap("reference_date")
        if skip_if_unchanged and not (full_refresh or full_recheck or all_models):
            from revops import noop

            verdict = noop.check(landing, warehouse, serving, reference, strict)
            clock.lap("noop_check")
            if verdict.unchanged:
                summary = noop.result(verdict, started_at)
                summary.seconds = round(time.monotonic() - started, 2)
                return _finish(summary, org, warehouse, serving, started_at, trigger, clock)
            noop_reason = verdict.reason
        else:
            noop_reason = "not checked: " + (
                "--full-refresh"
                if full_refresh
                else "--full-recheck"
                if full_recheck
                else "--all-models"
                if all_models
                else "a rebuild was asked for (--force, revops demo)"
            )
        if parse:
            # with the build's warehouse path set: the profile is then the same for this parse
            # and the build, and the build's parse is a partial one (~5 s saved)
            ensure_manifest()
            clock.lap("parse_check")
        import dagster as dg

        job, ingest_ops, totals = _load_job_frozen()
        clock.lap("load_job")
        run_config: dict[str, object] = {
            "ops": {},
            "loggers": {"console": {"config": {"log_level": _log_level(verbose, log_level)}}},
        }
        if full_refresh or full_recheck or all_models:
            run_config["ops"]["revops_dbt_models"] = {
                "config": {
                    "full_refresh": full_refresh,
                    "full_recheck": full_recheck,
                    "all_models": all_models,
                }
            }
        publish_config: dict[str, object] = {}
        if full_refresh:
            publish_config["full_publish"] = True
        if keep is not None:
            publish_config["keep"] = keep
        if strict:
            publish_config["strict"] = True
        ingest_config: dict[str, object] = {}
        if as_of is not None:
            publish_config["as_of"] = as_of.isoformat()
            ingest_config["as_of"] = as_of.isoformat()
        if full_refresh or full_recheck:
            # the ingestion's reconciliation reads every raw row too (revops/ingest/reconcile.py)
            ingest_config["full_recheck"] = True
        if ingest_config:
            for op_name in ingest_ops:
                run_config["ops"][op_name] = {"config": dict(ingest_config)}
        if publish_config:
            run_config["ops"]["serving_snapshot"] = {"config": publish_config}
        run_id = str(uuid.uuid4())
        if log_file is None:
            log_file = runs.log_path(warehouse, run_id, started_at)
        log_file = Path(log_file)
        log_file.parent.mkdir(parents=True, exist_ok=True)
        counts = Progress(**totals)
        with (
            _instance() as instance,
            open(log_file, "w", encoding="utf-8") as handle,
            contextlib.closing(runs.TimestampedLog(handle)) as log,
            contextlib.redirect_stdout(log),
        ):
            if progress is not None:
                instance.add_event_listener(run_id, _Listener(counts, progress, dg))
            clock.lap("instance")
            job_started = time.time()  # the clock of Dagster's event timestamps
            result = job.execute_in_process(
                instance=instance,
                run_config=run_config,
                raise_on_error=False,
                run_id=run_id,
                # this process alerts for the run: the run-failure sensor skips it
                tags={"revops/alerts": "sent"},
            )
            job_ended = time.time()
            clock.lap("job")
            summary = _summarise(result, instance, dg, (job_started, job_ended))
            clock.lap("summarise")
        clock.lap("instance_close")
        runs.prune_logs(warehouse, keep_logs)
        if log_file.parent == runs.runs_dir(warehouse) / runs.LOGS_DIR:
            runs.link_latest(warehouse.with_name(runs.LATEST_LOG_LINK), log_file)
        summary.noop_reason = noop_reason
        summary.freshness_as_of = reference
        explained = checks.read_checks(checks.checks_path(warehouse), result.run_id)
        summary.check_details = explained or []
        left_out = unchanged.read_left_out(warehouse, result.run_id)
        if left_out is not None:
            summary.models_left_out = int(left_out.get("models") or 0)
            summary.seeds_left_out = int(left_out.get("seeds") or 0)
            summary.tests_left_out = int(left_out.get("tests") or 0)
            summary.left_out_summary = str(left_out.get("summary") or "")
        # The summary is what the ledger says this run did, not what the steps reported: a
        # step that failed part-way reports nothing, its ledger rows are still there.
        try:
            counts_ = read_run_counts(warehouse, result.run_id)
            summary.open_failures = read_open_failures(warehouse)
        except duckdb.Error as exc:  # another process holds the warehouse now: say so
            summary.errors.append(f"the load ledger could not be read: {exc}")
            for name in COUNTS:
                setattr(summary, name, None)  # unknown, not 0
        else:
            for name in COUNTS:
                setattr(summary, name, getattr(counts_, name))
            summary.load_ids = counts_.load_ids
        summary.strict = strict
        summary.unknown_paths = unknown_entries(landing)
        summary.errors = [_existing_paths(e, log_file) for e in summary.errors]
        if not summary.ok:
            # The served report says that this refresh did not publish, and why (the dbt step
            # already did when a check failed; this covers every other failure too).
            from revops import publish

            with contextlib.suppress(publish.PublishError, OSError, ValueError):
                publish.record_failed_refresh(
                    serving, result.run_id, summary.check_details, summary.errors
                )
        summary.log_file = str(log_file)
        summary.seconds = round(time.monotonic() - started, 2)
        clock.lap("after_run")
        return _finish(summary, org, warehouse, serving, started_at, trigger, clock)


_FROZEN: list[bool] = []  # once per process: see _load_job_frozen


def _load_job_frozen():
    """`_load_job()`, the first time in a process without the cyclic garbage collector, whose
    passes over the ~400,000 objects that Dagster, dagster-dbt, dbt and the definitions create
    took about a quarter of that time; those objects then live as long as the process, so
    they are frozen (`gc.freeze()`: later passes skip them). At exit, everything is frozen
    again, so that the interpreter's final passes skip the heap the OS frees anyway (several
    seconds: the decoded dbt manifest and every event of the run). Exit handlers and
    `weakref.finalize` callbacks (temporary folders) still run; every DuckDB connection is
    closed by the code that opened it. Only once per process: a long-lived process that runs
    many refreshes freezes nothing of theirs before it exits."""
    if _FROZEN:
        return _load_job()
    enabled = gc.isenabled()
    gc.disable()
    try:
        loaded = _load_job()
    finally:
        if enabled:
            gc.enable()
    gc.freeze()
    atexit.register(gc.freeze)
    _FROZEN.append(True)
    return loaded


def _load_job():
    """The `refresh` job, the op names of its ingestion assets, and the totals its progress
    counts up to (objects, dbt models, dbt tests)."""
    from orchestration.definitions import REFRESH_JOB, defs
    from orchestration.defs.ingestion.assets import ingestion_assets
    from orchestration.defs.transform.assets import revops_dbt_models

    totals = {
        "objects_total": len(ingestion_assets),
        "models_total": len(revops_dbt_models.keys),
        "tests_total": len(list(revops_dbt_models.check_specs)),
    }
    return defs.resolve_job_def(REFRESH_JOB), [a.op.name for a in ingestion_assets], totals


# dagster-dbt's error names `<target>/<invocation>/dbt.log`, a folder removed after the step
_DBT_LOG = re.compile(r"(\S*[/\\])?dbt\.log\b")


def _existing_paths(message: str, log_file: Path) -> str:
    """`message` with every dbt.log path that no longer exists replaced by the run's kept log."""

    def swap(match: re.Match[str]) -> str:
        return match.group(0) if Path(match.group(0)).exists() else str(log_file)

    return _DBT_LOG.sub(swap, message)


def _finish(
    summary: RefreshResult,
    org: settings.Settings,
    warehouse: Path,
    serving: Path,
    started_at: dt.datetime,
    trigger: str,
    clock: Clock | None = None,
) -> RefreshResult:
    """Record the run in the history and call the alert hook (once) for a failure or a
    warning: stale sources, open failed files, warned checks."""
    from revops import publish

    summary.settings_file = str(org.path) if org.path else None
    summary.trigger = trigger
    summary.started_at = started_at.isoformat()
    summary.finished_at = dt.datetime.now(dt.UTC).isoformat()
    try:
        summary.served_snapshot = publish.served_snapshot_id(serving)
    except (OSError, ValueError, duckdb.Error) as exc:  # the history says so; the run stands
        summary.errors.append(f"the served snapshot could not be read: {exc}")
    outcome = summary.outcome
    warned = summary.stale_sources or summary.open_failures or summary.checks_warned
    if outcome == "failed" or (outcome == "published" and warned):
        summary.alerts = alerts.send(alert_payload(summary))
    record = history_record(summary)
    try:
        summary.history_file = str(runs.append(warehouse, record))
    except OSError as exc:
        summary.errors.append(f"the run history could not be written: {exc}")
    if clock is not None:
        clock.lap("history")
        summary.timings = {**clock.timings, **summary.timings}
    return summary


def alert_payload(summary: RefreshResult) -> dict[str, object]:
    """The alert hook's payload of a run (revops/alerts.py; docs/SERVING.md "Alerts")."""
    return alerts.payload(
        run_id=summary.run_id,
        outcome=alerts.FAILED if summary.outcome == "failed" else alerts.WARNING,
        trigger=summary.trigger,
        started_at=summary.started_at,
        finished_at=summary.finished_at,
        snapshot_id=(summary.published or {}).get("snapshot_id"),  # type: ignore[arg-type]
        failed_checks=[*summary.checks_failed,
                       *(d.name for d in summary.check_details
                         if d.blocking and d.name not in summary.checks_failed)],
        warned_checks=summary.checks_warned,
        stale_sources=[s.to_json() for s in summary.stale_sources],
        open_failed_files=[f.message for f in summary.open_failures],
        errors=summary.errors,
        freshness_as_of=summary.freshness_as_of.isoformat() if summary.freshness_as_of else None,
        log_file=summary.log_file or None,
    )  # fmt: skip


def history_record(summary: RefreshResult) -> dict[str, object]:
    """One line of the run history (revops/runs.py)."""
    return {
        "run_id": summary.run_id,
        "started_at": summary.started_at,
        "finished_at": summary.finished_at,
        "seconds": summary.seconds,
        "outcome": summary.outcome,
        "counts": {
            "files_loaded": summary.files_loaded,
            "files_duplicate": summary.files_duplicate,
            "files_failed": summary.files_failed,
            "rows_loaded": summary.rows_loaded,
            "rows_rejected": summary.rows_rejected,
            "rows_quarantined": summary.rows_quarantined,
            "models": summary.models,
            "models_left_out": summary.models_left_out,
            "marts_left_out": len(summary.marts_left_out),
            "tests_left_out": summary.tests_left_out,
            "checks_passed": summary.checks_passed,
            "checks_failed": len(summary.checks_failed),
            "checks_warned": len(summary.checks_warned),
        },
        "failed_checks": summary.checks_failed,
        "warned_checks": summary.checks_warned,
        "stale_sources": [s.folder for s in summary.stale_sources],
        "errors": [e[:500] for e in summary.errors][:10],
        "snapshot_id": (summary.published or {}).get("snapshot_id"),
        "served_snapshot": summary.served_snapshot,
        "noop_reason": summary.noop_reason or None,
        "log_file": summary.log_file or None,
        "alerts": summary.alerts,
    }


FRESHNESS_CHECK = "latest_delivery_is_recent"  # orchestration/defs/ingestion/assets.py


def _stale_source(evaluation) -> freshness.StaleSource:
    """A failed freshness check's source, newest delivery and days behind (its metadata)."""
    meta = {k: v.value for k, v in evaluation.metadata.items()}
    latest = meta.get("latest_delivery_date")
    behind = meta.get("days_behind")
    return freshness.StaleSource(
        folder=str(meta.get("source") or evaluation.asset_key.to_user_string()),
        latest_delivery_date=(
            dt.date.fromisoformat(latest) if latest not in (None, "none") else None
        ),
        days_behind=int(behind) if isinstance(behind, int) and behind >= 0 else None,
    )


def _cause(error) -> str:
    """The message of what went wrong, not of Dagster's wrapper around it ("Error occurred
    while executing op ..."): the innermost cause of a step execution error."""
    while error.cause is not None and (error.cls_name or "").startswith("Dagster"):
        error = error.cause
    return error.message.strip()


def _job_timings(
    steps: list[tuple[float, float]], job_span: tuple[float, float] | None
) -> dict[str, float]:
    """The job's time outside its steps (`execute_in_process` from call to return): before the
    first step starts (the run's creation, its planned events, the resources), between steps
    (Dagster's handling of one step's end and the next one's start), after the last one ends
    (the run's end, the executor's teardown). `steps`: (start, end) of each step, epoch seconds."""
    if job_span is None or not steps:
        return {}
    steps = sorted(steps)
    between, reached = 0.0, steps[0][0]
    for start, end in steps:
        between += max(0.0, start - reached)
        reached = max(reached, end)
    return {
        "job_before_steps": round(steps[0][0] - job_span[0], 3),
        "job_between_steps": round(between, 3),
        "job_after_steps": round(job_span[1] - reached, 3),
    }


def _summarise(result, instance, dg, job_span: tuple[float, float] | None = None) -> RefreshResult:
    out = RefreshResult(ok=result.success, run_id=result.run_id, seconds=0.0)
    step_start: dict[str, float] = {}
    intervals: list[tuple[float, float]] = []
    # only the kinds counted below: not the ~950 planned events, the step outputs and log lines
    # (about two thirds of a refresh's events), which would be read and decoded for nothing
    kinds = {
        dg.DagsterEventType.STEP_START,
        dg.DagsterEventType.STEP_SUCCESS,
        dg.DagsterEventType.STEP_FAILURE,
        dg.DagsterEventType.ASSET_MATERIALIZATION,
        dg.DagsterEventType.ASSET_CHECK_EVALUATION,
    }
    for record in instance.all_logs(result.run_id, of_type=kinds):
        event = record.dagster_event
        if event is None:
            continue
        kind = event.event_type
        if kind == dg.DagsterEventType.STEP_START:
            step_start[event.step_key] = record.timestamp
        elif kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            if event.step_key in step_start:
                seconds = record.timestamp - step_start[event.step_key]
                out.step_seconds[event.step_key] = round(seconds, 2)
                intervals.append((step_start[event.step_key], record.timestamp))
            if kind == dg.DagsterEventType.STEP_FAILURE:
                out.failed_steps.append(event.step_key)
                error = event.step_failure_data.error
                user = event.step_failure_data.user_failure_data
                if user is not None and user.description:  # a dg.Failure says what failed
                    out.errors.append(f"{event.step_key}: {user.description.strip()[:2000]}")
                elif error is not None:
                    out.errors.append(f"{event.step_key}: {_cause(error)[:2000]}")
                if error is not None:
                    out.tracebacks.append(f"{event.step_key}:\n{error.to_string()}")
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            mat = event.event_specific_data.materialization
            key = mat.asset_key
            meta = {k: v.value for k, v in mat.metadata.items()}
            if key.path[0] == "serving_snapshot":
                out.published = meta
            elif key.path[0] == "serving_report":
                out.report = str(meta.get("path")) if meta.get("path") else None
                out.report_seconds = meta.get("report_seconds")
            elif key.path[0] == "settings":  # the org's mapping overrides (org_settings)
                out.mapping_overrides += int(meta.get("override_rows", 0))
            elif "files_loaded" in meta or key.path[0] == "landing_folder":
                pass  # ingestion: the files and rows are counted from the ledger
            elif unchanged.LEFT_OUT_KEY in meta:  # a mart left out as unchanged: not built
                out.marts_left_out.append(key.to_user_string())
            else:
                out.models += 1
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            if evaluation.check_name == FRESHNESS_CHECK:
                age = evaluation.metadata.get("max_delivery_age_days")
                if age is not None:
                    out.max_delivery_age_days = int(age.value)
                if not evaluation.passed:
                    out.stale_sources.append(_stale_source(evaluation))
            if evaluation.passed:
                out.checks_passed += 1
            elif evaluation.severity == dg.AssetCheckSeverity.WARN:
                out.checks_warned.append(name)
            else:
                out.checks_failed.append(name)
    out.ok = result.success and not out.checks_failed and out.published is not None
    out.stale_sources.sort(key=lambda s: s.folder)
    out.timings = _job_timings(intervals, job_span)
    return out
