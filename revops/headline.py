"""The headline metrics: one list that the CLI headline, the report tiles and the semantic
layer read, so that the same label always means the same mart column (docs/METRICS.md,
"Headline metrics").

Each entry names the mart column it reads, the label every surface prints, the `mf` metric
that equals it on the `All` rows, and which month it shows (`month_for` is the one place that
decides: cost metrics show the latest complete month, never another basis). tests/test_headline.py
checks that the CLI, the report and `mf query` agree on every entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MONEY = "money"
RATE = "rate"
DAYS = "days"
RATIO = "ratio"
COUNT = "count"

# Which month a headline shows, resolved by `month_for`. `REPORT_MONTH`: the month the display
# is about (the report's month, each month of the CLI's table). `LATEST_COMPLETE`: the latest
# month on or before it whose row is complete (`sales_ops_metrics.is_complete`: closed, and ad
# spend, expenses, CRM and billing delivered through its end). Cost metrics use it: they are
# null in an incomplete month (expenses arrive after the month), and a headline names the
# latest complete month rather than show the newest month on another basis (issue 17).
REPORT_MONTH = "report_month"
LATEST_COMPLETE = "latest_complete"
MONTH_RULES = (REPORT_MONTH, LATEST_COMPLETE)
COMPLETE_COLUMN = "is_complete"  # sales_ops_metrics: the month's inputs are all delivered

SALES_OPS = "sales_ops_metrics"
REVOPS = "revops_metrics"


@dataclass(frozen=True)
class Headline:
    """One headline number and where it comes from."""

    key: str
    label: str  # what the CLI, the report and the semantic layer's label say
    mart: str
    columns: tuple[str, ...]  # the mart column; more than one: the first non-null is shown
    semantic_metrics: tuple[str | None, ...]  # the `mf` metric equal to each column (All rows)
    unit: str
    higher_is_better: bool
    month: str = REPORT_MONTH
    # a boolean column of the same mart that qualifies the value when true, and what it means
    flag: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if len(self.semantic_metrics) != len(self.columns):
            raise ValueError(f"headline {self.key}: one semantic metric per column")
        if self.month not in MONTH_RULES:
            raise ValueError(f"headline {self.key}: unknown month rule {self.month!r}")

    @property
    def column(self) -> str:
        """The column the headline reads first, as "<mart>.<column>"."""
        return f"{self.mart}.{self.columns[0]}"


HEADLINES: tuple[Headline, ...] = (
    Headline("mrr", "MRR", REVOPS, ("mrr",), ("mrr",), MONEY, True),
    Headline("arr", "ARR", REVOPS, ("arr",), ("arr",), MONEY, True),
    Headline(
        "trailing_12m_nrr",
        "NRR, trailing 12 months",
        REVOPS,
        ("trailing_12m_net_revenue_retention_rate",),
        ("trailing_12m_nrr",),
        RATE,
        True,
    ),
    Headline(
        "trailing_12m_grr",
        "GRR, trailing 12 months",
        REVOPS,
        ("trailing_12m_gross_revenue_retention_rate",),
        ("trailing_12m_grr",),
        RATE,
        True,
    ),
    Headline(
        "monthly_nrr",
        "NRR, monthly",
        REVOPS,
        ("monthly_net_revenue_retention_rate",),
        ("monthly_nrr",),
        RATE,
        True,
    ),
    Headline(
        "monthly_grr",
        "GRR, monthly",
        REVOPS,
        ("monthly_gross_revenue_retention_rate",),
        ("monthly_grr",),
        RATE,
        True,
    ),
    Headline(
        "logo_churn",
        "Logo churn, monthly",
        REVOPS,
        ("logo_churn_rate",),
        ("logo_churn_rate",),
        RATE,
        False,
    ),
    Headline(
        "close_rate",
        "Close rate (new business)",
        SALES_OPS,
        ("close_rate",),
        ("close_rate",),
        RATE,
        True,
    ),
    Headline(
        "sales_cycle",
        "Sales cycle (new business)",
        SALES_OPS,
        ("avg_sales_cycle_days",),
        ("avg_sales_cycle_days",),
        DAYS,
        False,
    ),
    # One basis, fully loaded (the semantic layer's `cac`), of the latest complete month: never
    # paid-only CAC in its place (docs/METRICS.md "Cost metrics: bases and complete months").
    Headline(
        "cac",
        "CAC (fully loaded)",
        SALES_OPS,
        ("cac_fully_loaded",),
        ("cac",),
        MONEY,
        False,
        month=LATEST_COMPLETE,
    ),
    Headline(
        "cltv",
        "CLTV",
        SALES_OPS,
        ("cltv",),
        ("cltv",),
        MONEY,
        True,
        flag=("cltv_capped", "lifetime capped at cltv_max_months: a floor"),
    ),
    Headline(
        "ltv_to_cac",
        "LTV:CAC",
        SALES_OPS,
        ("ltv_to_cac",),
        ("ltv_to_cac",),
        RATIO,
        True,
        month=LATEST_COMPLETE,
    ),
    Headline("mqls", "MQLs", SALES_OPS, ("mqls",), ("mqls",), COUNT, True),
)

BY_KEY: dict[str, Headline] = {h.key: h for h in HEADLINES}
FLAGGED = "_flagged"  # read_headlines: the keys of the month whose flag is true
COMPLETE = "_complete"  # read_headlines: the month's row is complete (COMPLETE_COLUMN)


def pick(
    row: Mapping[str, Any] | None, headline: Headline, columns: tuple[str, ...] | None = None
) -> tuple[str | None, Any]:
    """The headline's value in a mart row: the first non-null of its columns (or of `columns`,
    a subset), with its "<mart>.<column>" name; (None, None) without a row."""
    if row is None:
        return None, None
    columns = columns or headline.columns
    for column in columns:
        if row[column] is not None:
            return f"{headline.mart}.{column}", row[column]
    return f"{headline.mart}.{columns[0]}", None


def semantic_metric(headline: Headline, column: str) -> str | None:
    """The `mf` metric equal to one of the headline's columns ("<mart>.<column>" or bare)."""
    name = column.split(".")[-1]
    return headline.semantic_metrics[headline.columns.index(name)]


