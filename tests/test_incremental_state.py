"""When incremental models are rebuilt from the raw tables: their logic changed, or raw rows
they were built from were removed (revops/incremental.py)."""

from __future__ import annotations

import copy
from pathlib import Path

import duckdb
import pytest

from revops import incremental
from revops.ingest import forget_file, ingest_landing
from tests.ingest_support import DAY, deliver

LEAD = "salesforce/Lead"


def _manifest() -> dict:
    """A small manifest: an incremental staging model calling a macro that calls another,
    reading a source and a seed; a table model; an unrelated macro."""
    return {
        "nodes": {
            "model.p.stg_a": {
                "name": "stg_a",
                "resource_type": "model",
                "raw_code": "select {{ clean('x') }} from {{ source('s', 'a') }}",
                "config": {"materialized": "incremental", "unique_key": "id"},
                "depends_on": {
                    "macros": ["macro.p.clean"],
                    "nodes": ["source.p.s.a", "seed.p.codes"],
                },
                "checksum": {"checksum": "m1"},
            },
            "model.p.fct_b": {
                "name": "fct_b",
                "resource_type": "model",
                "raw_code": "select * from {{ ref('stg_a') }}",
                "config": {"materialized": "table"},
                "depends_on": {"macros": [], "nodes": ["model.p.stg_a"]},
                "checksum": {"checksum": "m2"},
            },
            "seed.p.codes": {
                "name": "codes",
                "resource_type": "seed",
                "depends_on": {"macros": [], "nodes": []},
                "checksum": {"checksum": "s1"},
            },
        },
        "macros": {
            "macro.p.clean": {
                "macro_sql": "{% macro clean(x) %}{{ trim_it(x) }}{% endmacro %}",
                "depends_on": {"macros": ["macro.p.trim_it"]},
            },
            "macro.p.trim_it": {
                "macro_sql": "{% macro trim_it(x) %}trim({{ x }}){% endmacro %}",
                "depends_on": {"macros": []},
            },
            "macro.p.unrelated": {"macro_sql": "{% macro unrelated() %}1{% endmacro %}"},
        },
    }


def test_only_incremental_models_get_a_fingerprint():
    assert set(incremental.model_fingerprints(_manifest())) == {"stg_a"}


@pytest.mark.parametrize(
    "change",
    ["model sql", "model config", "called macro", "macro called by a macro", "seed content"],
)
def test_the_fingerprint_follows_everything_that_decides_the_rows(change):
    before = incremental.model_fingerprints(_manifest())["stg_a"]
    manifest = copy.deepcopy(_manifest())
    node = manifest["nodes"]["model.p.stg_a"]
    if change == "model sql":
        node["raw_code"] += " where true"
    elif change == "model config":
        node["config"]["unique_key"] = "other_id"
    elif change == "called macro":
        manifest["macros"]["macro.p.clean"]["macro_sql"] += " "
    elif change == "macro called by a macro":
        manifest["macros"]["macro.p.trim_it"]["macro_sql"] = "lower({{ x }})"
    else:
        manifest["nodes"]["seed.p.codes"]["checksum"]["checksum"] = "s2"
    assert incremental.model_fingerprints(manifest)["stg_a"] != before


def test_the_fingerprint_follows_a_dispatched_implementation():
    """`adapter.dispatch('trim_it')` runs `duckdb__trim_it`, which dbt does not list as called."""
    manifest = copy.deepcopy(_manifest())
    manifest["macros"]["macro.p.duckdb__trim_it"] = {
        "macro_sql": "{% macro duckdb__trim_it(x) %}trim({{ x }}){% endmacro %}",
        "depends_on": {"macros": []},
    }
    before = incremental.model_fingerprints(manifest)["stg_a"]
    manifest["macros"]["macro.p.duckdb__trim_it"]["macro_sql"] = "ltrim({{ x }})"
    assert incremental.model_fingerprints(manifest)["stg_a"] != before


def test_unrelated_changes_keep_the_fingerprint():
    before = incremental.model_fingerprints(_manifest())
    manifest = copy.deepcopy(_manifest())
    manifest["macros"]["macro.p.unrelated"]["macro_sql"] = "{% macro unrelated() %}2{% endmacro %}"
    manifest["nodes"]["model.p.fct_b"]["raw_code"] += " -- edited"
    assert incremental.model_fingerprints(manifest) == before


