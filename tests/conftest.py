"""Shared fixtures: each generated company is built once per test session."""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from revops.generator.config import SCALES, GeneratorConfig
from revops.generator.run import GenerationResult, generate
from revops.ingest import ingest_landing
from tests.dbt_support import run_dbt

ROOT = Path(__file__).resolve().parent.parent

# --- running on two cores (pytest-xdist: `-n 2` in pyproject.toml) -------------------------
# A group of tests runs whole on one worker. Every module is its own group (its module
# fixtures are built once), the `test_org_profiles` companies one group each, and the modules
# on the `s` dirty company one group (MetricFlow opens that warehouse for writing, so it is not
# shared across workers). The published xs demos are built once per test run whichever worker
# first needs them (`_built_once`), the other worker waiting for them: every reader of them
# opens them read-only or copies them first. The groups start longest first, so that the last
# to finish is a short one. What the workers share is safe to share: every dbt command of a
# test writes to its own folder, and the refresh's `dbt parse` into target/ takes a lock and
# moves whole files (revops.refresh.ensure_manifest).
# (xdist's own `--dist loadgroup` marks do not reach its scheduler under pytest 9: the group
# is in the scheduler below.) `-n 0` runs everything in one process.
SHARED_COMPANY_GROUPS = {
    # the built `s_dirty_warehouse`
    "test_billing_marts": "s-dirty-company",
    "test_funnel_marts": "s-dirty-company",
    "test_incremental_equivalence": "s-dirty-company",
    "test_metrics_truth": "s-dirty-company",
    "test_semantic_layer": "s-dirty-company",
}
# Modules whose parametrized module fixture builds one company per parameter: each parameter
# is a group of its own, so that the companies spread over both workers.
GROUP_PER_PARAMETER = {"test_org_profiles"}
# Groups that take longest (measured with --durations), started first; the rest keep their
# collection order. xdist starts each worker on two groups (the 1st and 3rd, the 2nd and
# 4th): the Spark build with the long-history company, the refresh tests (which build the xs
# demo) with the cross-CRM parity (which builds the HubSpot demo); the next group goes to
# whichever worker finishes first.
LONGEST_FIRST = (
    "test_spark_parity",
    "test_refresh",
    "test_org_profiles[long-history]",
    "test_crm_parity",
    "s-dirty-company",
    "test_generator_profiles",
    "test_malformed_corpus",
    "test_org_profiles[salesforce-defaults]",
    "test_org_profiles[multi-currency-gaps]",
    "test_org_profiles[stripe-2025]",
    "test_optional_columns",
    "test_ingest",
    "test_dbt_in_process",
    "test_test_scope",
    "test_unchanged",
    "test_quarantine_refresh",
    "test_settings",
    "test_generator_reconstruction",
    "test_generator",
    "test_publish_unit",
    "test_generator_hubspot",
    "test_headline",
)


def xdist_group_of(nodeid: str) -> str:
    """The worker group of a test: its module's shared company, else its module (with the
    parameter, for a module in GROUP_PER_PARAMETER)."""
    path, _, name = nodeid.partition("::")
    module = Path(path).stem
    if module in GROUP_PER_PARAMETER and name.endswith("]") and "[" in name:
        return f"{module}[{name[name.index('[') + 1 : -1]}]"
    return SHARED_COMPANY_GROUPS.get(module, module)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        group = xdist_group_of(item.nodeid)
        return LONGEST_FIRST.index(group) if group in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: each group keeps its order


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """xdist's scope scheduling (a scope runs whole on one worker, scopes in collection
    order), with the groups above as the scopes."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_group_of(nodeid)

    return GroupScheduling(config, log)


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


def _demo(base: Path, *options: str) -> dict[str, object]:
    """`revops demo --scale xs <options>` into `base`: its landing, warehouse and serving
    paths, what it printed, its truth.json."""
    from revops.cli import main

    paths = {
        "landing": base / "landing",
        "warehouse": base / "warehouse.duckdb",
        "serving": base / "serving",
    }
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            ["demo", "--scale", "xs", *options, "--out", str(paths["landing"]), "--warehouse",
             str(paths["warehouse"]), "--serving", str(paths["serving"])]
        )  # fmt: skip
    text = out.getvalue()
    assert code == 0, text[-5000:]
    truth = json.loads((paths["landing"] / "truth.json").read_text())
    return {**paths, "output": text, "truth": truth, "base": base}


def _built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], dict]
) -> dict[str, object]:
    """`build(folder)` once per test run, whichever xdist worker asks first; a worker asking
    meanwhile waits for it (a lock file), then reads what it returned. Without xdist, once per
    session. What it built is read-only for its users: they copy it before changing it."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return build(tmp_path_factory.mktemp(name))
    shared = tmp_path_factory.getbasetemp().parent / "built-once"  # common to the workers
    shared.mkdir(exist_ok=True)
    done = shared / f"{name}.pickle"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if done.exists():
            return pickle.loads(done.read_bytes())
        folder = shared / name
        shutil.rmtree(folder, ignore_errors=True)  # a build that failed on the other worker
        folder.mkdir()
        result = build(folder)
        done.write_bytes(pickle.dumps(result))
        return result


@pytest.fixture(scope="session")
def xs_published(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """`revops demo --scale xs` once per test run: the xs company generated, refreshed through
    the Dagster job, published to a serving folder with its report; and what it printed."""
    return _built_once(tmp_path_factory, "xs_published", _demo)


@pytest.fixture(scope="session")
def xs_hubspot_published(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """`revops demo --scale xs --crm hubspot` once per test run: the same simulated company
    (same seed, same truth.json) exported as HubSpot instead of Salesforce, refreshed and
    published the same way."""
    return _built_once(
        tmp_path_factory, "xs_hubspot_published", lambda base: _demo(base, "--crm", "hubspot")
    )
