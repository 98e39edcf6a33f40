"""Org settings: the settings file named by $REVOPS_SETTINGS, the REVOPS_* environment variables
the dbt models read (macro `setting()`), and the org's mapping overrides (docs/CONFIGURATION.md).

Resolution, per setting: the environment variable `REVOPS_<NAME>` when set and not empty, else
the settings file's `<name>`, else the default in dbt_project.yml `vars:`. `revops` commands and
the Dagster definitions apply the file by exporting its values as those environment variables
before dbt runs, so a plain `dbt build` with the same environment sees the same values.
Mapping overrides (`[[mappings.<seed>]]` rows) are written into `raw.settings__<seed>` tables
at the start of each refresh; the `stg_settings__<seed>` models merge them with the seeds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
SETTINGS_ENV = "REVOPS_SETTINGS"
ENV_PREFIX = "REVOPS_"
MAPPINGS_KEY = "mappings"
# The mapping overrides live in the raw schema, so that the Spark target's Parquet export of
# that schema (revops/ingest/parquet.py) carries them too; `settings__` as the source prefix.
MAPPING_SCHEMA = "raw"
MAPPING_TABLE_PREFIX = "settings__"
MAPPING_SOURCES_FILE = Path("models/staging/settings/_settings__sources.yml")

MEMORY_LIMIT_ENV = "REVOPS_DUCKDB_MEMORY_LIMIT"
# The same default as profiles.yml (tests/test_refresh_startup.py holds them equal). DuckDB's own
# default is 80% of the machine's memory; a fixed limit keeps a refresh's whole process tree
# (the Dagster process, dbt's process and its DuckDB) under 4 GB at scale `l`, with DuckDB
# spilling to disk beyond it (docs/BENCHMARKS.md).
DEFAULT_MEMORY_LIMIT = "3GB"

STRICT_ENV = "REVOPS_STRICT"
# The report's funnel opens on the latest cohort at least this many months old (docs/REPORT.md).
FUNNEL_MATURITY_ENV = "REVOPS_FUNNEL_COHORT_MATURITY_MONTHS"
DEFAULT_FUNNEL_MATURITY_MONTHS = 6
# Settings that only Python reads (not dbt vars): TOML key -> environment variable.
PYTHON_SETTINGS = {
    "duckdb_memory_limit": MEMORY_LIMIT_ENV,
    "strict": STRICT_ENV,
    # the alert hook (revops/alerts.py) and the run logs kept (revops/runs.py)
    "alert_command": "REVOPS_ALERT_COMMAND",
    "alert_webhook_url": "REVOPS_ALERT_WEBHOOK_URL",
    "run_logs_kept": "REVOPS_RUN_LOGS_KEPT",
    "funnel_cohort_maturity_months": FUNNEL_MATURITY_ENV,
    # how often every data test checks every row again (revops/test_scope.py)
    "test_full_recheck_days": "REVOPS_TEST_FULL_RECHECK_DAYS",
}
TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})


class SettingsError(ValueError):
    """The settings file is unreadable or holds something revops does not know."""


def duckdb_memory_limit() -> str:
    """The memory limit of every DuckDB connection that writes: ingestion, dbt, publishing
    ($REVOPS_DUCKDB_MEMORY_LIMIT, e.g. `3GB`, `500MB`)."""
    return os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT


def strict(settings: Settings | None = None, environ: Mapping[str, str] | None = None) -> bool:
    """The `strict` setting: an open failed file stops publishing (docs/INGESTION.md).
    $REVOPS_STRICT when set and not empty, else the settings file's `strict`, else false.
    `revops refresh --strict` turns it on over both."""
    environ = os.environ if environ is None else environ
    value, where = (environ.get(STRICT_ENV) or "").strip(), f"${STRICT_ENV}"
    if not value and settings is not None:
        value, where = settings.values.get("strict", "").strip(), f"settings file {settings.path}"
    if not value:
        return False
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    raise SettingsError(f"{where}: strict must be true or false, not {value!r}")


def funnel_cohort_maturity_months(
    settings: Settings | None = None, environ: Mapping[str, str] | None = None
) -> int:
    """The `funnel_cohort_maturity_months` setting: the report's lead funnel opens on the latest
    cohort month at least this many months before the report month (docs/REPORT.md).
    $REVOPS_FUNNEL_COHORT_MATURITY_MONTHS when set and not empty, else the settings file's
    value, else 6. A whole number of at least 0; anything else is an error."""
    environ = os.environ if environ is None else environ
    value, where = (environ.get(FUNNEL_MATURITY_ENV) or "").strip(), f"${FUNNEL_MATURITY_ENV}"
    if not value and settings is not None:
        value = settings.values.get("funnel_cohort_maturity_months", "").strip()
        where = f"settings file {settings.path}"
    if not value:
        return DEFAULT_FUNNEL_MATURITY_MONTHS
    if not value.isdigit():
        raise SettingsError(
            f"{where}: funnel_cohort_maturity_months must be a whole number of months (0 or "
            f"more), not {value!r}"
        )
    return int(value)


def duckdb_config() -> dict[str, str]:
    """`config=` for `duckdb.connect` of the pipeline's own connections."""
    return {"memory_limit": duckdb_memory_limit()}


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a `with` block, then restore them."""
    previous = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def env_name(setting: str) -> str:
    """The environment variable of a setting: `history_start` -> `REVOPS_HISTORY_START`."""
    return PYTHON_SETTINGS.get(setting, ENV_PREFIX + setting.upper())


@cache
def _dbt_vars(project_dir: Path) -> dict[str, Any]:
    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text())
    return dict(project.get("vars") or {})


def dbt_settings(project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """Every dbt setting with its default: the `vars:` of dbt_project.yml."""
    return _dbt_vars(project_dir)


def setting_names(project_dir: Path = PROJECT_DIR) -> list[str]:
    """Every key a settings file may set at its top level (besides `[mappings]`)."""
    return sorted({*dbt_settings(project_dir), *PYTHON_SETTINGS})


@dataclass(frozen=True)
class MappingSeed:
    """A mapping seed the org may override: its columns (the seed CSV's header); the first
    column is the key an override row replaces."""

    name: str
    columns: tuple[str, ...]

    @property
    def key(self) -> str:
        return self.columns[0]

    @property
    def table(self) -> str:
        return MAPPING_TABLE_PREFIX + self.name


@cache
def _mapping_seeds(project_dir: Path) -> tuple[MappingSeed, ...]:
    sources = yaml.safe_load((project_dir / MAPPING_SOURCES_FILE).read_text())["sources"]
    names = [t["name"] for s in sources if s["name"] == "settings" for t in s["tables"]]
    seeds = []
    for name in names:
        csv = project_dir / "seeds" / f"{name}.csv"
        with csv.open(encoding="utf-8") as handle:
            header = handle.readline().strip()
        if not header:
            raise SettingsError(f"{csv}: the mapping seed has no header")
        seeds.append(MappingSeed(name, tuple(c.strip() for c in header.split(","))))
    return tuple(seeds)


def mapping_seeds(project_dir: Path = PROJECT_DIR) -> tuple[MappingSeed, ...]:
    """The mapping seeds an org may override: the tables of the dbt source `settings`."""
    return _mapping_seeds(project_dir)


@dataclass(frozen=True)
class Settings:
    """A parsed settings file (empty when $REVOPS_SETTINGS is not set)."""

    path: Path | None = None
    values: dict[str, str] = field(default_factory=dict)  # setting -> value as text
    mappings: dict[str, list[dict[str, str | None]]] = field(default_factory=dict)
    text: bytes = b""  # the file's content, for fingerprints

    def env(self, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment variables to export: the file's settings that the environment
        does not already set (a non-empty REVOPS_<NAME> wins over the file)."""
        environ = os.environ if environ is None else environ
        out = {}
        for name, value in self.values.items():
            variable = env_name(name)
            if not (environ.get(variable) or "").strip():
                out[variable] = value
        return out


def _text(value: object, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise SettingsError(f"{where}: a setting is a string, number, boolean or date, not {value!r}")


def settings_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """The settings file named by $REVOPS_SETTINGS (None when not set)."""
    environ = os.environ if environ is None else environ
    value = (environ.get(SETTINGS_ENV) or "").strip()
    return Path(value).expanduser() if value else None


def load_settings(
    path: Path | None = None, project_dir: Path = PROJECT_DIR, *, from_env: bool = True
) -> Settings:
    """Read and check a settings file (`path`, else $REVOPS_SETTINGS; none: empty settings).

    Raises SettingsError naming the file and the key for an unknown setting, an unknown
    mapping, an unknown or missing mapping column, or a value of the wrong kind.
    """
    if path is None and from_env:
        path = settings_path()
    if path is None:
        return Settings()
    path = Path(path)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"settings file {path} (${SETTINGS_ENV}): {exc.strerror}") from None
    try:
        data = tomllib.loads(text.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"settings file {path}: not valid TOML: {exc}") from None
    known = set(setting_names(project_dir))
    values: dict[str, str] = {}
    mappings: dict[str, list[dict[str, str | None]]] = {}
    for key, value in data.items():
        if key == MAPPINGS_KEY:
            mappings = _mappings(path, value, project_dir)
        elif key in known:
            values[key] = _text(value, f"settings file {path}, key {key!r}")
            if key == "strict" and values[key].lower() not in TRUE_WORDS | FALSE_WORDS:
                raise SettingsError(
                    f"settings file {path}, key 'strict': true or false, not {values[key]!r}"
                )
        else:
            raise SettingsError(
                f"settings file {path}: unknown key {key!r} (known: {', '.join(sorted(known))}, "
                f"and [[{MAPPINGS_KEY}.<seed>]] rows; docs/CONFIGURATION.md)"
            )
    return Settings(path=path, values=values, mappings=mappings, text=text)


def _mappings(path: Path, value: object, project_dir: Path) -> dict[str, list[dict]]:
    seeds = {s.name: s for s in mapping_seeds(project_dir)}
    if not isinstance(value, dict):
        raise SettingsError(f"settings file {path}: [{MAPPINGS_KEY}] must be a table")
    out: dict[str, list[dict[str, str | None]]] = {}
    for name, rows in value.items():
        where = f"settings file {path}, {MAPPINGS_KEY}.{name}"
        seed = seeds.get(name)
        if seed is None:
            raise SettingsError(
                f"{where}: unknown mapping {name!r} (known: {', '.join(sorted(seeds))})"
            )
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise SettingsError(f"{where}: write the rows as [[{MAPPINGS_KEY}.{name}]] tables")
        checked = []
        for number, row in enumerate(rows, start=1):
            unknown = sorted(set(row) - set(seed.columns))
            missing = [c for c in seed.columns if c not in row]
            if unknown or missing:
                problems = []
                if unknown:
                    problems.append(f"unknown column(s) {', '.join(unknown)}")
                if missing:
                    problems.append(f"missing column(s) {', '.join(missing)}")
                raise SettingsError(
                    f"{where}, row {number}: {'; '.join(problems)} "
                    f'(columns: {", ".join(seed.columns)}; "" for empty)'
                )
            converted = {
                c: _text(row[c], f"{where}, row {number}, column {c!r}") for c in seed.columns
            }
            checked.append({c: (v if v.strip() != "" else None) for c, v in converted.items()})
            if checked[-1][seed.key] is None:
                raise SettingsError(f"{where}, row {number}: the key column {seed.key!r} is empty")
        keys = [r[seed.key] for r in checked]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise SettingsError(f"{where}: {seed.key} repeated: {', '.join(duplicates)}")
        out[name] = checked
    return out


def settings_env(
    settings: Settings | None = None, history_start: dt.date | str | None = None
) -> dict[str, str]:
    """The REVOPS_* variables a run exports before dbt starts: the file's settings the
    environment does not set, and `history_start` (a command-line flag) over both."""
    settings = load_settings() if settings is None else settings
    env = settings.env()
    if history_start:
        value = history_start.isoformat() if isinstance(history_start, dt.date) else history_start
        env[env_name("history_start")] = str(value)
    return env


def write_mapping_tables(
    warehouse: Path, settings: Settings | None = None, project_dir: Path = PROJECT_DIR
) -> dict[str, int]:
    """Replace every `raw.settings__<seed>` table with the file's override rows (no rows when
    the file has none: the tables always exist). Columns are the seed's, as text; returns the
    number of rows per mapping."""
    settings = load_settings() if settings is None else settings
    written = {}
    with duckdb.connect(str(warehouse), config=duckdb_config()) as con:
        con.execute(f"create schema if not exists {MAPPING_SCHEMA}")
        for seed in mapping_seeds(project_dir):
            columns = ", ".join(f'"{c}" varchar' for c in seed.columns)
            table = f'{MAPPING_SCHEMA}."{seed.table}"'
            con.execute(f"create or replace table {table} ({columns})")
            rows = settings.mappings.get(seed.name, [])
            if rows:
                marks = ", ".join("?" for _ in seed.columns)
                con.executemany(
                    f"insert into {table} values ({marks})",
                    [[row[c] for c in seed.columns] for row in rows],
                )
            written[seed.name] = len(rows)
    return written
