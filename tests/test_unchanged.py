"""Which models a build leaves out as unchanged (revops/unchanged.py), on a tiny manifest
(no dbt), and the `uses_today` marks of the real project."""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil

import duckdb
import pytest

from revops import unchanged

NOW = dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC)


def _model(name, folder, parents, code="select 1", tags=(), materialized="table"):
    return {
        "resource_type": "model",
        "name": name,
        "alias": name,
        "schema": "main",
        "fqn": ["p", folder, name],
        "raw_code": code,
        "config": {"materialized": materialized},
        "tags": list(tags),
        "checksum": {"name": "sha256", "checksum": code},
        "depends_on": {"nodes": parents, "macros": []},
    }


def _test(name, parents, code="{{ test_not_null(**_dbt_generic_test_kwargs) }}"):
    return {
        "resource_type": "test",
        "name": name,
        "raw_code": code,
        "config": {"severity": "ERROR"},
        "test_metadata": {"name": "not_null", "kwargs": {"column_name": "id"}},
        "depends_on": {"nodes": parents, "macros": []},
    }


def tiny_manifest():
    """sources a.t1, b.t2 -> stg_a, stg_b; seed `bands`; int_ab(stg_a, stg_b),
    int_b(stg_b, bands); util_today(stg_a, uses current_date); fct(int_ab) a mart; tests on
    stg_b, int_ab, and a relationships test between int_b and stg_a."""
    nodes = {
        "seed.p.bands": {
            "resource_type": "seed",
            "name": "bands",
            "alias": "bands",
            "schema": "main",
            "fqn": ["p", "bands"],
            "raw_code": "",
            "config": {"materialized": "seed"},
            "checksum": {"name": "sha256", "checksum": "bands-v1"},
            "depends_on": {"nodes": [], "macros": []},
        },
        "model.p.stg_a": _model("stg_a", "staging", ["source.p.a.t1"]),
        "model.p.stg_b": _model("stg_b", "staging", ["source.p.b.t2"]),
        "model.p.int_ab": _model("int_ab", "intermediate", ["model.p.stg_a", "model.p.stg_b"]),
        "model.p.int_b": _model("int_b", "intermediate", ["model.p.stg_b", "seed.p.bands"]),
        "model.p.util_today": _model(
            "util_today", "utilities", ["model.p.stg_a"], "select current_date as d",
            tags=[unchanged.TODAY_TAG],
        ),
        "model.p.fct": _model("fct", "marts", ["model.p.int_ab"]),
        "test.p.not_null_stg_b": _test("not_null_stg_b", ["model.p.stg_b"]),
        "test.p.not_null_int_ab": _test("not_null_int_ab", ["model.p.int_ab"]),
        "test.p.rel_int_b_stg_a": _test("rel_int_b_stg_a", ["model.p.int_b", "model.p.stg_a"]),
        "test.p.not_null_fct": _test("not_null_fct", ["model.p.fct"]),
    }  # fmt: skip
    sources = {
        "source.p.a.t1": {"source_name": "a", "name": "t1", "schema": "raw", "identifier": "a__t1"},
        "source.p.b.t2": {"source_name": "b", "name": "t2", "schema": "raw", "identifier": "b__t2"},
    }
    return {"nodes": nodes, "sources": sources, "macros": {}}


EVERY_RELATION = {
    ("main", n) for n in ("bands", "stg_a", "stg_b", "int_ab", "int_b", "util_today", "fct")
}
SIGNATURES = {"raw.a__t1": "a-1", "raw.b__t2": "b-1"}


def _state(manifest, signatures=SIGNATURES):
    fingerprints = unchanged.node_fingerprints(manifest)
    inputs, tables = unchanged.node_inputs(manifest, signatures)
    return fingerprints, inputs, tables


def _records(manifest, built_at=NOW - dt.timedelta(hours=20), signatures=SIGNATURES):
    """What a successful build of every node of `manifest` recorded."""
    fingerprints, inputs, _ = _state(manifest, signatures)
    return {
        uid: unchanged.Record(fingerprints[uid], inputs[uid], "run-1", built_at) for uid in inputs
    }


def _plan(manifest, records, signatures=SIGNATURES, existing=EVERY_RELATION, **kwargs):
    fingerprints, inputs, tables = _state(manifest, signatures)
    return unchanged.plan(
        manifest, fingerprints=fingerprints, inputs=inputs, tables=tables, records=records,
        existing=existing, max_age_days=7, now=NOW, **kwargs,
    )  # fmt: skip


def _names(uids):
    return sorted(u.split(".")[-1] for u in uids)


