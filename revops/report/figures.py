"""The report's plotly figures, each drawn from mart rows as they are (no recomputation)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from revops.report import definitions as d
from revops.report.data import ALL, SEGMENTS, ReportData, Row, plain

SEGMENT_COLOURS = {
    "SMB": "#4c78a8",
    "Mid-Market": "#f58518",
    "Enterprise": "#54a24b",
    "Unknown": "#9d9d9d",
    ALL: "#222222",
}
CHANNEL_PALETTE = (
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#e45756",
    "#72b7b2",
    "#b279a2",
    "#eeca3b",
    "#9d755d",
    "#ff9da6",
    "#bab0ac",
)
POSITIVE = "#2e8b57"
NEGATIVE = "#c0392b"
TOTAL = "#4c78a8"

# A small template instead of plotly's default one, which would add ~8 KB to every figure.
TEMPLATE = go.layout.Template(
    layout={
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "margin": {"l": 60, "r": 20, "t": 30, "b": 40},
        "hovermode": "closest",
        "legend": {"orientation": "h", "y": -0.12, "yanchor": "top"},
        "xaxis": {
            "gridcolor": "#eeeeee",
            "linecolor": "#cccccc",
            "zeroline": False,
            "automargin": True,
        },
        "yaxis": {
            "gridcolor": "#eeeeee",
            "linecolor": "#cccccc",
            "zerolinecolor": "#bbbbbb",
            "automargin": True,
        },
    }
)


@dataclass(frozen=True)
class FigureSpec:
    """One chart: its id (the div it draws into), title, metric definition and figure."""

    figure_id: str
    title: str
    definition: d.MetricDefinition
    figure: go.Figure
    source: str  # the mart columns it reads, as the caption shows them
    note: str = ""


def _months(rows: Iterable[Row], key: str = "month") -> list[str]:
    return sorted({plain(r[key]) for r in rows})


def _month_label(month: dt.date) -> str:
    return month.strftime("%b %Y")


def _series(rows: Iterable[Row], column: str) -> list[object]:
    return [plain(r[column]) for r in rows]


def _money_format(currency: str) -> str:
    """A d3 number format for hover labels ("$,.2f" for USD)."""
    return "$,.2f" if currency == "USD" else ",.2f"


def _style(fig: go.Figure, height: int = 420) -> go.Figure:
    fig.update_layout(template=TEMPLATE, height=height)
    return fig


def _no_rows(fig: go.Figure, mart: str) -> go.Figure:
    """An empty figure that says which mart had no rows (instead of failing the report)."""
    fig.add_annotation(
        text=f"No rows in {mart} for this chart.",
        showarrow=False,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def mrr_by_segment(data: ReportData) -> FigureSpec:
    """Stacked MRR per segment with the company total as a line (mrr_by_month)."""
    money = _money_format(data.reporting_currency)
    fig = go.Figure()
    for segment in SEGMENTS:
        rows = [r for r in data.mrr_by_month if r["segment"] == segment]
        fig.add_trace(
            go.Scatter(
                x=_series(rows, "month"),
                y=_series(rows, "mrr"),
                name=segment,
                mode="lines",
                stackgroup="segments",
                line={"width": 0.5, "color": SEGMENT_COLOURS[segment]},
                hovertemplate=f"{segment}<br>%{{x|%b %Y}}: %{{y:{money}}}<extra></extra>",
            )
        )
    rows = [r for r in data.mrr_by_month if r["segment"] == ALL]
    fig.add_trace(
        go.Scatter(
            x=_series(rows, "month"),
            y=_series(rows, "mrr"),
            name="All customers",
            mode="lines",
            line={"color": SEGMENT_COLOURS[ALL], "dash": "dot", "width": 2},
            hovertemplate=f"All<br>%{{x|%b %Y}}: %{{y:{money}}}<extra></extra>",
        )
    )
    fig.update_yaxes(title_text=f"MRR ({data.reporting_currency})", tickformat="~s")
    return FigureSpec(
        "fig-mrr-by-segment",
        "MRR over time by segment",
        d.MRR_BY_SEGMENT,
        _style(fig),
        d.MRR_BY_SEGMENT.source,
    )


_BRIDGE = (
    ("starting_mrr", "Starting MRR", "absolute", 1),
    ("new_mrr", "New", "relative", 1),
    ("reactivation_mrr", "Reactivation", "relative", 1),
    ("expansion_mrr", "Expansion", "relative", 1),
    ("contraction_mrr", "Contraction", "relative", -1),
    ("churn_mrr", "Churn", "relative", -1),
    ("fx_mrr", "FX", "relative", 1),
    ("mrr", "MRR", "absolute", 1),
)


# The waterfall's y axis: the bridge's lowest and highest running totals, padded by this share
# of their span (at least WATERFALL_MIN_PAD of the highest), so that the movements are visible
# beside the months' MRR. Axis ranges are presentation, not company-specific.
WATERFALL_PAD = 0.25
WATERFALL_MIN_PAD = 0.01


def bridge_levels(values: list[float]) -> list[float]:
    """The running totals a waterfall draws for a bridge: the starting level, each level after
    a movement, and the closing level (the mart's `mrr`, drawn as given)."""
    levels = [values[0]]
    for value in values[1:-1]:
        levels.append(levels[-1] + value)
    levels.append(values[-1])
    return levels


def waterfall_axis_range(values: list[float]) -> tuple[float, float, bool]:
    """The y range that shows a month's bridge `values` (starting MRR, signed movements, MRR):
    (bottom, top, broken). From 0 when that leaves the movements visible (the padded range
    reaches 0); else from just below the lowest running total, and `broken` is true: the two
    MRR bars are then cut at the bottom, which the chart marks."""
    levels = bridge_levels(values)
    low, high = min(levels), max(levels)
    pad = max(WATERFALL_PAD * (high - low), WATERFALL_MIN_PAD * max(abs(low), abs(high)))
    if pad == 0:  # every level is 0: nothing to scale to
        return (0.0, 1.0, False)
    bottom, top = low - pad, max(high + pad, 0.0)
    if bottom <= 0:
        return (0.0 if low >= 0 else bottom, top, False)
    return (bottom, top, True)


def _axis_break_note(bottom: float, broken: bool, money: Callable[[float], str]) -> str:
    if not broken:
        return ""
    return f"Axis broken: it starts at {money(bottom)}, not 0 (the MRR bars are cut)"


def mrr_waterfall(data: ReportData) -> FigureSpec:
    """The month's MRR bridge as a waterfall, one trace per month behind a month picker.

    Both ends are drawn as `absolute` bars from the mart's `starting_mrr` and `mrr`, so plotly
    sums nothing; contraction and churn are the mart's positive amounts drawn downwards; the
    movements are in constant currency and the signed currency effect `fx_mrr` closes the bridge.
    The y axis starts just below the month's lowest running total (waterfall_axis_range), so
    the movements are not slivers beside the MRR bars; a label on the chart says where the
    broken axis starts. The month menu switches the range and the label with the trace.
    """
    money = _money_format(data.reporting_currency)
    currency = data.reporting_currency

    def short(value: float) -> str:
        """$2.65M for USD, 2.65M EUR for another reporting currency."""
        number = f"{value:,.0f}"
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= size:
                number = f"{value / size:,.2f}{suffix}"
                break
        return f"${number}" if currency == "USD" else f"{number} {currency}"

    rows = [r for r in data.mrr_by_month if r["segment"] == ALL]
    fig = go.Figure()
    labels = [label for _, label, _, _ in _BRIDGE]
    ranges: list[tuple[float, float, bool]] = []
    for row in rows:
        values = [sign * plain(row[column]) for column, _, _, sign in _BRIDGE]
        ranges.append(waterfall_axis_range(values))
        fig.add_trace(
            go.Waterfall(
                name=_month_label(row["month"]),
                x=labels,
                y=values,
                measure=[measure for _, _, measure, _ in _BRIDGE],
                text=[f"{abs(v):,.0f}" for v in values],
                textposition="outside",
                increasing={"marker": {"color": POSITIVE}},
                decreasing={"marker": {"color": NEGATIVE}},
                totals={"marker": {"color": TOTAL}},
                connector={"line": {"color": "#999999", "width": 1}},
                hovertemplate=f"%{{x}}: %{{y:{money}}}<extra></extra>",
            )
        )
    buttons = [
        {
            "label": _month_label(row["month"]),
            "method": "update",
            "args": [
                {"visible": [j == i for j in range(len(rows))]},
                {
                    "yaxis.range": [bottom, top],
                    "yaxis.autorange": False,
                    "annotations[0].text": _axis_break_note(bottom, broken, short),
                },
            ],
        }
        for i, (row, (bottom, top, broken)) in enumerate(zip(rows, ranges, strict=True))
    ]
    if not rows:
        _no_rows(fig, "mrr_by_month")
    # The report month, or the latest billing month before it (billing can lag the CRM).
    shown = max((r["month"] for r in rows if r["month"] <= data.report_month), default=None)
    active = next((i for i, r in enumerate(rows) if r["month"] == shown), len(rows) - 1)
    for i, trace in enumerate(fig.data):
        trace.visible = i == active
    if rows:
        bottom, top, broken = ranges[active]
        fig.update_yaxes(range=[bottom, top], autorange=False)
        fig.add_annotation(
            text=_axis_break_note(bottom, broken, short),
            showarrow=False,
            # above the plot, right of the month menu: never over a bar
            x=1,
            y=1.02,
            xref="paper",
            yref="paper",
            xanchor="right",
            yanchor="bottom",
            font={"size": 12, "color": "#8a4b00"},
            bgcolor="#fff4e0",
        )
    fig.update_layout(
        showlegend=False,
        margin={"t": 50},
        updatemenus=[
            {
                "buttons": buttons,
                "active": active,
                "x": 0.0,
                "xanchor": "left",
                "y": 1.02,
                "yanchor": "bottom",
            }
        ],
    )
    fig.update_yaxes(title_text=f"MRR ({data.reporting_currency})", tickformat="~s")
    return FigureSpec(
        "fig-mrr-waterfall",
        "MRR movement waterfall (all customers; pick a month)",
        d.MRR_MOVEMENTS,
        _style(fig),
        d.MRR_MOVEMENTS.source,
    )


def mrr_movements(data: ReportData) -> FigureSpec:
    """Monthly MRR movements as relative bars (gains up, losses down) and net new MRR."""
    money = _money_format(data.reporting_currency)
    rows = [r for r in data.mrr_by_month if r["segment"] == ALL]
    months = _series(rows, "month")
    fig = go.Figure()
    for column, label, colour, sign in (
        ("new_mrr", "New", "#2e8b57", 1),
        ("reactivation_mrr", "Reactivation", "#72b7b2", 1),
        ("expansion_mrr", "Expansion", "#54a24b", 1),
        ("contraction_mrr", "Contraction", "#f58518", -1),
        ("churn_mrr", "Churn", "#c0392b", -1),
        ("fx_mrr", "FX", "#9d9da1", 1),
    ):
        fig.add_trace(
            go.Bar(
                x=months,
                y=[sign * plain(r[column]) for r in rows],
                name=label,
                marker_color=colour,
                hovertemplate=f"{label}<br>%{{x|%b %Y}}: %{{y:{money}}}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=months,
            y=_series(rows, "net_new_mrr"),
            name="Net new MRR (FX-neutral)",
            mode="lines+markers",
            line={"color": "#222222"},
            hovertemplate=f"Net new<br>%{{x|%b %Y}}: %{{y:{money}}}<extra></extra>",
        )
    )
    fig.update_layout(barmode="relative")
    fig.update_yaxes(title_text=f"MRR change ({data.reporting_currency})", tickformat="~s")
    return FigureSpec(
        "fig-mrr-movements",
        "Monthly MRR movements (all customers)",
        d.MRR_MOVEMENTS,
        _style(fig),
        d.MRR_MOVEMENTS.source,
    )


_FUNNEL_STAGES = (
    ("Leads", "cohort_leads", None),
    ("MQL", "cohort_reached_mql", "pct_leads_to_mql"),
    ("SQL", "cohort_reached_sql", "pct_leads_to_sql"),
    ("Opportunity", "cohort_reached_opportunity", "pct_leads_to_opportunity"),
    ("Won", "cohort_reached_won", "pct_leads_to_won"),
)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _months_between(earlier: dt.date, later: dt.date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def mature_cohort(
    cohorts: Iterable[tuple[dt.date, int | None]], report_month: dt.date, maturity_months: int
) -> tuple[dt.date | None, bool]:
    """The cohort month the funnel opens on, and whether it is mature: the latest cohort
    month with leads that is at least `maturity_months` calendar months before the report
    month (the setting `funnel_cohort_maturity_months`). When no cohort is that old, the
    oldest cohort with leads, not mature (the chart says so); None when no cohort has leads.
    `cohorts` are (cohort month, cohort_leads) pairs."""
    with_leads = sorted(month for month, leads in cohorts if leads)
    mature = [m for m in with_leads if _months_between(m, report_month) >= maturity_months]
    if mature:
        return mature[-1], True
    return (with_leads[0], False) if with_leads else (None, False)


def funnel_by_cohort(data: ReportData) -> FigureSpec:
    """The lead -> won funnel of one lead cohort month, picked from a menu (All rows).
    Opens on the latest mature cohort (mature_cohort): the newest cohorts have not had time
    to close, and would show a funnel that is still filling."""
    rows = [r for r in data.sales_ops_metrics if r["segment"] == ALL]
    maturity = data.funnel_maturity_months
    shown, is_mature = mature_cohort(
        ((r["month"], r["cohort_leads"]) for r in rows), data.report_month, maturity
    )
    if shown is None and rows:
        shown = rows[-1]["month"]
    fig = go.Figure()
    for row in rows:
        counts = [plain(row[count]) for _, count, _ in _FUNNEL_STAGES]
        texts = [
            f"{label}: {row[count]:,}" + ("" if pct is None else f" ({_pct(row[pct])} of leads)")
            for label, count, pct in _FUNNEL_STAGES
        ]
        fig.add_trace(
            go.Funnel(
                name=_month_label(row["month"]),
                y=[label for label, _, _ in _FUNNEL_STAGES],
                x=counts,
                text=texts,
                textinfo="text",
                visible=row["month"] == shown,
                marker={"color": ["#4c78a8", "#5f8fbf", "#72a6d6", "#54a24b", "#2e8b57"]},
                textposition="auto",
                hovertemplate="%{text}<extra></extra>",
            )
        )
    if not rows:
        _no_rows(fig, "sales_ops_metrics")
    buttons = [
        {
            "label": f"Cohort {_month_label(row['month'])}",
            "method": "update",
            "args": [{"visible": [j == i for j in range(len(rows))]}],
        }
        for i, row in enumerate(rows)
    ]
    fig.update_layout(
        showlegend=False,
        margin={"t": 50},
        updatemenus=[
            {
                "buttons": buttons,
                "active": next((i for i, r in enumerate(rows) if r["month"] == shown), 0),
                "x": 0.0,
                "xanchor": "left",
                "y": 1.02,
                "yanchor": "bottom",
            }
        ],
    )
    return FigureSpec(
        "fig-funnel-cohort",
        "Lead -> MQL -> SQL -> opportunity -> won, per lead cohort month (pick a cohort)",
        d.FUNNEL,
        _style(fig, height=380),
        d.FUNNEL.source,
        note=(
            f"Opens on the latest mature cohort ({_month_label(shown)}): leads created at "
            f"least {maturity} months before the report month (setting "
            "funnel_cohort_maturity_months). Younger cohorts are still maturing: their later "
            "stages grow with each refresh."
            if shown is not None and is_mature
            else f"No cohort is {maturity} months old yet (setting "
            "funnel_cohort_maturity_months): opens on the oldest cohort"
            + (f", {_month_label(shown)}" if shown is not None else "")
            + ", which is still maturing."
        ),
    )


def funnel_rates(data: ReportData) -> FigureSpec:
    """Share of each cohort's leads that reached each stage, across cohort months."""
    rows = [r for r in data.sales_ops_metrics if r["segment"] == ALL]
    fig = go.Figure()
    for (label, _, pct), colour in zip(
        _FUNNEL_STAGES[1:], ("#4c78a8", "#72a6d6", "#54a24b", "#2e8b57"), strict=True
    ):
        fig.add_trace(
            go.Scatter(
                x=_series(rows, "month"),
                y=_series(rows, pct),
                name=f"Lead -> {label}",
                mode="lines+markers",
                line={"color": colour},
                hovertemplate=f"Lead -> {label}<br>cohort %{{x|%b %Y}}: %{{y:.1%}}<extra></extra>",
            )
        )
    fig.update_yaxes(title_text="share of the cohort's leads", tickformat=".0%")
    return FigureSpec(
        "fig-funnel-rates",
        "Conversion from lead, by cohort month",
        d.FUNNEL,
        _style(fig, height=380),
        d.FUNNEL.source,
    )


def win_rate_by_segment(data: ReportData) -> FigureSpec:
    """Close rate and average sales cycle per month, one line per segment and All."""
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=("Close rate", "Average sales cycle of won deals (days)"),
    )
    for segment in (*SEGMENTS, ALL):
        rows = [r for r in data.sales_ops_metrics if r["segment"] == segment]
        if not rows:
            continue
        style = {"color": SEGMENT_COLOURS[segment]}
        if segment == ALL:
            style |= {"dash": "dot", "width": 2}
        fig.add_trace(
            go.Scatter(
                x=_series(rows, "month"),
                y=_series(rows, "close_rate"),
                name=segment,
                legendgroup=segment,
                mode="lines+markers",
                line=style,
                customdata=_series(rows, "close_rate_denominator"),
                hovertemplate=(
                    f"{segment}<br>%{{x|%b %Y}}: %{{y:.1%}} of %{{customdata}} closed"
                    "<extra></extra>"
                ),
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=_series(rows, "month"),
                y=_series(rows, "avg_sales_cycle_days"),
                name=segment,
                legendgroup=segment,
                showlegend=False,
                mode="lines+markers",
                line=style,
                hovertemplate=f"{segment}<br>%{{x|%b %Y}}: %{{y:.1f}} days<extra></extra>",
            ),
            row=2,
            col=1,
        )
    fig.update_yaxes(tickformat=".0%", row=1, col=1)
    fig.update_yaxes(ticksuffix=" d", row=2, col=1)
    return FigureSpec(
        "fig-win-rate-segment",
        "Close rate and sales cycle by segment (new business)",
        d.SEGMENT_WIN_RATE,
        _style(fig, height=560),
        d.SEGMENT_WIN_RATE.source,
    )


_TITLES = {"Account Executive": "AE", "Sales Development Rep": "SDR"}


# The rep heat maps show trailing windows of this many calendar months (a quarter): one
# month's close rate of a rep is a handful of deals, mostly 0% or 100%.
REP_WINDOW_MONTHS = 3


def _month_start(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def trailing_rep_rates(
    rows: Iterable[Row], window: int = REP_WINDOW_MONTHS
) -> dict[tuple[str, str], dict[str, object]]:
    """Per (rep_id, month): close rate and average sales cycle over the `window` calendar
    months ending with that month, re-aggregated as rep_performance says (sum the numerator and
    the denominator over the months, then divide): close rate = sum(opportunities_won) /
    sum(opportunities_closed), null when none closed; cycle = sum(won_sales_cycle_days) /
    sum(opportunities_won), null when none won. `months` is how many of the window's months the
    mart has a row for (fewer at the start of the history). One entry per rep_performance row."""
    by_rep: dict[str, dict[dt.date, Row]] = {}
    for row in rows:
        by_rep.setdefault(row["rep_id"], {})[_month_start(row["month_start_date"])] = row
    out: dict[tuple[str, str], dict[str, object]] = {}
    for rep, months in by_rep.items():
        for month in months:
            inside = [
                months[m] for back in range(window) if (m := _add_months(month, -back)) in months
            ]
            won = sum(r["opportunities_won"] for r in inside)
            closed = sum(r["opportunities_closed"] for r in inside)
            cycle_days = sum(r["won_sales_cycle_days"] for r in inside)
            out[(rep, month.isoformat())] = {
                "won": won,
                "closed": closed,
                "months": len(inside),
                "close_rate": won / closed if closed else None,
                "avg_sales_cycle_days": cycle_days / won if won else None,
            }
    return out


def _add_months(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def win_rate_by_rep(data: ReportData) -> FigureSpec:
    """Heat maps of close rate and sales cycle per rep x month over trailing quarters
    (rep_performance, re-aggregated by trailing_rep_rates)."""
    months = _months(data.rep_performance, "month_start_date")
    # Only reps who closed something in some month: SDRs own leads, not opportunities, and
    # would be empty rows.
    closers = {r["rep_id"] for r in data.rep_performance if r["opportunities_closed"]}
    reps: dict[str, str] = {}
    for row in data.rep_performance:
        if row["rep_id"] in closers:
            title = _TITLES.get(row["title"], row["title"])
            reps.setdefault(row["rep_id"], f"{row['rep_name'] or row['rep_id']} ({title})")
    cells = trailing_rep_rates(data.rep_performance)

    def grid(column: str) -> list[list[object]]:
        return [
            [cells[(rep, m)][column] if (rep, m) in cells else None for m in months] for rep in reps
        ]

    counts = [
        [
            [cells[(rep, m)][k] for k in ("won", "closed", "months")]
            if (rep, m) in cells
            else [None, None, None]
            for m in months
        ]
        for rep in reps
    ]
    window = f"{REP_WINDOW_MONTHS} months to %{{x|%b %Y}}"
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        subplot_titles=(
            f"Close rate, trailing {REP_WINDOW_MONTHS} months",
            f"Average sales cycle of won deals (days), trailing {REP_WINDOW_MONTHS} months",
        ),
    )
    fig.add_trace(
        go.Heatmap(
            x=months,
            y=list(reps.values()),
            z=grid("close_rate"),
            customdata=counts,
            colorscale="RdYlGn",
            zmin=0,
            zmax=1,
            colorbar={"title": {"text": "close"}, "tickformat": ".0%", "len": 0.45, "y": 0.78},
            hovertemplate=f"%{{y}}<br>{window}: %{{z:.1%}} (%{{customdata[0]}} won of "
            "%{customdata[1]} closed; %{customdata[2]} months of data)<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Heatmap(
            x=months,
            y=list(reps.values()),
            z=grid("avg_sales_cycle_days"),
            customdata=counts,
            colorscale="Blues",
            colorbar={"title": {"text": "days"}, "len": 0.45, "y": 0.22},
            hovertemplate=f"%{{y}}<br>{window}: %{{z:.1f}} days (%{{customdata[0]}} won)"
            "<extra></extra>",
        ),
        row=2,
        col=1,
    )
    height = max(480, 180 + 2 * 26 * len(reps))
    return FigureSpec(
        "fig-win-rate-rep",
        f"Close rate and sales cycle by rep, trailing {REP_WINDOW_MONTHS} months (new business)",
        d.REP_WIN_RATE,
        _style(fig, height=height),
        d.REP_WIN_RATE.source,
        note=f"Each cell covers the {REP_WINDOW_MONTHS} months ending with its month: the "
        "won, closed and cycle-day counts of rep_performance summed over them, then divided "
        "(one month of one rep is a handful of deals). The first months of the history cover "
        "fewer months (the hover says how many). Reps who closed at least one opportunity. "
        f"Blank cells: the rep closed nothing (close rate) or won nothing (cycle) in the "
        f"{REP_WINDOW_MONTHS} months.",
    )


def channel_performance(data: ReportData) -> FigureSpec:
    """Cost, cost per lead and ROAS per channel and month under the chosen attribution model."""
    money = _money_format(data.reporting_currency)
    paid = sorted({r["channel"] for r in data.channels if (r["cost_reporting"] or 0) > 0})
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.07,
        subplot_titles=(
            f"Cost: ad spend, events from expenses ({data.reporting_currency})",
            f"Cost per lead ({data.reporting_currency})",
            f"ROAS ({data.attribution_model} attribution)",
        ),
    )
    for i, channel in enumerate(paid):
        rows = [r for r in data.channels if r["channel"] == channel]
        colour = CHANNEL_PALETTE[i % len(CHANNEL_PALETTE)]
        months = _series(rows, "month")
        fig.add_trace(
            go.Bar(
                x=months,
                y=_series(rows, "cost_reporting"),
                name=channel,
                legendgroup=channel,
                marker_color=colour,
                hovertemplate=f"{channel}<br>%{{x|%b %Y}}: %{{y:{money}}}<extra></extra>",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=months,
                y=_series(rows, "cost_per_lead"),
                name=channel,
                legendgroup=channel,
                showlegend=False,
                mode="lines+markers",
                line={"color": colour},
                customdata=_series(rows, "leads"),
                hovertemplate=(
                    f"{channel}<br>%{{x|%b %Y}}: %{{y:{money}}} per lead "
                    "(%{customdata} leads)<extra></extra>"
                ),
            ),
            row=2,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=months,
                y=_series(rows, "roas"),
                name=channel,
                legendgroup=channel,
                showlegend=False,
                mode="lines+markers",
                line={"color": colour},
                customdata=_series(rows, "attributed_won"),
                hovertemplate=(
                    f"{channel}<br>%{{x|%b %Y}}: ROAS %{{y:.2f}} "
                    f"(won credited %{{customdata:{money}}})<extra></extra>"
                ),
            ),
            row=3,
            col=1,
        )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(tickformat="~s", row=1, col=1)
    fig.update_yaxes(tickformat="~s", row=2, col=1)
    fig.update_yaxes(tickformat=".1f", ticksuffix="x", row=3, col=1)
    definition = d.CHANNELS
    source = definition.source.replace("<model>", data.attribution_model)
    return FigureSpec(
        "fig-channels",
        f"Cost, cost per lead and ROAS by channel ({data.attribution_model} attribution)",
        definition,
        _style(fig, height=720),
        source,
        note="Channels with a cost only (ad spend; events costed from expenses); organic "
        "channels have leads but no cost. Cost per lead and ROAS are blank for a month whose "
        "spend, expenses or CRM are not delivered through its end.",
    )


