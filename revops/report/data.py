"""Read what the report shows from a serving DuckDB file: marts and snapshot metadata only.

Every query selects mart rows and columns as published. The one exception is the channel
section: `channel_performance` has no channel-level rows, so `channel_rollup` sums a channel's
campaign rows and divides, the roll-up docs/METRICS.md prescribes for BI tools.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from revops.settings import DEFAULT_FUNNEL_MATURITY_MONTHS

Row = dict[str, Any]

ATTRIBUTION_MODELS = ("first_touch", "last_touch", "linear", "w_shaped")
# The setting `roi_attribution_model` defaults to this; revops_metrics.roas / marketing_roi use it.
DEFAULT_ATTRIBUTION_MODEL = "w_shaped"

SEGMENTS = ("SMB", "Mid-Market", "Enterprise", "Unknown")
# Quarantined cells listed in the report (the count says how many there are in all).
QUARANTINE_ROWS = 50
ALL = "All"


@dataclass(frozen=True)
class ReportData:
    """Everything the report draws, read once from the serving file."""

    snapshot: Row
    sources: list[Row]
    reporting_currency: str
    report_month: dt.date
    previous_month: dt.date | None
    revops_metrics: list[Row]  # segment All, by month
    sales_ops_metrics: list[Row]  # every segment and All, by month
    mrr_by_month: list[Row]  # every segment and All, by month
    cohorts: list[Row]  # mrr_cohort_retention, All rows: cohort month x month
    rep_performance: list[Row]  # by month and rep, with the rep's name and title
    channels: list[Row]  # by month and channel (campaign rows summed)
    attribution_model: str
    checks: list[Row] = field(default_factory=list)  # the run's checks that did not pass
    # landing files whose latest load attempt had failed when the snapshot was published: not
    # in its numbers (the failed-file policy, docs/INGESTION.md)
    failed_files: list[Row] = field(default_factory=list)
    # Open (unreleased) quarantined cells, at most QUARANTINE_ROWS, and how many in all.
    quarantine: list[Row] = field(default_factory=list)
    quarantine_open: int = 0
    # Forecasts (models/marts/forecast), `All` segment unless said: accuracy of ended periods,
    # the track record per method, and the current call (every roll-up). Empty in a snapshot
    # published before the forecast marts existed.
    forecast_accuracy: list[Row] = field(default_factory=list)
    forecast_accuracy_by_method: list[Row] = field(default_factory=list)
    forecast_call: list[Row] = field(default_factory=list)
    # the setting funnel_cohort_maturity_months: the funnel opens on the latest cohort this old
    funnel_maturity_months: int = DEFAULT_FUNNEL_MATURITY_MONTHS


def query(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[Row]:
    """Rows of a query as dicts keyed by column name."""
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def plain(value: Any) -> Any:
    """A JSON-ready scalar: decimals as floats, dates and times as ISO strings."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def channel_rollup(con: duckdb.DuckDBPyConnection, model: str) -> list[Row]:
    """Spend, leads, attributed won, cost per lead and ROI per month x channel.

    A channel's leads sit on its no-campaign row and its spend mostly on campaign rows, so a
    single row's ratios mean little: docs/METRICS.md says to sum the channel's rows and then
    divide. The ratios use the mart's own formulas (null when the denominator is 0).
    """
    if model not in ATTRIBUTION_MODELS:
        raise ValueError(f"unknown attribution model {model!r}; one of {ATTRIBUTION_MODELS}")
    return query(
        con,
        f"""
        with summed as (
            select
                month_start_date as month,
                channel,
                sum(spend_reporting) as spend_reporting,
                sum(cost_reporting) as cost_reporting,
                sum(leads) as leads,
                sum(attributed_won_{model}) as attributed_won,
                bool_and(is_complete) as is_complete,
            from channel_performance
            group by month_start_date, channel
        )
        select
            *,
            case when is_complete then cost_reporting / nullif(leads, 0) end as cost_per_lead,
            case when is_complete then attributed_won / nullif(cost_reporting, 0) end as roas,
        from summed
        order by month, channel
        """,
    )


def read_checks(con: duckdb.DuckDBPyConnection) -> list[Row]:
    """The snapshot's `revops_checks` rows, sample rows decoded (none in older snapshots)."""
    present = con.execute(
        "select count(*) from information_schema.tables where table_name = 'revops_checks'"
    ).fetchone()[0]
    if not present:
        return []
    rows = query(con, "select * from revops_checks order by status, check_name")
    for row in rows:
        row["sample_rows"] = json.loads(row["sample_rows"] or "[]")
    return rows


