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


def mrr_waterfall(data: ReportData) -> FigureSpec:
    """The month's MRR bridge as a waterfall, one trace per month behind a month picker.

    Both ends are drawn as `absolute` bars from the mart's `starting_mrr` and `mrr`, so plotly
    sums nothing; contraction and churn are the mart's positive amounts drawn downwards; the
    movements are in constant currency and the signed currency effect `fx_mrr` closes the bridge.
    """
    money = _money_format(data.reporting_currency)
    rows = [r for r in data.mrr_by_month if r["segment"] == ALL]
    fig = go.Figure()
    labels = [label for _, label, _, _ in _BRIDGE]
    for row in rows:
        values = [sign * plain(row[column]) for column, _, _, sign in _BRIDGE]
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
            "args": [{"visible": [j == i for j in range(len(rows))]}],
        }
        for i, row in enumerate(rows)
    ]
    if not rows:
        _no_rows(fig, "mrr_by_month")
    # The report month, or the latest billing month before it (billing can lag the CRM).
    shown = max((r["month"] for r in rows if r["month"] <= data.report_month), default=None)
    active = next((i for i, r in enumerate(rows) if r["month"] == shown), len(rows) - 1)
    for i, trace in enumerate(fig.data):
        trace.visible = i == active
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


def funnel_by_cohort(data: ReportData) -> FigureSpec:
    """The lead -> won funnel of one lead cohort month, picked from a menu (All rows)."""
    rows = [r for r in data.sales_ops_metrics if r["segment"] == ALL]
    # Open on the latest cohort with a won deal: the newest ones have not had time to close.
    won = [r["month"] for r in rows if r["cohort_reached_won"]]
    shown = won[-1] if won else (rows[-1]["month"] if rows else None)
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
        note="Opens on the latest cohort with a won deal. Recent cohorts are still maturing: "
        "their later stages grow with each refresh.",
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


def win_rate_by_rep(data: ReportData) -> FigureSpec:
    """Heat maps of close rate and sales cycle per rep x close month (rep_performance)."""
    months = _months(data.rep_performance, "month_start_date")
    # Only reps who closed something in some month: SDRs own leads, not opportunities, and
    # would be empty rows.
    closers = {r["rep_id"] for r in data.rep_performance if r["opportunities_closed"]}
    reps: dict[str, str] = {}
    for row in data.rep_performance:
        if row["rep_id"] in closers:
            title = _TITLES.get(row["title"], row["title"])
            reps.setdefault(row["rep_id"], f"{row['rep_name'] or row['rep_id']} ({title})")
    cells: dict[tuple[str, str], Row] = {
        (r["rep_id"], plain(r["month_start_date"])): r for r in data.rep_performance
    }

    def grid(column: str) -> list[list[object]]:
        return [
            [plain(cells[(rep, m)][column]) if (rep, m) in cells else None for m in months]
            for rep in reps
        ]

    closed = grid("opportunities_closed")
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        subplot_titles=("Close rate", "Average sales cycle of won deals (days)"),
    )
    fig.add_trace(
        go.Heatmap(
            x=months,
            y=list(reps.values()),
            z=grid("close_rate"),
            customdata=closed,
            colorscale="RdYlGn",
            zmin=0,
            zmax=1,
            colorbar={"title": {"text": "close"}, "tickformat": ".0%", "len": 0.45, "y": 0.78},
            hovertemplate="%{y}<br>%{x|%b %Y}: %{z:.1%} of %{customdata} closed<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Heatmap(
            x=months,
            y=list(reps.values()),
            z=grid("avg_sales_cycle_days"),
            colorscale="Blues",
            colorbar={"title": {"text": "days"}, "len": 0.45, "y": 0.22},
            hovertemplate="%{y}<br>%{x|%b %Y}: %{z:.1f} days<extra></extra>",
        ),
        row=2,
        col=1,
    )
    height = max(480, 180 + 2 * 26 * len(reps))
    return FigureSpec(
        "fig-win-rate-rep",
        "Close rate and sales cycle by rep (new business)",
        d.REP_WIN_RATE,
        _style(fig, height=height),
        d.REP_WIN_RATE.source,
        note="Reps who closed at least one opportunity. Blank cells: the rep closed nothing "
        "(close rate) or won nothing (cycle) that month.",
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

    fig = go.Figure(
        go.Heatmap(
            x=ages,
            y=cohorts,
            z=[[value(c, a, "net_revenue_retention_rate") for a in ages] for c in cohorts],
            customdata=[[value(c, a, "cohort_customers") for a in ages] for c in cohorts],
            colorscale="RdYlGn",
            zmid=1.0,
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
        "started. The newest cohorts have the fewest months.",
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
    scale = {"colorscale": "RdYlGn", "zmid": 1.0}
    fig.add_trace(
        go.Heatmap(
            x=trailing_months,
            y=list(order),
            z=grid(trailing, trailing_months),
            colorbar={"title": {"text": "NRR"}, "tickformat": ".0%", "len": 0.4, "y": 0.8},
            hovertemplate="%{y}<br>%{x|%b %Y}: %{z:.1%}<extra></extra>",
            **scale,
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Heatmap(
            x=all_months,
            y=list(order),
            z=grid("monthly_net_revenue_retention_rate", all_months),
            colorbar={"title": {"text": "NRR"}, "tickformat": ".0%", "len": 0.4, "y": 0.2},
            hovertemplate="%{y}<br>%{x|%b %Y}: %{z:.1%}<extra></extra>",
            **scale,
        ),
        row=2,
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
        "the triangle above follows acquisition cohorts.",
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
