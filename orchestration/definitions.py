"""The revops Dagster code location: `dagster dev -m orchestration.definitions`.

One graph from landing files to the served snapshot:

    ingestion assets (one per export object)  ->  dbt models and tests (grouped by folder)
        ->  serving_snapshot with serving_report (publish: one step, served together)
    org_settings (the settings file's mapping overrides)  ->  dbt's stg_settings__* models
    landing_folder (its check warns about folders the export contract does not know)

The `refresh` job materializes all of it in one process (what `revops refresh` runs); the
06:00 UTC schedule starts it unless nothing changed since the served snapshot (the check of
revops/noop.py, as `revops refresh` makes it), and so does the landing-folder sensor once
turned on (it starts stopped). `ingest_landing` only loads files. Each required export object
has a freshness check from the contract's delivery cadence (the bounds of dbt's source
freshness), evaluated by `freshness_checks_sensor` (also stopped by default). A failed
`refresh` run calls the alert hook of the settings (`refresh_failure_alert` sensor, on by
default: it never launches a run).
"""

import sys
from pathlib import Path

import dagster as dg

from orchestration.defs.alerts.sensors import build_failure_sensor
from orchestration.defs.ingestion.assets import GROUP as INGESTION_GROUP
from orchestration.defs.ingestion.assets import (
    LANDING_KEY,
    ingestion_assets,
    ingestion_job,
    landing_folder,
    ledger_specs,
)
from orchestration.defs.ingestion.freshness import freshness_checks, freshness_sensor
from orchestration.defs.ingestion.resources import LandingFolder, Warehouse
from orchestration.defs.ingestion.sensors import build_landing_sensor
from orchestration.defs.publish.assets import publish_assets
from orchestration.defs.publish.resources import ServingFolder
from orchestration.defs.publish.schedules import build_refresh_schedule
from orchestration.defs.transform.assets import org_settings, revops_dbt_models
from orchestration.defs.transform.resources import OrgSettings, RevopsDbtCliResource
from orchestration.project import dbt_project

REFRESH_JOB = "refresh"

refresh_job = dg.define_asset_job(
    REFRESH_JOB,
    # The freshness checks are evaluated by their own sensor, on a timer, not by each refresh.
    selection=dg.AssetSelection.all() - dg.AssetSelection.checks(*freshness_checks),
    # One process for every step: a fresh process per step costs ~5 s here, and the steps
    # take turns on the warehouse anyway.
    executor_def=dg.in_process_executor,
    description=(
        "Load new delivery files, build and test every dbt model, and publish the marts as a "
        "new snapshot with its report, only if every blocking check passed."
    ),
)

# what a sensor run materializes besides the changed objects: the landing folder's check for
# unknown folders, and everything downstream of the ingestion
_downstream_of_ingestion = [
    LANDING_KEY,
    *org_settings.keys,
    *revops_dbt_models.keys,
    *(key for assets in publish_assets for key in assets.keys),
]

defs = dg.Definitions(
    assets=[
        *ingestion_assets,
        landing_folder,
        *ledger_specs,
        org_settings,
        revops_dbt_models,
        *publish_assets,
    ],
    jobs=[refresh_job, ingestion_job],
    asset_checks=freshness_checks,
    # The landing and freshness sensors start stopped: `dagster dev` launches no run until one
    # is turned on. The failure sensor only calls the alert hook of the settings
    # (revops/alerts.py) after a failed refresh.
    sensors=[
        build_landing_sensor(job=refresh_job, downstream=_downstream_of_ingestion),
        freshness_sensor,
        build_failure_sensor(jobs=[refresh_job]),
    ],
    schedules=[build_refresh_schedule(refresh_job)],
    resources={
        "dbt": RevopsDbtCliResource(
            project_dir=dbt_project,
            # The dbt beside this interpreter, so that a venv need not be activated.
            dbt_executable=str(Path(sys.executable).parent / "dbt"),
        ),
        "landing": LandingFolder(),
        "warehouse": Warehouse(),
        "serving": ServingFolder(),
        "settings_file": OrgSettings(),
    },
)

__all__ = ["INGESTION_GROUP", "REFRESH_JOB", "defs", "refresh_job"]
