"""Incremental staging equals a rebuild on real-world faults.

The dirty `s` company (late and re-sent files, duplicated rows, out-of-order versions) is
delivered in four steps into a new warehouse, each step ingested and built by dbt
incrementally; every model table must then hold exactly what the session's one-shot build of
the same company holds (`s_dirty_warehouse`). Only `_loaded_at`, the load time stamped by the
ingestion, may differ between two warehouses, so it is left out of the comparison; and the
models that describe the loads themselves rather than the data (`LOAD_RECORDS`: one ledger row
per file attempt, with its load id and times; each object's latest load, which is the last step's
here and the only load there) differ by nature and are not compared. A fifth step then
delivers late edits of old records (a backdated Stripe cancellation, a corrected FX rate, and
CRM and marketing changes: emails moved between people, a deleted and two merged leads,
backdated lead and opportunity history, a moved close date, a re-opened deal, a late
conversion, a segment change, new and backdated touches, a converted lead's opportunity
deleted); every incremental model after staging, and everything downstream of it, must equal
its rebuild from the same staging tables, and each edit must have reached the old rows it
changes.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from revops.ingest import ingest_landing
from revops.ingest.landing import link_deliveries_until

ROOT = Path(__file__).resolve().parent.parent
LOAD_TIME = "_loaded_at"
LOAD_RECORDS = {"stg_ingest__file_loads", "data_quality_quarantine_by_object"}
# The billing intermediates that recompute only the affected keys or lines (macros/billing/)
BILLING_INCREMENTAL = (
    "int_subscription_item_months",
    "int_mrr_customer_months",
    "int_invoice_lines_priced",
    "int_subscription_item_states",
    "int_invoice_lines_recognised",
    "int_mrr_movements_classified",
    "int_mrr_retention_customer_months",
    "int_revenue_records_converted",
)
# The opportunity rows that write only the opportunities whose row changed (an open deal re-rated
# by the day's FX rate or slipped, an edit, a deletion; macros/forecast/opportunity_rows.sql)
SALES_INCREMENTAL = ("int_opportunities_enriched", "fct_opportunities")
# Point-in-time models keep what was known on each past day: a rebuild recomputes those days
# from later deliveries (a backdated history row), so they are not rebuilt in the late-edit
# comparison (the first steps check that their past rows never change).
POINT_IN_TIME = ("fct_pipeline_snapshots",)


def _dbt_models(warehouse: Path, work: Path, *args: str) -> None:
    """Seeds and models (no tests: the one-shot build ran them), incremental where they are;
    `args` narrow the build (`--select ...`) or force a rebuild (`--full-refresh`)."""
    dbt = Path(sys.executable).parent / "dbt"
    done = subprocess.run(
        [str(dbt), "build", "--resource-type", "seed", "--resource-type", "model",
         "--profiles-dir", str(ROOT), "--project-dir", str(ROOT), "--target-path",
         str(work / "target"), "--log-path", str(work / "logs"), *args],
        cwd=ROOT, env={**os.environ, "REVOPS_WAREHOUSE": str(warehouse)},
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-5000:]


# --- leaving unchanged models out (revops/unchanged.py), as the refresh does -----------------
# Each stepwise build below leaves out the models whose logic and raw inputs did not change
# since their last successful build (the HubSpot models of this Salesforce company; in the late
# edits' step, the ad-spend models), so the equalities also hold for what a refresh leaves out.
STEP_PLANS: list = []
# the record of what was built from what (only the stepwise builds keep one)
UNCHANGED_RECORDS = "_revops_nodes_current"


def _dbt_models_leaving_out_unchanged(warehouse: Path, work: Path, step: str) -> None:
    """`_dbt_models`, leaving out what `revops.unchanged` finds unchanged (planned on the
    previous build's manifest, without tests: this build runs none), then recording the build."""
    from revops import unchanged

    path = work / "target" / "manifest.json"
    plan = None
    if path.exists():
        manifest = json.loads(path.read_text())
        manifest["nodes"] = {
            uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] != "test"
        }
        plan = unchanged.plan_build(warehouse, manifest, max_age_days=7)
        STEP_PLANS.append(plan)
    _dbt_models(warehouse, work, *(plan.dbt_args() if plan else []))
    if plan is not None:
        results = json.loads((work / "target" / "run_results.json").read_text())
        assert not {r["unique_id"] for r in results["results"]} & set(plan.left_out)
        unchanged.record(warehouse, plan, results, step)


def _incremental_models(work: Path) -> set[str]:
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    return {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
    }


