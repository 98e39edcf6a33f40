"""Where published snapshots go: Dagster config first, then $REVOPS_SERVING, then data/serving."""

from pathlib import Path

import dagster as dg

from orchestration.defs.ingestion.resources import _resolve


class ServingFolder(dg.ConfigurableResource):
    """The serving folder BI tools read `revops.duckdb` and `report.html` from."""

    path: str | None = None
    env_var: str = "REVOPS_SERVING"

    def resolve(self) -> Path:
        return _resolve(self.path, self.env_var, "data/serving")
