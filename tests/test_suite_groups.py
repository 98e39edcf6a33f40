"""The test suite's worker groups (tests/conftest.py): every module that uses the `s` dirty
company's session fixture is in that company's group, so the company is built once per run,
on one worker; the xs demos are built once per run and shared by both workers (`_built_once`);
any other module is a group of its own, and each org-profile company too."""

from __future__ import annotations

import multiprocessing
import re
import time
from pathlib import Path

from tests.conftest import LONGEST_FIRST, SHARED_COMPANY_GROUPS, _built_once, xdist_group_of

TESTS = Path(__file__).resolve().parent
COMPANY_FIXTURES = {"s_dirty_warehouse": "s-dirty-company"}
PROFILES = ("salesforce-defaults", "long-history", "stripe-2025", "multi-currency-gaps")


def test_every_module_using_a_built_company_is_in_its_group():
    for path in sorted(TESTS.glob("test_*.py")):
        if path.name == Path(__file__).name:
            continue
        text = path.read_text()
        for fixture, group in COMPANY_FIXTURES.items():
            if re.search(rf"\b{fixture}\b", text):
                assert xdist_group_of(f"tests/{path.name}::test_x") == group, (
                    f"{path.name} uses {fixture}: add it to SHARED_COMPANY_GROUPS "
                    "in tests/conftest.py"
                )


def test_other_modules_are_groups_of_their_own():
    assert xdist_group_of("tests/test_contract.py::test_a") == "test_contract"
    assert xdist_group_of("tests/test_org_profiles.py::test_b[stripe-2025]") == (
        "test_org_profiles[stripe-2025]"
    )
    assert xdist_group_of("tests/test_report.py::test_c") == "test_report"
    assert xdist_group_of("tests/test_report.py::test_c[x]") == "test_report"
    assert xdist_group_of("tests/test_billing_marts.py::test_d") == "s-dirty-company"


def test_the_longest_groups_exist():
    groups = {xdist_group_of(f"tests/{p.name}") for p in TESTS.glob("test_*.py")}
    groups |= {f"test_org_profiles[{profile}]" for profile in PROFILES}
    assert set(LONGEST_FIRST) <= groups
    assert set(SHARED_COMPANY_GROUPS) <= {p.stem for p in TESTS.glob("test_*.py")}
    org_profiles = (TESTS / "test_org_profiles.py").read_text()
    assert re.search(r"PROFILES = \(" + r",\s*".join(f'"{p}"' for p in PROFILES), org_profiles)


class _Factory:
    """The part of pytest's TempPathFactory `_built_once` uses, for one xdist worker."""

    def __init__(self, base: Path, worker: str) -> None:
        self.base = base / f"popen-{worker}"
        self.base.mkdir(parents=True, exist_ok=True)

    def getbasetemp(self) -> Path:
        return self.base

    def mktemp(self, name: str) -> Path:
        path = self.base / name
        path.mkdir()
        return path


def _build_slowly(folder: Path) -> dict[str, object]:
    (folder / "built").write_text("x")
    time.sleep(0.5)
    with open(folder.parent / "builds.log", "a") as log:
        log.write(f"{folder.name}\n")
    return {"folder": folder, "answer": 42}


def _worker(base: str, worker: str, start, queue) -> None:
    import os

    os.environ["PYTEST_XDIST_WORKER"] = worker
    start.wait(timeout=60)  # both ask at the same moment
    queue.put(_built_once(_Factory(Path(base), worker), "company", _build_slowly))


def test_a_company_is_built_once_for_both_workers(tmp_path):
    """Two workers asking at the same time: one builds, the other waits and gets its result."""
    context = multiprocessing.get_context("spawn")
    queue, start = context.Queue(), context.Barrier(2)
    workers = [
        context.Process(target=_worker, args=(str(tmp_path), name, start, queue))
        for name in ("gw0", "gw1")
    ]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert results[0] == results[1] == {"folder": tmp_path / "built-once" / "company", "answer": 42}
    assert (tmp_path / "built-once" / "builds.log").read_text() == "company\n"