def test_a_first_build_leaves_nothing_out():
    plan = _plan(tiny_manifest(), records={})
    assert plan.left_out == [] and plan.tests_left_out == [] and plan.exclude == []
    # bands, stg_a, stg_b, int_ab, int_b and the mart fct have no record; util_today uses the date
    assert plan.built_reasons == {"no successful build on record": 6, "uses today's date": 1}
    assert plan.summary().startswith("models left out: none; built among the others:")


def test_nothing_new_leaves_out_all_but_what_uses_today_marts_included():
    manifest = tiny_manifest()
    plan = _plan(manifest, _records(manifest))
    assert plan.exclude == ["bands", "fct", "int_ab", "int_b", "stg_a", "stg_b"]
    # every test whose parents are all left out, the mart's included
    assert _names(plan.tests_left_out) == [
        "not_null_fct", "not_null_int_ab", "not_null_stg_b", "rel_int_b_stg_a"
    ]  # fmt: skip
    assert (plan.models, plan.seeds) == (5, 1)
    assert plan.left_out_marts == ["model.p.fct"]
    assert plan.built_reasons == {"uses today's date": 1}
    assert plan.tables == ["raw.a__t1", "raw.b__t2"]
    assert plan.summary().startswith(
        "models left out: 5 models (1 marts), 1 seeds, 4 tests: inputs unchanged since run "
        "run-1: no new or removed rows in raw.a__t1, raw.b__t2, same logic"
    )
    assert plan.to_json()["marts"] == 1 and plan.to_json()["left_out_marts"] == ["fct"]
    # what the mart's Dagster output says instead of dbt's metadata
    assert unchanged.left_out_metadata(plan, "model.p.fct") == {
        unchanged.LEFT_OUT_KEY: "left out: unchanged since run run-1",
        "unique_id": "model.p.fct",
        "status": "left out",
        "built_by_run": "run-1",
        "built_at": "2026-12-05T16:00:00+00:00",
    }


def test_a_mart_is_built_when_its_upstream_or_its_own_test_is():
    manifest = tiny_manifest()
    records = _records(manifest)
    # new rows in stg_a's table: int_ab is built, so is the mart fct
    plan = _plan(manifest, records, signatures={**SIGNATURES, "raw.a__t1": "a-2"})
    assert plan.left_out_marts == [] and plan.exclude == ["bands", "int_b", "stg_b"]
    # a new test of the mart: the mart is built (dbt runs a test only with a node it reads)
    edited = copy.deepcopy(manifest)
    new = _test("unique_fct", ["model.p.fct"], "new")
    edited["nodes"]["test.p.unique_fct"] = {**new, "attached_node": "model.p.fct"}
    plan = _plan(edited, records)
    assert plan.left_out_marts == [] and "fct" not in plan.exclude
    assert plan.built_reasons == {unchanged.TEST_REASON: 1, "uses today's date": 1}
    # a mart downstream of a model that uses the date is built with it
    dated = copy.deepcopy(manifest)
    dated["nodes"]["model.p.fct"]["depends_on"]["nodes"].append("model.p.util_today")
    plan = _plan(dated, _records(dated))
    assert plan.left_out_marts == []
    assert plan.built_reasons == {"a model upstream is built": 1, "uses today's date": 1}


def test_new_rows_bring_back_exactly_their_downstream():
    manifest = tiny_manifest()
    plan = _plan(manifest, _records(manifest), signatures={**SIGNATURES, "raw.b__t2": "b-2"})
    # stg_b's rows changed: stg_b, int_ab, int_b and the mart fct (all read raw.b__t2) are
    # built; stg_a is not, and the relationships test between int_b (built) and stg_a runs
    # (cautious indirect selection)
    assert plan.exclude == ["bands", "stg_a"]
    assert plan.tests_left_out == []
    assert plan.built_reasons == {"new or removed raw rows": 4, "uses today's date": 1}
    assert plan.tables == ["raw.a__t1"]  # the seed reads no raw table
    assert plan.dbt_args() == ["--indirect-selection", "cautious", "--exclude", "bands stg_a"]


def test_a_logic_change_upstream_rebuilds_downstream():
    manifest = tiny_manifest()
    records = _records(manifest)
    edited = copy.deepcopy(manifest)
    edited["nodes"]["seed.p.bands"]["checksum"]["checksum"] = "bands-v2"  # the seed's rows
    plan = _plan(edited, records)
    assert plan.built_reasons == {"logic changed": 2, "uses today's date": 1}  # bands, int_b
    assert plan.exclude == ["fct", "int_ab", "stg_a", "stg_b"]
    assert _names(plan.tests_left_out) == ["not_null_fct", "not_null_int_ab", "not_null_stg_b"]