def _checksums(warehouse: Path) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent hash of every table's rows, without `_loaded_at`."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns: dict[str, list[str]] = {}
        for table, column in con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'main' and table_name in (select table_name from "
            "information_schema.tables where table_schema = 'main' and table_type = 'BASE TABLE')"
            " order by table_name, ordinal_position"
        ).fetchall():
            if column != LOAD_TIME:
                columns.setdefault(table, []).append(f'"{column}"')
        return {
            table: con.execute(
                f'select count(*), coalesce(sum(hash({", ".join(cols)})), 0) from "{table}"'
            ).fetchone()
            for table, cols in columns.items()
            if table not in LOAD_RECORDS and table != UNCHANGED_RECORDS
        }


def _pipeline_snapshots(warehouse: Path) -> dict[str, tuple[int, int]]:
    """fct_pipeline_snapshots per as-of date: row count and an order-independent row hash."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            day: (n, h)
            for day, n, h in con.execute(
                "select strftime(as_of_date, '%Y-%m-%d'), count(*), sum(hash(s)) "
                "from fct_pipeline_snapshots as s group by all"
            ).fetchall()
        }


def test_four_incremental_builds_equal_one_build(s_dirty_warehouse, tmp_path):
    company, one_shot = s_dirty_warehouse
    days = sorted({p.name for p in (company.out / "salesforce" / "Lead").iterdir()})
    cuts = [days[len(days) // 2], days[-30], days[-2], days[-1]]
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    first_snapshots: dict = {}
    for cut in cuts:
        assert link_deliveries_until(company.out, landing, cut) > 0
        summary = ingest_landing(landing, warehouse)
        assert summary.files_failed == 0, summary.errors
        _dbt_models_leaving_out_unchanged(warehouse, tmp_path, cut)
        if not first_snapshots:
            first_snapshots = _pipeline_snapshots(warehouse)

    # the pipeline of a past day is not recomputed from later deliveries: every as-of date the
    # first step took is, after three more steps, row for row what it was (a recent Monday that
    # fell out of the list is gone, not changed)
    later = _pipeline_snapshots(warehouse)
    month_ends = [
        d for d in first_snapshots if (dt.date.fromisoformat(d) + dt.timedelta(days=1)).day == 1
    ]
    assert len(month_ends) >= 12, sorted(first_snapshots)
    kept = {d: v for d, v in later.items() if d in first_snapshots}
    assert kept == {d: v for d, v in first_snapshots.items() if d in later}
    assert set(month_ends) <= set(kept)

    # the models this test is about did run incrementally after the first step
    incremental = _incremental_models(tmp_path)
    assert {
        "stg_salesforce__leads",
        "stg_salesforce__opportunity_history",
        "fct_pipeline_snapshots",
        *BILLING_INCREMENTAL,
        *SALES_INCREMENTAL,
    } <= incremental
    assert len(incremental) >= 9

    expected, got = _checksums(one_shot), _checksums(warehouse)
    if got["util_days"] != expected["util_days"]:
        # the date spines end at current_date: the day changed between the two builds
        pytest.skip("midnight passed between the one-shot build and this one")
    assert set(got) == set(expected)
    differing = sorted(t for t in expected if got[t] != expected[t])
    assert differing == [], {t: (got[t], expected[t]) for t in differing}

    # late edits of old months, in a delivery after the last one. Stripe and FX: a subscription
    # in service for a year is cancelled backdated by about six months, and an FX rate of an
    # old month end is corrected. CRM and marketing (`_deliver_crm_edits`): emails changed
    # (touches move to another lead), a lead deleted, two leads merged, backdated lead and
    # opportunity history, a close date moved back, a won deal re-opened, an old lead
    # converted, an account's head count crossing a segment band, new and backdated touches.
    subscription_id, old_months = _long_running_subscription(warehouse)
    _deliver_backdated_cancellation(company.out, landing, subscription_id, days[-1])
    currency, month_end, old_mrr = _deliver_corrected_fx_rate(warehouse, landing, days[-1])
    revenue_day = _deliver_corrected_fx_rate_of_a_revenue_day(warehouse, landing, days[-1])
    edits = _deliver_crm_edits(warehouse, landing, days[-1])
    deleted_opportunity = _deliver_opportunity_deletion(warehouse, landing, days[-1], edits)
    summary = ingest_landing(landing, warehouse)
    assert summary.files_failed == 0, summary.errors
    built_on = dt.datetime.now(dt.UTC).date()
    _dbt_models_leaving_out_unchanged(warehouse, tmp_path, "late edits")
    # the stepwise builds did leave models out: the HubSpot staging models of this Salesforce
    # company, and in the late edits' step the ad-spend staging (no new ad-spend file)
    left_out = [{uid.split(".")[-1] for uid in plan.left_out} for plan in STEP_PLANS]
    assert "stg_hubspot__owners" in left_out[-2], left_out
    assert "stg_google_ads__campaign_stats" in left_out[-1], left_out
    # the incremental models downstream of staging (and everything they feed) equal their
    # rebuild from the same staging tables; the rest was rebuilt as tables by the build above
    downstream = sorted(
        m
        for m in _incremental_models(tmp_path)
        if not m.startswith("stg_") and m not in POINT_IN_TIME
    )
    assert set(BILLING_INCREMENTAL) <= set(downstream)
    assert set(SALES_INCREMENTAL) <= set(downstream)
    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copyfile(warehouse, rebuilt)
    _dbt_models(
        rebuilt, tmp_path, "--full-refresh", "--select", *(f"{m}+" for m in downstream),
        "--exclude", *POINT_IN_TIME,
    )  # fmt: skip
    if dt.datetime.now(dt.UTC).date() != built_on:
        # the current month and day moved between the two builds
        pytest.skip("midnight passed between the incremental build and its rebuild")
    incremental_rows, rebuilt_rows = _checksums(warehouse), _checksums(rebuilt)
    assert set(incremental_rows) == set(rebuilt_rows)
    differing = sorted(t for t in rebuilt_rows if incremental_rows[t] != rebuilt_rows[t])
    assert differing == [], differing
    # the edits did reach old rows (so the equality above is not vacuous): the subscription
    # lost its last five months of service ...
    _, new_months = _long_running_subscription(warehouse, subscription_id)
    assert len(old_months) - len(new_months) >= 5, (old_months, new_months)
    assert new_months == old_months[: len(new_months)]
    # ... the corrected rate reached that old month's MRR ...
    assert _mrr_of(warehouse, currency, month_end) != old_mrr
    # ... and the other corrected rate reached that old day's revenue records ...
    _assert_revenue_day_reconverted(warehouse, revenue_day)
    # ... and every CRM and marketing edit reached the rows it must change
    _assert_crm_edits_landed(warehouse, edits)
    _assert_opportunity_deletion_landed(warehouse, deleted_opportunity)


def _mrr_of(warehouse: Path, currency: str, month_end: dt.date):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select sum(mrr) from int_mrr_customer_months "
            "where currency = ? and reference_date = ?",
            [currency, month_end],
        ).fetchone()[0]


def _deliver_corrected_fx_rate(
    warehouse: Path, landing: Path, last_day: str
) -> tuple[str, dt.date, object]:
    """A new delivery, the day after `last_day`, whose FX file corrects (x 1.5) the rate of a
    month end about four months earlier, for a currency with MRR that month; returns the
    currency, the month end and that month's MRR in it before the correction."""
    last = dt.date.fromisoformat(last_day)
    month_end = (last - dt.timedelta(days=120)).replace(day=1) - dt.timedelta(days=1)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        currency, reporting, rate = con.execute(
            "select currency, reporting_currency, any_value(rate_to_reporting) "
            "from int_mrr_customer_months where reference_date = ? and mrr > 0 "
            "and currency != reporting_currency group by all order by currency limit 1",
            [month_end],
        ).fetchone()
    old_mrr = _mrr_of(warehouse, currency, month_end)
    day = (last + dt.timedelta(days=1)).strftime("%Y-%m-%d")
    folder = landing / "reference" / "fx_rates" / day
    folder.mkdir(parents=True)
    (folder / "fx_rates.csv").write_text(
        '"rate_date","base_currency","quote_currency","rate"\n'
        f'"{month_end}","{currency}","{reporting}","{float(rate) * 1.5:.6f}"\n',
        encoding="utf-8",
    )
    return currency, month_end, old_mrr


