"""Data tests on the rows loaded since they last passed, and a full re-check that sees every
row (revops/test_scope.py, macros/tests/test_scope.sql; docs/SERVING.md "Daily increments").

The dbt part runs on a tiny warehouse holding one delivery of marketing touches and the one
staging model built from it: one `dbt run` and three `dbt test` of that model, no refresh."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import duckdb
import pytest

from revops import test_scope
from revops.ingest import ingest_landing
from revops.settings import Settings, SettingsError
from tests.dbt_support import run_dbt
from tests.ingest_support import DAY, DAY2, csv_bytes, deliver, obj, rows, write

ACTIVITIES = "marketing_automation/activities"
MODEL = "stg_marketing_automation__activities"
NOW = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)


# --- which tests are scoped, and when they run in full (no dbt) ---------------------------


def _manifest() -> dict:
    """An incremental staging model with a unique, a not_null, an accepted_values, a
    relationships test and a not_null with a threshold; a mart with a not_null and a unique."""

    def test(name: str, kind: str, model: str, **config) -> dict:
        return {
            "name": name,
            "resource_type": "test",
            "raw_code": "{{ test_" + kind + "(**_dbt_generic_test_kwargs) }}",
            "config": {"severity": "ERROR", "warn_if": "!= 0", "error_if": "!= 0", **config},
            "test_metadata": {"name": kind, "kwargs": {"column_name": "id"}},
            "attached_node": f"model.p.{model}",
            "depends_on": {"macros": [f"macro.dbt.test_{kind}"], "nodes": [f"model.p.{model}"]},
        }

    return {
        "nodes": {
            "model.p.stg_a": {
                "name": "stg_a",
                "resource_type": "model",
                "fqn": ["p", "staging", "stg_a"],
                "raw_code": "select 1 as id",
                "config": {"materialized": "incremental"},
                "depends_on": {"macros": [], "nodes": []},
                "checksum": {"checksum": "m1"},
            },
            "model.p.fct_b": {
                "name": "fct_b",
                "resource_type": "model",
                "fqn": ["p", "marts", "fct_b"],
                "raw_code": "select 1 as id",
                "config": {"materialized": "incremental"},
                "depends_on": {"macros": [], "nodes": []},
                "checksum": {"checksum": "m2"},
            },
            "test.p.unique_a": test("unique_a", "unique", "stg_a"),
            "test.p.not_null_a": test("not_null_a", "not_null", "stg_a"),
            "test.p.accepted_a": test("accepted_a", "accepted_values", "stg_a"),
            "test.p.rel_a": test("rel_a", "relationships", "stg_a"),
            "test.p.accepted_a_many": test(
                "accepted_a_many", "accepted_values", "stg_a", error_if=">5"
            ),
            "test.p.not_null_b": test("not_null_b", "not_null", "fct_b"),
            "test.p.unique_b": test("unique_b", "unique", "fct_b"),
        },
        "macros": {
            "macro.dbt.test_unique": {"macro_sql": "unique", "depends_on": {"macros": []}},
            "macro.dbt.test_not_null": {"macro_sql": "not null", "depends_on": {"macros": []}},
        },
    }


def test_only_row_and_key_tests_of_incremental_staging_models_are_scoped():
    """not_null never is: DuckDB checks it over the whole table from row group statistics,
    faster than finding the new rows."""
    tests = test_scope.scopable_tests(_manifest())
    assert {uid: (t.mode, t.keys) for uid, t in tests.items()} == {
        "test.p.unique_a": ("keys", ("id",)),
        "test.p.accepted_a": ("rows", ()),
    }


def test_the_fingerprint_is_the_same_in_a_parse_and_a_run_manifest():
    """`dbt parse` lists a generic test's own macro only; a run that executed the test adds
    the macros every test runs through. The refresh plans from the one, a bench may record
    from the other: both give the same fingerprint."""
    manifest = _manifest()
    before = test_scope.scopable_tests(manifest)
    run = copy.deepcopy(manifest)
    run["nodes"]["test.p.unique_a"]["depends_on"]["macros"] += [
        "macro.dbt.get_where_subquery",
        "macro.dbt.should_store_failures",
        "macro.dbt.statement",
    ]
    assert test_scope.scopable_tests(run) == before


def _record(warehouse: Path, marks: dict[str, tuple[str, dt.datetime]]) -> None:
    """Pretend builds recorded these tests (fingerprint, full check time), checked through
    2026-01-09."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(test_scope.STATE_DDL)
        for uid, (fingerprint, full_checked_at) in marks.items():
            con.execute(
                f"insert into {test_scope.STATE_TABLE} values (?, ?, ?, ?, ?)",
                [uid, fingerprint, dt.datetime(2026, 1, 9, tzinfo=dt.UTC), full_checked_at, NOW],
            )


