"""Shared fixtures: each generated company is built once per test session."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from revops.generator.config import SCALES, GeneratorConfig
from revops.generator.run import GenerationResult, generate
from revops.ingest import ingest_landing
from tests.dbt_support import run_dbt

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def xs_company(tmp_path_factory: pytest.TempPathFactory) -> GenerationResult:
    """The `xs` company over the default three years, as `revops generate --scale xs` makes it."""
    out = tmp_path_factory.mktemp("xs") / "landing"
    return generate(GeneratorConfig(out=out, leads=SCALES["xs"]))


@pytest.fixture(scope="session")
def xs_dirty(tmp_path_factory: pytest.TempPathFactory) -> GenerationResult:
    """The same company with the faults of real exports (`--dirty`)."""
    out = tmp_path_factory.mktemp("xs_dirty") / "landing"
    return generate(GeneratorConfig(out=out, leads=SCALES["xs"], dirty=True))


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """dbt's manifest, which Dagster needs to load the dbt assets (built by `dbt parse`)."""
    dbt = Path(sys.executable).parent / "dbt"
    subprocess.run(
        [str(dbt), "parse", "--profiles-dir", str(ROOT), "--project-dir", str(ROOT), "--quiet"],
        check=True,
        cwd=ROOT,
    )
    return ROOT / "target" / "manifest.json"


@pytest.fixture(scope="session")
def s_dirty_warehouse(tmp_path_factory: pytest.TempPathFactory):
    """The `s` company with faults, ingested and built by dbt once for the session."""
    base = tmp_path_factory.mktemp("s_dirty")
    company = generate(GeneratorConfig(out=base / "landing", leads=SCALES["s"], dirty=True))
    warehouse = base / "warehouse.duckdb"
    summary = ingest_landing(company.out, warehouse)
    assert summary.files_failed == 0, summary.errors
    env = {**os.environ, "REVOPS_WAREHOUSE": str(warehouse)}
    result = run_dbt("build", base=base, env=env)
    assert result.returncode == 0, result.stdout[-5000:]
    return company, warehouse


@pytest.fixture(scope="session")
def xs_published(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """`revops demo --scale xs` once per session: the xs company generated, refreshed through
    the Dagster job, published to a serving folder with its report; and what it printed."""
    from revops.cli import main

    base = tmp_path_factory.mktemp("xs_published")
    paths = {
        "landing": base / "landing",
        "warehouse": base / "warehouse.duckdb",
        "serving": base / "serving",
    }
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            ["demo", "--scale", "xs", "--out", str(paths["landing"]), "--warehouse",
             str(paths["warehouse"]), "--serving", str(paths["serving"])]
        )  # fmt: skip
    text = out.getvalue()
    assert code == 0, text[-5000:]
    truth = json.loads((paths["landing"] / "truth.json").read_text())
    return {**paths, "output": text, "truth": truth, "base": base}