# Red below the neutral value, yellow at it, green above: ColorBrewer RdYlGn's five-class
# colours, the outer two at the ends of the range and the inner two halfway to the neutral value.
LOW_COLOUR, LOW_MID_COLOUR, NEUTRAL_COLOUR = "#d73027", "#fc8d59", "#ffffbf"
HIGH_MID_COLOUR, HIGH_COLOUR = "#91cf60", "#1a9850"


def diverging_scale(values: Iterable[object], neutral: float = 1.0) -> dict[str, object] | None:
    """zmin, zmax and colorscale of a heat map whose colours span the metric's own range: the
    lowest and highest value shown (and the neutral value, 100% for a retention rate, which
    stays yellow), never a range widened symmetrically around the neutral value (which put
    -50% on a scale whose data starts at 0%). None when there is no value."""
    numbers = [float(v) for v in values if v is not None]
    if not numbers:
        return None
    low, high = min(*numbers, neutral), max(*numbers, neutral)
    if high == low:
        return {"zmin": low, "zmax": high, "colorscale": [[0, NEUTRAL_COLOUR], [1, NEUTRAL_COLOUR]]}
    middle = round((neutral - low) / (high - low), 6)  # where the neutral value sits, 0..1
    stops: list[list[object]] = []
    if middle > 0:
        stops += [[0.0, LOW_COLOUR], [round(middle / 2, 6), LOW_MID_COLOUR]]
    stops.append([middle, NEUTRAL_COLOUR])
    if middle < 1:
        stops += [[round((middle + 1) / 2, 6), HIGH_MID_COLOUR], [1.0, HIGH_COLOUR]]
    return {"zmin": low, "zmax": high, "colorscale": stops}