def test_a_test_is_scoped_only_with_a_recent_full_check_of_the_same_definition(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    manifest = _manifest()
    tests = test_scope.scopable_tests(manifest)
    assert test_scope.plan(warehouse, manifest, full_recheck=False, now=NOW).since == {}

    fingerprint = tests["test.p.unique_a"].fingerprint
    _record(
        warehouse,
        {
            "test.p.unique_a": (fingerprint, NOW - dt.timedelta(days=6)),
            "test.p.accepted_a": (tests["test.p.accepted_a"].fingerprint, NOW),
        },
    )
    scope = test_scope.plan(warehouse, manifest, full_recheck=False, now=NOW)
    assert scope.since == {
        "test.p.unique_a": "2026-01-09T00:00:00+00:00",
        "test.p.accepted_a": "2026-01-09T00:00:00+00:00",
    }
    assert json.loads(scope.env()[test_scope.SCOPE_ENV])["test.p.unique_a"] == {
        "mode": "keys",
        "since": "2026-01-09T00:00:00+00:00",
        "keys": ["id"],
    }
    # the last full check of unique_a is 6 days old: a 6-day setting checks it in full again
    scope = test_scope.plan(warehouse, manifest, full_recheck=False, max_age_days=6, now=NOW)
    assert set(scope.since) == {"test.p.accepted_a"}
    assert scope.full_reasons == {"last full check 6+ days ago": 1}
    # --full-recheck / --full-refresh: every test in full, and dbt gets no scope at all
    scope = test_scope.plan(warehouse, manifest, full_recheck=True, now=NOW)
    assert scope.since == {} and scope.env() == {test_scope.SCOPE_ENV: ""}
    # a changed test definition or a changed model logic: that test in full
    for change in ("test", "model"):
        changed = copy.deepcopy(manifest)
        if change == "test":
            changed["nodes"]["test.p.unique_a"]["config"]["where"] = "id > 0"
        else:
            changed["nodes"]["model.p.stg_a"]["raw_code"] += " -- edited"
        scope = test_scope.plan(warehouse, changed, full_recheck=False, now=NOW)
        assert "test.p.unique_a" not in scope.since, change
        assert scope.full_reasons["definition or model changed"] >= 1


def test_the_recheck_setting(tmp_path):
    env = test_scope.RECHECK_DAYS_ENV
    assert test_scope.recheck_days(environ={}) == 7
    assert test_scope.recheck_days(environ={env: " 3 "}) == 3
    org = Settings(path=tmp_path / "revops.toml", values={"test_full_recheck_days": "0"})
    assert test_scope.recheck_days(org, environ={}) == 0
    assert test_scope.recheck_days(org, environ={env: "2"}) == 2
    for bad in ("-1", "1.5", "weekly"):
        with pytest.raises(SettingsError, match="test_full_recheck_days"):
            test_scope.recheck_days(environ={env: bad})


# --- the scoped tests on a tiny warehouse (dbt) -------------------------------------------


def _deliver_touches(landing: Path, day: str, start: int, n: int) -> None:
    data = rows(ACTIVITIES, n, start)
    for row in data:
        row["email"] = f"person{row['activity_id'].split('-')[-1]}@example.com"
        row["activity_type"] = "web_visit"
    write(landing, ACTIVITIES, day, "activities.csv", csv_bytes(obj(ACTIVITIES).column_names, data))


def _results(base: Path) -> dict[str, str]:
    """Status of each data test of the last dbt command, by test name."""
    results = json.loads((base / "target" / "run_results.json").read_text())
    return {
        r["unique_id"].split(".")[2]: r["status"]
        for r in results["results"]
        if r["unique_id"].startswith("test.")
    }


def _scopable_tests_of(
    base: Path, model: str
) -> tuple[dict[str, Any], dict[str, test_scope.ScopableTest]]:
    """The manifest dbt wrote under `base`, and the scopable tests of `model` in it by name."""
    manifest = json.loads((base / "target" / "manifest.json").read_text())
    tests = {
        t.unique_id.split(".")[2]: t
        for t in test_scope.scopable_tests(manifest).values()
        if t.model == model
    }
    return manifest, tests


def test_scoped_tests_check_new_rows_against_the_whole_table(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    _deliver_touches(landing, DAY, start=1, n=4)
    assert ingest_landing(landing, warehouse).files_failed == 0
    env = {**os.environ, "REVOPS_WAREHOUSE": str(warehouse), test_scope.SCOPE_ENV: ""}

    def dbt_test(scope: test_scope.ScopePlan | None) -> dict[str, str]:
        scope_env = scope.env() if scope else {test_scope.SCOPE_ENV: ""}
        args = ("test", "--select", MODEL, "--exclude-resource-type", "unit_test")
        done = run_dbt(*args, base=tmp_path, env={**env, **scope_env})
        assert "Done." in done.stdout, done.stdout[-3000:]
        return _results(tmp_path)

    built = run_dbt("run", "--select", MODEL, base=tmp_path, env=env)
    assert built.returncode == 0, built.stdout[-3000:]
    manifest, tests = _scopable_tests_of(tmp_path, MODEL)
    unique = f"unique_{MODEL}_activity_id"
    accepted = next(name for name in tests if name.startswith(f"accepted_values_{MODEL}_activity"))
    assert tests[unique].mode == "keys" and tests[accepted].mode == "rows"

    # the first build checks every row, and records where each passing test got to
    scope = test_scope.plan(warehouse, manifest, full_recheck=False)
    assert scope.since == {}
    first = dbt_test(scope)
    assert set(first.values()) == {"pass"}, first
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())
    assert test_scope.record(warehouse, scope, results) == len(tests)

    # Then: an old row goes bad unseen (an unknown activity type), and a new row arrives that
    # duplicates an OLD touch id (as a model bug would let through).
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            f"update main.{MODEL} set activity_type = 'bogus' where activity_id = 'activity_id-1'"
        )
        con.execute(
            f"insert into main.{MODEL} select * replace "
            "(now() + interval 1 minute as _loaded_at, 'person2@example.com' as email) "
            f"from main.{MODEL} where activity_id = 'activity_id-2'"
        )
    scope = test_scope.plan(warehouse, manifest, full_recheck=False)
    assert set(scope.since) == {t.unique_id for t in tests.values()}
    scoped = dbt_test(scope)
    # the new duplicate of an old key fails; the old bad row, already checked, is not seen
    assert scoped[unique] == "fail"
    assert scoped[accepted] == "pass"
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())
    test_scope.record(warehouse, scope, results)
    # the failing test keeps its mark (it will report the new row until it passes); the
    # passing one moved on
    assert (
        test_scope.plan(warehouse, manifest, full_recheck=False).since[tests[unique].unique_id]
        == scope.since[tests[unique].unique_id]
    )

    # the full re-check reads every row: it catches the old bad row too
    full = dbt_test(test_scope.plan(warehouse, manifest, full_recheck=True))
    assert full[unique] == "fail" and full[accepted] == "warn"  # (its severity is warn)


