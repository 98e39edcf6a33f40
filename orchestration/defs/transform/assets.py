"""dbt models and tests as software-defined assets and asset checks, grouped by model folder,
and the org's settings (docs/CONFIGURATION.md) that reach dbt before it runs.

dbt tests become asset checks; those with severity `error` (the default, and every
reconciliation test in data-tests/) are blocking: when one fails, dbt stops the models
downstream and Dagster does not run the publish step, so the last good snapshot stays served.
Every test that did not pass is explained after the build (revops/checks.py): its meaning,
failing row count and sample rows, beside the warehouse, in the log, and in the report.
"""

import contextlib
import json
import os
import shutil
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.defs.ingestion.assets import close_shared_connection
from orchestration.defs.ingestion.resources import Warehouse
from orchestration.defs.publish.resources import ServingFolder
from orchestration.defs.transform.resources import OrgSettings
from orchestration.owners import DATA_PLATFORM
from orchestration.project import dbt_project
from revops import checks, incremental, publish, test_scope, unchanged
from revops import settings as org_settings_lib
from revops.settings import environment
from revops.transform import read_manifest

WAREHOUSE_POOL = "warehouse"
SETTINGS_GROUP = "settings"
SEEDS_GROUP = "seeds"
RUN_RESULTS_FILE = "dbt_run_results.json"  # written beside the warehouse by each build