# --- revenue records: a corrected FX rate of an old day with records ----------------------


def _deliver_corrected_fx_rate_of_a_revenue_day(
    warehouse: Path, landing: Path, last_day: str
) -> tuple[str, dt.date, list]:
    """A row added to the corrected rates' FX file (`_deliver_corrected_fx_rate`): the rate of
    an old day with converted revenue records in a currency that is not the reporting one,
    x 2; returns the currency, the day and that day's records with their converted amounts."""
    last = dt.date.fromisoformat(last_day)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (reporting,) = con.execute(
            "select any_value(reporting_currency) from int_mrr_customer_months"
        ).fetchone()
        currency, day, rate = con.execute(
            "select currency, record_date, any_value(rate_to_reporting) "
            "from int_revenue_records_converted where record_date < ? "
            "and rate_to_reporting is not null and currency != ? "
            "group by all order by record_date desc, currency limit 1",
            [last - dt.timedelta(days=150), reporting],
        ).fetchone()
        records = con.execute(
            "select record_type, record_id, amount_reporting from int_revenue_records_converted "
            "where currency = ? and record_date = ? order by all",
            [currency, day],
        ).fetchall()
    fx_file = landing / "reference" / "fx_rates" / (last + dt.timedelta(days=1)).isoformat()
    with (fx_file / "fx_rates.csv").open("a", encoding="utf-8") as handle:
        handle.write(f'"{day}","{currency}","{reporting}","{float(rate) * 2:.6f}"\n')
    return currency, day, records