def test_a_full_recheck_can_be_asked_for(dbt_manifest):
    """`revops refresh --full-recheck` and the `full_recheck` run config of the dbt asset."""
    from orchestration.defs.transform.assets import DbtBuildConfig
    from revops.cli import build_parser

    assert build_parser().parse_args(["refresh", "--full-recheck"]).full_recheck
    assert not build_parser().parse_args(["refresh"]).full_recheck
    assert DbtBuildConfig(full_recheck=True).full_recheck and not DbtBuildConfig().full_recheck


def test_the_scope_never_makes_the_parse_stale(monkeypatch):
    """The scope changes every build; dbt reads it only when a test runs, so it stays out of
    the parse stamp (otherwise the in-process build would never reuse the refresh's parse)."""
    from revops import refresh

    monkeypatch.setenv(test_scope.SCOPE_ENV, "")
    before = refresh.parse_fingerprint()
    monkeypatch.setenv(test_scope.SCOPE_ENV, '{"test.revops.x": {"mode": "rows"}}')
    assert refresh.parse_fingerprint() == before
    monkeypatch.setenv("REVOPS_SOME_SETTING", "1")  # any other variable still counts
    assert refresh.parse_fingerprint() != before


# --- an intermediate model's tests on the keys its writes recorded (dbt) -------------------