class RevopsDbtTranslator(DagsterDbtTranslator):
    """Groups models by their top-level folder (staging, intermediate, marts, utilities) and
    the seeds (the mapping seeds' vendor defaults) in `seeds`. Owners come from each node's
    `meta.dagster.owners` (set for every model and seed in dbt_project.yml)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        resource_type = dbt_resource_props.get("resource_type")
        if resource_type == "model" and len(fqn) > 2:
            return fqn[1]
        if resource_type == "seed":
            return SEEDS_GROUP
        return super().get_group_name(dbt_resource_props)


def dbt_target() -> str:
    """The profiles.yml output dbt builds into ($REVOPS_DBT_TARGET, default duckdb)."""
    return os.environ.get("REVOPS_DBT_TARGET", "duckdb")


def raw_parquet_root() -> Path:
    """Where the raw layer is exported for Spark ($REVOPS_RAW_PARQUET, as in the dbt hook)."""
    path = Path(os.environ.get("REVOPS_RAW_PARQUET", "data/raw_parquet")).expanduser()
    return path if path.is_absolute() else dbt_project.project_dir / path


class DbtBuildConfig(dg.Config):
    """Run options of the dbt build."""

    full_refresh: bool = False  # rebuild incremental models from scratch (re-checks every row)
    # run every data test on every row; otherwise the tests of incremental staging models
    # check the rows loaded since they last passed (revops/test_scope.py)
    full_recheck: bool = False
    # build every model, none left out as unchanged since its last build (revops/unchanged.py;
    # `revops refresh --all-models`)
    all_models: bool = False


@contextlib.contextmanager
def warehouse_env(path: Path) -> Iterator[None]:
    """profiles.yml reads the warehouse path from $REVOPS_WAREHOUSE: point it at the resolved
    resource for the duration of one dbt invocation."""
    previous = os.environ.get("REVOPS_WAREHOUSE")
    os.environ["REVOPS_WAREHOUSE"] = str(path)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("REVOPS_WAREHOUSE", None)
        else:
            os.environ["REVOPS_WAREHOUSE"] = previous


def settings_asset_key(seed: org_settings_lib.MappingSeed) -> dg.AssetKey:
    """The key of a mapping's override table: the dbt source `settings.<seed>`'s key."""
    return dg.AssetKey(["settings", seed.name])


@dg.multi_asset(
    name="org_settings",
    specs=[
        dg.AssetSpec(
            settings_asset_key(seed),
            group_name=SETTINGS_GROUP,
            kinds={"duckdb", "toml"},
            owners=DATA_PLATFORM,
            description=(
                f"`raw.{seed.table}`: the org's override rows for the mapping seed "
                f"`{seed.name}` from the settings file ($REVOPS_SETTINGS; empty without one). "
                f"dbt's `stg_settings__{seed.name}` merges them with the seed."
            ),
            metadata={"dagster/table_name": f"raw.{seed.table}"},
        )
        for seed in org_settings_lib.mapping_seeds()
    ],
    pool=WAREHOUSE_POOL,  # writes the warehouse
    description="The settings file's mapping overrides, written before dbt reads them.",
)
def org_settings(
    context: dg.AssetExecutionContext, warehouse: Warehouse, settings_file: OrgSettings
) -> Iterator[dg.MaterializeResult]:
    loaded = settings_file.load()
    path = warehouse.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    written = org_settings_lib.write_mapping_tables(path, loaded)
    source = str(loaded.path) if loaded.path else "none"
    if loaded.path:
        context.log.info(f"settings file {loaded.path}: {', '.join(sorted(loaded.values))}")
    for seed in org_settings_lib.mapping_seeds():
        yield dg.MaterializeResult(
            asset_key=settings_asset_key(seed),
            metadata={"override_rows": written[seed.name], "settings_file": source},
        )


@dbt_assets(
    manifest=dbt_project.manifest_path,
    dagster_dbt_translator=RevopsDbtTranslator(),
    project=dbt_project,
    # dbt writes the warehouse: it takes turns with the ingestion assets (one DuckDB writer).
    pool=WAREHOUSE_POOL,
)
def revops_dbt_models(
    context: dg.AssetExecutionContext,
    config: DbtBuildConfig,
    dbt: DbtCliResource,
    warehouse: Warehouse,
    settings_file: OrgSettings,
    serving: ServingFolder,
) -> Iterator[Any]:
    if close_shared_connection():
        context.log.warning(
            "the ingestion steps' warehouse connection was still open: closed before dbt"
        )
    # Unit tests check the models' logic on fixed inputs, not the data: they run in CI (the
    # test suite's dbt build), not in every refresh.
    args = ["build", "--exclude-resource-type", "unit_test"]
    target = dbt_project.project_dir / "target" / f"build-{context.run.run_id}"
    path = warehouse.resolve()
    fingerprints: dict[str, str] = {}
    full_refresh = config.full_refresh
    # The settings file's values as REVOPS_* variables (the environment's own win), which the
    # dbt macro `setting()` reads.
    exported = org_settings_lib.settings_env(settings_file.load())
    scope: test_scope.ScopePlan | None = None
    build_plan: unchanged.Plan | None = None
    if dbt_target() == "duckdb":
        # Incremental models whose logic changed (their code, upstream seeds, the settings and
        # mapping override rows they read), or whose raw rows were removed, are rebuilt from the
        # raw tables: otherwise the change would reach new rows only (revops/incremental.py).
        manifest = read_manifest(dbt_project.manifest_path)
        # the raw tables' signatures (DuckDB) are read beside the fingerprints (Python)
        signatures = unchanged.start_input_signatures(path, manifest)
        mapping_rows = incremental.mapping_override_digests(path)
        fingerprints = incremental.current_fingerprints(
            manifest, path, {**os.environ, **exported}, mapping_rows
        )
        reasons = incremental.rebuild_reasons(path, fingerprints)
        if reasons and not full_refresh:
            context.log.warning(
                "rebuilding the incremental models from the raw tables (--full-refresh): "
                + "; ".join(reasons)
            )
            full_refresh = True
        max_age_days = test_scope.recheck_days(settings_file.load())
        scope = test_scope.plan(
            path,
            manifest,
            full_recheck=full_refresh or config.full_recheck,
            max_age_days=max_age_days,
        )
        context.log.info(scope.summary())
        # Models (and their tests) whose logic and raw inputs did not change since their last
        # successful build, nothing upstream of them rebuilt: left as they are.
        build_plan = unchanged.plan_build(
            path,
            manifest,
            {**os.environ, **exported},
            max_age_days=max_age_days,
            mapping_rows=mapping_rows,
            signatures=signatures,
            disabled=(
                "--full-refresh"
                if full_refresh
                else "--full-recheck"
                if config.full_recheck
                else "--all-models"
                if config.all_models
                # dagster-dbt selects a subset's tests by indirect selection: left as it is
                else "a subset of the dbt assets was selected"
                if context.is_subset
                else ""
            ),
        )
        context.log.info(build_plan.summary())
        args += build_plan.dbt_args()
    if full_refresh:
        args.append("--full-refresh")
    if dbt_target() != "duckdb":
        # Spark reads the raw layer as Parquet (docs/SPARK.md): export what was just ingested.
        from revops.ingest.parquet import export_raw_parquet

        out = raw_parquet_root()
        tables = export_raw_parquet(path, out)
        context.log.info(f"raw layer exported for Spark: {len(tables)} tables -> {out}")
    # which tests run on new rows only (none: every test on every row)
    exported.update(scope.env() if scope else {test_scope.SCOPE_ENV: ""})
    try:
        with warehouse_env(path), environment(exported):
            if build_plan is not None:
                # first: Dagster wants a multi-asset's outputs in the order of the graph, and
                # a mart dbt builds may read a left-out one
                yield from _left_out_outputs(context, build_plan)
            yield from dbt.cli(args, context=context, target_path=target).stream()
    finally:
        # Each invocation leaves its artifacts in its own folder; only the timings of every
        # node are kept, beside the warehouse (what `bench/` and a slow morning look at).
        results = target / "run_results.json"
        if build_plan is not None:
            # what this build left out, for `revops refresh`'s summary and the bench
            unchanged.write_left_out(path, context.run.run_id, build_plan)
        if results.exists():
            shutil.copyfile(results, path.with_name(RUN_RESULTS_FILE))
            run_results = json.loads(results.read_text())
            if fingerprints:
                built = incremental.built_models(run_results)
                incremental.record_built(path, fingerprints, built)
            if scope is not None:
                test_scope.record(path, scope, run_results)
            if build_plan is not None:
                unchanged.record(path, build_plan, run_results, context.run.run_id)
            _explain_checks(context, run_results, path, serving)
        remove_in_background(target)


def _left_out_outputs(
    context: dg.AssetExecutionContext, build_plan: unchanged.Plan
) -> Iterator[dg.Output]:
    """An output for each mart the build leaves out as unchanged (revops/unchanged.py), in the
    order of the graph, before dbt's outputs: the publish step depends on every mart and
    Dagster skips it when one emits nothing. Nothing upstream of a left-out mart is built, so
    what the build does cannot change it: the output holds whatever the build's outcome (a
    failed build fails the step, and the publish does not run). The output's metadata says the
    mart was left out and since which run, so Dagster's history does not claim a build; its
    tests emit no check result (they did not run; the snapshot counts them as left out)."""
    if not build_plan.left_out_marts:
        return
    manifest = read_manifest(dbt_project.manifest_path)
    translator = RevopsDbtTranslator()
    selected = context.selected_asset_keys
    names = []
    for uid in build_plan.left_out_marts:
        key = translator.get_asset_spec(manifest, uid, dbt_project).key
        if key not in selected:
            continue
        names.append(key.to_user_string())
        yield dg.Output(
            value=None,
            output_name=key.to_python_identifier(),
            metadata=unchanged.left_out_metadata(build_plan, uid),
        )
    runs = sorted({build_plan.since[u].run_id[:8] for u in build_plan.left_out_marts})
    context.log.info(
        f"marts left out: {len(names)} unchanged since run {', '.join(runs)} "
        f"(not built, carried by the publish): {', '.join(names)}"
    )


REMOVING_PREFIX = ".removing-"  # a build folder renamed for removal (target/)


def remove_in_background(folder: Path) -> None:
    """Remove a build's folder without waiting for it: it holds a compiled and a run copy of
    the SQL of every node (~2,000 files, ~0.4 s to delete here, seconds on a busy disk). It is
    renamed at once (so `build-<run id>` is gone when the step ends), then deleted by a thread
    beside the next steps, with any folder an earlier process left half deleted. Not a daemon
    thread: the process waits for it before exiting."""
    doomed = folder.with_name(REMOVING_PREFIX + folder.name)
    try:
        os.replace(folder, doomed)
    except FileNotFoundError:
        return
    except OSError:  # e.g. a leftover of the same name: delete in place, as before
        shutil.rmtree(folder, ignore_errors=True)
        return

    def remove() -> None:
        for leftover in sorted(folder.parent.glob(REMOVING_PREFIX + "*")):
            shutil.rmtree(leftover, ignore_errors=True)

    threading.Thread(target=remove, name=f"remove {doomed.name}", daemon=False).start()


def _explain_checks(
    context: dg.AssetExecutionContext,
    run_results: dict[str, Any],
    warehouse: Path,
    serving: ServingFolder,
) -> None:
    """Explain every test that did not pass (log, `dbt_checks.json`); when a blocking one
    failed, the served report says that this refresh did not publish, and why."""
    manifest = read_manifest(dbt_project.manifest_path)
    duckdb_file = warehouse if dbt_target() == "duckdb" else None
    outcomes = checks.explain_checks(run_results, manifest, duckdb_file)
    checks.write_checks(checks.checks_path(warehouse), context.run.run_id, outcomes)
    for outcome in outcomes:
        rows = "error" if outcome.failures is None else f"{outcome.failures:,} rows"
        line = f"check {outcome.name} ({outcome.status}, {rows}): {outcome.meaning}"
        samples = outcome.sample_keys()
        if samples:
            line += "; e.g. " + " | ".join(samples)
        (context.log.error if outcome.blocking else context.log.warning)(line)
    errors = [
        f"{r['unique_id'].split('.')[-1]}: {' '.join(str(r.get('message') or '').split())[:500]}"
        for r in run_results.get("results", [])
        if r.get("status") == "error" and not r.get("unique_id", "").startswith("test.")
    ]
    if errors or any(o.blocking for o in outcomes):
        try:
            publish.record_failed_refresh(serving.resolve(), context.run.run_id, outcomes, errors)
        except Exception as exc:
            # the dbt failure is what this step reports; an error here must not replace it
            context.log.error(
                f"the served report could not be rebuilt to say this refresh did not publish "
                f"({type(exc).__name__}: {exc}); it still describes the served snapshot"
            )
