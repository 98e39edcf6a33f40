"""The dbt layers run one way (STYLE.md, dbt 1): sources -> staging -> intermediate -> marts.

Checked on dbt's manifest: every model's parents must come from a layer it may read, so an
intermediate model that refs a mart (which drew `intermediate` after `marts` in the Dagster
graph) fails here, naming the edge.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# What a model of each folder may read. Marts may read marts (rollups, forecast models);
# utilities (date spines) are read by every layer and read only staging and the CRM union
# layer (models/intermediate/crm: the vendors' CRM staging mapped into one shape, read in
# place of staging by everything after it; it reads only staging and itself).
ALLOWED_PARENTS: dict[str, frozenset[str]] = {
    "staging": frozenset({"source", "seed", "staging"}),
    "crm": frozenset({"staging", "crm"}),
    "intermediate": frozenset({"staging", "crm", "intermediate", "utilities"}),
    "marts": frozenset({"staging", "crm", "intermediate", "marts", "utilities"}),
    "utilities": frozenset({"staging", "crm", "utilities"}),
}


def _layer(manifest: dict[str, Any], unique_id: str) -> str:
    kind = unique_id.split(".", 1)[0]
    if kind in ("source", "seed"):
        return kind
    node = manifest["nodes"][unique_id]
    if node["resource_type"] != "model":
        return node["resource_type"]
    fqn = node["fqn"]
    return "crm" if fqn[1:3] == ["intermediate", "crm"] and len(fqn) > 3 else fqn[1]


def layering_violations(manifest: dict[str, Any]) -> list[str]:
    """`<model> (<layer>) reads <parent> (<layer>)` for every edge the layering forbids."""
    out = []
    for unique_id, node in sorted(manifest["nodes"].items()):
        if node["resource_type"] != "model":
            continue
        layer = _layer(manifest, unique_id)
        allowed = ALLOWED_PARENTS.get(layer)
        if allowed is None:
            out.append(f"{node['name']}: folder {layer!r} is not a known layer")
            continue
        for parent in node["depends_on"]["nodes"]:
            parent_layer = _layer(manifest, parent)
            if parent_layer not in allowed:
                out.append(
                    f"{node['name']} ({layer}) reads {parent.split('.')[-1]} ({parent_layer})"
                )
    return out


def test_no_model_reads_a_later_layer(dbt_manifest: Path):
    manifest = json.loads(dbt_manifest.read_text())
    assert layering_violations(manifest) == []


def _model(name: str, layer: str, parents: list[str]) -> tuple[str, dict[str, Any]]:
    return f"model.revops.{name}", {
        "name": name,
        "resource_type": "model",
        "fqn": ["revops", layer, name],
        "depends_on": {"nodes": parents},
    }


def test_an_intermediate_model_reading_a_mart_is_named():
    """The check can fail: an intermediate model that refs a mart, and a mart reading a source."""
    manifest = {
        "nodes": dict(
            [
                _model("stg_a", "staging", ["source.revops.crm.a"]),
                _model("int_b", "intermediate", ["model.revops.stg_a", "model.revops.dim_c"]),
                _model("dim_c", "marts", ["model.revops.stg_a", "source.revops.crm.a"]),
            ]
        )
    }
    assert layering_violations(manifest) == [
        "dim_c (marts) reads a (source)",
        "int_b (intermediate) reads dim_c (marts)",
    ]


def test_the_crm_union_layer_reads_only_staging():
    """models/intermediate/crm sits between staging and the rest: a utility may read it, but
    it may not read an intermediate model (nor a utility) itself."""
    union = (
        "model.revops.int_crm_x_unioned",
        {
            "name": "int_crm_x_unioned",
            "resource_type": "model",
            "fqn": ["revops", "intermediate", "crm", "int_crm_x_unioned"],
            "depends_on": {"nodes": ["model.revops.stg_a", "model.revops.int_b"]},
        },
    )
    manifest = {
        "nodes": dict(
            [
                _model("stg_a", "staging", ["source.revops.crm.a"]),
                _model("int_b", "intermediate", ["model.revops.stg_a"]),
                union,
                _model("util_d", "utilities", ["model.revops.int_crm_x_unioned"]),
            ]
        )
    }
    assert layering_violations(manifest) == ["int_crm_x_unioned (crm) reads int_b (intermediate)"]
