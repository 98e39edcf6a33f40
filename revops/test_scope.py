"""Which data tests a daily increment runs on new rows only, and since when.

Most of an increment's test time is spent re-reading the big append-only and latest-version
staging tables (20 M touches at `l`), whose old rows were already checked. A test is
**scoped** (checks only the rows loaded since the last build in which it passed) when that
is provably as strong for the table as checking every row:

* its model is an incremental staging model: a row whose `_loaded_at` is at most the high-water
  mark is the very row that was checked (those models only append, or replace a key's row by
  one loaded later; a change of their logic, or a removal of raw rows, rebuilds them with
  `--full-refresh`, which re-checks everything);
* the test is `not_null`, `accepted_values` or `cast_failures` (each row is judged on its own,
  `cast_failures` against its own raw row), or `unique` / `unique_combination` (every row,
  old or new, sharing a key with a new row is counted, so a new row duplicating an old key
  still fails);
* its thresholds are dbt's defaults (fail on any row): a threshold over a count of rows
  (`error_if: ">10"`) is not the same test on fewer rows.

Everything else runs in full every time: relationships (a parent can change under an old
child), singular tests and reconciliations, tests of intermediate models and marts (small,
and their rows are recomputed), custom thresholds.

The record `main._revops_tests_checked` holds, per scoped test, its fingerprint (its own
definition, the scope macros and its model's logic) and `checked_through`: the newest
`_loaded_at` of its model when it last passed. Only a pass moves it, after the build, so a
crash leaves the previous mark (the next build checks a little more, never less); a failing
or warning test keeps reporting every row since its last pass. A test runs in full when the
refresh is a `--full-refresh` or a `--full-recheck`, when it has no record or a different
fingerprint, or when its last full check is older than the `test_full_recheck_days` setting
(7 by default): every test is checked on every row at least weekly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from revops import incremental
from revops.ingest.warehouse import connect
from revops.settings import Settings, SettingsError

SCOPE_ENV = "REVOPS_TEST_SCOPE"  # read by macros/tests/test_scope.sql
RECHECK_DAYS_ENV = "REVOPS_TEST_FULL_RECHECK_DAYS"
DEFAULT_RECHECK_DAYS = 7
STATE_TABLE = "main._revops_tests_checked"
STATE_DDL = f"""
create table if not exists {STATE_TABLE} (
    test varchar primary key,
    fingerprint varchar not null,
    checked_through timestamptz not null,
    full_checked_at timestamptz not null,
    checked_at timestamptz not null
)
"""
ROW_TESTS = {"not_null": "rows", "accepted_values": "rows", "cast_failures": "lineage"}
KEY_TESTS = {"unique", "unique_combination"}
DEFAULT_THRESHOLD = "!= 0"
EMPTY_TABLE_MARK = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
# Part of every fingerprint: the macros that narrow a test (macros/tests/test_scope.sql), and
# those every generic test runs through. dbt lists the latter in a test's `depends_on` only in
# the manifest of a run that executed it, not in `dbt parse`'s: always adding them keeps the
# fingerprint the same whichever manifest it is computed from.
SCOPE_MACROS = (
    "macro.revops.test_scope",
    "macro.revops.scoped_loaded_at_filter",
    "macro.revops.default__get_where_subquery",
    "macro.dbt.get_where_subquery",
    "macro.dbt.get_limit_subquery_sql",
    "macro.dbt.should_store_failures",
    "macro.dbt.statement",
)


@dataclass(frozen=True)
class ScopableTest:
    """A test that may run on new rows only: how (`mode`), on which model, by which keys."""

    unique_id: str
    model: str  # the tested model's name (its table in `main`)
    mode: str  # rows | keys | lineage (macros/tests/test_scope.sql)
    keys: tuple[str, ...] = ()
    fingerprint: str = ""


@dataclass
class ScopePlan:
    """What one build runs: the scoped tests with their marks, the rest in full, and why."""

    tests: dict[str, ScopableTest]  # every scopable test, by unique_id
    since: dict[str, str] = field(default_factory=dict)  # scoped test -> checked_through (ISO)
    full_reasons: dict[str, int] = field(default_factory=dict)  # why scopable tests run in full

    def env(self) -> dict[str, str]:
        """The environment variable that carries the scope to dbt (empty: every test full)."""
        scopes = {
            uid: {"mode": self.tests[uid].mode, "since": since, "keys": list(self.tests[uid].keys)}
            for uid, since in sorted(self.since.items())
        }
        return {SCOPE_ENV: json.dumps(scopes, separators=(",", ":")) if scopes else ""}

    def summary(self) -> str:
        full = sum(self.full_reasons.values())
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(self.full_reasons.items()))
        return f"data tests on new rows only: {len(self.since)} scoped, {full} scopable in full" + (
            f" ({why})" if why else ""
        )


def recheck_days(settings: Settings | None = None, environ: Mapping[str, str] | None = None) -> int:
    """The `test_full_recheck_days` setting: a scoped test is checked on every row again once
    its last full check is older than this many days. $REVOPS_TEST_FULL_RECHECK_DAYS when set
    and not empty, else the settings file's value, else 7. A whole number of at least 0 (0: a
    full check on every build); anything else is an error."""
    environ = os.environ if environ is None else environ
    value, where = (environ.get(RECHECK_DAYS_ENV) or "").strip(), f"${RECHECK_DAYS_ENV}"
    if not value and settings is not None:
        value = settings.values.get("test_full_recheck_days", "").strip()
        where = f"settings file {settings.path}"
    if not value:
        return DEFAULT_RECHECK_DAYS
    if not value.isdigit():
        raise SettingsError(
            f"{where}: test_full_recheck_days must be a whole number of days (0 or more), "
            f"not {value!r}"
        )
    return int(value)


def _thresholds_are_default(config: Mapping[str, Any]) -> bool:
    return (
        str(config.get("warn_if", DEFAULT_THRESHOLD)).strip() == DEFAULT_THRESHOLD
        and str(config.get("error_if", DEFAULT_THRESHOLD)).strip() == DEFAULT_THRESHOLD
        and str(config.get("fail_calc", "count(*)")).strip() == "count(*)"
        and config.get("limit") is None
    )


def scopable_tests(manifest: Mapping[str, Any]) -> dict[str, ScopableTest]:
    """Every test of the project that may run on new rows only (see the module docstring),
    with its fingerprint."""
    nodes, macros = manifest["nodes"], manifest.get("macros", {})
    model_fingerprints = incremental.model_fingerprints(manifest)
    out = {}
    for uid, node in nodes.items():
        if node["resource_type"] != "test":
            continue
        metadata = node.get("test_metadata") or {}
        name, kwargs = metadata.get("name"), metadata.get("kwargs") or {}
        model = nodes.get(node.get("attached_node") or "")
        if model is None or model["name"] not in model_fingerprints:
            continue
        if model.get("fqn", [None, None])[1] != "staging":
            continue
        if not _thresholds_are_default(node.get("config", {})):
            continue
        if name in ROW_TESTS:
            mode, keys = ROW_TESTS[name], ()
        elif name == "unique" and kwargs.get("column_name"):
            mode, keys = "keys", (kwargs["column_name"],)
        elif name == "unique_combination" and kwargs.get("columns"):
            mode, keys = "keys", tuple(kwargs["columns"])
        else:
            continue
        digest = hashlib.sha256()
        digest.update(json.dumps(metadata, sort_keys=True, default=str).encode())
        digest.update(node.get("raw_code", "").encode())
        digest.update(json.dumps(node.get("config", {}), sort_keys=True, default=str).encode())
        names = {*node["depends_on"].get("macros", []), *SCOPE_MACROS}
        for macro in sorted(incremental._macro_closure(names, macros)):
            digest.update(f"\nmacro {macro}\n{macros[macro].get('macro_sql', '')}".encode())
        digest.update(f"\nmodel {model_fingerprints[model['name']]}".encode())
        out[uid] = ScopableTest(uid, model["name"], mode, keys, digest.hexdigest())
    return out


def _read_state(warehouse: Path) -> dict[str, tuple[str, dt.datetime, dt.datetime]]:
    if not warehouse.exists():
        return {}
    con = connect(warehouse)
    try:
        if not incremental._table_exists(con, STATE_TABLE):
            return {}
        return {
            test: (fingerprint, checked_through, full_checked_at)
            for test, fingerprint, checked_through, full_checked_at in con.execute(
                f"select test, fingerprint, checked_through, full_checked_at from {STATE_TABLE}"
            ).fetchall()
        }
    finally:
        con.close()


def plan(
    warehouse: Path,
    manifest: Mapping[str, Any],
    *,
    full_recheck: bool,
    max_age_days: int = DEFAULT_RECHECK_DAYS,
    now: dt.datetime | None = None,
) -> ScopePlan:
    """Which scopable tests this build runs on new rows only, and since when. `full_recheck`
    (a `--full-refresh`, a `--full-recheck`) runs every test in full."""
    tests = scopable_tests(manifest)
    result = ScopePlan(tests)
    if full_recheck:
        if tests:
            result.full_reasons["full re-check asked"] = len(tests)
        return result
    now = now or dt.datetime.now(dt.UTC)
    state = _read_state(Path(warehouse))
    for uid, test in tests.items():
        record = state.get(uid)
        if record is None:
            reason = "never passed on record"
        elif record[0] != test.fingerprint:
            reason = "definition or model changed"
        elif now - record[2] >= dt.timedelta(days=max_age_days):
            reason = f"last full check {max_age_days}+ days ago"
        else:
            result.since[uid] = record[1].astimezone(dt.UTC).isoformat()
            continue
        result.full_reasons[reason] = result.full_reasons.get(reason, 0) + 1
    return result


def record(
    warehouse: Path,
    scope: ScopePlan,
    run_results: Mapping[str, Any],
    now: dt.datetime | None = None,
) -> int:
    """After a build: move the mark of every scopable test that passed to its model's newest
    `_loaded_at`; forget the record of a test that failed on a full check (it runs in full
    until it passes). Returns the number of tests recorded as passed."""
    statuses = {
        r["unique_id"]: r.get("status")
        for r in run_results.get("results", [])
        if r.get("unique_id") in scope.tests
    }
    if not statuses:
        return 0
    now = now or dt.datetime.now(dt.UTC)
    con = connect(Path(warehouse))
    try:
        con.execute(STATE_DDL)
        marks: dict[str, dt.datetime | None] = {}
        passed, forget = [], []
        for uid, status in sorted(statuses.items()):
            test = scope.tests[uid]
            if status != "pass":
                if uid not in scope.since:
                    forget.append(uid)
                continue
            if test.model not in marks:
                marks[test.model] = con.execute(
                    f'select max(_loaded_at) from main."{test.model}"'
                ).fetchone()[0]
            # an empty table (a Salesforce-only org's HubSpot models): every row it will get
            # is new
            passed.append((uid, test, marks[test.model] or EMPTY_TABLE_MARK))
        for uid in forget:
            con.execute(f"delete from {STATE_TABLE} where test = ?", [uid])
        previous = {
            test: full_checked_at
            for test, full_checked_at in con.execute(
                f"select test, full_checked_at from {STATE_TABLE}"
            ).fetchall()
        }
        rows = [
            (
                uid,
                test.fingerprint,
                mark,
                previous.get(uid, now) if uid in scope.since else now,
                now,
            )
            for uid, test, mark in passed
        ]
        if rows:
            # one statement: executemany costs a round trip per row
            values = ", ".join(["(?, ?, ?, ?, ?)"] * len(rows))
            con.execute(
                f"insert or replace into {STATE_TABLE} values {values}",
                [value for row in rows for value in row],
            )
        return len(rows)
    finally:
        con.close()
