"""The test suite's worker groups (tests/conftest.py): every module that uses a built company's
session fixture is in that company's group, so the company is built once per run, on one
worker; any other module is a group of its own."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import LONGEST_FIRST, SHARED_COMPANY_GROUPS, xdist_group_of

TESTS = Path(__file__).resolve().parent
COMPANY_FIXTURES = {
    "xs_published": "xs-published-company",
    "xs_hubspot_published": "xs-published-company",
    "s_dirty_warehouse": "s-dirty-company",
}


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
        "test_org_profiles"
    )
    assert xdist_group_of("tests/test_report.py::test_c") == "xs-published-company"
    assert xdist_group_of("tests/test_billing_marts.py::test_d") == "s-dirty-company"


def test_the_longest_groups_exist():
    groups = {xdist_group_of(f"tests/{p.name}") for p in TESTS.glob("test_*.py")}
    assert set(LONGEST_FIRST) <= groups
    assert set(SHARED_COMPANY_GROUPS) <= {p.stem for p in TESTS.glob("test_*.py")}
