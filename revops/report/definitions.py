"""The metric definitions the report prints beside each tile and chart.

Each one is a one-line summary of a definition that lives in docs/METRICS.md (`section` names
the heading) and in the marts' YAML (`columns` names the mart columns it reads). The tests check
that every section heading and every column still exists, so a rename there breaks the build
here instead of leaving a stale label in the report.
"""

from __future__ import annotations

from dataclasses import dataclass

from revops import headline

METRICS_DOC = "docs/METRICS.md"


@dataclass(frozen=True)
class MetricDefinition:
    """A metric as the report labels it: name, one-line definition and where it comes from."""

    name: str
    definition: str
    columns: tuple[str, ...]  # "<mart>.<column>" read by the report
    section: str  # a heading of docs/METRICS.md

    @property
    def source(self) -> str:
        """The mart columns and the METRICS.md section, for a figure's caption."""
        return f"{', '.join(self.columns)} - {METRICS_DOC} \u00a7 {self.section}"


_BILLING = "Billing: MRR and movements"
_RETENTION = "Billing: retention, renewals and revenue"
_METRIC_TABLES = "Sales Ops and RevOps metric tables"
_COHORT = "Cohort conversion (grain: lead-created month x channel x segment)"
_REPS = "`rep_performance` (grain: month x rep)"
_CHANNELS = "`channel_performance` (grain: month x channel x CRM campaign)"

# Headline tiles, in the order the report shows them (revops.headline: labels and columns).
MRR = MetricDefinition(
    "MRR",
    "Sum of customers' monthly recurring revenue at the month's reference instant "
    "(month end, or the latest day of history), in the reporting currency.",
    ("revops_metrics.mrr", "revops_metrics.mrr_growth_mom"),
    _BILLING,
)
ARR = MetricDefinition("ARR", "12 x MRR.", ("revops_metrics.arr",), _BILLING)
TRAILING_12M_NRR = MetricDefinition(
    headline.BY_KEY["trailing_12m_nrr"].label,
    "MRR now of the customers who paid 12 months ago, at the exchange rates of then / their MRR "
    "then (expansion included; constant currency).",
    ("revops_metrics.trailing_12m_net_revenue_retention_rate",),
    _RETENTION,
)
TRAILING_12M_GRR = MetricDefinition(
    headline.BY_KEY["trailing_12m_grr"].label,
    "As trailing-12-month NRR, each customer capped at its MRR 12 months ago (no expansion; "
    "constant currency).",
    ("revops_metrics.trailing_12m_gross_revenue_retention_rate",),
    _RETENTION,
)
MONTHLY_NRR = MetricDefinition(
    headline.BY_KEY["monthly_nrr"].label,
    "MRR this month of the customers who paid last month, at last month's exchange rates / "
    "their MRR last month (expansion included; constant currency).",
    ("revops_metrics.monthly_net_revenue_retention_rate",),
    _RETENTION,
)
MONTHLY_GRR = MetricDefinition(
    headline.BY_KEY["monthly_grr"].label,
    "As monthly NRR, each customer capped at its MRR last month (no expansion; constant currency).",
    ("revops_metrics.monthly_gross_revenue_retention_rate",),
    _RETENTION,
)
LOGO_CHURN = MetricDefinition(
    headline.BY_KEY["logo_churn"].label,
    "Customers churned in the month / customers at the start of the month.",
    ("revops_metrics.logo_churn_rate",),
    _BILLING,
)
CLOSE_RATE = MetricDefinition(
    "Close rate (new business)",
    "New-business opportunities won / (won + lost), by close month; expansion and renewal "
    "deals close at other rates and are reported apart (sales_ops_metrics_by_deal_category).",
    ("sales_ops_metrics.close_rate",),
    _METRIC_TABLES,
)
SALES_CYCLE = MetricDefinition(
    "Sales cycle (new business)",
    "Average days from created to close date of the month's won new-business opportunities.",
    ("sales_ops_metrics.avg_sales_cycle_days",),
    _METRIC_TABLES,
)
CAC = MetricDefinition(
    headline.BY_KEY["cac"].label,
    "Fully loaded: (ad spend + sales and marketing expenses) / new customers, for the latest "
    "month whose spend, expenses and billing are delivered through its end (never paid-only).",
    ("sales_ops_metrics.cac_fully_loaded",),
    _METRIC_TABLES,
)
CLTV = MetricDefinition(
    "CLTV",
    "ARPA x gross margin / trailing-12-month gross revenue churn rate (contraction + churn), "
    "the lifetime capped at the setting cltv_max_months (cltv_capped says when it binds).",
    ("sales_ops_metrics.cltv", "sales_ops_metrics.cltv_capped"),
    "Customer lifetime value (CLTV)",
)
LTV_TO_CAC = MetricDefinition(
    "LTV:CAC",
    "CLTV (ARPA x gross margin / trailing-12-month gross revenue churn rate) / fully loaded "
    "CAC, for the latest complete month.",
    ("sales_ops_metrics.ltv_to_cac",),
    _METRIC_TABLES,
)
MQLS = MetricDefinition(
    "MQLs",
    "Leads whose first time at MQL (or a later stage) falls in the month.",
    ("sales_ops_metrics.mqls",),
    _METRIC_TABLES,
)

