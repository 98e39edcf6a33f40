"""When incremental models are rebuilt from the raw tables: their logic changed, or raw rows
they were built from were removed (revops/incremental.py)."""

from __future__ import annotations

import copy
from pathlib import Path

import duckdb
import pytest

from revops import incremental
from revops import settings as org_settings
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


def _manifest_with_mapping() -> dict:
    """`_manifest()` where `stg_a` also reads the view `stg_settings__codes`, which merges the
    seed `codes` with the org's override rows (`source('settings', 'codes')`), calls a macro
    and reads the setting `lookback_days`."""
    manifest = _manifest()
    manifest["nodes"]["model.p.stg_settings__codes"] = {
        "name": "stg_settings__codes",
        "resource_type": "model",
        "raw_code": "{{ merge_it('codes') }} where days <= {{ setting('lookback_days') }}",
        "config": {"materialized": "view"},
        "depends_on": {
            "macros": ["macro.p.merge_it"],
            "nodes": ["seed.p.codes", "source.p.settings.codes"],
        },
        "checksum": {"checksum": "v1"},
    }
    manifest["nodes"]["model.p.stg_a"]["depends_on"]["nodes"] = [
        "source.p.s.a",
        "model.p.stg_settings__codes",
    ]
    manifest["macros"]["macro.p.merge_it"] = {
        "macro_sql": "{% macro merge_it(x) %}select * from x{% endmacro %}",
        "depends_on": {"macros": []},
    }
    manifest["sources"] = {
        "source.p.settings.codes": {"source_name": "settings", "name": "codes"},
        "source.p.settings.other": {"source_name": "settings", "name": "other"},
        "source.p.s.a": {"source_name": "s", "name": "a"},
    }
    return manifest


SETTINGS = {"lookback_days": "90", "gross_margin": "0.8"}
MAPPING_ROWS = {"codes": "rows-1", "other": "rows-2"}


def _fingerprint(manifest: dict, settings=SETTINGS, mapping_rows=MAPPING_ROWS) -> str:
    return incremental.model_fingerprints(manifest, settings, mapping_rows)["stg_a"]


@pytest.mark.parametrize(
    "change",
    [
        "seed read through a view",
        "view sql",
        "macro called by the view",
        "setting read by the view",
        "override rows of the mapping read",
    ],
)
def test_the_fingerprint_follows_what_the_views_upstream_read(change):
    """A seed, setting or mapping override reached through a view (as `segment_bands` through
    `stg_settings__segment_bands`) decides the model's rows as much as its own SQL."""
    before = _fingerprint(_manifest_with_mapping())
    manifest = _manifest_with_mapping()
    settings, mapping_rows = dict(SETTINGS), dict(MAPPING_ROWS)
    if change == "seed read through a view":
        manifest["nodes"]["seed.p.codes"]["checksum"]["checksum"] = "s2"
    elif change == "view sql":
        manifest["nodes"]["model.p.stg_settings__codes"]["checksum"]["checksum"] = "v2"
    elif change == "macro called by the view":
        manifest["macros"]["macro.p.merge_it"]["macro_sql"] += " "
    elif change == "setting read by the view":
        settings["lookback_days"] = "30"
    else:
        mapping_rows["codes"] = "rows-1b"
    assert _fingerprint(manifest, settings, mapping_rows) != before


def test_settings_and_overrides_the_model_does_not_read_keep_the_fingerprint():
    before = _fingerprint(_manifest_with_mapping())
    assert _fingerprint(_manifest_with_mapping(), {**SETTINGS, "gross_margin": "0.7"}) == before
    assert (
        _fingerprint(_manifest_with_mapping(), SETTINGS, {**MAPPING_ROWS, "other": "x"}) == before
    )
    # a setting named only as part of a longer name is not read
    manifest = _manifest_with_mapping()
    view = manifest["nodes"]["model.p.stg_settings__codes"]
    view["raw_code"] = view["raw_code"].replace("lookback_days", "lookback_days_max")
    changed = {**SETTINGS, "lookback_days": "30"}
    assert _fingerprint(manifest, changed) == _fingerprint(manifest)


