"""The month a cost metric is headlined for: the latest month whose inputs are complete.

Cost metrics (CAC, LTV:CAC, payback) are null in a month whose sources were not delivered
through its end (`sales_ops_metrics.is_complete`; expenses arrive after the month). Headlines
show them for the latest complete month, named, rather than the newest month on another basis.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

# Tiles whose value is a cost metric, and the documented headline basis of CAC.
COST_TILES = frozenset({"cac", "ltv_to_cac"})
HEADLINE_CAC_COLUMN = "cac_fully_loaded"

# The CLI headline's line: the latest complete month's fully loaded CAC (docs/METRICS.md).
LATEST_COMPLETE_CAC_SQL = f"""
select month, {HEADLINE_CAC_COLUMN}
from sales_ops_metrics
where segment = 'All' and is_complete
order by month desc
limit 1
"""


def latest_complete_month(
    rows: Mapping[dt.date, Mapping[str, Any]], up_to: dt.date
) -> dt.date | None:
    """The latest month on or before `up_to` whose row is complete (None when none is)."""
    complete = [month for month, row in rows.items() if month <= up_to and row.get("is_complete")]
    return max(complete) if complete else None


def month_before(rows: Mapping[dt.date, Any], month: dt.date) -> dt.date | None:
    """The month before `month` among the rows' months (None when it is the first)."""
    earlier = [m for m in rows if m < month]
    return max(earlier) if earlier else None
