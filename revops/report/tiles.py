"""Headline tiles: the report month's value of each headline metric and last month's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from revops import headline as h
from revops.headline import COUNT, DAYS, MONEY, RATE, RATIO, format_value
from revops.report import definitions as d
from revops.report.data import ALL, ReportData, Row, plain

__all__ = ["COUNT", "DAYS", "MONEY", "RATE", "RATIO", "Tile", "build_tiles", "format_value"]


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


def build_tiles(data: ReportData) -> list[Tile]:
    """Every headline tile for the report month, in the order of definitions.TILES."""
    by_mart: dict[str, dict[dt.date, Row]] = {
        "revops_metrics": {r["month"]: r for r in data.revops_metrics},
        "sales_ops_metrics": {r["month"]: r for r in data.sales_ops_metrics if r["segment"] == ALL},
    }
    # the months whose inputs are all delivered (sales_ops_metrics.is_complete)
    complete = [m for m, row in by_mart[h.SALES_OPS].items() if row[h.COMPLETE_COLUMN]]
    tiles = []
    for key, definition in d.TILES:
        headline = h.BY_KEY[key]
        mart, columns = headline.mart, headline.columns
        unit, higher_is_better = headline.unit, headline.higher_is_better
        rows = by_mart[mart]
        # The entry's own month (month_for): the latest complete one for cost metrics, named,
        # never the newest month on another basis; the month before it to compare with.
        month = h.month_for(headline, data.report_month, complete)
        if headline.month == h.REPORT_MONTH:
            previous_month = data.previous_month
        else:
            previous_month = h.month_before(month) if month else None
        current = rows.get(month) if month else None
        previous = rows.get(previous_month) if previous_month else None
        column, value = h.pick(current, headline, columns)
        previous_column, previous_value = h.pick(previous, headline, columns)
        value, previous_value = plain(value), plain(previous_value)
        growth = plain(current["mrr_growth_mom"]) if key == "mrr" and current else None
        note = ""
        if headline.flag and current and current[headline.flag[0]] is True:
            note = f"The {headline.flag[1]} ({headline.flag[0]})."
        if headline.month != h.REPORT_MONTH:
            if month is None:
                note = "No month with complete cost inputs yet."
            elif month != data.report_month:
                note = (
                    f"{month:%b %Y}, the latest complete month (later months' expenses or "
                    "spend not all delivered)."
                )
        else:
            month = previous_month = None  # the report's months
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