def _assert_revenue_day_reconverted(warehouse: Path, edit: tuple) -> None:
    """Every record of the corrected day and currency is still there, converted anew."""
    currency, day, before = edit
    with duckdb.connect(str(warehouse), read_only=True) as con:
        after = con.execute(
            "select record_type, record_id, amount_reporting from int_revenue_records_converted "
            "where currency = ? and record_date = ? order by all",
            [currency, day],
        ).fetchall()
    assert before and [r[:2] for r in after] == [r[:2] for r in before], (before, after)
    assert all(a[2] != b[2] for a, b in zip(after, before, strict=True) if b[2]), (before, after)


def _long_running_subscription(
    warehouse: Path, subscription_id: str | None = None
) -> tuple[str, list[str]]:
    """A subscription still in service in the latest month after at least 12 months of
    service (or `subscription_id`), and its months in int_subscription_item_months."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if subscription_id is None:
            subscription_id = con.execute(
                "select subscription_id from int_subscription_item_months group by all "
                "having count(distinct month_start_date) >= 12 and max(month_start_date) = "
                "(select max(month_start_date) from int_billing_months) "
                "order by subscription_id limit 1"
            ).fetchone()[0]
        months = [
            str(m)
            for (m,) in con.execute(
                "select distinct month_start_date from int_subscription_item_months "
                "where subscription_id = ? order by 1",
                [subscription_id],
            ).fetchall()
        ]
    return subscription_id, months


def _deliver_backdated_cancellation(
    company_out: Path, landing: Path, subscription_id: str, last_day: str
) -> None:
    """A new delivery, the day after `last_day`, whose subscriptions file holds the latest
    delivered version of `subscription_id`, cancelled and ended 200 days before `last_day`.
    (The landing folder's files are hard links of the company's: this writes a new file.)"""
    latest = None
    for path in sorted((company_out / "stripe" / "subscriptions").glob("*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if f'"{subscription_id}"' in line:
                latest = json.loads(line)
    assert latest is not None and latest["id"] == subscription_id
    last = dt.datetime.fromisoformat(last_day).replace(tzinfo=dt.UTC)
    ended = int((last - dt.timedelta(days=200)).timestamp())
    latest.update(status="canceled", canceled_at=ended, ended_at=ended)
    day = (last + dt.timedelta(days=1)).strftime("%Y-%m-%d")
    folder = landing / "stripe" / "subscriptions" / day
    folder.mkdir(parents=True)
    (folder / "subscriptions.jsonl").write_text(json.dumps(latest) + "\n", encoding="utf-8")


# --- CRM and marketing late edits -----------------------------------------------------------


def _sf_time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _sf_id(prefix: str, n: int) -> str:
    """A Salesforce-shaped 18-character id no generated record has (`9` after the pod)."""
    return f"{prefix}5g9{n:09d}AAA"


class _Delivery:
    """Rows of one new delivery day, written in the Salesforce / marketing automation export
    format: each object's header is the one of its last delivered file."""

    def __init__(self, landing: Path, last_day: str, day: str) -> None:
        self.landing, self.last_day, self.day = landing, last_day, day
        self.rows: dict[str, list[dict[str, str]]] = {}

    def header(self, obj: str) -> list[str]:
        path = next((self.landing / obj / self.last_day).iterdir())
        with path.open(encoding="utf-8", newline="") as handle:
            return next(csv.reader(handle))

    def latest(self, obj: str, con, model: str, key: str, value: str) -> dict[str, str]:
        """The delivered row of the version of `value` that staging `model` holds."""
        (file_path,) = con.execute(
            f"select _file_path from {model} where {key} = ?", [value]
        ).fetchone()
        with (self.landing / file_path).open(encoding="utf-8", newline="") as handle:
            found = [r for r in csv.DictReader(handle) if r.get("Id") == value]
        assert found, (obj, value, file_path)
        return found[-1]

    def add(self, obj: str, row: dict[str, str]) -> None:
        self.rows.setdefault(obj, []).append(row)

    def write(self) -> None:
        def cell(value: str | None) -> str:
            return f'"{value.replace(chr(34), chr(34) * 2)}"' if value else ""

        for obj, rows in self.rows.items():
            header = self.header(obj)
            folder = self.landing / obj / self.day
            folder.mkdir(parents=True)
            lines = [",".join(f'"{c}"' for c in header)]
            lines += [",".join(cell(row.get(c)) for c in header) for row in rows]
            name = next((self.landing / obj / self.last_day).iterdir()).name
            (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _deliver_crm_edits(warehouse: Path, landing: Path, last_day: str) -> dict:
    """A new delivery, the day after `last_day`, of Salesforce and marketing automation rows
    that change old records; returns what each edit should change (for
    `_assert_crm_edits_landed`)."""
    last = dt.datetime.fromisoformat(last_day).replace(tzinfo=dt.UTC)
    new_day = last + dt.timedelta(days=1)
    old = last - dt.timedelta(days=365)
    stamp = _sf_time(new_day + dt.timedelta(hours=8))
    out = _Delivery(landing, last_day, new_day.strftime("%Y-%m-%d"))
    lead, contact, account, opportunity = (
        "salesforce/Lead", "salesforce/Contact", "salesforce/Account", "salesforce/Opportunity",
    )  # fmt: skip
    lead_history, opportunity_history = "salesforce/LeadHistory", "salesforce/OpportunityHistory"
    edits: dict = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # old, reportable, unconverted leads with old touches, the only lead (and no contact)
        # of their email: candidates for the lead edits, in a fixed order
        pool = [
            (lead_id, email)
            for lead_id, email in con.execute(
                """
                select leads.lead_id, leads.email
                from int_leads_staged as leads
                where leads.is_reportable and leads.converted_opportunity_id is null
                  and leads.converted_at is null and leads.sql_at is null
                  and leads.created_at < ?
                  and leads.email in (
                      select email from stg_marketing_automation__activities
                      where activity_at < ?)
                  and leads.email not in (
                      select email from stg_salesforce__contacts where email is not null)
                  and (select count(*) from stg_salesforce__leads as same
                       where same.email = leads.email) = 1
                order by leads.mql_at is null, leads.lead_id
                """,
                [old, old],
            ).fetchall()
        ]
        assert len(pool) >= 20, len(pool)

        def touches_of(email: str) -> int:
            return con.execute(
                "select count(*) from stg_marketing_automation__activities where email = ?",
                [email],
            ).fetchone()[0]

        def rows_of(sql: str, *params) -> list:
            return con.execute(sql, list(params)).fetchall()

        # 1. a converted lead whose old opportunity credits its touches takes the email of
        #    another lead: its touches leave it, the other lead's become its own too
        moved_id, _, moved_opportunity = rows_of(
            """
            select funnel.lead_id, leads.email, funnel.opportunity_id
            from fct_lead_funnel as funnel
            inner join int_leads_staged as leads on funnel.lead_id = leads.lead_id
            where funnel.opportunity_created_at < ? and leads.is_reportable
              and funnel.opportunity_id in (
                  select opportunity_id from fct_attribution where touch_id is not null)
              and (select count(*) from stg_salesforce__leads as same
                   where same.email = leads.email) = 1
            order by funnel.lead_id limit 1
            """,
            old,
        )[0]
        (_, taken_email), pool = pool[-1], pool[:-1]
        row = out.latest(lead, con, "stg_salesforce__leads", "lead_id", moved_id)
        out.add(lead, {**row, "Email": taken_email, "LastModifiedDate": stamp})
        edits["email_change"] = {
            "lead_id": moved_id,
            "opportunity_id": moved_opportunity,
            "old_touches": {
                t for (t,) in rows_of(
                    "select touch_id from fct_attribution where opportunity_id = ? "
                    "and touch_id is not null", moved_opportunity)
            },
            "new_touches": touches_of(taken_email),
        }  # fmt: skip

        # 2. a contact takes the email of a lead with touches: that person gets its account
        contact_id, account_id = rows_of(
            """
            select contact_id, account_id from stg_salesforce__contacts
            where not is_deleted and email is not null and created_at < ?
              and account_id in (select account_id from int_accounts_segmented)
            order by contact_id limit 1
            """,
            old,
        )[0]
        (_, person_email), pool = pool[-1], pool[:-1]
        row = out.latest(contact, con, "stg_salesforce__contacts", "contact_id", contact_id)
        out.add(contact, {**row, "Email": person_email, "LastModifiedDate": stamp})
        edits["contact_email"] = (person_email, contact_id, account_id)

        # 3. a lead that reached MQL long ago is deleted
        (deleted_id, _), pool = pool[0], pool[1:]
        row = out.latest(lead, con, "stg_salesforce__leads", "lead_id", deleted_id)
        out.add(lead, {**row, "IsDeleted": "true", "LastModifiedDate": stamp})
        edits["deleted"] = deleted_id

        # 4. two leads merged: the loser deleted with its MasterRecordId (a column staging does
        #    not read), the winner keeping the loser's email
        (loser_id, loser_email), (winner_id, _), pool = pool[-1], pool[-2], pool[:-2]
        row = out.latest(lead, con, "stg_salesforce__leads", "lead_id", loser_id)
        out.add(lead, {**row, "IsDeleted": "true", "MasterRecordId": winner_id,
                       "LastModifiedDate": stamp})  # fmt: skip
        row = out.latest(lead, con, "stg_salesforce__leads", "lead_id", winner_id)
        out.add(lead, {**row, "Email": loser_email, "LastModifiedDate": stamp})
        edits["merge"] = (loser_id, winner_id, touches_of(loser_email))

        # 5. a lead that never reached MQL did, in its first month (a backdated history row)
        (qualified_id, _), pool = pool[-1], pool[:-1]
        created, status = rows_of(
            "select created_at, lead_status from stg_salesforce__leads where lead_id = ?",
            qualified_id,
        )[0]
        qualified_at = created + dt.timedelta(days=10)
        out.add(lead_history, {
            "Id": _sf_id("017", 1), "LeadId": qualified_id, "Field": "Status",
            "OldValue": status, "NewValue": "Marketing Qualified",
            "CreatedDate": _sf_time(qualified_at),
        })  # fmt: skip
        edits["backdated_mql"] = (qualified_id, qualified_at)

        # 6. opportunities: a won deal's close date moved a month back, a lost deal's
        #    forgotten Negotiation stage recorded, a won deal re-opened
        won = rows_of(
            """
            select opportunity_id, close_date from fct_opportunities
            where is_won and close_date < ? and close_date >= created_date + 45
            order by opportunity_id limit 2
            """,
            (last - dt.timedelta(days=200)).date(),
        )
        (moved_close_id, close_date), (reopened_id, _) = won
        new_close = close_date - dt.timedelta(days=30)
        row = out.latest(opportunity, con, "stg_salesforce__opportunities", "opportunity_id",
                         moved_close_id)  # fmt: skip
        out.add(opportunity, {**row, "CloseDate": str(new_close), "LastModifiedDate": stamp})
        row = out.latest(opportunity, con, "stg_salesforce__opportunities", "opportunity_id",
                         reopened_id)  # fmt: skip
        reopen_close = str((new_day + dt.timedelta(days=45)).date())
        out.add(opportunity, {
            **row, "StageName": "Negotiation", "IsClosed": "false", "IsWon": "false",
            "Probability": "75", "ForecastCategoryName": "Commit", "CloseDate": reopen_close,
            "LastModifiedDate": stamp,
        })  # fmt: skip
        out.add(opportunity_history, {
            "Id": _sf_id("008", 1), "OpportunityId": reopened_id, "StageName": "Negotiation",
            "Amount": row["Amount"], "Probability": "75", "CloseDate": reopen_close,
            "CreatedDate": stamp,
        })  # fmt: skip
        lost_id, lost_created, lost_closed, amount = rows_of(
            """
            select opportunity_id, created_at, close_date, amount from fct_opportunities
            where is_closed and not is_won and close_date < ?
              and close_date >= created_date + 30
              and opportunity_id not in (
                  select opportunity_id from fct_opportunity_stage_history
                  where stage_name = 'Negotiation')
            order by opportunity_id limit 1
            """,
            old.date(),
        )[0]
        negotiated_at = lost_created + dt.timedelta(days=15)
        out.add(opportunity_history, {
            "Id": _sf_id("008", 2), "OpportunityId": lost_id, "StageName": "Negotiation",
            "Amount": str(amount), "Probability": "75", "CloseDate": str(lost_closed),
            "CreatedDate": _sf_time(negotiated_at),
        })  # fmt: skip
        edits["opportunities"] = (moved_close_id, new_close, reopened_id, lost_id, negotiated_at)

        # 7. an old lead is converted today into the contact's account: a new contact and a
        #    new opportunity; a touch of its email this morning is credited to the opportunity
        (converted_id, converted_email), pool = pool[-1], pool[:-1]
        row = out.latest(lead, con, "stg_salesforce__leads", "lead_id", converted_id)
        new_contact, new_opportunity = _sf_id("003", 1), _sf_id("006", 1)
        converted_at = new_day + dt.timedelta(hours=15)
        out.add(lead, {
            **row, "Status": "Closed - Converted", "IsConverted": "true",
            "ConvertedDate": str(new_day.date()), "ConvertedAccountId": account_id,
            "ConvertedContactId": new_contact, "ConvertedOpportunityId": new_opportunity,
            "LastModifiedDate": _sf_time(converted_at),
        })  # fmt: skip
        out.add(lead_history, {
            "Id": _sf_id("017", 2), "LeadId": converted_id, "Field": "Status",
            "OldValue": row["Status"], "NewValue": "Closed - Converted",
            "CreatedDate": _sf_time(converted_at),
        })  # fmt: skip
        out.add(lead_history, {
            "Id": _sf_id("017", 3), "LeadId": converted_id, "Field": "leadConverted",
            "CreatedDate": _sf_time(converted_at),
        })  # fmt: skip
        out.add(contact, {
            "Id": new_contact, "AccountId": account_id, "FirstName": row["FirstName"],
            "LastName": row["LastName"], "Email": converted_email, "Title": row.get("Title"),
            "LeadSource": row["LeadSource"], "OwnerId": row["OwnerId"],
            "CreatedDate": _sf_time(converted_at), "LastModifiedDate": _sf_time(converted_at),
            "IsDeleted": "false",
        })  # fmt: skip
        opportunity_row = {
            "Id": new_opportunity, "AccountId": account_id, "OwnerId": row["OwnerId"],
            "Name": f"{row['Company']} - New Business", "Type": "New Business",
            "StageName": "Qualification", "Amount": "12000.00", "CurrencyIsoCode": "USD",
            "Probability": "10", "ForecastCategoryName": "Pipeline",
            "CloseDate": str((new_day + dt.timedelta(days=60)).date()), "IsClosed": "false",
            "IsWon": "false", "LeadSource": row["LeadSource"],
            "CreatedDate": _sf_time(converted_at), "LastModifiedDate": _sf_time(converted_at),
            "IsDeleted": "false",
        }  # fmt: skip
        out.add(opportunity, opportunity_row)
        out.add(opportunity_history, {
            "Id": _sf_id("008", 3), "OpportunityId": new_opportunity,
            "StageName": "Qualification", "Amount": "12000.00", "Probability": "10",
            "CloseDate": opportunity_row["CloseDate"], "CreatedDate": _sf_time(converted_at),
        })  # fmt: skip
        new_touch = "act-900000001"
        out.add("marketing_automation/activities", {
            "activity_id": new_touch, "email": converted_email, "activity_type": "form_fill",
            "activity_timestamp": stamp, "utm_source": "google", "utm_medium": "cpc",
            "landing_page": "/pricing",
        })  # fmt: skip
        edits["conversion"] = (converted_id, new_opportunity, new_touch)

        # 8. a backdated touch, two years before the last day, of another old lead's email
        (_, touched_email), pool = pool[-1], pool[:-1]
        first_touch = rows_of(
            "select min(activity_at) from stg_marketing_automation__activities where email = ?",
            touched_email,
        )[0][0]
        touched_at = first_touch - dt.timedelta(days=30)
        out.add("marketing_automation/activities", {
            "activity_id": "act-900000002", "email": touched_email,
            "activity_type": "web_visit", "activity_timestamp": _sf_time(touched_at),
            "utm_source": "google", "utm_medium": "organic", "landing_page": "/",
        })  # fmt: skip
        edits["backdated_touch"] = (touched_email, touched_at)

        # 9. a customer account's head count crosses a segment band: every month of its MRR,
        #    the old ones too, is in the new segment
        account_segment = rows_of(
            """
            select account_id, segment from int_accounts_segmented
            where account_id in (
                select account_id from int_mrr_customer_months
                where mrr > 0 and month_start_date < ?)
            order by account_id limit 1
            """,
            old.date(),
        )[0]
        segmented_id, segment = account_segment
        employees, new_segment = (
            ("5000", "Enterprise") if segment != "Enterprise" else ("50", "SMB")
        )
        row = out.latest(account, con, "stg_salesforce__accounts", "account_id", segmented_id)
        out.add(account, {**row, "NumberOfEmployees": employees, "LastModifiedDate": stamp})
        edits["segment"] = (segmented_id, new_segment, old.date())
    out.write()
    return edits


def _email_change_landed(rows_of, change: dict) -> None:
    credited = {
        t for (t,) in rows_of(
            "select touch_id from fct_attribution where opportunity_id = ? "
            "and touch_id is not null", change["opportunity_id"])
    }  # fmt: skip
    assert change["old_touches"] and not change["old_touches"] & credited, change
    assert rows_of(
        "select count(*) from int_touches_resolved where lead_id = ?", change["lead_id"]
    ) == [(change["new_touches"],)]


def _contact_email_landed(rows_of, edit: tuple) -> None:
    email, contact_id, account_id = edit
    assert rows_of(
        "select contact_id, account_id from int_people_resolved where email = ?", email
    ) == [(contact_id, account_id)]


def _deletion_landed(rows_of, deleted: str) -> None:
    assert rows_of(
        "select (select not is_reportable from int_leads_staged where lead_id = $1), "
        "(select count(*) from int_touches_resolved where lead_id = $1), "
        "(select count(*) from fct_funnel_stage_events where lead_id = $1)",
        deleted,
    ) == [(True, 0, 0)]


def _merge_landed(rows_of, edit: tuple) -> None:
    loser, winner, loser_touches = edit
    assert rows_of(
        "select lead_id, count(*) from int_touches_resolved where lead_id in (?, ?) group by all",
        loser,
        winner,
    ) == [(winner, loser_touches)]


def _backdated_mql_landed(rows_of, edit: tuple) -> None:
    qualified_id, qualified_at = edit
    assert rows_of("select mql_at from int_leads_staged where lead_id = ?", qualified_id) == [
        (qualified_at,)
    ]


def _opportunity_edits_landed(rows_of, edit: tuple) -> None:
    moved_close_id, new_close, reopened_id, lost_id, negotiated_at = edit
    assert rows_of(
        "select close_date from fct_opportunities where opportunity_id = ?", moved_close_id
    ) == [(new_close,)]
    assert rows_of(
        "select is_closed, is_won from fct_opportunities where opportunity_id = ?", reopened_id
    ) == [(False, False)]
    assert rows_of(
        "select entered_at from fct_opportunity_stage_history where opportunity_id = ? "
        "and stage_name = 'Negotiation'",
        lost_id,
    ) == [(negotiated_at,)]


def _conversion_landed(rows_of, edit: tuple) -> None:
    converted_id, new_opportunity, new_touch = edit
    assert rows_of(
        "select leads.converted_at is not null, funnel.opportunity_id "
        "from int_leads_staged as leads inner join fct_lead_funnel as funnel "
        "on leads.lead_id = funnel.lead_id where leads.lead_id = ?",
        converted_id,
    ) == [(True, new_opportunity)]
    assert (new_touch,) in rows_of(
        "select touch_id from fct_attribution where opportunity_id = ?", new_opportunity
    )


def _backdated_touch_landed(rows_of, edit: tuple) -> None:
    touched_email, touched_at = edit
    assert rows_of(
        "select first_touched_at from int_people_resolved where email = ?", touched_email
    ) == [(touched_at,)]


def _segment_change_landed(rows_of, edit: tuple) -> None:
    segmented_id, new_segment, old = edit
    segments = rows_of(
        "select segment, min(month_start_date) from int_mrr_customer_months "
        "where account_id = ? group by all",
        segmented_id,
    )
    assert len(segments) == 1 and segments[0][0] == new_segment and segments[0][1] < old, segments


# what each edit of `_deliver_crm_edits` must have changed (each fails on the warehouse before
# the edits were delivered)
CRM_EDITS_LANDED = {
    "email_change": _email_change_landed,
    "contact_email": _contact_email_landed,
    "deleted": _deletion_landed,
    "merge": _merge_landed,
    "backdated_mql": _backdated_mql_landed,
    "opportunities": _opportunity_edits_landed,
    "conversion": _conversion_landed,
    "backdated_touch": _backdated_touch_landed,
    "segment": _segment_change_landed,
}


def _assert_crm_edits_landed(warehouse: Path, edits: dict) -> None:
    """Each edit of `_deliver_crm_edits` changed the old rows it must change."""
    assert set(edits) == set(CRM_EDITS_LANDED)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name, landed in CRM_EDITS_LANDED.items():
            landed(lambda sql, *params: con.execute(sql, list(params)).fetchall(), edits[name])


# --- funnel marts: a converted lead's opportunity deleted ----------------------------------


def _deliver_opportunity_deletion(
    warehouse: Path, landing: Path, last_day: str, edits: dict
) -> tuple:
    """A delivery two days after `last_day` (its own day: `_deliver_crm_edits` writes the day
    after) that deletes an old opportunity converted from a lead, with stage history: its
    lead's funnel row loses the opportunity and its stays go (the affected-key marts find it
    by its signature, and their pre-hooks delete it; macros/funnel/affected_marts.sql). The
    opportunities `edits` changes are left alone. Returns the lead and the opportunity."""
    moved_close_id, _, reopened_id, lost_id, _ = edits["opportunities"]
    edited = [moved_close_id, reopened_id, lost_id, edits["email_change"]["opportunity_id"]]
    last = dt.datetime.fromisoformat(last_day).replace(tzinfo=dt.UTC)
    day = last + dt.timedelta(days=2)
    out = _Delivery(landing, last_day, day.strftime("%Y-%m-%d"))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        lead_id, opportunity_id = con.execute(
            """
            select funnel.lead_id, funnel.opportunity_id from fct_lead_funnel as funnel
            where funnel.opportunity_created_at < ? and funnel.opportunity_id in (
                select opportunity_id from fct_opportunity_stage_history
                where stage_sequence = 2)
              and funnel.opportunity_id not in (?, ?, ?, ?)
            order by funnel.lead_id desc limit 1
            """,
            [last - dt.timedelta(days=365), *edited],
        ).fetchone()
        row = out.latest("salesforce/Opportunity", con, "stg_salesforce__opportunities",
                         "opportunity_id", opportunity_id)  # fmt: skip
    out.add("salesforce/Opportunity", {
        **row, "IsDeleted": "true", "LastModifiedDate": _sf_time(day + dt.timedelta(hours=8)),
    })  # fmt: skip
    out.write()
    return lead_id, opportunity_id


def _assert_opportunity_deletion_landed(warehouse: Path, edit: tuple) -> None:
    lead_id, opportunity_id = edit
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "select (select opportunity_id from fct_lead_funnel where lead_id = $1), "
            "(select count(*) from fct_funnel_stage_events where lead_id = $1 "
            "and funnel_stage = 'opportunity'), "
            "(select count(*) from fct_opportunity_stage_history where opportunity_id = $2)",
            [lead_id, opportunity_id],
        ).fetchall() == [(None, 0, 0)]
