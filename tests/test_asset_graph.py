"""The Dagster asset graph, as a reviewed snapshot: every asset, its group, what it depends
on, and its checks (blocking or not). A change to the graph shows up as a diff of
tests/snapshots/asset_graph.txt; after reviewing it, rewrite the snapshot with
`REVOPS_UPDATE_SNAPSHOTS=1 uv run pytest tests/test_asset_graph.py`."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.txt"


def _render(defs: dg.Definitions) -> str:
    graph = defs.resolve_asset_graph()
    lines = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        parents = ", ".join(sorted(p.to_user_string() for p in node.parent_keys)) or "-"
        lines.append(f"{key.to_user_string()} [{node.group_name}] <- {parents}")
        for check_key in sorted(node.check_keys, key=lambda c: c.name):
            spec = graph.get_check_spec(check_key)
            lines.append(f"    check {check_key.name}{' (blocking)' if spec.blocking else ''}")
    return "\n".join(lines) + "\n"


def test_asset_graph_matches_the_reviewed_snapshot(dbt_manifest: Path):
    from orchestration.definitions import defs

    rendered = _render(defs)
    if os.environ.get("REVOPS_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(rendered)
    assert SNAPSHOT.exists(), "no reviewed snapshot: write it with REVOPS_UPDATE_SNAPSHOTS=1"
    assert rendered == SNAPSHOT.read_text(), (
        "the asset graph changed: review the diff, then rewrite the snapshot "
        "(REVOPS_UPDATE_SNAPSHOTS=1)"
    )


def test_the_graph_runs_from_landing_files_to_the_served_snapshot(dbt_manifest: Path):
    from orchestration.definitions import defs

    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    snapshot = graph.get(dg.AssetKey("serving_snapshot"))
    marts = {k for k in graph.get_all_asset_keys() if graph.get(k).group_name == "marts"}
    assert marts and set(snapshot.parent_keys) == marts
    assert graph.get(dg.AssetKey("serving_report")).parent_keys == {snapshot.key}
    # staging hangs off the ingestion assets, one graph end to end
    staged = graph.get(dg.AssetKey("stg_salesforce__leads"))
    assert dg.AssetKey(["salesforce", "lead"]) in staged.parent_keys
    # the reconciliations are blocking checks
    blocking = {
        (c.asset_key.to_user_string(), c.name)
        for k in graph.get_all_asset_keys()
        for c in graph.get(k).check_keys
        if graph.get_check_spec(c).blocking
    }
    assert ("mrr_by_month", "assert_mrr_bridge_balances") in blocking
    assert ("fct_opportunities", "assert_won_amount_reconciles_with_staging") in blocking
    assert ("salesforce/lead", "loaded_plus_rejected_equals_file_rows") in blocking
    job = defs.resolve_job_def("refresh")
    assert job.executor_def.name == "in_process"
