"""Which data tests a daily increment runs on new rows only, and since when.

Most of an increment's test time is spent re-reading big tables whose old rows were already
checked: the append-only and latest-version staging tables (20 M touches at `l`), and the
incremental intermediate models and marts, of which a day rewrites a few keys. A test is
**scoped** (checks only the rows new since the last build in which it passed) when that is
provably as strong for the table as checking every row:

* its model is incremental, and which rows are new is known:
  - a staging model: the rows loaded (`_loaded_at`) after the mark; a row loaded before it is
    the very row that was checked (those models only append, or replace a key's row by one
    loaded later);
  - an intermediate model or mart written by `delete+insert` or `append` with a write key
    (macros/tests/rows_written.sql): the rows whose write key an incremental write recorded
    in `_revops_log.rows_written` after the mark; any other row is the very row that was
    checked (these models change only by those writes and by their pre-hooks' deletes);
  - a view that passes its parents' rows through (`meta: {rows_from_parents: true}`: the
    CRM union views), for its key tests: the rows loaded after the mark, as for a staging
    model, as long as its parents other than incremental staging models (tables rebuilt
    whole) have no row; while one has, the test reads every row (checked in its SQL);
  a change of their logic (a view's own logic and its parents' included), or a removal of
  raw rows, rebuilds them with `--full-refresh`, which re-checks everything;
* the scoped check reads less than the full one: `accepted_values` or `cast_failures` (each
  row judged on its own, `cast_failures` against its own raw row: staging only), or `unique`
  / `unique_combination` (every row, old or new, sharing a key with a new row is counted, so a
  new row duplicating an old key still fails). On a model scoped by its rows written, only a
  key test whose key includes the write key (those rows are all among the rows of the written
  keys, and the new rows alone are read): finding the written rows hashes every row's write
  key, which costs more than any other test in full. `not_null` is never scoped: DuckDB
  answers it over a whole table from each row group's statistics (see ROW_TESTS);
* its thresholds are dbt's defaults (fail on any row): a threshold over a count of rows
  (`error_if: ">10"`) is not the same test on fewer rows.

Everything else runs in full every time: `not_null`, relationships (a parent can lose a key
under an old child: the parent's pre-hook deletes are not recorded), `unmapped_values` (it
reports a count over every row), singular tests and reconciliations, tests of models that are
not incremental (other views, tables rebuilt whole), custom thresholds.

The record `main._revops_tests_checked` holds, per scoped test, its fingerprint (its own
definition, the scope macros, its model's logic and write key) and `checked_through`: the
newest `_loaded_at` of its model (or the newest write recorded of it) when it last passed.
Only a pass moves it, after the build, so a crash leaves the previous mark (the next build
checks a little more, never less); a failing or warning test keeps reporting every row since
its last pass. A test runs in full when the refresh is a `--full-refresh` or a
`--full-recheck`, when it has no record or a different fingerprint, when its model is scoped
by the rows written but there is no record of writes (or no table yet), or when its last full
check is older than the `test_full_recheck_days` setting (7 by default): every test is
checked on every row at least weekly.
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

from revops import incremental, records
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
# Scoped only where the scoped check reads less than the full one (measured at `m`, below):
# `not_null` never is. DuckDB answers `<column> is null` over a whole table from each row
# group's statistics, faster than any filter that finds the new rows (the 89 scoped `not_null`
# of staging models took 42 ms of SQL against 23 ms in full, the 47 of intermediate models and
# marts 47 ms against 16 ms, one thread, min of 5).
ROW_TESTS = {"accepted_values": "rows", "cast_failures": "lineage"}
KEY_TESTS = {"unique", "unique_combination"}
# A model scoped by its rows written (a hash of the write key of every row, matched against
# the written keys) is scoped only for a key test whose key includes the write key: every
# other test read more rows scoped than in full (6 `accepted_values` 7.5 ms against 4.0, 4
# `unique` on another key 84 ms against 65; the 11 key tests on the write key 71 ms against
# 103 ms).
# A view that passes its parents' rows through (`meta: {rows_from_parents: true}`)
PASS_THROUGH_META = "rows_from_parents"
DEFAULT_THRESHOLD = "!= 0"
EMPTY_TABLE_MARK = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
# Part of every fingerprint: the macros that narrow a test (macros/tests/test_scope.sql), and
# those every generic test runs through. dbt lists the latter in a test's `depends_on` only in
# the manifest of a run that executed it, not in `dbt parse`'s: always adding them keeps the
# fingerprint the same whichever manifest it is computed from.
SCOPE_MACROS = (
    "macro.revops.test_scope",
    "macro.revops.scoped_loaded_at_filter",
    "macro.revops.scoped_new_rows_filter",
    "macro.revops.scoped_whole_parents_guard",
    "macro.revops.default__get_where_subquery",
    "macro.dbt.get_where_subquery",
    "macro.dbt.get_limit_subquery_sql",
    "macro.dbt.should_store_failures",
    "macro.dbt.statement",
)
# Also part of the fingerprint of a test scoped by the rows written (macros/tests/rows_written.sql).
WRITTEN_MACROS = (
    "macro.revops.scoped_new_rows_filter",
    "macro.revops.rows_written_table",
    "macro.revops.rows_written_key",
    "macro.revops.rows_written_sql",
    "macro.revops.create_rows_written_log",
    "macro.revops.duckdb__create_rows_written_log",
    "macro.revops.duckdb__get_incremental_delete_insert_sql",
    "macro.revops.duckdb__get_incremental_append_sql",
)
WRITTEN_TABLE = "_revops_log.rows_written"
WRITTEN_STRATEGIES = {"delete+insert", "append"}


@dataclass(frozen=True)
class ScopableTest:
    """A test that may run on new rows only: how (`mode`), on which model, by which keys."""

    unique_id: str
    model: str  # the tested model's name (its table in `main`)
    mode: str  # rows | keys | lineage (macros/tests/test_scope.sql)
    keys: tuple[str, ...] = ()
    fingerprint: str = ""
    # an intermediate model or mart: its write key (new rows: those whose key was written)
    written: tuple[str, ...] = ()
    # a pass-through view: its parents other than incremental staging models (the test runs
    # on every row while any of them has a row)
    whole: tuple[str, ...] = ()


@dataclass
class ScopePlan:
    """What one build runs: the scoped tests with their marks, the rest in full, and why."""

    tests: dict[str, ScopableTest]  # every scopable test, by unique_id
    since: dict[str, str] = field(default_factory=dict)  # scoped test -> checked_through (ISO)
    full_reasons: dict[str, int] = field(default_factory=dict)  # why scopable tests run in full

    def env(self) -> dict[str, str]:
        """The environment variable that carries the scope to dbt (empty: every test full)."""
        scopes: dict[str, dict[str, Any]] = {}
        for uid, since in sorted(self.since.items()):
            test = self.tests[uid]
            scopes[uid] = {"mode": test.mode, "since": since, "keys": list(test.keys)}
            if test.written:
                scopes[uid].update(written=list(test.written), model=test.model)
            if test.whole:
                scopes[uid]["whole"] = list(test.whole)
        return {SCOPE_ENV: json.dumps(scopes, separators=(",", ":")) if scopes else ""}

    def summary(self) -> str:
        full = sum(self.full_reasons.values())
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(self.full_reasons.items()))
        written = sum(1 for uid in self.since if self.tests[uid].written)
        return (
            f"data tests on new rows only: {len(self.since)} scoped "
            f"({written} of them on an intermediate model or mart's rows written), "
            f"{full} scopable in full" + (f" ({why})" if why else "")
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


def _key_of(metadata: Mapping[str, Any]) -> tuple[str, ...]:
    """The key of a `unique` / `unique_combination` test (empty for any other test)."""
    name, kwargs = metadata.get("name"), metadata.get("kwargs") or {}
    if name == "unique" and kwargs.get("column_name"):
        return (kwargs["column_name"],)
    if name == "unique_combination" and kwargs.get("columns"):
        return tuple(kwargs["columns"])
    return ()


def write_key(model_id: str, nodes: Mapping[str, Any]) -> tuple[str, ...]:
    """The write key of an incremental intermediate model or mart, as
    macros/tests/rows_written.sql records it: its `unique_key`, else the key of its first
    `unique` / `unique_combination` test by id; empty when it has neither, or when it is not
    written by `delete+insert` / `append` (nothing recorded: its tests run in full)."""
    config = nodes[model_id].get("config", {})
    if config.get("incremental_strategy") not in WRITTEN_STRATEGIES:
        return ()
    unique_key = config.get("unique_key")
    if unique_key:
        return (unique_key,) if isinstance(unique_key, str) else tuple(unique_key)
    for uid in sorted(nodes):
        node = nodes[uid]
        if node["resource_type"] == "test" and node.get("attached_node") == model_id:
            key = _key_of(node.get("test_metadata") or {})
            if key:
                return key
    return ()


def _rows_from_parents(model_id: str, nodes: Mapping[str, Any]) -> tuple[str, ...] | None:
    """For a view declared to pass its parents' rows through (`meta: {rows_from_parents:
    true}`: every row is one parent's row with its `_loaded_at`, as the CRM union views), the
    names of its parents that are not incremental staging models ("whole" parents: a scoped test
    of it runs in full while any of them has a row); None when the view is not such a view, or
    reads anything but models, or no incremental staging model."""
    model = nodes[model_id]
    config = model.get("config", {})
    if config.get("materialized") != "view" or not (config.get("meta") or {}).get(
        PASS_THROUGH_META
    ):
        return None
    whole, staged = [], 0
    for parent_id in model.get("depends_on", {}).get("nodes", []):
        parent = nodes.get(parent_id)
        if parent is None or parent.get("resource_type") != "model":
            return None
        if incremental._is_incremental(parent) and parent.get("fqn", [None, None])[1] == "staging":
            staged += 1
        else:
            whole.append(parent["name"])
    return tuple(sorted(whole)) if staged else None


def _view_fingerprint(
    model_id: str, nodes: Mapping[str, Any], macros: Mapping[str, Any], models: Mapping[str, str]
) -> str:
    """A pass-through view's logic: its SQL, config and macros, its incremental parents'
    fingerprints and its other parents' checksums."""
    model = nodes[model_id]
    digest = hashlib.sha256()
    digest.update(model["raw_code"].encode())
    digest.update(json.dumps(model.get("config", {}), sort_keys=True, default=str).encode())
    for macro in sorted(incremental._macro_closure(model["depends_on"].get("macros", []), macros)):
        digest.update(f"\nmacro {macro}\n{macros[macro].get('macro_sql', '')}".encode())
    for parent_id in sorted(model["depends_on"].get("nodes", [])):
        parent = nodes[parent_id]
        logic = models.get(parent["name"]) or incremental._content_checksum(parent)
        digest.update(f"\nparent {parent_id} {logic}".encode())
    return digest.hexdigest()


def scopable_tests(manifest: Mapping[str, Any]) -> dict[str, ScopableTest]:
    """Every test of the project that may run on new rows only (see the module docstring),
    with its fingerprint."""
    nodes, macros = manifest["nodes"], manifest.get("macros", {})
    model_fingerprints = incremental.model_fingerprints(manifest)
    write_keys: dict[str, tuple[str, ...]] = {}
    views: dict[str, tuple[str, ...] | None] = {}
    out = {}
    for uid, node in nodes.items():
        if node["resource_type"] != "test":
            continue
        metadata = node.get("test_metadata") or {}
        name = metadata.get("name")
        model_id = node.get("attached_node") or ""
        model = nodes.get(model_id)
        if model is None or model.get("resource_type") != "model":
            continue
        if not _thresholds_are_default(node.get("config", {})):
            continue
        keys = _key_of(metadata)
        written: tuple[str, ...] = ()
        whole: tuple[str, ...] = ()
        if model["name"] in model_fingerprints:
            model_logic = model_fingerprints[model["name"]]
            if model.get("fqn", [None, None])[1] != "staging":
                if model_id not in write_keys:
                    write_keys[model_id] = write_key(model_id, nodes)
                written = write_keys[model_id]
                # only a key test whose key includes the write key reads less scoped (the
                # written keys' rows) than in full (see KEY_TESTS)
                if not written or name not in KEY_TESTS or not set(written) <= set(keys):
                    continue
        else:
            if model_id not in views:
                views[model_id] = _rows_from_parents(model_id, nodes)
            if views[model_id] is None:
                continue
            whole = views[model_id] or ()
            if name not in KEY_TESTS:
                continue  # its whole parents' guard sits beside the new keys' join
            model_logic = _view_fingerprint(model_id, nodes, macros, model_fingerprints)
        if name in ROW_TESTS:
            mode = ROW_TESTS[name]
        elif keys:
            # a key that includes the write key: every row sharing it is a written key's row
            mode = "rows" if written and set(written) <= set(keys) else "keys"
        else:
            continue
        digest = hashlib.sha256()
        digest.update(json.dumps(metadata, sort_keys=True, default=str).encode())
        digest.update(node.get("raw_code", "").encode())
        digest.update(json.dumps(node.get("config", {}), sort_keys=True, default=str).encode())
        names = {*node["depends_on"].get("macros", []), *SCOPE_MACROS}
        if written:
            names |= set(WRITTEN_MACROS)
            digest.update(f"\nwritten {json.dumps(written)}".encode())
        if whole:
            digest.update(f"\nwhole {json.dumps(whole)}".encode())
        for macro in sorted(incremental._macro_closure(names, macros)):
            digest.update(f"\nmacro {macro}\n{macros[macro].get('macro_sql', '')}".encode())
        digest.update(f"\nmodel {model_logic}".encode())
        out[uid] = ScopableTest(uid, model["name"], mode, keys, digest.hexdigest(), written, whole)
    return out


def _read_state(
    warehouse: Path,
) -> tuple[dict[str, tuple[str, dt.datetime, dt.datetime]], set[str]]:
    """The record of each test, and the tables in `main` (empty without a record of rows
    written: then no test is scoped by the rows written)."""
    if not warehouse.exists():
        return {}, set()
    con = connect(warehouse)
    try:
        tables = set()
        if incremental._table_exists(con, WRITTEN_TABLE):
            tables = {
                name
                for (name,) in con.execute(
                    "select table_name from information_schema.tables "
                    "where table_schema = 'main' and table_type = 'BASE TABLE'"
                ).fetchall()
            }
        if not incremental._table_exists(con, STATE_TABLE):
            return {}, tables
        return {
            test: (fingerprint, checked_through, full_checked_at)
            for test, fingerprint, checked_through, full_checked_at in con.execute(
                f"select test, fingerprint, checked_through, full_checked_at from {STATE_TABLE}"
            ).fetchall()
        }, tables
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
    state, tables = _read_state(Path(warehouse))
    for uid, test in tests.items():
        record = state.get(uid)
        if record is None:
            reason = "never passed on record"
        elif test.written and test.model not in tables:
            # no record of writes, or a model that this build creates (a create is not
            # recorded as a write)
            reason = "no record of the rows written"
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
    `_loaded_at` (or the newest write recorded of its model); forget the record of a test that
    failed on a full check (it runs in full until it passes); forget the writes that every
    scopable test of their model has passed since. Returns the number of tests recorded as
    passed."""
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
        logged = incremental._table_exists(con, WRITTEN_TABLE)
        marks: dict[tuple[str, bool], dt.datetime | None] = {}
        passed, forget = [], []
        for uid, status in sorted(statuses.items()):
            test = scope.tests[uid]
            if status != "pass":
                if uid not in scope.since:
                    forget.append(uid)
                continue
            where = (test.model, bool(test.written))
            if where not in marks:
                if test.written:
                    marks[where] = (
                        con.execute(
                            f"select max(written_at) from {WRITTEN_TABLE} where model = ?",
                            [test.model],
                        ).fetchone()[0]
                        if logged
                        else None
                    )
                else:
                    marks[where] = con.execute(
                        f'select max(_loaded_at) from main."{test.model}"'
                    ).fetchone()[0]
            # an empty table (a Salesforce-only org's HubSpot models), or a model never written
            # incrementally yet: every row it will get is new
            passed.append((uid, test, marks[where] or EMPTY_TABLE_MARK))
        records.delete(con, STATE_TABLE, "test", forget)
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
        recorded = records.upsert(con, STATE_TABLE, rows)
        if logged:
            _forget_checked_writes(con, scope)
        return recorded
    finally:
        con.close()


def _forget_checked_writes(con: Any, scope: ScopePlan) -> None:
    """Delete the recorded writes no scoped test will read again: those at or before the
    oldest mark among the recorded scopable tests of their model (all of a model's writes
    when none of its tests has a record: they run in full next time)."""
    current = {
        test: mark
        for test, mark in con.execute(f"select test, checked_through from {STATE_TABLE}").fetchall()
    }
    oldest: dict[str, dt.datetime] = {}
    for uid, test in scope.tests.items():
        if test.written and uid in current:
            mark = current[uid]
            oldest[test.model] = min(oldest.get(test.model, mark), mark)
    kept = sorted(oldest)
    con.execute(f"delete from {WRITTEN_TABLE} where not list_contains(?::varchar[], model)", [kept])
    for model in kept:
        con.execute(
            f"delete from {WRITTEN_TABLE} where model = ? and written_at <= ?",
            [model, oldest[model]],
        )
