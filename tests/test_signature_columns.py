"""Models that write only the rows whose own signature changed list the columns of that
signature in a macro (macros/forecast/opportunity_rows.sql). A column added to the model but
not to its list would never be rewritten when only that column changes: the stored row would
keep its old value. These tests fail until the list and the built model's columns agree."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]
MACROS = ROOT / "macros" / "forecast" / "opportunity_rows.sql"

SIGNED = {  # macro -> the model whose rows it signs
    "opportunity_row_columns": "fct_opportunities",
    "enriched_opportunity_columns": "int_opportunities_enriched",
}


def _macro_columns(macro: str) -> list[str]:
    text = MACROS.read_text()
    found = re.search(r"macro " + macro + r"\(\).*?return\(\[(.*?)\]\)", text, re.S)
    assert found, f"{macro} not found in {MACROS.name}"
    return re.findall(r"'([a-z_0-9]+)'", found.group(1))


def _built_columns(warehouse: Path, model: str) -> list[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select column_name from information_schema.columns where table_name = ? "
            "order by ordinal_position",
            [model],
        ).fetchall()
    finally:
        con.close()
    assert rows, f"{model} not built in {warehouse}"
    return [name for (name,) in rows]


@pytest.mark.parametrize("macro", sorted(SIGNED))
def test_the_signature_lists_every_column_of_the_model(macro, xs_published):
    model = SIGNED[macro]
    signed = _macro_columns(macro)
    columns = [
        name
        for name in _built_columns(Path(xs_published["warehouse"]), model)
        if not name.startswith("_")
    ]
    assert len(signed) == len(set(signed)), f"{macro} lists a column twice"
    missing, unknown = sorted(set(columns) - set(signed)), sorted(set(signed) - set(columns))
    assert not missing and not unknown, (
        f"{macro} must list every column of {model} but its bookkeeping ones: "
        f"missing {missing}, unknown {unknown}"
    )