PRICED = "int_invoice_lines_priced"
PRICED_INPUTS = ("stripe/invoice_line_items", "stripe/prices", "stripe/coupons")


def test_tests_of_an_intermediate_model_check_the_keys_its_writes_recorded(tmp_path):
    """int_invoice_lines_priced (delete+insert by line) built from three Stripe lines, then
    incrementally from two more: the write records exactly the two new lines' keys; scoped
    tests then read only the written keys' rows, yet a row duplicating an old key with a
    written key fails the scoped `unique`; `not_null` is not scoped (it is cheaper in full),
    so it sees an old row that went bad. No refresh: one `dbt build` of the model and its
    parents, one incremental `dbt run`, three `dbt test`."""
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    for folder in PRICED_INPUTS:
        deliver(landing, folder, DAY, n=3, start=1)
    assert ingest_landing(landing, warehouse).files_failed == 0
    env = {**os.environ, "REVOPS_WAREHOUSE": str(warehouse), test_scope.SCOPE_ENV: ""}
    built = run_dbt(
        "build", "--select", f"+{PRICED}", "--exclude-resource-type", "test",
        "--exclude-resource-type", "unit_test", base=tmp_path, env=env,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:]
    manifest, tests = _scopable_tests_of(tmp_path, PRICED)
    unique = f"unique_{PRICED}_invoice_line_item_id"
    not_null = f"not_null_{PRICED}_price_attributes_source"
    assert tests[unique].written == ("invoice_line_item_id",)
    assert tests[unique].mode == "rows"  # its key is the write key

    def dbt_test(scope: test_scope.ScopePlan) -> dict[str, str]:
        args = ("test", "--select", PRICED, "--exclude-resource-type", "unit_test")
        done = run_dbt(*args, base=tmp_path, env={**env, **scope.env()})
        assert "Done." in done.stdout, done.stdout[-3000:]
        return _results(tmp_path)

    # a build that created the table recorded no write: the first check reads every row
    scope = test_scope.plan(warehouse, manifest, full_recheck=False)
    assert scope.since == {}
    first = dbt_test(scope)
    assert first[unique] == "pass" and first[not_null] == "pass"
    # (a line's price the prices export lacks only warns: that test keeps no record)
    passed = {tests[n].unique_id for n, status in first.items() if status == "pass" and n in tests}
    assert not_null not in tests  # not_null runs in full every time
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())
    assert test_scope.record(warehouse, scope, results) == len(passed)

    # the next day's two lines: an incremental write records their keys, nothing else
    deliver(landing, "stripe/invoice_line_items", DAY2, n=2, start=4)
    assert ingest_landing(landing, warehouse).files_failed == 0
    args = ("run", "--select", f"stg_stripe__invoice_line_items {PRICED}")
    assert run_dbt(*args, base=tmp_path, env=env).returncode == 0
    with duckdb.connect(str(warehouse)) as con:
        written = con.execute(
            f"select key_hash from {test_scope.WRITTEN_TABLE} where model = ? order by 1",
            [PRICED],
        ).fetchall()
        expected = con.execute(
            f"select hash(invoice_line_item_id) from main.{PRICED} "
            f"where _loaded_at = (select max(_loaded_at) from main.{PRICED}) order by 1"
        ).fetchall()
        old_keys = [
            key
            for (key,) in con.execute(
                f"select invoice_line_item_id from main.{PRICED} "
                f"where _loaded_at < (select max(_loaded_at) from main.{PRICED}) order by 1"
            ).fetchall()
        ]
        assert len(old_keys) == 3
        assert written == expected and len(written) == 2
        # Then: an old row goes bad, and a row duplicating the old line 1 arrives with
        # its key recorded as written (as a model bug in a write would let through).
        con.execute(
            f"update main.{PRICED} set price_attributes_source = null "
            "where invoice_line_item_id = ?",
            [old_keys[1]],
        )
        con.execute(
            f"insert into main.{PRICED} select * from main.{PRICED} where invoice_line_item_id = ?",
            [old_keys[0]],
        )
        con.execute(
            f"insert into {test_scope.WRITTEN_TABLE} select ?, now(), hash(?::varchar)",
            [PRICED, old_keys[0]],
        )
    scope = test_scope.plan(warehouse, manifest, full_recheck=False)
    assert set(scope.since) == passed
    assert json.loads(scope.env()[test_scope.SCOPE_ENV])[tests[unique].unique_id]["model"] == PRICED
    scoped = dbt_test(scope)
    assert scoped[unique] == "fail"
    assert scoped[not_null] == "fail"  # in full: it reads the old row too
    # the full re-check reads every row: it catches the old bad row too
    full = dbt_test(test_scope.plan(warehouse, manifest, full_recheck=True))
    assert full[unique] == "fail" and full[not_null] == "fail"


