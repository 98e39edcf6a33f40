"""Headline tiles: the report month's value of each headline metric and last month's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from revops.report import definitions as d
from revops.report.complete_months import COST_TILES, latest_complete_month, month_before
from revops.report.data import ALL, ReportData, Row, plain

MONEY = "money"
RATE = "rate"
DAYS = "days"
RATIO = "ratio"
COUNT = "count"


@dataclass(frozen=True)
class Tile:
    """One headline number with last month's value from the same mart column."""

    key: str
    definition: d.MetricDefinition
    unit: str
    higher_is_better: bool
    column: str | None  # "<mart>.<column>" the value came from (None when no row)
    value: float | int | None
    previous_column: str | None
    previous: float | int | None
    growth: float | None = None  # a mart growth column, when the mart has one (MRR)
    note: str = ""
    # a cost tile's own months: the latest complete month and the one before (None: the report's)
    month: dt.date | None = None
    previous_month: dt.date | None = None

    def as_json(self, month: dt.date, previous_month: dt.date | None) -> dict[str, object]:
        """The tile as the report's machine-readable data block holds it."""
        return {
            "name": self.definition.name,
            "unit": self.unit,
            "month": plain(self.month or month),
            "value": self.value,
            "column": self.column,
            "previous_month": plain(self.previous_month or previous_month),
            "previous": self.previous,
            "previous_column": self.previous_column,
            "growth": self.growth,
            "note": self.note,
        }


# key -> (mart, column or columns tried in order, unit, higher is better)
_SOURCES: dict[str, tuple[str, tuple[str, ...], str, bool]] = {
    "mrr": ("revops_metrics", ("mrr",), MONEY, True),
    "arr": ("revops_metrics", ("arr",), MONEY, True),
    "nrr": ("revops_metrics", ("trailing_12m_net_revenue_retention_rate",), RATE, True),
    "grr": ("revops_metrics", ("trailing_12m_gross_revenue_retention_rate",), RATE, True),
    "logo_churn": ("revops_metrics", ("logo_churn_rate",), RATE, False),
    "close_rate": ("sales_ops_metrics", ("close_rate",), RATE, True),
    "sales_cycle": ("sales_ops_metrics", ("avg_sales_cycle_days",), DAYS, False),
    # One basis, fully loaded, for the latest complete month (complete_months.py).
    "cac": ("sales_ops_metrics", ("cac_fully_loaded",), MONEY, False),
    "ltv_to_cac": ("sales_ops_metrics", ("ltv_to_cac",), RATIO, True),
    "mqls": ("sales_ops_metrics", ("mqls",), COUNT, True),
}


def _pick(row: Row | None, mart: str, columns: tuple[str, ...]) -> tuple[str | None, Any]:
    """The first non-null column of a row, with its "<mart>.<column>" name."""
    if row is None:
        return None, None
    for column in columns:
        if row[column] is not None:
            return f"{mart}.{column}", plain(row[column])
    return f"{mart}.{columns[0]}", None


def build_tiles(data: ReportData) -> list[Tile]:
    """Every headline tile for the report month, in the order of definitions.TILES."""
    by_mart: dict[str, dict[dt.date, Row]] = {
        "revops_metrics": {r["month"]: r for r in data.revops_metrics},
        "sales_ops_metrics": {r["month"]: r for r in data.sales_ops_metrics if r["segment"] == ALL},
    }
    tiles = []
    for key, definition in d.TILES:
        mart, columns, unit, higher_is_better = _SOURCES[key]
        rows = by_mart[mart]
        current = rows.get(data.report_month)
        previous = rows.get(data.previous_month) if data.previous_month else None
        month = previous_month = None
        note = ""
        if key in COST_TILES:
            # The latest complete month, named: never the newest month on another basis.
            month = latest_complete_month(rows, data.report_month)
            previous_month = month_before(rows, month) if month else None
            current = rows.get(month) if month else None
            previous = rows.get(previous_month) if previous_month else None
            if month is None:
                note = "No month with complete cost inputs yet."
            elif month != data.report_month:
                note = (
                    f"{month:%b %Y}, the latest complete month (later months' expenses or "
                    "spend not all delivered)."
                )
        column, value = _pick(current, mart, columns)
        previous_column, previous_value = _pick(previous, mart, columns)
        growth = plain(current["mrr_growth_mom"]) if key == "mrr" and current else None
        tiles.append(
            Tile(
                key=key,
                definition=definition,
                unit=unit,
                higher_is_better=higher_is_better,
                column=column,
                value=value,
                previous_column=previous_column,
                previous=previous_value,
                growth=growth,
                note=note,
                month=month,
                previous_month=previous_month,
            )
        )
    return tiles


def format_value(value: float | None, unit: str, currency: str) -> str:
    """A tile's number as people read it: $236,594, 98.7%, 22.5 days, 4.8x, 38."""
    if value is None:
        return "n/a"
    if unit == MONEY:
        prefix = "$" if currency == "USD" else f"{currency} "
        sign = "-" if value < 0 else ""
        return f"{sign}{prefix}{abs(value):,.0f}"
    if unit == RATE:
        return f"{value:.1%}"
    if unit == DAYS:
        return f"{value:,.1f} days"
    if unit == RATIO:
        return f"{value:,.1f}x"
    return f"{value:,.0f}"


def format_change(tile: Tile, currency: str) -> tuple[str, str]:
    """The change against last month as text and a CSS class (better, worse or flat).

    The change is the difference of the two published values, shown beside last month's
    value itself; rates change in percentage points.
    """
    if tile.value is None or tile.previous is None:
        return "no comparison with last month", "flat"
    delta = tile.value - tile.previous
    if tile.unit == MONEY:
        prefix = "$" if currency == "USD" else f"{currency} "
        text = f"{'+' if delta >= 0 else '-'}{prefix}{abs(delta):,.0f}"
    elif tile.unit == RATE:
        text = f"{delta * 100:+.1f} pp"
    elif tile.unit == DAYS:
        text = f"{delta:+,.1f} days"
    elif tile.unit == RATIO:
        text = f"{delta:+,.1f}x"
    else:
        text = f"{delta:+,.0f}"
    if tile.growth is not None:
        text += f" ({tile.growth:+.1%})"
    if abs(delta) < 1e-12:
        css = "flat"
    else:
        css = "better" if (delta > 0) == tile.higher_is_better else "worse"
    return text, css