def _warehouse_with_tables(tmp_path: Path, landing: Path | None = None) -> Path:
    """A warehouse (ingested when `landing` is given) holding the model tables `stg_a` and
    `stg_b`, as after a first dbt build."""
    warehouse = tmp_path / "warehouse.duckdb"
    if landing is not None:
        ingest_landing(landing, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table main.stg_a (id int)")
        con.execute("create table main.stg_b (id int)")
    return warehouse


FINGERPRINTS = {"stg_a": "f-a", "stg_b": "f-b"}


def test_a_first_build_needs_no_rebuild(tmp_path):
    assert incremental.rebuild_reasons(tmp_path / "missing.duckdb", FINGERPRINTS) == []
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    assert incremental.rebuild_reasons(empty, FINGERPRINTS) == []


def test_models_without_a_record_are_rebuilt_once(tmp_path):
    warehouse = _warehouse_with_tables(tmp_path)
    reasons = incremental.rebuild_reasons(warehouse, FINGERPRINTS)
    assert [r.split(":")[0] for r in reasons] == ["stg_a", "stg_b"]
    incremental.record_built(warehouse, FINGERPRINTS, ["stg_a", "stg_b", "fct_not_incremental"])
    assert incremental.rebuild_reasons(warehouse, FINGERPRINTS) == []


def test_a_changed_model_or_a_failed_build_is_rebuilt(tmp_path):
    warehouse = _warehouse_with_tables(tmp_path)
    incremental.record_built(warehouse, FINGERPRINTS, ["stg_a", "stg_b"])
    changed = {**FINGERPRINTS, "stg_b": "f-b2"}
    assert incremental.rebuild_reasons(warehouse, changed) == [
        "stg_b: its SQL, config, macros or inputs changed"
    ]
    # the rebuild failed for stg_b: its old record stays, so the next build tries again
    incremental.record_built(warehouse, changed, ["stg_a"])
    assert len(incremental.rebuild_reasons(warehouse, changed)) == 1
    incremental.record_built(warehouse, changed, ["stg_b"])
    assert incremental.rebuild_reasons(warehouse, changed) == []


def test_forgetting_a_loaded_file_triggers_one_rebuild(tmp_path):
    landing = tmp_path / "landing"
    path = deliver(landing, LEAD, DAY, n=2)
    warehouse = _warehouse_with_tables(tmp_path, landing)
    incremental.record_built(warehouse, FINGERPRINTS, ["stg_a", "stg_b"])
    assert incremental.rebuild_reasons(warehouse, FINGERPRINTS) == []

    forget_file(warehouse, str(path.relative_to(landing)))
    reasons = incremental.rebuild_reasons(warehouse, FINGERPRINTS)
    assert len(reasons) == 1 and "raw rows of 1 file(s) were removed" in reasons[0]

    incremental.record_built(warehouse, FINGERPRINTS, ["stg_a", "stg_b"])  # the rebuild
    assert incremental.rebuild_reasons(warehouse, FINGERPRINTS) == []


def test_forgetting_a_file_that_loaded_no_rows_triggers_nothing(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    warehouse = _warehouse_with_tables(tmp_path, landing)
    incremental.record_built(warehouse, FINGERPRINTS, ["stg_a", "stg_b"])
    forget_file(warehouse, "salesforce/Lead/2025-03-01/Lead.csv")
    assert incremental.rebuild_reasons(warehouse, FINGERPRINTS) == []


def test_the_project_manifest_has_the_incremental_staging_models(dbt_manifest):
    import json

    fingerprints = incremental.model_fingerprints(json.loads(dbt_manifest.read_text()))
    assert {
        "stg_salesforce__leads",
        "stg_salesforce__opportunity_history",
        "stg_marketing_automation__activities",
        "stg_stripe__invoice_line_items",
    } <= set(fingerprints)
    # incremental staging, the point-in-time pipeline (incremental by as-of date) and the
    # billing intermediates (by affected key: macros/billing/affected_keys.sql)
    assert {n for n in fingerprints if not n.startswith("stg_")} == {
        "fct_pipeline_snapshots",
        "int_subscription_item_months",
        "int_mrr_customer_months",
    }
