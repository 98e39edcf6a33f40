"""The revops Dagster code location: `dagster dev -m orchestration.definitions`.

One graph from landing files to the served snapshot:

    ingestion assets (one per export object)  ->  dbt models and tests (grouped by folder)
        ->  serving_snapshot with serving_report (publish: one step, served together)
    org_settings (the settings file's mapping overrides)  ->  dbt's stg_settings__* models
    landing_folder (its check warns about folders the export contract does not know)

The `refresh` job materializes all of it in one process (what `revops refresh` runs); the
landing-folder sensor and the 06:00 UTC schedule start it. `ingest_landing` only loads files.
A failed `refresh` run calls the alert hook of the settings (`refresh_failure_alert` sensor).
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
)
from orchestration.defs.ingestion.resources import LandingFolder, Warehouse
from orchestration.defs.ingestion.schedules import build_ingestion_schedule
from orchestration.defs.ingestion.sensors import build_landing_sensor
from orchestration.defs.publish.assets import publish_assets
from orchestration.defs.publish.resources import ServingFolder
from orchestration.defs.transform.assets import org_settings, revops_dbt_models
from orchestration.defs.transform.resources import OrgSettings, RevopsDbtCliResource
from orchestration.project import dbt_project

REFRESH_JOB = "refresh"

refresh_job = dg.define_asset_job(
    REFRESH_JOB,
    selection=dg.AssetSelection.all(),
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
    assets=[*ingestion_assets, landing_folder, org_settings, revops_dbt_models, *publish_assets],
    jobs=[refresh_job, ingestion_job],
    sensors=[
        build_landing_sensor(job=refresh_job, downstream=_downstream_of_ingestion),
        # a failed refresh calls the alert hook of the settings (revops/alerts.py)
        build_failure_sensor(jobs=[refresh_job]),
    ],
    schedules=[build_ingestion_schedule(name="refresh_daily", job=refresh_job)],
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