def month_for(
    headline: Headline, report_month: dt.date, complete: Iterable[dt.date] = ()
) -> dt.date | None:
    """The month a headline shows when the display is about `report_month`; `complete` are the
    months whose row is complete (`complete_months`). None: no complete month yet."""
    if headline.month == REPORT_MONTH:
        return report_month
    if headline.month == LATEST_COMPLETE:
        eligible = [month for month in complete if month <= report_month]
        return max(eligible) if eligible else None
    raise ValueError(f"headline {headline.key}: unknown month rule {headline.month!r}")


def month_before(month: dt.date) -> dt.date:
    """The calendar month before `month` (its first day)."""
    return (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def complete_months(rows: Iterable[tuple[dt.date, Mapping[str, Any]]]) -> list[dt.date]:
    """The months of `read_headlines` rows that are complete."""
    return [month for month, values in rows if values[COMPLETE]]


def headline_sql(months: int, complete_only: bool = False) -> str:
    """The `All` rows of both metric marts for the newest `months` months up to the newest
    delivery (the served snapshot's `revops_snapshot`), only complete ones if `complete_only`:
    one row per month, a column per mart column the headlines read, named "<mart>__<column>",
    and the month's completeness."""
    selected = [f"s.{COMPLETE_COLUMN} as {SALES_OPS}__{COMPLETE_COLUMN}"]
    for headline in HEADLINES:
        alias = "r" if headline.mart == REVOPS else "s"
        flags = (headline.flag[0],) if headline.flag else ()
        for column in (*headline.columns, *flags):
            name = f"{headline.mart}__{column}"
            if name not in (s.split(" as ")[-1] for s in selected):
                selected.append(f"{alias}.{column} as {name}")
    columns = ",\n    ".join(selected)
    return f"""
select
    r.month,
    {columns}
from revops_metrics as r
inner join sales_ops_metrics as s on r.month = s.month and r.segment = s.segment
where
    r.segment = 'All'
    and r.month <= (select date_trunc('month', latest_delivery_date) from revops_snapshot)
    {"and s." + COMPLETE_COLUMN if complete_only else ""}
order by r.month desc
limit {int(months)}
"""


def read_headlines(
    con: Any, months: int = 6, complete_only: bool = False
) -> list[tuple[dt.date, dict[str, Any]]]:
    """Newest first: (month, {headline key: ("<mart>.<column>", value)}) from a connection to a
    served snapshot. The keys whose flag is true are in `values[FLAGGED]`; `values[COMPLETE]`
    says whether the month is complete."""
    cursor = con.execute(headline_sql(months, complete_only))
    names = [d[0] for d in cursor.description]
    result = []
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        by_mart = {
            mart: {k.split("__", 1)[1]: v for k, v in row.items() if k.startswith(f"{mart}__")}
            for mart in (REVOPS, SALES_OPS)
        }
        values = {h.key: pick(by_mart[h.mart], h) for h in HEADLINES}
        values[FLAGGED] = tuple(
            h.key for h in HEADLINES if h.flag and by_mart[h.mart][h.flag[0]] is True
        )
        values[COMPLETE] = by_mart[SALES_OPS][COMPLETE_COLUMN] is True
        result.append((row["month"], values))
    return result


def format_value(value: float | None, unit: str, currency: str) -> str:
    """A headline number as people read it: $236,594, 98.7%, 22.5 days, 4.8x, 38."""
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