def rows_with_values(
    labels: Iterable[str], grid: list[list[object]]
) -> tuple[list[str], list[list[object]], list[str]]:
    """The heat map rows that hold at least one value, and the labels of those left out (all
    blank), which the chart names in its note: an empty row is not drawn, and never silently."""
    kept, rows, left_out = [], [], []
    for label, row in zip(labels, grid, strict=True):
        if any(v is not None for v in row):
            kept.append(label)
            rows.append(row)
        else:
            left_out.append(label)
    return kept, rows, left_out


def cohort_nrr_heatmap(data: ReportData) -> FigureSpec:
    """The acquisition-cohort triangle: cohort month x months since, NRR in each cell."""
    rows = data.cohorts
    if not rows:
        return FigureSpec(
            "fig-cohort-nrr",
            "Net revenue retention by acquisition cohort",
            d.COHORT_NRR,
            _no_rows(go.Figure(), "mrr_cohort_retention"),
            d.COHORT_NRR.source,
        )
    cohorts = _months(rows, "cohort_month")
    ages = sorted({r["months_since_cohort"] for r in rows})
    cells = {(plain(r["cohort_month"]), r["months_since_cohort"]): r for r in rows}

    def value(cohort: str, age: int, column: str) -> object:
        row = cells.get((cohort, age))
        return plain(row[column]) if row else None

    z = [[value(c, a, "net_revenue_retention_rate") for a in ages] for c in cohorts]
    fig = go.Figure(
        go.Heatmap(
            x=ages,
            y=cohorts,
            z=z,
            customdata=[[value(c, a, "cohort_customers") for a in ages] for c in cohorts],
            **(diverging_scale(v for row in z for v in row) or {}),
            colorbar={"title": {"text": "NRR"}, "tickformat": ".0%"},
            hovertemplate="cohort %{y|%b %Y}, month %{x}: %{z:.1%}"
            " (%{customdata} customers)<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="months since the cohort's first MRR")
    fig.update_yaxes(title_text="cohort (month of first MRR)", autorange="reversed")
    return FigureSpec(
        "fig-cohort-nrr",
        "Net revenue retention by acquisition cohort",
        d.COHORT_NRR,
        _style(fig, height=max(420, 14 * len(cohorts) + 160)),
        d.COHORT_NRR.source,
        note="Each row is a cohort of customers; reading right, its MRR against where it "
        "started. The newest cohorts have the fewest months. Colours span the lowest to the "
        "highest cell (yellow = 100%).",
    )


def nrr_heatmap(data: ReportData) -> FigureSpec:
    """Trailing-12-month and monthly NRR as segment x month heat maps (mrr_by_month)."""
    order = (ALL, *SEGMENTS)
    cells = {(r["segment"], plain(r["month"])): r for r in data.mrr_by_month}
    all_months = _months(data.mrr_by_month)

    def grid(column: str, months: list[str]) -> list[list[object]]:
        return [
            [plain(cells[(s, m)][column]) if (s, m) in cells else None for m in months]
            for s in order
        ]

    trailing = "trailing_12m_net_revenue_retention_rate"
    # Start where the trailing rate first exists (it needs twelve months of history).
    defined = [m for m in all_months if any(cells[(s, m)][trailing] is not None for s in order)]
    trailing_months = [m for m in all_months if defined and m >= defined[0]]
    fig = make_subplots(
        rows=2,
        cols=1,
        vertical_spacing=0.16,
        subplot_titles=("Trailing-12-month NRR", "Monthly NRR"),
    )
    left_out_notes = []
    for row, (column, months, label, bar_y) in enumerate(
        (
            (trailing, trailing_months, "trailing 12 months", 0.8),
            ("monthly_net_revenue_retention_rate", all_months, "monthly", 0.2),
        ),
        start=1,
    ):
        segments, z, left_out = rows_with_values(order, grid(column, months))
        left_out_notes += [f"{segment} ({label})" for segment in left_out]
        fig.add_trace(
            go.Heatmap(
                x=months,
                y=segments,
                z=z,
                **(diverging_scale(v for r in z for v in r) or {}),
                colorbar={"title": {"text": "NRR"}, "tickformat": ".0%", "len": 0.4, "y": bar_y},
                hovertemplate="%{y}<br>%{x|%b %Y}: %{z:.1%}<extra></extra>",
            ),
            row=row,
            col=1,
        )
    fig.update_yaxes(autorange="reversed")
    return FigureSpec(
        "fig-nrr-heatmap",
        "Net revenue retention by segment (heat map)",
        d.NRR_HEATMAP,
        _style(fig, height=560),
        d.NRR_HEATMAP.source,
        note="Here the cohort is every customer paying a month (or a year) before, per segment; "
        "the triangle above follows acquisition cohorts. Colours span each map's lowest to "
        "highest cell (yellow = 100%)."
        + (
            f" Not drawn, with no value in any month: {', '.join(left_out_notes)}."
            if left_out_notes
            else ""
        ),
    )


FORECAST_METHODS = {
    "weighted_pipeline": ("Weighted pipeline", "#4c78a8"),
    "historical_conversion": ("Historical conversion", "#f58518"),
    "run_rate": ("Run-rate", "#54a24b"),
}
CALL_PARTS = (
    ("closed_won", "Closed won", "#1f7a4d"),
    ("commit_amount", "Commit", "#4c78a8"),
    ("best_case_amount", "Best case", "#9ecae9"),
    ("pipeline_amount", "Pipeline", "#d3d3d3"),
)


def forecast_band_rows(data: ReportData) -> tuple[int | None, list[Row]]:
    """Quarter forecasts of ended quarters made exactly the smallest horizon band's days before
    quarter end (the quarter end minus 30 days by default), `All` segment."""
    bands = [r["horizon_band"] for r in data.forecast_accuracy if r["horizon_band"] is not None]
    if not bands:
        return None, []
    band = min(bands)
    rows = [
        r
        for r in data.forecast_accuracy
        if r["period_grain"] == "quarter" and r["horizon_days"] == band
    ]
    return band, rows


def forecast_vs_actual(data: ReportData) -> FigureSpec:
    """Per ended quarter: each method's forecast made `band` days before its end, and the
    actual new-business bookings."""
    fig = go.Figure()
    band, rows = forecast_band_rows(data)
    if not rows:
        fig = _no_rows(fig, "forecast_accuracy")
    else:
        money = _money_format(data.reporting_currency)
        actual = {plain(r["period_start"]): plain(r["actual_bookings"]) for r in rows}
        quarters = sorted(actual)
        fig.add_trace(
            go.Bar(
                x=quarters,
                y=[actual[q] for q in quarters],
                name="Actual",
                marker_color="#c7c7c7",
                hovertemplate=f"Actual %{{x|%b %Y}}: %{{y:{money}}}<extra></extra>",
            )
        )
        for method, (label, colour) in FORECAST_METHODS.items():
            by_quarter = {plain(r["period_start"]): r for r in rows if r["method"] == method}
            fig.add_trace(
                go.Scatter(
                    x=quarters,
                    y=[
                        plain(by_quarter[q]["forecast_total"]) if q in by_quarter else None
                        for q in quarters
                    ],
                    name=label,
                    mode="lines+markers",
                    line={"color": colour},
                    hovertemplate=f"{label} %{{x|%b %Y}}: %{{y:{money}}}<extra></extra>",
                )
            )
        fig.update_layout(barmode="overlay")
    return FigureSpec(
        "fig-forecast-vs-actual",
        f"New-business bookings: forecast {band or ''} days before quarter end vs actual",
        d.FORECAST_VS_ACTUAL,
        _style(fig),
        d.FORECAST_VS_ACTUAL.source,
    )


def forecast_call(data: ReportData) -> FigureSpec:
    """The current quarter's call by segment and for all segments, stacked by category."""
    fig = go.Figure()
    rows = [
        r
        for r in data.forecast_call
        if r["period_grain"] == "quarter" and r["rollup_level"] in ("segment", ALL)
    ]
    note = ""
    if not rows:
        fig = _no_rows(fig, "forecast_call")
    else:
        money = _money_format(data.reporting_currency)
        keys = [r["rollup_key"] for r in rows]
        for column, label, colour in CALL_PARTS:
            fig.add_trace(
                go.Bar(
                    x=keys,
                    y=_series(rows, column),
                    name=label,
                    marker_color=colour,
                    hovertemplate=f"%{{x}} {label}: %{{y:{money}}}<extra></extra>",
                )
            )
        fig.update_layout(barmode="stack")
        first = rows[0]
        note = (
            f"Quarter starting {plain(first['period_start'])}, as of {plain(first['as_of_date'])}."
            " Deals without a converted amount are counted in forecast_call.deals_unconverted."
        )
    return FigureSpec(
        "fig-forecast-call",
        "Forecast call for the current quarter (new business)",
        d.FORECAST_CALL,
        _style(fig),
        d.FORECAST_CALL.source,
        note,
    )


def _ratio_cell(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def forecast_accuracy_table(data: ReportData) -> FigureSpec:
    """MAPE and mean bias per period grain, horizon band and method, `All` segment."""
    rows = data.forecast_accuracy_by_method
    if not rows:
        fig = _no_rows(go.Figure(), "forecast_accuracy_by_method")
    else:
        fig = go.Figure(
            go.Table(
                header={
                    "values": [
                        "Period",
                        "Days before end",
                        "Method",
                        "MAPE",
                        "Mean bias",
                        "Forecasts",
                        "Actual 0",
                        "No forecast",
                        "Best",
                    ],
                    "align": "left",
                },
                cells={
                    "values": [
                        _series(rows, "period_grain"),
                        _series(rows, "horizon_band"),
                        [FORECAST_METHODS[r["method"]][0] for r in rows],
                        [_ratio_cell(r["mape"]) for r in rows],
                        [_ratio_cell(r["mean_bias"]) for r in rows],
                        _series(rows, "n_forecasts"),
                        _series(rows, "n_actual_zero"),
                        _series(rows, "n_forecast_missing"),
                        ["best" if r["is_best_method"] else "" for r in rows],
                    ],
                    "align": "left",
                },
                columnwidth=[1, 1.2, 2, 1, 1, 1, 1, 1, 0.8],
            )
        )
    return FigureSpec(
        "fig-forecast-accuracy",
        "Forecast accuracy by method (all segments)",
        d.FORECAST_ACCURACY,
        _style(fig, height=110 + 30 * max(len(rows), 1)),
        d.FORECAST_ACCURACY.source,
    )


Section = tuple[str, str, tuple[Callable[[ReportData], FigureSpec], ...]]

# (section id, title, figure builders), in page order after the freshness panel and tiles.
CHART_SECTIONS: tuple[Section, ...] = (
    ("revenue", "Recurring revenue", (mrr_by_segment, mrr_waterfall, mrr_movements)),
    ("funnel", "Lead funnel", (funnel_by_cohort, funnel_rates)),
    ("sales", "Win rate and sales cycle", (win_rate_by_segment, win_rate_by_rep)),
    ("forecast", "Sales forecast", (forecast_vs_actual, forecast_call, forecast_accuracy_table)),
    ("marketing", "Marketing channels", (channel_performance,)),
    ("retention", "Retention", (cohort_nrr_heatmap, nrr_heatmap)),
)
