"""Where the landing folder and the warehouse are: Dagster config first, then the environment.

Nothing is read at import time: paths resolve when an asset or the sensor runs. A relative path
resolves against the repository root, which is also where dagster-dbt runs dbt, so that both
open the same `data/warehouse.duckdb`.
"""

from pathlib import Path

import dagster as dg

from orchestration.project import REPO_ROOT


def _resolve(configured: str | None, env_var: str, default: str) -> Path:
    raw = configured or dg.EnvVar(env_var).get_value(default) or default
    path = Path(raw).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


class LandingFolder(dg.ConfigurableResource):
    """The landing folder: `path` if configured, else the variable `env_var`
    ($REVOPS_LANDING), else data/landing."""

    path: str | None = None
    env_var: str = "REVOPS_LANDING"

    def resolve(self) -> Path:
        return _resolve(self.path, self.env_var, "data/landing")


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse file: `path` if configured, else the variable `env_var`
    ($REVOPS_WAREHOUSE, as in profiles.yml), else data/warehouse.duckdb."""

    path: str | None = None
    env_var: str = "REVOPS_WAREHOUSE"

    def resolve(self) -> Path:
        return _resolve(self.path, self.env_var, "data/warehouse.duckdb")