# Charts.
MRR_BY_SEGMENT = MetricDefinition(
    "MRR by segment",
    "MRR per customer segment (the linked account's head-count band; Unknown when unlinked) "
    "and for all customers.",
    ("mrr_by_month.mrr", "mrr_by_month.segment"),
    _BILLING,
)
MRR_MOVEMENTS = MetricDefinition(
    "MRR movements",
    "Starting MRR + new + reactivation + expansion - contraction - churn + FX = MRR. Movements "
    "are in constant currency (this month's MRR at last month's exchange rates); FX is the "
    "currency effect. The bridge holds to the cent for every month; a dbt test checks it.",
    (
        "mrr_by_month.starting_mrr",
        "mrr_by_month.new_mrr",
        "mrr_by_month.reactivation_mrr",
        "mrr_by_month.expansion_mrr",
        "mrr_by_month.contraction_mrr",
        "mrr_by_month.churn_mrr",
        "mrr_by_month.fx_mrr",
        "mrr_by_month.net_new_mrr",
        "mrr_by_month.mrr",
    ),
    _BILLING,
)
FUNNEL = MetricDefinition(
    "Lead funnel by cohort",
    "Of the leads created in the cohort month, how many reached MQL, SQL, opportunity and won "
    "by the refresh; each stage as a share of the cohort's leads.",
    (
        "sales_ops_metrics.cohort_leads",
        "sales_ops_metrics.cohort_reached_mql",
        "sales_ops_metrics.cohort_reached_sql",
        "sales_ops_metrics.cohort_reached_opportunity",
        "sales_ops_metrics.cohort_reached_won",
        "sales_ops_metrics.pct_leads_to_mql",
        "sales_ops_metrics.pct_leads_to_sql",
        "sales_ops_metrics.pct_leads_to_opportunity",
        "sales_ops_metrics.pct_leads_to_won",
    ),
    _COHORT,
)
SEGMENT_WIN_RATE = MetricDefinition(
    "Close rate and sales cycle by segment (new business)",
    "Close rate = won / (won + lost) and average sales cycle of won deals, new-business "
    "opportunities, by close month and opportunity (account) segment.",
    (
        "sales_ops_metrics.close_rate",
        "sales_ops_metrics.close_rate_denominator",
        "sales_ops_metrics.avg_sales_cycle_days",
    ),
    _METRIC_TABLES,
)
REP_WIN_RATE = MetricDefinition(
    "Close rate and sales cycle by rep (new business)",
    "Per Account Executive / SDR, over the three close months ending with each month, "
    "new-business opportunities: won / (won + lost) and average sales cycle days of won deals, "
    "each summed over the three months, then divided; blank when the rep closed nothing in "
    "them.",
    (
        "rep_performance.opportunities_won",
        "rep_performance.opportunities_closed",
        "rep_performance.won_sales_cycle_days",
        "rep_performance.close_rate",
        "rep_performance.avg_sales_cycle_days",
        "dim_reps.rep_name",
        "dim_reps.title",
    ),
    _REPS,
)
CHANNELS = MetricDefinition(
    "Cost, cost per lead and ROAS by channel",
    "Cost = ad spend by report month, and the events expenses for the event channel; cost per "
    "lead = cost / leads created; ROAS = attributed won / cost, won credited by the "
    "attribution model to the month the opportunity was created (bookings, not profit: "
    "marketing ROI is revops_metrics.marketing_roi). A channel's figure sums its campaign "
    "rows, then divides; blank for a month not complete.",
    (
        "channel_performance.cost_reporting",
        "channel_performance.leads",
        "channel_performance.attributed_won_<model>",
    ),
    _CHANNELS,
)
COHORT_NRR = MetricDefinition(
    "Cohort net revenue retention",
    "A cohort is the customers whose first MRR fell in that month. Cell = the cohort's MRR "
    "n months later / its MRR in its first month (expansion and reactivation included).",
    (
        "mrr_cohort_retention.net_revenue_retention_rate",
        "mrr_cohort_retention.mrr",
        "mrr_cohort_retention.cohort_starting_mrr",
        "mrr_cohort_retention.months_since_cohort",
    ),
    "Cohort revenue retention",
)
NRR_HEATMAP = MetricDefinition(
    "Net revenue retention by segment",
    "Trailing 12 months: MRR now of the customers who paid 12 months earlier / their MRR "
    "then. Monthly: the same over one month. Cohort = the customers paying at the start.",
    (
        "mrr_by_month.trailing_12m_net_revenue_retention_rate",
        "mrr_by_month.monthly_net_revenue_retention_rate",
    ),
    _RETENTION,
)

