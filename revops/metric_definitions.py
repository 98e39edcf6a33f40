"""The `metric_definitions` table of every snapshot, read from docs/METRICS.md, the one written
definition of every metric.

Each row of a metric table in METRICS.md (a Markdown table whose first header cell is `metric`
and whose last is `columns`) names a metric, its formula or definition, often its filters and
edge cases, and the `model.column`s that hold it. This module turns those rows into one row per
metric x published table x rate column, with the table's grain (the columns of its primary-key
test) and, for a ratio, the numerator and denominator columns BI tools sum before dividing:
the column's own declaration in its YAML (`config: {meta: {numerator: ..., denominator: ...}}`),
else the columns named `<ratio>_numerator` / `<ratio>_denominator` (or `<stem>_numerator` for a
`<stem>_rate`). tests/test_metric_docs.py checks the doc's columns against the models'; the
published table is checked against the doc and its ratios against the data
(tests/test_serving_metadata.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from revops.publish import MartTable

DOC = Path(__file__).resolve().parent.parent / "docs" / "METRICS.md"
ENTRY = re.compile(r"^`([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)`$")

# name, type, comment: the published table's columns, in order
COLUMNS = (
    ("metric", "varchar", "The metric's name as docs/METRICS.md gives it (its metric tables)."),
    ("table_name", "varchar", "The published table that holds the metric."),
    ("rate_column", "varchar",
     "The column holding the ratio (= numerator_column / denominator_column); null when the "
     "metric is not a ratio of two columns of the table (a count, an amount, a product)."),
    ("numerator_column", "varchar",
     "The column to sum for the ratio's numerator when re-aggregating; null when not a ratio."),
    ("denominator_column", "varchar",
     "The column to sum for the ratio's denominator (the ratio is null when it is 0); null "
     "when not a ratio."),
    ("formula", "varchar", "The metric's formula or definition, from docs/METRICS.md."),
    ("grain", "varchar",
     "One row of the table per these columns (its primary key), joined by ' x '."),
    ("filters_and_edge_cases", "varchar",
     "Filters, segments and edge cases from docs/METRICS.md; null when its table has none."),
    ("columns", "varchar",
     "Every column of the table that docs/METRICS.md names for the metric, comma-separated."),
    ("section", "varchar", "The docs/METRICS.md section that defines the metric in full."),
)  # fmt: skip
TABLE_COMMENT = (
    "One row per metric x table x rate column of docs/METRICS.md: formula, grain, filters and "
    "the numerator / denominator / rate columns to re-aggregate it (sum the parts, then divide)."
)


class MetricDocError(ValueError):
    """docs/METRICS.md names a table or column that is not published."""


@dataclass(frozen=True)
class DocMetric:
    """One row of a metric table of docs/METRICS.md."""

    metric: str
    formula: str
    filters: str | None
    columns: tuple[tuple[str, str], ...]  # (model, column), in the doc's order
    section: str


@dataclass(frozen=True)
class MetricDefinition:
    metric: str
    table_name: str
    rate_column: str | None
    numerator_column: str | None
    denominator_column: str | None
    formula: str
    grain: str
    filters_and_edge_cases: str | None
    columns: str
    section: str

    def row(self) -> tuple[str | None, ...]:
        return tuple(getattr(self, name) for name, _, _ in COLUMNS)


def _plain(cell: str) -> str:
    """A Markdown cell as plain text (no code ticks or emphasis)."""
    return re.sub(r"\s+", " ", cell.replace("`", "").replace("**", "")).strip()


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def doc_metrics(text: str) -> list[DocMetric]:
    """Every row of every metric table of METRICS.md `text`, in the doc's order."""
    found: list[DocMetric] = []
    lines = text.splitlines()
    section = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            section = _plain(line.lstrip("#"))
        header = _cells(line) if line.startswith("|") else []
        is_table = i + 1 < len(lines) and lines[i + 1].startswith("|-")
        if not (is_table and header[0] == "metric" and header[-1] == "columns"):
            i += 1
            continue
        filters_at = header.index("grain, filters, edge cases") if len(header) == 4 else None
        i += 2
        while i < len(lines) and lines[i].startswith("|"):
            cells = _cells(lines[i])
            if len(cells) != len(header):
                raise MetricDocError(f"docs/METRICS.md line {i + 1}: {len(cells)} cells")
            columns = []
            for part in cells[-1].split(","):
                match = ENTRY.match(part.strip())
                if not match:
                    raise MetricDocError(
                        f"docs/METRICS.md line {i + 1}: not `model.column`: {part.strip()!r}"
                    )
                columns.append((match.group(1), match.group(2)))
            found.append(
                DocMetric(
                    metric=_plain(cells[0]),
                    formula=_plain(cells[1]),
                    filters=_plain(cells[filters_at]) or None if filters_at else None,
                    columns=tuple(columns),
                    section=section,
                )
            )
            i += 1
    return found


