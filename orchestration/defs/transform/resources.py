"""The dbt CLI resource of the refresh, without two start-up costs that every build paid.

`DbtCliResource.cli()` (dagster-dbt 0.29) does two things before it starts `dbt build`:

1. it runs `dbt --version` to learn which dbt it will start. That is a second dbt process, and
   dbt asks PyPI for the latest release before it answers: 4.4 s on this machine, longer on a
   slow network, and dbt-core's own version is importable here for free;
2. it opens a dbt adapter in this process (loading the profile, the project and dbt's base
   macros: ~1.5 s), which only `fetch_row_counts()` and `fetch_column_metadata()` use. The
   refresh calls neither.

Both are measured in docs/BENCHMARKS.md ("Fixed cost of every refresh"). The methods overridden
here are private to dagster-dbt: tests/test_refresh_startup.py fails if they change shape in an
upgrade, so that the saving is never lost silently.

`OrgSettings` is the org's settings file, which the settings assets and the dbt build apply.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging import version

from orchestration.project import REPO_ROOT
from revops.settings import SETTINGS_ENV, Settings, load_settings


def installed_dbt_version() -> version.Version:
    """dbt-core's version in this environment (what `dbt --version` reports as installed)."""
    from dbt.version import __version__

    return version.parse(__version__)


class RevopsDbtCliResource(DbtCliResource):
    """`DbtCliResource` for a dbt-core installed beside this interpreter.

    `dbt_executable` must be that environment's `dbt` (the default here): its version is then
    dbt-core's, read without starting it.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        executable = Path(self.dbt_executable)
        if not executable.is_absolute() or executable.parent != Path(sys.executable).parent:
            # Another dbt (a PATH lookup, another venv, dbt Fusion): ask it, as dagster-dbt does.
            return DbtCliResource._cli_version.func(self)  # type: ignore[attr-defined]
        return installed_dbt_version()

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        # No adapter handle in this process: nothing in the refresh asks for row counts or
        # column metadata through it (the invocation accepts None, as when opening one fails).
        return None


class OrgSettings(dg.ConfigurableResource):
    """The org's settings file (docs/CONFIGURATION.md): `path` if configured, else the variable
    `env_var` ($REVOPS_SETTINGS), else none (every setting at its default)."""

    path: str | None = None
    env_var: str = SETTINGS_ENV

    def load(self) -> Settings:
        raw = self.path or dg.EnvVar(self.env_var).get_value(None)
        if not raw:
            return Settings()
        path = Path(raw).expanduser()
        return load_settings(path if path.is_absolute() else REPO_ROOT / path)