TILES: tuple[tuple[str, MetricDefinition], ...] = (
    ("mrr", MRR),
    ("arr", ARR),
    ("trailing_12m_nrr", TRAILING_12M_NRR),
    ("trailing_12m_grr", TRAILING_12M_GRR),
    ("monthly_nrr", MONTHLY_NRR),
    ("monthly_grr", MONTHLY_GRR),
    ("logo_churn", LOGO_CHURN),
    ("close_rate", CLOSE_RATE),
    ("sales_cycle", SALES_CYCLE),
    ("cac", CAC),
    ("cltv", CLTV),
    ("ltv_to_cac", LTV_TO_CAC),
    ("mqls", MQLS),
)

_FORECAST = "Sales forecasts and their track record"
FORECAST_VS_ACTUAL = MetricDefinition(
    "New-business bookings forecast vs actual",
    "Each method's quarter forecast (closed won to date + what it expects still to be won), made "
    "about 30 days before quarter end with only what was known then, against the quarter's "
    "actual new-business bookings.",
    (
        "forecast_accuracy.forecast_total",
        "forecast_accuracy.actual_bookings",
        "forecast_accuracy.horizon_band",
    ),
    _FORECAST,
)
FORECAST_CALL = MetricDefinition(
    "Forecast call, current quarter",
    "Closed won to date, then open new-business deals closing in the quarter by forecast "
    "category (Commit, Best Case, Pipeline) as of the latest snapshot: commit call = closed + "
    "commit; best case call = commit call + best case.",
    (
        "forecast_call.closed_won",
        "forecast_call.commit_amount",
        "forecast_call.best_case_amount",
        "forecast_call.pipeline_amount",
        "forecast_call.commit_call",
        "forecast_call.best_case_call",
    ),
    _FORECAST,
)
FORECAST_ACCURACY = MetricDefinition(
    "Forecast accuracy by method",
    "MAPE (mean of |forecast - actual| / actual) and mean bias of each method's forecasts of "
    "ended periods, by period grain and horizon band, all segments; periods with an actual of "
    "0 are counted, not averaged.",
    (
        "forecast_accuracy_by_method.mape",
        "forecast_accuracy_by_method.mean_bias",
        "forecast_accuracy_by_method.n_forecasts",
        "forecast_accuracy_by_method.is_best_method",
    ),
    _FORECAST,
)

ALL_DEFINITIONS: tuple[MetricDefinition, ...] = (
    *(d for _, d in TILES),
    MRR_BY_SEGMENT,
    MRR_MOVEMENTS,
    FUNNEL,
    SEGMENT_WIN_RATE,
    REP_WIN_RATE,
    CHANNELS,
    COHORT_NRR,
    NRR_HEATMAP,
    FORECAST_VS_ACTUAL,
    FORECAST_CALL,
    FORECAST_ACCURACY,
)
