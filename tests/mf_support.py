"""Running MetricFlow's `mf` on a built warehouse, for the semantic layer and headline tests."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class MfProject:
    """A directory `mf` runs in, and the environment it runs with."""

    path: Path
    env: dict[str, str]


def make_mf_project(warehouse: Path, path: Path) -> MfProject:
    """`mf` reads `<project dir>/target/semantic_manifest.json` (a fixed path in
    dbt-metricflow 0.15.0, whatever the project's target-path) and needs the project's
    dbt_project.yml there. So a temporary directory holds a link to dbt_project.yml and the
    semantic manifest of a `dbt parse` into it: ./target, which other tests parse into, is
    never read or written."""
    (path / "dbt_project.yml").symlink_to(ROOT / "dbt_project.yml")
    env = {
        **os.environ,
        # The semantic manifest names relations by database, which dbt-duckdb takes from the
        # file name: parse and query with the same warehouse path.
        "REVOPS_WAREHOUSE": str(warehouse),
        "REVOPS_DBT_TARGET": "duckdb",
        "DBT_PROFILES_DIR": str(ROOT),
        "DBT_PROJECT_DIR": str(path),
        "DBT_LOG_PATH": str(path / "logs"),
    }
    built = warehouse.parent / "target"  # the session build's artifacts (tests/conftest.py)
    if (built / "semantic_manifest.json").exists():
        # that build parsed the project with this same warehouse path: reuse its manifest
        (path / "target").symlink_to(built, target_is_directory=True)
    else:
        subprocess.run(
            [
                str(BIN / "dbt"),
                "parse",
                "--quiet",
                "--profiles-dir",
                str(ROOT),
                "--project-dir",
                str(ROOT),
                "--target-path",
                str(path / "target"),
                "--log-path",
                str(path / "logs"),
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
    assert (path / "target" / "semantic_manifest.json").exists()
    return MfProject(path=path, env=env)


def mf_query(project: MfProject, metrics: list[str], group_by: list[str]) -> list[dict]:
    """Runs `mf query ... --csv` and returns its rows ("" for null)."""
    out = project.path / f"query_{len(list(project.path.glob('query_*.csv')))}.csv"
    result = subprocess.run(
        [
            str(BIN / "mf"),
            "query",
            "--metrics",
            ",".join(metrics),
            "--group-by",
            ",".join(group_by),
            "--csv",
            str(out),
            "--quiet",
        ],
        cwd=project.path,
        env=project.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with out.open(newline="") as f:
        return list(csv.DictReader(f))


def same(mf_value: str, table_value) -> bool:
    """Exact equality of an `mf` CSV cell and a table value. `mf` hands numbers over as
    floats, whose shortest repr gives back any decimal of up to 15 significant digits (our
    amounts have at most 12), so cents compare exactly; doubles compare bit for bit."""
    if table_value is None:
        return mf_value == ""
    if mf_value == "":
        return False
    if isinstance(table_value, float):
        return float(mf_value) == table_value
    return Decimal(mf_value) == Decimal(table_value)