def ratio_parts(table: MartTable, column: str) -> tuple[str, str] | None:
    """The (numerator, denominator) columns of a ratio column of `table`, or None."""
    names = {c.name: c for c in table.columns}
    declared = names[column]
    if declared.numerator or declared.denominator:
        return declared.numerator, declared.denominator
    stems = [column] + ([column.removesuffix("_rate")] if column.endswith("_rate") else [])
    for stem in stems:
        numerator, denominator = f"{stem}_numerator", f"{stem}_denominator"
        if numerator in names and denominator in names:
            return numerator, denominator
    return None


def metric_definitions(
    text: str, tables: Sequence[MartTable], skipped: list[str] | None = None
) -> list[MetricDefinition]:
    """The rows of `metric_definitions` for METRICS.md `text` and the published `tables`.
    Raises MetricDocError when the doc names a table that is not published, a column the
    table does not have, or a ratio part that is not a column of its table. With `skipped`
    (a list), a table that is not published is left out and named there instead (a publish
    of a subset of the marts), never silently."""
    by_name = {table.name: table for table in tables}
    rows: list[MetricDefinition] = []
    for metric in doc_metrics(text):
        models = list(dict.fromkeys(model for model, _ in metric.columns))
        for model in models:
            table = by_name.get(model)
            if table is None and skipped is not None:
                skipped.append(f"{metric.metric} ({model})")
                continue
            if table is None:
                raise MetricDocError(
                    f"docs/METRICS.md, {metric.metric!r}: {model} is not published"
                )
            named = [column for m, column in metric.columns if m == model]
            have = {c.name for c in table.columns}
            for column in named:
                if column not in have:
                    raise MetricDocError(
                        f"docs/METRICS.md, {metric.metric!r}: {model} has no column {column}"
                    )
            rates = [(column, ratio_parts(table, column)) for column in named]
            rates = [(column, parts) for column, parts in rates if parts]
            for column, parts in rates:
                for part in parts:
                    if part not in have:
                        raise MetricDocError(
                            f"{model}.{column}: its ratio part {part!r} is not a column of {model}"
                        )
            common = {
                "metric": metric.metric,
                "table_name": model,
                "formula": metric.formula,
                "grain": " x ".join(table.grain),
                "filters_and_edge_cases": metric.filters,
                "columns": ", ".join(named),
                "section": metric.section,
            }
            for column, (numerator, denominator) in rates or [(None, (None, None))]:
                rows.append(
                    MetricDefinition(
                        rate_column=column,
                        numerator_column=numerator,
                        denominator_column=denominator,
                        **common,
                    )
                )
    return rows


def load(
    tables: Sequence[MartTable], doc: Path = DOC, skipped: list[str] | None = None
) -> list[MetricDefinition]:
    """metric_definitions from the project's docs/METRICS.md."""
    return metric_definitions(doc.read_text(encoding="utf-8"), tables, skipped)