def test_a_new_or_edited_test_runs_once_with_its_model():
    manifest = tiny_manifest()
    records = _records(manifest)
    edited = copy.deepcopy(manifest)
    new = _test("unique_stg_b", ["model.p.stg_b"], "new")
    edited["nodes"]["test.p.unique_stg_b"] = {**new, "attached_node": "model.p.stg_b"}
    plan = _plan(edited, records)
    # dbt runs a test only with a node it reads: stg_b is built, and its downstream
    assert plan.exclude == ["bands", "stg_a"]
    assert plan.built_reasons[unchanged.TEST_REASON] == 1
    assert plan.built_reasons["a model upstream is built"] == 3  # int_ab, int_b, fct
    # once it passed it is left out again; edited, it runs again
    records["test.p.unique_stg_b"] = _records(edited)["test.p.unique_stg_b"]
    assert "stg_b" in _plan(edited, records).exclude
    edited["nodes"]["test.p.unique_stg_b"]["config"]["severity"] = "WARN"
    assert "stg_b" not in _plan(edited, records).exclude
    # a test across two left-out models builds one of them
    across = copy.deepcopy(manifest)
    across["nodes"]["test.p.rel_int_b_stg_a"]["raw_code"] = "edited"
    assert "int_b" not in _plan(across, records).exclude


def test_a_failed_missing_or_old_build_is_never_current():
    manifest = tiny_manifest()
    records = _records(manifest)
    del records["model.p.stg_a"]  # failed last time: record() forgot it
    assert "stg_a" not in _plan(manifest, records).exclude
    plan = _plan(manifest, _records(manifest), existing=EVERY_RELATION - {("main", "stg_b")})
    assert "stg_b" not in plan.exclude and plan.built_reasons["not in the warehouse"] == 1
    old = _records(manifest, built_at=NOW - dt.timedelta(days=7))
    plan = _plan(manifest, old)
    assert plan.exclude == [] and plan.built_reasons["last built 7+ days ago"] == 6


def test_a_full_refresh_recheck_or_all_models_leaves_nothing_out():
    manifest = tiny_manifest()
    plan = _plan(manifest, _records(manifest), disabled="--all-models")
    assert plan.left_out == [] and plan.summary() == "models left out: none (--all-models)"
    assert plan.fingerprints and plan.inputs  # what record() writes after the build


def test_a_model_naming_the_date_is_found_even_untagged_and_through_a_macro():
    manifest = tiny_manifest()
    manifest["nodes"]["model.p.util_today"]["tags"] = []
    assert unchanged.today_models(manifest) == {"model.p.util_today"}
    manifest["macros"] = {
        "macro.p.as_of": {"macro_sql": "{% macro as_of() %}now(){% endmacro %}",
                          "depends_on": {"macros": []}},
    }  # fmt: skip
    manifest["nodes"]["model.p.int_b"]["depends_on"]["macros"] = ["macro.p.as_of"]
    assert unchanged.today_models(manifest) == {"model.p.util_today", "model.p.int_b"}
    for text in ("{{ run_started_at }}", "select now ()", "CURRENT_TIMESTAMP", "getdate()"):
        assert unchanged.TODAY_PATTERN.search(text), text
    for text in ("current_dates", "as_of_date", "today", "history_end_date"):
        assert not unchanged.TODAY_PATTERN.search(text), text


def test_every_model_that_uses_the_date_is_tagged(dbt_manifest):
    """A model whose code, config or macros name the run's date must carry the `uses_today`
    tag (it is always built, and the tag says so where the model is defined)."""
    manifest = json.loads(dbt_manifest.read_text())
    macros = manifest["macros"]
    untagged = sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and unchanged.uses_today(node, macros)
        and unchanged.TODAY_TAG not in node.get("tags", [])
    )
    assert untagged == [], f"tag these models `{unchanged.TODAY_TAG}` (config: tags)"


