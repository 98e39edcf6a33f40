"""The last step of the refresh: publish the marts as a snapshot, with its HTML report.

`serving_snapshot` (one step, two assets: `serving_snapshot` and `serving_report`) runs only
when every upstream asset materialized and no blocking check failed (the ingestion
reconciliation, every dbt test of severity error): Dagster skips it otherwise, and the previous
snapshot and its report stay served. The report is built before the snapshot is served and
switched with it (revops/publish.py), so the two never describe different snapshots. An open
failed file (docs/INGESTION.md) does not stop it, unless `strict`: then it fails first, naming
the files.
"""

import time
from collections.abc import Iterator, Sequence

import dagster as dg

from orchestration.defs.ingestion.resources import LandingFolder, Warehouse
from orchestration.defs.publish.resources import ServingFolder
from orchestration.defs.transform.assets import WAREHOUSE_POOL, dbt_target, revops_dbt_models
from orchestration.defs.transform.resources import OrgSettings
from orchestration.owners import DATA_PLATFORM
from orchestration.project import dbt_project
from revops import checks, freshness, metric_definitions, publish, settings, unchanged
from revops.ingest.ledger import read_open_failures, strict_refusal

GROUP = "publish"
SNAPSHOT_KEY = dg.AssetKey("serving_snapshot")
REPORT_KEY = dg.AssetKey("serving_report")


def mart_keys(dbt_assets: dg.AssetsDefinition = revops_dbt_models) -> Sequence[dg.AssetKey]:
    """The dbt assets in the `marts` group: what the snapshot copies."""
    return sorted(
        (k for k in dbt_assets.keys if dbt_assets.group_names_by_key.get(k) == "marts"),
        key=lambda k: k.to_user_string(),
    )


class PublishConfig(dg.Config):
    """Run options of the publish step."""

    keep: int = publish.DEFAULT_KEEP  # snapshots kept for `revops rollback`
    # publish nothing while a failed file is open (`revops refresh --strict`); the `strict`
    # setting ($REVOPS_STRICT, the settings file) turns it on too
    strict: bool = False
    # staleness is measured against this date (YYYY-MM-DD; `revops refresh --as-of`), else
    # against the landing folder's newest delivery (revops/freshness.py)
    as_of: str = ""
    max_delivery_age_days: int = freshness.DEFAULT_MAX_DELIVERY_AGE_DAYS
    # copy every mart into a new file, none carried over from the served snapshot
    # (`revops refresh --full-refresh`)
    full_publish: bool = False


def _checks_passed(context: dg.AssetExecutionContext) -> int:
    """Asset checks of this run that passed (what the snapshot was gated on)."""
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    return sum(
        1
        for r in records
        if r.event_log_entry.dagster_event
        and r.event_log_entry.dagster_event.event_specific_data.passed
    )


