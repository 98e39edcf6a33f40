"""Shared fixtures: each generated company is built once per test session."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pytest

from revops.generator.config import SCALES, GeneratorConfig
from revops.generator.run import GenerationResult, generate
from revops.ingest import ingest_landing
from tests.dbt_support import run_dbt

ROOT = Path(__file__).resolve().parent.parent

# --- running on two cores (pytest-xdist: `-n 2 --dist loadgroup` in pyproject.toml) ----------
# A group runs whole on one worker, and each worker builds the session fixtures its tests
# use. So the tests on one built company share a group (the company is built once), every
# other module is its own group (its module fixtures are built once), and the groups start
# longest first, so that the last to finish is a short one (`--no-loadscope-reorder` keeps
# this order). What the workers share is safe to share: every dbt command of a test writes to
# its own folder, and the refresh's `dbt parse` into target/ takes a lock and moves whole files
# (revops.refresh.ensure_manifest). `-n 0` runs everything in one process.
SHARED_FIXTURE_GROUPS = {
    # session fixture -> group of every test that uses it
    "xs_published": "xs-published-company",
    "s_dirty_warehouse": "s-dirty-company",
}
# Groups that take longest (measured with --durations), started first; the rest keep their
# collection order.
LONGEST_FIRST = (
    "test_spark_parity",
    "xs-published-company",
    "test_org_profiles",
    "s-dirty-company",
    "test_malformed_corpus",
    "test_settings",
    "test_optional_columns",
)


def xdist_group_of(item: pytest.Item) -> str:
    """The group of a test: the shared company it reads, else its module."""
    for fixture, group in SHARED_FIXTURE_GROUPS.items():
        if fixture in getattr(item, "fixturenames", ()):
            return group
    return item.path.stem


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    groups = {}
    for item in items:
        groups[item.nodeid] = xdist_group_of(item)
        item.add_marker(pytest.mark.xdist_group(groups[item.nodeid]))

    def rank(item: pytest.Item) -> int:
        group = groups[item.nodeid]
        return LONGEST_FIRST.index(group) if group in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: each group keeps its order


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
    """dbt's manifest, which Dagster needs to load the dbt assets (built by `dbt parse`, as
    the refresh does: safe beside another worker's parse)."""
    from revops.refresh import ensure_manifest

    return ensure_manifest()


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