def test_tests_of_intermediate_models_and_marts_are_scoped_by_their_write_key():
    """A mart written by delete+insert is scoped by its `unique_key`; one written by append by
    the key of its first unique test; a model with neither, or rebuilt whole, is not. Only
    their key tests whose key includes the write key are scoped: any other test reads more
    rows scoped (a hash of every row's write key) than in full."""
    manifest = _manifest()
    nodes = manifest["nodes"]
    nodes["model.p.fct_b"]["config"].update(incremental_strategy="delete+insert", unique_key="id")
    nodes["model.p.fct_c"] = {
        **copy.deepcopy(nodes["model.p.fct_b"]),
        "name": "fct_c",
        "config": {"materialized": "incremental", "incremental_strategy": "append"},
    }
    nodes["model.p.fct_d"] = {**copy.deepcopy(nodes["model.p.fct_b"]), "name": "fct_d"}
    nodes["model.p.fct_d"]["config"] = {
        "materialized": "incremental",
        "incremental_strategy": "merge",
    }
    for model in ("fct_b", "fct_c", "fct_d"):
        for kind in ("unique", "not_null", "accepted"):
            uid = f"test.p.{kind}_{model}"
            nodes[uid] = {
                **copy.deepcopy(nodes[f"test.p.{kind}_a"]),
                "name": f"{kind}_{model}",
                "attached_node": f"model.p.{model}",
            }
    # fct_b's unique test is on another column than its write key: it would read every row
    # sharing a key with a new row, after hashing every row's write key: it runs in full
    nodes["test.p.unique_fct_b"]["test_metadata"]["kwargs"]["column_name"] = "other_id"
    tests = test_scope.scopable_tests(manifest)
    got = {uid: (t.mode, t.keys, t.written) for uid, t in tests.items() if t.written}
    assert got == {
        "test.p.unique_b": ("rows", ("id",), ("id",)),
        "test.p.unique_fct_c": ("rows", ("id",), ("id",)),
    }
    scope = test_scope.ScopePlan(tests, since={"test.p.unique_fct_c": "2026-01-09T00:00:00+00:00"})
    assert json.loads(scope.env()[test_scope.SCOPE_ENV]) == {
        "test.p.unique_fct_c": {
            "mode": "rows",
            "since": "2026-01-09T00:00:00+00:00",
            "keys": ["id"],
            "written": ["id"],
            "model": "fct_c",
        }
    }
    # a different write key is a different test (it runs in full once); a test key that
    # includes the write key reads the written keys' rows alone
    nodes["model.p.fct_b"]["config"]["unique_key"] = ["other_id"]
    changed = test_scope.scopable_tests(manifest)
    assert "test.p.unique_b" not in changed
    assert changed["test.p.unique_fct_b"].mode == "rows"
    nodes["test.p.unique_fct_b"]["test_metadata"]["kwargs"]["column_name"] = "id"
    nodes["model.p.fct_b"]["config"]["unique_key"] = ["id", "other_id"]
    assert "test.p.unique_fct_b" not in test_scope.scopable_tests(manifest)