def read_failed_files(con: duckdb.DuckDBPyConnection) -> list[Row]:
    """The snapshot's `revops_failed_files` rows (none in older snapshots)."""
    present = con.execute(
        "select count(*) from information_schema.tables where table_name = 'revops_failed_files'"
    ).fetchone()[0]
    if not present:
        return []
    return query(con, "select * from revops_failed_files order by source, object, file_path")


def read_quarantine(con: duckdb.DuckDBPyConnection) -> tuple[list[Row], int]:
    """The snapshot's open quarantined cells (`data_quality_quarantine`, not released), the
    first QUARANTINE_ROWS by object, file, row and column, and their count (none in snapshots
    from before the quarantine)."""
    present = con.execute(
        "select count(*) from information_schema.tables "
        "where table_name = 'data_quality_quarantine'"
    ).fetchone()[0]
    if not present:
        return [], 0
    (total,) = con.execute(
        "select count(*) from data_quality_quarantine where not is_released"
    ).fetchone()
    rows = query(
        con,
        f"""
        select source_name, object_name, file_path, row_number, column_name, delivered_value,
            quarantine_rule, quarantine_message
        from data_quality_quarantine
        where not is_released
        order by source_name, object_name, file_path, row_number, column_name
        limit {QUARANTINE_ROWS}
        """,
    )
    return rows, int(total)


def read_forecasts(con: duckdb.DuckDBPyConnection) -> dict[str, list[Row]]:
    """The forecast marts the report shows, or nothing for those the snapshot does not hold."""
    present = {
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_name in "
            "('forecast_accuracy', 'forecast_accuracy_by_method', 'forecast_call')"
        ).fetchall()
    }
    sql = {
        "forecast_accuracy": (
            "select * from forecast_accuracy where segment = 'All' "
            "order by period_grain, period_start, method, as_of_date"
        ),
        "forecast_accuracy_by_method": (
            "select * from forecast_accuracy_by_method where segment = 'All' "
            "order by period_grain, horizon_band desc, method"
        ),
        "forecast_call": (
            "select * from forecast_call order by period_grain, rollup_level, rollup_key"
        ),
    }
    return {name: query(con, text) for name, text in sql.items() if name in present}


def read_report_data(
    serving_db: Path,
    attribution_model: str = DEFAULT_ATTRIBUTION_MODEL,
    funnel_maturity_months: int = DEFAULT_FUNNEL_MATURITY_MONTHS,
) -> ReportData:
    """Open the serving file read-only and read the marts and metadata the report needs."""
    if not serving_db.is_file():
        raise FileNotFoundError(f"no serving database at {serving_db}")
    con = duckdb.connect(str(serving_db), read_only=True)
    try:
        snapshot_rows = query(con, "select * from revops_snapshot")
        if len(snapshot_rows) != 1:
            raise ValueError(
                f"{serving_db}: revops_snapshot has {len(snapshot_rows)} rows, expected 1"
            )
        sources = query(con, "select * from revops_sources order by source, object")
        revops = query(con, "select * from revops_metrics where segment = ? order by month", [ALL])
        if not revops:
            raise ValueError(f"{serving_db}: revops_metrics has no `All` rows")
        months = [r["month"] for r in revops]
        report_month = months[-1]
        previous_month = months[-2] if len(months) > 1 else None
        currency_row = con.execute(
            "select any_value(reporting_currency) from mrr_by_month"
        ).fetchone()
        quarantine, quarantine_open = read_quarantine(con)
        return ReportData(
            snapshot=snapshot_rows[0],
            sources=sources,
            reporting_currency=(currency_row[0] if currency_row else None) or "USD",
            report_month=report_month,
            previous_month=previous_month,
            revops_metrics=revops,
            sales_ops_metrics=query(con, "select * from sales_ops_metrics order by month, segment"),
            mrr_by_month=query(con, "select * from mrr_by_month order by month, segment"),
            cohorts=query(
                con,
                "select * from mrr_cohort_retention where segment = ? order by cohort_month, month",
                [ALL],
            ),
            rep_performance=query(
                con,
                """
                select
                    performance.*,
                    reps.rep_name,
                    reps.title,
                from rep_performance as performance
                left join dim_reps as reps
                    on performance.rep_id = reps.rep_id
                order by reps.title, reps.rep_name, performance.rep_id,
                    performance.month_start_date
                """,
            ),
            channels=channel_rollup(con, attribution_model),
            attribution_model=attribution_model,
            checks=read_checks(con),
            failed_files=read_failed_files(con),
            quarantine=quarantine,
            quarantine_open=quarantine_open,
            **read_forecasts(con),
            funnel_maturity_months=funnel_maturity_months,
        )
    finally:
        con.close()
