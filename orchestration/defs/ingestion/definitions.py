"""Everything the ingestion domain adds to the code location, with its default settings."""

import dagster as dg

from orchestration.defs.ingestion.assets import ingestion_assets, ingestion_job, landing_folder
from orchestration.defs.ingestion.resources import LandingFolder, Warehouse
from orchestration.defs.ingestion.schedules import DEFAULT_CRON, build_ingestion_schedule
from orchestration.defs.ingestion.sensors import build_landing_sensor


def ingestion_definitions(cron_schedule: str = DEFAULT_CRON) -> dg.Definitions:
    """Assets, job, sensor, schedule and resources of the ingestion; paths come from
    $REVOPS_LANDING / $REVOPS_WAREHOUSE when the assets run."""
    return dg.Definitions(
        assets=[*ingestion_assets, landing_folder],
        jobs=[ingestion_job],
        sensors=[build_landing_sensor()],
        schedules=[build_ingestion_schedule(cron_schedule)],
        resources={"landing": LandingFolder(), "warehouse": Warehouse()},
    )
