"""The revops Dagster code location: `dagster dev -m orchestration.definitions`."""

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.ingestion.definitions import ingestion_definitions
from orchestration.defs.transform.assets import revops_dbt_models
from orchestration.project import dbt_project

defs = dg.Definitions.merge(
    dg.Definitions(
        assets=[revops_dbt_models],
        resources={
            "dbt": DbtCliResource(
                project_dir=dbt_project,
                # The dbt beside this interpreter, so that a venv need not be activated.
                dbt_executable=str(Path(sys.executable).parent / "dbt"),
            )
        },
    ),
    ingestion_definitions(),
)