def test_record_keeps_what_succeeded_and_forgets_the_rest(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    manifest = tiny_manifest()
    fingerprints, inputs, _ = _state(manifest)
    plan = unchanged.Plan(fingerprints, inputs)
    results = {
        "results": [
            {"unique_id": "model.p.stg_a", "status": "success"},
            {"unique_id": "model.p.stg_b", "status": "error"},
            {"unique_id": "model.p.int_ab", "status": "skipped"},
            {"unique_id": "test.p.not_null_stg_b", "status": "warn"},
            {"unique_id": "test.p.not_null_fct", "status": "pass"},
        ]
    }
    assert unchanged.record(warehouse, plan, results, "run-1", now=NOW) == 2
    records = unchanged.read_records(warehouse)
    assert sorted(records) == ["model.p.stg_a", "test.p.not_null_fct"]
    assert records["model.p.stg_a"].run_id == "run-1"
    # a later build where stg_a fails forgets it; nodes not in the results keep their record
    later = {"results": [{"unique_id": "model.p.stg_a", "status": "error"}]}
    unchanged.record(warehouse, plan, later, "run-2", now=NOW)
    assert sorted(unchanged.read_records(warehouse)) == ["test.p.not_null_fct"]


def test_input_signatures_see_new_removed_and_edited_raw_rows(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.a__t1 as select i::varchar as id, "
            "timestamptz '2026-12-01 00:00:00+00' as _loaded_at from range(5000) r(i)"
        )
        con.execute("create table raw.small as select 'x' as v")
    relations = [("raw", "a__t1"), ("raw", "small"), ("raw", "absent")]

    def signatures():
        return unchanged.input_signatures(warehouse, relations)

    first = signatures()
    assert first["raw.absent"] == "missing"
    assert signatures() == first  # reading changes nothing
    changes = [
        "insert into raw.a__t1 values ('new', timestamptz '2026-12-02 00:00:00+00')",
        "delete from raw.a__t1 where id = 'new'",
        "update raw.a__t1 set id = 'edited' where id = '17'",  # behind the loader's back
        "update raw.small set v = 'y'",
    ]
    seen = [first]
    for sql in changes:
        with duckdb.connect(str(warehouse)) as con:
            con.execute(sql)
        now = signatures()
        assert now != seen[-1], sql
        seen.append(now)


@pytest.mark.parametrize(
    ("tables", "text"),
    [
        (["raw.hubspot__deals", "raw.hubspot__contacts"], "raw.hubspot__* (2 tables)"),
        (["raw.google_ads__campaign_stats"], "raw.google_ads__campaign_stats"),
    ],
)
def test_compact_tables(tables, text):
    assert unchanged.compact_tables(tables) == text


def _sources_of(manifest, uid):
    """The raw tables (`schema.table`) a node reads, transitively."""
    relations = unchanged.source_relations(manifest)
    found = unchanged._upstream_sources(uid, manifest["nodes"], manifest["sources"])
    return {".".join(relations[s]) for s in found}


def _downstream(manifest, uids):
    """`uids` and every node that reads one of them, transitively."""
    children = {}
    for uid, node in manifest["nodes"].items():
        for parent in node.get("depends_on", {}).get("nodes", []):
            children.setdefault(parent, set()).add(uid)
    found, todo = set(), list(uids)
    while todo:
        uid = todo.pop()
        if uid not in found:
            found.add(uid)
            todo.extend(children.get(uid, ()))
    return found


def test_a_refresh_leaves_out_what_did_not_change_and_a_new_file_brings_back_its_downstream(
    xs_published, dbt_manifest, tmp_path
):
    """On the xs company (Salesforce, no HubSpot): a second refresh with no new file leaves out
    every HubSpot model and every other model not downstream of the marts or the date, and
    publishes the same marts; then one Google Ads file brings back exactly the models that read
    its raw table (and the load ledger, which every load writes)."""
    from revops import publish
    from revops.ingest.landing import link_deliveries_until
    from revops.refresh import run_refresh

    warehouse, serving, landing = (
        tmp_path / "warehouse.duckdb", tmp_path / "serving", tmp_path / "landing"
    )  # fmt: skip
    shutil.copyfile(xs_published["warehouse"], warehouse)
    shutil.copytree(xs_published["serving"], serving)
    last = xs_published["truth"]["generator"]["end_date"]
    link_deliveries_until(xs_published["landing"], landing, last)  # the same, unchanged files
    manifest = json.loads(dbt_manifest.read_text())
    nodes = manifest["nodes"]
    served = publish.served_snapshot_id(serving)
    marts = [table.name for table in publish.mart_tables(dbt_manifest)]
    before = publish.table_checksums(serving / publish.SERVING_FILE, marts)

    first = run_refresh(landing, warehouse, serving, parse=False)
    assert first.ok, first.errors
    plan = json.loads((tmp_path / unchanged.LEFT_OUT_FILE).read_text())
    left = set(plan["left_out"])
    ran = {
        r["unique_id"].split(".")[-1]
        for r in json.loads((tmp_path / "dbt_run_results.json").read_text())["results"]
    }
    assert not left & ran  # left out means not run
    by_name = {n["name"]: (uid, n) for uid, n in nodes.items() if n["resource_type"] != "test"}
    hubspot = {
        name for name, (_, n) in by_name.items()
        if n["resource_type"] == "model" and "hubspot" in name and n["fqn"][1] != "marts"
        and n["config"]["materialized"] != "ephemeral"
    }  # fmt: skip
    assert len(hubspot) > 20 and hubspot <= left, sorted(hubspot - left)
    assert not {n for n in left if by_name[n][0] in unchanged.today_models(manifest)}
    # The marts left out: those not downstream of a model that uses the date (every other
    # mart is, through util_history_window), checked by hand on the DAG: the three dimensions
    # and the three data quality marts, none of whose inputs changed.
    marts = {n for n, (_, node) in by_name.items() if unchanged.is_mart(node)}
    dated = _downstream(manifest, unchanged.today_models(manifest))
    left_marts = {n for n in left if n in marts}
    assert left_marts == {n for n in marts if by_name[n][0] not in dated}
    assert left_marts == {
        "dim_accounts", "dim_campaigns", "dim_reps", "data_quality_exclusions",
        "data_quality_quarantine", "data_quality_quarantine_by_object",
    }  # fmt: skip
    assert plan["marts"] == 6 and set(plan["left_out_marts"]) == left_marts
    # Dagster was told they are current: an output each, whose metadata says left out (so
    # the publish step ran), not counted among the models materialized
    assert {k.split("/")[-1] for k in first.marts_left_out} == left_marts
    assert first.published["marts_carried_over"] >= len(left_marts)
    assert f"({len(left_marts)} marts)" in first.left_out_summary
    assert first.models_left_out == plan["models"] > 0
    assert first.tests_left_out == plan["tests"] > 0
    assert first.left_out_summary.startswith(f"models left out: {first.models_left_out} models")
    assert "raw.hubspot__*" in first.left_out_summary
    # the same marts as the build that rebuilt everything
    assert publish.served_snapshot_id(serving) != served
    assert publish.table_checksums(serving / publish.SERVING_FILE, marts) == before

    # one new Google Ads file, a day after the last
    day = (dt.date.fromisoformat(last) + dt.timedelta(days=1)).isoformat()
    source = sorted((landing / "google_ads").glob(f"*/{last}/*.csv"))[0]
    target = source.parent.parent / day / source.name
    target.parent.mkdir()
    lines = source.read_text().splitlines()
    rows = [line.replace(last, day) for line in lines[1:3]]
    target.write_text("\n".join([lines[0], *rows]) + "\n")

    second = run_refresh(landing, warehouse, serving, parse=False)
    assert second.ok and second.rows_loaded == 2, second.errors
    changed = {"raw.google_ads__campaign_stats", "raw._load_ledger"}
    expected = {n for n in left if not _sources_of(manifest, by_name[n][0]) & changed}
    now_left = set(json.loads((tmp_path / unchanged.LEFT_OUT_FILE).read_text())["left_out"])
    assert now_left == expected
    assert "stg_google_ads__campaign_stats" in left - now_left
    # dim_campaigns reads the Google Ads table: built again; the dimensions that do not stay out
    now_marts = {k.split("/")[-1] for k in second.marts_left_out}
    assert now_marts == {n for n in now_left if n in marts}
    assert "dim_campaigns" not in now_marts and {"dim_accounts", "dim_reps"} <= now_marts


def test_all_models_can_be_asked_for():
    """`revops refresh --all-models` and the `all_models` run config of the dbt asset."""
    from orchestration.defs.transform.assets import DbtBuildConfig
    from revops.cli import build_parser

    assert build_parser().parse_args(["refresh", "--all-models"]).all_models
    assert not build_parser().parse_args(["refresh"]).all_models
    assert DbtBuildConfig(all_models=True).all_models and not DbtBuildConfig().all_models


def test_the_settings_a_text_names_are_whole_words_all_at_once():
    """incremental._NamedSettings: the settings named as whole words, one pattern for all (what
    the fingerprints hash the values of); a longer name is not read as a shorter one."""
    from revops.incremental import _NamedSettings

    named = _NamedSettings(["history_start", "history_start_date", "fx"])
    assert named(["{{ setting('history_start') }}"]) == {"history_start"}
    assert named(["history_start_date_x, fx_rate, prefix_fx"]) == set()
    assert named(["select history_start_date", "fx"]) == {"history_start_date", "fx"}
    assert named(["history_start history_start_date"]) == {"history_start", "history_start_date"}
    assert _NamedSettings([])(["history_start"]) == set()