def test_an_upstream_incremental_model_stops_the_walk():
    """What lies behind an upstream incremental model is in that model's own fingerprint (and
    any fingerprint change rebuilds every incremental model)."""
    manifest = _manifest_with_mapping()
    manifest["nodes"]["model.p.stg_settings__codes"]["config"]["materialized"] = "incremental"
    fingerprints = incremental.model_fingerprints(manifest, SETTINGS, MAPPING_ROWS)
    manifest["nodes"]["seed.p.codes"]["checksum"]["checksum"] = "s2"
    after = incremental.model_fingerprints(manifest, SETTINGS, MAPPING_ROWS)
    assert after["stg_a"] == fingerprints["stg_a"]
    assert after["stg_settings__codes"] != fingerprints["stg_settings__codes"]


def test_a_large_seed_is_fingerprinted_by_its_content(tmp_path):
    """dbt checksums a seed over 1 MiB by its path only: its content is hashed instead."""
    (tmp_path / "seeds").mkdir()
    seed = tmp_path / "seeds" / "codes.csv"
    seed.write_text("code\na\n")
    manifest = _manifest()
    manifest["nodes"]["seed.p.codes"].update(
        checksum={"name": "path", "checksum": "seeds/codes.csv"},
        root_path=str(tmp_path),
        original_file_path="seeds/codes.csv",
    )
    before = incremental.model_fingerprints(manifest)["stg_a"]
    seed.write_text("code\nb\n")
    assert incremental.model_fingerprints(manifest)["stg_a"] != before


def test_setting_values_are_the_environment_over_the_project_defaults():
    values = incremental.dbt_setting_values({"REVOPS_ATTRIBUTION_LOOKBACK_DAYS": "30"})
    assert values["attribution_lookback_days"] == "30"
    defaults = incremental.dbt_setting_values({"REVOPS_ATTRIBUTION_LOOKBACK_DAYS": "  "})
    assert defaults["attribution_lookback_days"] == "90"  # dbt_project.yml vars
    assert defaults["reporting_currency"] == '"USD"'
    # Python-only settings never reach dbt
    assert "strict" not in defaults and "duckdb_memory_limit" not in defaults


def test_override_row_digests_follow_the_rows_not_their_order(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    none_yet = incremental.mapping_override_digests(warehouse)
    assert not warehouse.exists()  # reading digests creates no warehouse
    org_settings.write_mapping_tables(warehouse, org_settings.Settings())
    assert incremental.mapping_override_digests(warehouse) == none_yet  # empty = absent

    def bands(*rows) -> org_settings.Settings:
        columns = ("segment", "segment_order", "min_employees", "max_employees")
        return org_settings.Settings(
            mappings={"segment_bands": [dict(zip(columns, row, strict=True)) for row in rows]}
        )

    smb, mid = ("SMB", "1", "1", "99"), ("Mid-Market", "2", "100", "999")
    org_settings.write_mapping_tables(warehouse, bands(smb, mid))
    first = incremental.mapping_override_digests(warehouse)
    assert first["segment_bands"] != none_yet["segment_bands"]
    assert {k: v for k, v in first.items() if k != "segment_bands"} == {
        k: v for k, v in none_yet.items() if k != "segment_bands"
    }
    org_settings.write_mapping_tables(warehouse, bands(mid, smb))
    assert incremental.mapping_override_digests(warehouse) == first
    org_settings.write_mapping_tables(warehouse, bands(("SMB", "1", "1", "149"), mid))
    assert (
        incremental.mapping_override_digests(warehouse)["segment_bands"] != first["segment_bands"]
    )


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
        "stg_stripe__invoices",
        "stg_stripe__charges",
        "stg_stripe__subscription_versions",
    } <= set(fingerprints)
    # incremental staging, the point-in-time pipeline (incremental by as-of date), and the
    # models that recompute only the affected keys: billing (macros/billing/affected_keys.sql,
    # revenue records: macros/billing/revenue_records.sql),
    # identity and attribution (macros/identity/), the lead funnel (macros/funnel/), the
    # funnel and opportunity marts (macros/funnel/affected_marts.sql), the opportunity rows
    # written by changed rows (macros/forecast/opportunity_rows.sql)
    assert {n for n in fingerprints if not n.startswith("stg_")} == {
        "fct_pipeline_snapshots",
        "int_subscription_item_months",
        "int_mrr_customer_months",
        "int_invoice_lines_priced",
        "int_subscription_item_states",
        "int_invoice_lines_recognised",
        "int_mrr_movements_classified",
        "int_mrr_retention_customer_months",
        "int_revenue_records_converted",
        "int_people_resolved",
        "int_touches_resolved",
        "fct_attribution",
        "int_lead_status_changes",
        "int_leads_staged",
        "fct_lead_funnel",
        "fct_funnel_stage_events",
        "fct_opportunity_stage_history",
        "int_opportunities_enriched",
        "fct_opportunities",
    }


