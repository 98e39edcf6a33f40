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

3. On DuckDB it starts no dbt process at all: `cli()` runs dbt in this process (dbt's
   `dbtRunner`, with the manifest already parsed; orchestration/defs/transform/dbt_in_process.py)
   and streams the same Dagster events. `in_process` (default: $REVOPS_DBT_IN_PROCESS, on
   unless `0`) turns it off; the Spark target always runs dbt as a subprocess (its Spark
   session and JVM stay out of the Dagster process). When the run's resources are set up,
   dbt's modules are imported and its parse decoded in a thread (`prepare_in_background`),
   beside the ingestion steps rather than at the start of the build.

`OrgSettings` is the org's settings file, which the settings assets and the dbt build apply.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation
from packaging import version

from orchestration.project import REPO_ROOT
from revops.settings import SETTINGS_ENV, Settings, load_settings


def installed_dbt_version() -> version.Version:
    """dbt-core's version in this environment (what `dbt --version` reports as installed)."""
    from dbt.version import __version__

    return version.parse(__version__)


IN_PROCESS_ENV = "REVOPS_DBT_IN_PROCESS"  # `0`: dbt as a subprocess, as dagster-dbt runs it


class RevopsDbtCliResource(DbtCliResource):
    """`DbtCliResource` for a dbt-core installed beside this interpreter.

    `dbt_executable` must be that environment's `dbt` (the default here): its version is then
    dbt-core's, read without starting it. On DuckDB, dbt runs in this process unless
    `in_process` (or, when unset, $REVOPS_DBT_IN_PROCESS) says `0` / false.
    """

    in_process: bool | None = None
    in_process_env_var: str = IN_PROCESS_ENV

    def runs_in_process(self) -> bool:
        """Whether `cli()` runs dbt in this process: asked for, and the target is DuckDB."""
        wanted = self.in_process
        if wanted is None:
            raw = (dg.EnvVar(self.in_process_env_var).get_value(None) or "1").strip().lower()
            if raw not in {"0", "1", "false", "true", "no", "yes"}:
                raise ValueError(f"${self.in_process_env_var} must be 0 or 1, not {raw!r}")
            wanted = raw in {"1", "true", "yes"}
        target = self.target or os.environ.get("REVOPS_DBT_TARGET") or "duckdb"
        return wanted and target == "duckdb" and self._cli_version.major < 2

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        super().setup_for_execution(context)
        if self.runs_in_process():
            # dbt's imports and the decode of its parse, beside the steps before the build
            from orchestration.defs.transform import dbt_in_process

            dbt_in_process.prepare_in_background(Path(self.project_dir))

    def cli(
        self,
        args: Sequence[str],
        *,
        raise_on_error: bool = True,
        manifest: Any = None,
        dagster_dbt_translator: DagsterDbtTranslator | None = None,
        context: Any = None,
        target_path: Path | None = None,
    ) -> DbtCliInvocation:
        if not self.runs_in_process():
            return super().cli(
                args,
                raise_on_error=raise_on_error,
                manifest=manifest,
                dagster_dbt_translator=dagster_dbt_translator,
                context=context,
                target_path=target_path,
            )
        return self._cli_in_process(
            args,
            raise_on_error=raise_on_error,
            manifest=manifest,
            dagster_dbt_translator=dagster_dbt_translator,
            context=context,
            target_path=target_path,
        )

    def _cli_in_process(
        self,
        args: Sequence[str],
        *,
        raise_on_error: bool,
        manifest: Any,
        dagster_dbt_translator: DagsterDbtTranslator | None,
        context: Any,
        target_path: Path | None,
    ) -> DbtCliInvocation:
        """`DbtCliResource.cli()` with dbt's command line instead of its process: the same
        selection (the context's asset and check subset), target folder and flags, which the
        subprocess gets as DBT_* variables, given as options."""
        from dagster_dbt.asset_utils import (
            extract_runtime_selection_from_args,
            get_updated_cli_invocation_params_for_context,
        )
        from dagster_dbt.dagster_dbt_translator import validate_opt_translator
        from dagster_dbt.dbt_manifest import validate_manifest

        from orchestration.defs.transform import dbt_in_process

        translator = validate_opt_translator(dagster_dbt_translator) or DagsterDbtTranslator()
        manifest = validate_manifest(manifest) if manifest else {}
        cleaned_args, selects, excludes = extract_runtime_selection_from_args(args)
        params = get_updated_cli_invocation_params_for_context(
            context=context,
            manifest=manifest,
            dagster_dbt_translator=translator,
            runtime_selects=selects,
            runtime_excludes=excludes,
        )
        project_dir = Path(
            params.dbt_project.project_dir if params.dbt_project else self.project_dir
        )
        target_path = target_path or self._get_unique_target_path(context=context)
        if not target_path.is_absolute():
            target_path = project_dir / target_path
        options = [
            "--project-dir", str(project_dir),
            "--target-path", str(target_path),
            "--log-path", str(target_path),
            # no console log: every event reaches the callback (dbt.log keeps them all)
            "--log-level", "none",
            "--no-send-anonymous-usage-stats",
        ]  # fmt: skip
        if self.profiles_dir:
            options += ["--profiles-dir", str(self.profiles_dir)]
        if self.profile:
            options += ["--profile", self.profile]
        if self.target:
            options += ["--target", self.target]
        if params.indirect_selection:
            options += ["--indirect-selection", params.indirect_selection]
        # global flags first (dbt's CLI takes them before the command), then the command
        full_args = [*self.global_config_flags, *cleaned_args, *options, *params.selection_args]
        parsed = dbt_in_process.load_parsed_manifest(project_dir)
        if parsed is None:
            dbt_in_process.copy_partial_parse(project_dir, target_path)
            dbt_in_process.logger.info(
                "no current parse of the project to reuse: dbt parses it in process"
            )
        return dbt_in_process.DbtInProcessInvocation.start(
            args=full_args,
            parsed_manifest=parsed,
            manifest=params.manifest,
            dagster_dbt_translator=params.dagster_dbt_translator,
            project_dir=project_dir,
            target_path=target_path,
            raise_on_error=raise_on_error,
            context=context,
            adapter=None,
            cli_version=self._cli_version,
            project=params.dbt_project,
        )

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