@dg.multi_asset(
    name="serving_snapshot",
    specs=[
        dg.AssetSpec(
            SNAPSHOT_KEY,
            group_name=GROUP,
            deps=mart_keys(),
            kinds={"duckdb"},
            owners=DATA_PLATFORM,
            description=(
                "The marts (no raw or staging data; personal data hashed or dropped) copied into "
                "a new serving DuckDB file, verified, and served as `<serving>/revops.duckdb` "
                "together with its report; older snapshots are kept for `revops rollback` "
                "(docs/SERVING.md)."
            ),
            # not materialized when dbt builds into Spark (the marts are not in the warehouse)
            skippable=True,
        ),
        dg.AssetSpec(
            REPORT_KEY,
            group_name=GROUP,
            deps=[SNAPSHOT_KEY],
            kinds={"html"},
            owners=DATA_PLATFORM,
            description=(
                "`<serving>/report.html`: one self-contained HTML page (plotly inlined, no "
                "network) with the headline metrics, MRR, funnel, win rates, channels and "
                "retention of the served snapshot, and its data freshness first "
                "(docs/REPORT.md). Built from the new snapshot before it is served, and served "
                "with it in one step: it always describes the served database."
            ),
            skippable=True,
        ),
    ],
    pool=WAREHOUSE_POOL,  # reads the warehouse: not while a load or a dbt build writes it
)
def serving_snapshot(
    context: dg.AssetExecutionContext,
    config: PublishConfig,
    landing: LandingFolder,
    warehouse: Warehouse,
    serving: ServingFolder,
    settings_file: OrgSettings,
) -> Iterator[dg.MaterializeResult]:
    """One step, so that the snapshot and its report are one unit (docs/SERVING.md): the
    report is built from the new snapshot file, then both are served together."""
    # The failed-file policy (docs/INGESTION.md): the snapshot is published without the open
    # failed files, which the report names; under `strict` nothing is published while one is.
    failures = read_open_failures(warehouse.resolve())
    if failures and (config.strict or settings.strict(settings_file.load())):
        raise dg.Failure(description=strict_refusal(failures), allow_retries=False)
    for failure in failures:
        context.log.warning(f"published without an open failed file: {failure.message}")
    if dbt_target() != "duckdb":
        # The snapshot copies marts out of the DuckDB warehouse. On Spark the marts live in the
        # cluster's metastore and BI tools read them there (docs/SPARK.md); publishing the
        # warehouse's stale marts instead would serve old numbers.
        # Nothing is yielded: neither the snapshot nor the report is materialized.
        context.log.warning(
            f"not published: dbt built into target {dbt_target()!r}, and the snapshot copies "
            "marts from the DuckDB warehouse; BI tools read that target (docs/SPARK.md)"
        )
        return
    from revops.report import build_report

    built: dict[str, object] = {}

    def build(snapshot_db, out):
        started = time.monotonic()
        built["result"] = build_report(snapshot_db, out)
        built["seconds"] = round(time.monotonic() - started, 3)

    tables = publish.mart_tables(dbt_project.manifest_path)
    left_out: list[str] = []
    definitions = metric_definitions.load(tables, skipped=left_out)
    if left_out:
        context.log.warning(
            f"metric_definitions leaves out {len(left_out)} metrics of docs/METRICS.md whose "
            f"table is not published: {', '.join(left_out)}"
        )
    snapshot = publish.publish_snapshot(
        warehouse.resolve(),
        serving.resolve(),
        tables,
        run_id=context.run.run_id,
        checks_passed=_checks_passed(context),
        # the data tests this run's dbt build left out with unchanged models
        checks_left_out=int(
            (unchanged.read_left_out(warehouse.resolve(), context.run.run_id) or {}).get("tests")
            or 0
        ),
        keep=config.keep,
        report=build,
        on_step=context.log.debug,
        # the warnings of this run's dbt build, explained (a blocking failure stops the run
        # before this step)
        checks=checks.read_checks(checks.checks_path(warehouse.resolve()), context.run.run_id)
        or [],
        freshness_as_of=freshness.reference_date(landing.resolve(), config.as_of or None),
        max_delivery_age_days=config.max_delivery_age_days,
        metric_definitions=definitions,
        carry_over=not config.full_publish,
    )
    served = serving.resolve()
    carried = (
        f" from snapshot {snapshot.carried_from}" if snapshot.carried_from else " (a new file)"
    )
    if snapshot.compacted:
        carried = (
            f" (a new file: the served one had grown to more than {publish.COMPACT_GROWTH}x "
            "the snapshot its copies started from)"
        )
    context.log.info(
        f"published snapshot {snapshot.snapshot_id}: {len(snapshot.tables)} tables, "
        f"{snapshot.rows:,} rows -> {served / publish.SERVING_FILE}, with its report "
        f"{served / publish.REPORT_FILE}; {len(snapshot.copied)} changed marts copied whole, "
        f"{len(snapshot.delta)} updated by their changed rows"
        + (
            " ("
            + ", ".join(f"{n} -{d:,} +{i:,}" for n, (d, i) in snapshot.delta_rows.items())
            + ")"
            if snapshot.delta
            else ""
        )
        + f", {len(snapshot.carried_over)} carried over{carried}"
    )
    yield dg.MaterializeResult(
        asset_key=SNAPSHOT_KEY,
        metadata={
            "snapshot_id": snapshot.snapshot_id,
            "path": dg.MetadataValue.path(str(served / publish.SERVING_FILE)),
            "tables": len(snapshot.tables),
            "rows": snapshot.rows,
            "checks_passed": snapshot.checks_passed,
            "hashed_columns": ", ".join(snapshot.hashed_columns) or "none",
            "dropped_columns": ", ".join(snapshot.dropped_columns) or "none",
            "publish_seconds": snapshot.seconds,
            # marts copied whole from the warehouse (changed, or all of them in a new file),
            # marts of the served snapshot's file updated by their changed rows, and marts kept
            # unchanged from it (revops/publish.py)
            "marts_copied": len(snapshot.copied),
            "marts_delta": len(snapshot.delta),
            "marts_delta_rows": sum(d + i for d, i in snapshot.delta_rows.values()),
            "marts_carried_over": len(snapshot.carried_over),
            "carried_from": snapshot.carried_from or "none",
            # written as a new file because the copied file had grown (publish.COMPACT_GROWTH)
            "compacted": snapshot.compacted,
            "data_through": snapshot.data_through_date or "none",
            "freshness_as_of": snapshot.freshness_as_of or "none",
            "stale_sources": ", ".join(snapshot.stale_sources) or "none",
        },
    )
    result = built["result"]
    yield dg.MaterializeResult(
        asset_key=REPORT_KEY,
        metadata={
            "path": dg.MetadataValue.path(str(served / publish.REPORT_FILE)),
            "snapshot_id": result.snapshot_id,
            "bytes": result.bytes,
            "figures": len(result.figures),
            "report_seconds": built["seconds"],
        },
    )


publish_assets: list[dg.AssetsDefinition] = [serving_snapshot]
