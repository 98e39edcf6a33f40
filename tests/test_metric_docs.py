"""docs/METRICS.md and the metric tables say the same thing: every `model.column` named in a
`columns` cell of the doc's metric tables is a column of that model, every metric column of
the four metric tables has such an entry, and the doc's semantic-layer table lists exactly the
metrics of models/semantic/_metrics.yml. Columns come from the models' YAML, which the enforced
contracts make equal to what the SQL builds."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "METRICS.md"
MODEL_YAML = (
    ROOT / "models/marts/metrics/_metrics__models.yml",
    ROOT / "models/marts/performance/_performance__models.yml",
    ROOT / "models/marts/forecast/_forecast_bookings__models.yml",
    ROOT / "models/marts/forecast/_forecast__models.yml",
    ROOT / "models/marts/forecast/_coaching__models.yml",
    ROOT / "models/marts/forecast/_mrr_forecast__models.yml",
)
METRIC_MODELS = (
    "sales_ops_metrics",
    "sales_ops_metrics_by_deal_category",
    "pipeline_velocity_by_month",
    "revops_metrics",
    "rep_performance",
    "channel_performance",
    "marketing_returns_by_month",
    "pipeline_by_day",
    "pipeline_health",
    "rep_forecast",
    "rep_stage_conversion",
    "mrr_forecast",
    "mrr_forecast_accuracy",
    "mrr_forecast_accuracy_by_horizon",
)
# Keys and grain columns: they say which row, not a metric.
KEYS = {
    "month", "month_start_date", "segment", "deal_category", "rep_id", "channel", "campaign_id",
    "attribution_model", "as_of_date", "forecast_category",
    "opportunity_id", "stage_name", "as_of_month", "forecast_month",
    "horizon_months",
}  # fmt: skip
# Attributes that qualify every amount of the row rather than measure something.
ATTRIBUTES = {"reporting_currency"}
ENTRY = re.compile(r"^([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)$")


def model_columns() -> dict[str, set[str]]:
    columns: dict[str, set[str]] = {}
    for path in MODEL_YAML:
        for model in yaml.safe_load(path.read_text())["models"]:
            columns[model["name"]] = {column["name"] for column in model["columns"]}
    return columns


def table_rows(text: str, header: str, last: bool = True) -> list[list[str]]:
    """The body rows, as cells, of every Markdown table whose last (or first) header cell is
    `header`."""
    rows: list[list[str]] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("|") or i + 1 >= len(lines) or not lines[i + 1].startswith("|-"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[-1 if last else 0] != header:
            continue
        for body in lines[i + 2 :]:
            if not body.startswith("|"):
                break
            rows.append([cell.strip() for cell in body.strip().strip("|").split("|")])
    return rows


def doc_entries(text: str, header: str = "columns") -> tuple[set[tuple[str, str]], list[str]]:
    """The (model, column) pairs of every `columns` cell (or of the semantic-layer table's
    `equals` cells), and the cells' unreadable parts."""
    entries: set[tuple[str, str]] = set()
    unreadable: list[str] = []
    for cells in table_rows(text, header):
        if header == "equals" and cells[-1] == "-":
            continue  # a semantic metric that is a part with no column of its own
        for part in cells[-1].split(","):
            match = ENTRY.match(part.strip().strip("`"))
            if match and part.strip().startswith("`") and part.strip().endswith("`"):
                entries.add((match.group(1), match.group(2)))
            else:
                unreadable.append(part.strip())
    return entries, unreadable


def problems(text: str, columns: dict[str, set[str]]) -> list[str]:
    """What the doc and the models disagree on (empty when they agree)."""
    entries, unreadable = doc_entries(text)
    semantic, semantic_unreadable = doc_entries(text, "equals")
    found = [f"not `model.column`: {part!r}" for part in unreadable + semantic_unreadable]
    for model, column in sorted(entries | semantic):
        if column not in columns.get(model, set()):
            found.append(f"docs name {model}.{column}, which the model does not have")
    for model in METRIC_MODELS:
        for column in sorted(columns[model] - KEYS - ATTRIBUTES):
            if (model, column) not in entries:
                found.append(f"{model}.{column} has no entry in docs/METRICS.md")
    return found


def semantic_metrics_yaml() -> set[str]:
    spec = yaml.safe_load((ROOT / "models/semantic/_metrics.yml").read_text())
    return {metric["name"] for metric in spec["metrics"]}


def semantic_metrics_doc(text: str) -> set[str]:
    return {cells[0].strip("`") for cells in table_rows(text, "semantic metric", last=False)}


def test_every_doc_entry_is_a_column_and_every_metric_column_has_an_entry():
    assert problems(DOC.read_text(), model_columns()) == []


def test_the_doc_has_entries_for_the_four_tables():
    entries, _ = doc_entries(DOC.read_text())
    assert {model for model, _ in entries} == set(METRIC_MODELS)
    assert len(entries) > 120


def test_a_metric_column_missing_from_the_doc_is_reported():
    text = DOC.read_text()
    changed = text.replace("`sales_ops_metrics.win_loss_ratio`", "`sales_ops_metrics.mqls`")
    assert changed != text
    assert problems(changed, model_columns()) == [
        "sales_ops_metrics.win_loss_ratio has no entry in docs/METRICS.md"
    ]


def test_a_doc_entry_without_a_column_is_reported():
    text = DOC.read_text()
    changed = text.replace(
        "`rep_performance.quota_attainment`",
        "`rep_performance.quota_attainment`, `rep_performance.quota_attainment_rate`",
    )
    assert changed != text
    assert problems(changed, model_columns()) == [
        "docs name rep_performance.quota_attainment_rate, which the model does not have"
    ]


def test_a_column_dropped_from_a_model_is_reported():
    columns = model_columns()
    columns["revops_metrics"] = columns["revops_metrics"] - {"roas"}
    assert problems(DOC.read_text(), columns) == [
        "docs name revops_metrics.roas, which the model does not have"
    ]


def test_an_unreadable_columns_cell_is_reported():
    text = DOC.read_text()
    changed = text.replace("`revops_metrics.mrr`, `revops_metrics.arr`", "`mrr`, `arr`")
    assert changed != text
    found = problems(changed, model_columns())
    assert "not `model.column`: '`mrr`'" in found
    assert "revops_metrics.arr has no entry in docs/METRICS.md" in found


def test_the_semantic_layer_table_lists_exactly_the_defined_metrics():
    text = DOC.read_text()
    assert semantic_metrics_doc(text) == semantic_metrics_yaml()
    assert len(semantic_metrics_yaml()) >= 20


def test_a_semantic_metric_missing_from_the_doc_is_reported():
    text = DOC.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| `cac` |"))
    assert semantic_metrics_doc(text.replace(row + "\n", "")) == semantic_metrics_yaml() - {"cac"}
