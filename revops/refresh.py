"""`revops refresh`: the Dagster `refresh` job, run headless in this process.

The same job `dagster dev` shows and the schedule starts: ingestion assets -> dbt build (models
and tests as asset checks) -> serving_snapshot and serving_report (one step: the report is built
before the snapshot is served, and served with it). With $DAGSTER_HOME set, the run is recorded
in that Dagster instance (and shows in the UI); otherwise an ephemeral one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from revops import checks, settings
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
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)  # blocking checks that failed
    checks_warned: list[str] = field(default_factory=list)  # non-blocking (WARN) checks
    # every dbt test that did not pass, explained (revops/checks.py), blocking ones first
    check_details: list[checks.CheckOutcome] = field(default_factory=list)
    settings_file: str | None = None  # the settings file applied ($REVOPS_SETTINGS)
    mapping_overrides: int = 0  # its mapping rows written for dbt
    published: dict[str, object] | None = None  # the serving_snapshot metadata
    report: str | None = None
    failed_steps: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    step_seconds: dict[str, float] = field(default_factory=dict)
    log_file: str = ""  # dbt's output of the run


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


def parse_fingerprint() -> str:
    """A hash of everything a parse depends on: the versions of dbt and its adapters (their
    macros go into the manifest), every REVOPS_* and DBT_* environment variable, the content
    of the settings file ($REVOPS_SETTINGS) and of every project file dbt reads."""
    digest = hashlib.sha256()
    for name, version in sorted(_dbt_distributions()):
        digest.update(f"package {name}=={version}\n".encode())
    for key in sorted(k for k in os.environ if k.startswith(("REVOPS_", "DBT_"))):
        digest.update(f"env {key}={os.environ[key]}\n".encode())
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
    return dg.DagsterInstance.ephemeral()


def run_refresh(
    landing: Path,
    warehouse: Path,
    serving: Path,
    *,
    keep: int | None = None,
    full_refresh: bool = False,
    parse: bool = True,
    log_level: str = "WARNING",
    log_file: Path | None = None,
    history_start: dt.date | str | None = None,
    strict: bool = False,
) -> RefreshResult:
    """Run the `refresh` job on these folders; never raises for a failed step (see `ok`).

    The settings file ($REVOPS_SETTINGS, docs/CONFIGURATION.md) is checked first (a bad file
    raises `settings.SettingsError` before anything runs) and exported as REVOPS_* variables
    for the run; `history_start` sets the `history_start` setting over both, and `strict`
    turns the `strict` setting on (an open failed file then stops publishing).
    dbt's own output (one line per node) goes to `log_file` (default: `refresh.log` beside the
    warehouse); Dagster's log lines at `log_level` and above go to stderr.
    """
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
    with environment(env):
        if parse:
            # with the build's warehouse path set: the profile is then the same for this parse
            # and the build, and the build's parse is a partial one (~5 s saved)
            ensure_manifest()
        import dagster as dg

        from orchestration.definitions import REFRESH_JOB, defs

        job = defs.resolve_job_def(REFRESH_JOB)
        run_config: dict[str, object] = {
            "ops": {},
            "loggers": {"console": {"config": {"log_level": log_level}}},
        }
        if full_refresh:
            run_config["ops"]["revops_dbt_models"] = {"config": {"full_refresh": True}}
        publish_config: dict[str, object] = {}
        if keep is not None:
            publish_config["keep"] = keep
        if strict:
            publish_config["strict"] = True
        if publish_config:
            run_config["ops"]["serving_snapshot"] = {"config": publish_config}
        log_file = Path(log_file) if log_file else warehouse.with_name("refresh.log")
        with (
            _instance() as instance,
            open(log_file, "w") as log,
            contextlib.redirect_stdout(log),
        ):
            result = job.execute_in_process(
                instance=instance, run_config=run_config, raise_on_error=False
            )
            summary = _summarise(result, instance, dg)
        explained = checks.read_checks(checks.checks_path(warehouse), result.run_id)
        summary.check_details = explained or []
        # The summary is what the ledger says this run did, not what the steps reported: a
        # step that failed part-way reports nothing, its ledger rows are still there.
        try:
            counts = read_run_counts(warehouse, result.run_id)
            summary.open_failures = read_open_failures(warehouse)
        except duckdb.Error as exc:  # another process holds the warehouse now: say so
            summary.errors.append(f"the load ledger could not be read: {exc}")
            for name in COUNTS:
                setattr(summary, name, None)  # unknown, not 0
        else:
            for name in COUNTS:
                setattr(summary, name, getattr(counts, name))
            summary.load_ids = counts.load_ids
        summary.strict = strict
        summary.unknown_paths = unknown_entries(landing)
        if not summary.ok:
            # The served report says that this refresh did not publish, and why (the dbt step
            # already did when a check failed; this covers every other failure too).
            from revops import publish

            with contextlib.suppress(publish.PublishError, OSError, ValueError):
                publish.record_failed_refresh(
                    serving, result.run_id, summary.check_details, summary.errors
                )
    summary.settings_file = str(org.path) if org.path else None
    summary.log_file = str(log_file)
    summary.seconds = round(time.monotonic() - started, 2)
    return summary


def _summarise(result, instance, dg) -> RefreshResult:
    out = RefreshResult(ok=result.success, run_id=result.run_id, seconds=0.0)
    step_start: dict[str, float] = {}
    for record in instance.all_logs(result.run_id):
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
            if kind == dg.DagsterEventType.STEP_FAILURE:
                out.failed_steps.append(event.step_key)
                error = event.step_failure_data.error
                if error is not None:
                    out.errors.append(f"{event.step_key}: {error.message.strip()[:2000]}")
                user = event.step_failure_data.user_failure_data
                if user is not None and user.description:
                    out.errors.append(f"{event.step_key}: {user.description.strip()[:2000]}")
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            mat = event.event_specific_data.materialization
            key = mat.asset_key
            meta = {k: v.value for k, v in mat.metadata.items()}
            if key.path[0] == "serving_snapshot":
                out.published = meta
            elif key.path[0] == "serving_report":
                out.report = str(meta.get("path")) if meta.get("path") else None
            elif key.path[0] == "settings":  # the org's mapping overrides (org_settings)
                out.mapping_overrides += int(meta.get("override_rows", 0))
            elif "files_loaded" in meta or key.path[0] == "landing_folder":
                pass  # ingestion: the files and rows are counted from the ledger
            else:
                out.models += 1
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            if evaluation.passed:
                out.checks_passed += 1
            elif evaluation.severity == dg.AssetCheckSeverity.WARN:
                out.checks_warned.append(name)
            else:
                out.checks_failed.append(name)
    out.ok = result.success and not out.checks_failed and out.published is not None
    return out