def test_a_scoped_test_of_written_rows_needs_the_record_of_writes_and_its_table(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    manifest = _manifest()
    manifest["nodes"]["model.p.fct_b"]["config"].update(
        incremental_strategy="delete+insert", unique_key="id"
    )
    tests = test_scope.scopable_tests(manifest)
    uid = "test.p.unique_b"
    _record(warehouse, {uid: (tests[uid].fingerprint, NOW)})
    scope = test_scope.plan(warehouse, manifest, full_recheck=False, now=NOW)
    assert uid not in scope.since and scope.full_reasons["no record of the rows written"] == 1
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema _revops_log")
        con.execute(
            f"create table {test_scope.WRITTEN_TABLE} "
            "(model varchar, written_at timestamptz, key_hash ubigint)"
        )
    scope = test_scope.plan(warehouse, manifest, full_recheck=False, now=NOW)
    assert uid not in scope.since  # fct_b's table is not there: a build would create it
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table main.fct_b (id varchar)")
        # writes before and after the test's mark (2026-01-09): the mark moves to the newest
        # write once the test passes, and every write it has seen is forgotten
        con.execute(
            f"insert into {test_scope.WRITTEN_TABLE} values "
            "('fct_b', '2026-01-08', 1), ('fct_b', '2026-01-09 12:00', 2), ('gone', now(), 3)"
        )
    scope = test_scope.plan(warehouse, manifest, full_recheck=False, now=NOW)
    assert scope.since == {uid: "2026-01-09T00:00:00+00:00"}
    results = {"results": [{"unique_id": uid, "status": "pass"}]}
    assert test_scope.record(warehouse, scope, results, now=NOW) == 1
    with duckdb.connect(str(warehouse)) as con:
        assert con.execute(f"select count(*) from {test_scope.WRITTEN_TABLE}").fetchone() == (0,)
    assert test_scope.plan(warehouse, manifest, full_recheck=False, now=NOW).since == {
        uid: "2026-01-09T12:00:00+00:00"
    }


# --- a union view's tests on the rows its staging parent loaded (dbt compile) -------------

UNION = "int_crm_lead_history_unioned"
UNION_COLUMNS = (
    "lead_history_id, lead_id, field_name, old_value, new_value, changed_at, "
    "_delivery_date, _file_path, _row_number, _loaded_at"
)
OLD, NEW = "2026-01-09 00:00:00+00", "2026-01-10 00:00:00+00"


def test_tests_of_a_union_view_check_the_rows_its_staging_parent_loaded(tmp_path):
    """int_crm_lead_history_unioned passes through the rows of stg_salesforce__lead_history
    (incremental) and int_hubspot_lead_history_mapped (a table rebuilt whole). Its scoped
    `unique` reads the rows loaded since it passed, with every row sharing their key: a new row
    duplicating an old key fails; an old duplicate is left to the full re-check, unless the
    HubSpot side has any row (then every row is checked). Two `dbt compile` of the view and its
    test (scoped, then in full), run on hand-made tables: no build."""
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        for table, extra in (
            ("stg_salesforce__lead_history", ""),
            ("int_hubspot_lead_history_mapped", ", 'hubspot' as crm_source"),
        ):
            con.execute(
                f"create table main.{table} as select 'h1' as lead_history_id, "
                "'l1' as lead_id, 'Status' as field_name, 'a' as old_value, 'b' as new_value, "
                "timestamp '2026-01-08' as changed_at, date '2026-01-08' as _delivery_date, "
                f"'f.csv' as _file_path, 1 as _row_number, timestamptz '{OLD}' as _loaded_at"
                f"{extra} limit 0"
            )
        rows = [("h1", OLD), ("h2", OLD), ("h3", NEW)]
        for key, loaded in rows:
            con.execute(
                "insert into main.stg_salesforce__lead_history select ?, 'l1', 'Status', 'a', "
                "'b', timestamp '2026-01-08', date '2026-01-08', 'f.csv', 1, ?::timestamptz",
                [key, loaded],
            )
    env = {**os.environ, "REVOPS_WAREHOUSE": str(warehouse), test_scope.SCOPE_ENV: ""}
    select = ("--select", f"{UNION} unique_{UNION}_lead_history_id")

    def compiled(scope: test_scope.ScopePlan) -> tuple[str, str]:
        done = run_dbt("compile", *select, base=tmp_path, env={**env, **scope.env()})
        assert done.returncode == 0, done.stdout[-3000:]
        folder = tmp_path / "target" / "compiled" / "revops" / "models" / "intermediate" / "crm"
        test_sql = (folder / "_crm__models.yml" / f"unique_{UNION}_lead_history_id.sql").read_text()
        return (folder / f"{UNION}.sql").read_text(), test_sql

    full_view, full_test = compiled(test_scope.ScopePlan({}))
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    tests = {t.unique_id: t for t in test_scope.scopable_tests(manifest).values()}
    uid = next(u for u in tests if u.startswith(f"test.revops.unique_{UNION}_lead_history_id"))
    assert (tests[uid].mode, tests[uid].whole) == ("keys", ("int_hubspot_lead_history_mapped",))
    # every CRM union view's unique test is scoped; their not_null tests run in full
    union_tests = {t.model for t in tests.values() if t.whole}
    assert len(union_tests) == 7 and UNION in union_tests
    # the day: rows loaded after OLD are new
    view, scoped_test = compiled(test_scope.ScopePlan(tests, since={uid: OLD.replace(" ", "T")}))
    assert view == full_view and scoped_test != full_test

    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"create view main.{UNION} as {view}")

        def failures(sql: str) -> int:
            return con.execute(f"select count(*) from ({sql}) as t").fetchone()[0]

        assert failures(scoped_test) == 0 and failures(full_test) == 0
        # Then: a new row duplicates an old key (a staging bug would let it through)
        con.execute(
            "insert into main.stg_salesforce__lead_history select * replace "
            f"(timestamptz '{NEW}' as _loaded_at) from main.stg_salesforce__lead_history "
            "where lead_history_id = 'h1'"
        )
        assert failures(scoped_test) == 1 and failures(full_test) == 1
        con.execute(
            "delete from main.stg_salesforce__lead_history "
            f"where lead_history_id = 'h1' and _loaded_at = '{NEW}'"
        )
        # An old row duplicated unseen: the scoped test does not read it, the full re-check
        # does
        con.execute(
            "insert into main.stg_salesforce__lead_history select * "
            "from main.stg_salesforce__lead_history where lead_history_id = 'h2'"
        )
        assert failures(scoped_test) == 0 and failures(full_test) == 1
        # A HubSpot row (a table rebuilt whole: its rows are not known to be checked): the
        # scoped test reads every row
        con.execute(
            "insert into main.int_hubspot_lead_history_mapped select 'x9', 'l9', 'created', "
            "null, null, timestamp '2026-01-01', date '2026-01-01', 'h.csv', 1, "
            f"timestamptz '{OLD}', 'hubspot'"
        )
        assert failures(scoped_test) == 1
