"""The headline metrics: one list that the CLI headline, the report tiles and the semantic
layer read, so that the same label always means the same mart column (docs/METRICS.md,
"Headline metrics").

Each entry names the mart column it reads, the label every surface prints, the `mf` metric
that equals it on the `All` rows, and which month it shows. tests/test_headline.py checks that
the CLI, the report and `mf query` agree on every entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MONEY = "money"
RATE = "rate"
DAYS = "days"
RATIO = "ratio"
COUNT = "count"

# Which month a headline shows. `REPORT_MONTH`: the month the display is about (the report's
# month, each month of the CLI's table). A rule such as "the latest complete month" for cost
# metrics is a new value here, resolved by `month_for`.
REPORT_MONTH = "report_month"
MONTH_RULES = (REPORT_MONTH,)

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
    # Fully loaded when the month's expenses are delivered, else paid-only (the report's CAC
    # tile compares like with like over two months: see revops/report/tiles.py).
    Headline(
        "cac",
        "CAC",
        SALES_OPS,
        ("cac_fully_loaded", "cac_paid"),
        ("cac_fully_loaded", "cac"),
        MONEY,
        False,
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
    Headline("ltv_to_cac", "LTV:CAC", SALES_OPS, ("ltv_to_cac",), ("ltv_to_cac",), RATIO, True),
    Headline("mqls", "MQLs", SALES_OPS, ("mqls",), ("mqls",), COUNT, True),
)

BY_KEY: dict[str, Headline] = {h.key: h for h in HEADLINES}
FLAGGED = "_flagged"  # read_headlines: the keys of the month whose flag is true


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


def month_for(headline: Headline, report_month: dt.date) -> dt.date:
    """The month a headline shows when the display is about `report_month`."""
    if headline.month == REPORT_MONTH:
        return report_month
    raise ValueError(f"headline {headline.key}: unknown month rule {headline.month!r}")


def headline_sql(months: int) -> str:
    """The `All` rows of both metric marts for the newest `months` months up to the newest
    delivery (the served snapshot's `revops_snapshot`): one row per month, a column per mart
    column the headlines read, named "<mart>__<column>"."""
    selected = []
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
order by r.month desc
limit {int(months)}
"""


def read_headlines(con: Any, months: int = 6) -> list[tuple[dt.date, dict[str, tuple]]]:
    """Newest first: (month, {headline key: ("<mart>.<column>", value)}) from a connection to a
    served snapshot. The keys whose flag is true are in `flagged(row)`."""
    cursor = con.execute(headline_sql(months))
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