def test_project_fingerprints_follow_seeds_settings_and_overrides_read_through_views(
    dbt_manifest, tmp_path
):
    """On the project's manifest: `int_mrr_customer_months` reads the segment bands through
    int_accounts_segmented -> stg_settings__segment_bands (seed and override rows), and the
    reporting currency; the override rows of an unrelated mapping change nothing."""
    import json

    manifest = json.loads(dbt_manifest.read_text())
    model = "int_mrr_customer_months"
    warehouse = tmp_path / "warehouse.duckdb"
    before = incremental.current_fingerprints(manifest, warehouse, {})[model]

    seeded = copy.deepcopy(manifest)
    seeded["nodes"]["seed.revops.segment_bands"]["checksum"]["checksum"] = "edited"
    assert incremental.current_fingerprints(seeded, warehouse, {})[model] != before

    currency = {"REVOPS_REPORTING_CURRENCY": "EUR"}
    assert incremental.current_fingerprints(manifest, warehouse, currency)[model] != before
    unread = {"REVOPS_ROI_ATTRIBUTION_MODEL": "linear"}  # read by marts only
    assert incremental.current_fingerprints(manifest, warehouse, unread)[model] == before

    override = org_settings.Settings(
        mappings={
            "segment_bands": [
                {"segment": "SMB", "segment_order": "1", "min_employees": "1",
                 "max_employees": "149"}
            ]
        }
    )  # fmt: skip
    org_settings.write_mapping_tables(warehouse, override)
    assert incremental.current_fingerprints(manifest, warehouse, {})[model] != before
    unrelated = org_settings.Settings(
        mappings={
            "opportunity_types": [{"opportunity_type": "Upsell", "deal_category": "expansion"}]
        }
    )
    org_settings.write_mapping_tables(warehouse, unrelated)
    assert incremental.current_fingerprints(manifest, warehouse, {})[model] == before


def test_every_setting_is_named_literally_where_it_is_read():
    """The fingerprints find the settings a model reads by their names in its code: a name
    passed as a variable (outside the `setting()` family of macros, which pass their caller's
    literal on) would hide a setting from them."""
    import re

    root = Path(__file__).resolve().parent.parent
    call = re.compile(r"\b(setting|numeric_setting|list_setting|var)\(\s*([^)\s,]*)")
    offenders = []
    for folder in ("models", "macros", "data-tests"):
        for path in sorted((root / folder).rglob("*.sql")):
            if path.parent.name == "settings" and path.parent.parent.name == "macros":
                continue  # the setting() family itself
            for function, argument in call.findall(path.read_text(encoding="utf-8")):
                if not argument or argument[0] not in "'\"":
                    offenders.append(f"{path.relative_to(root)}: {function}({argument}")
    assert offenders == []
