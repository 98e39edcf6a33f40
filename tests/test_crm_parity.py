"""Cross-CRM parity: the same simulated company (same seed) exported as Salesforce
(`xs_published`) and as HubSpot (`xs_hubspot_published`) gives the same marts: every row of
every mart, every column, compared as multisets once each CRM's record ids are translated to
the names they stand for (docs/HUBSPOT.md, "What differs between the two CRMs").

Record ids differ by construction (Salesforce's `0055g...AAA`, HubSpot's numeric strings), so
an id column is compared through what it identifies: a rep by name, an account by name, an
opportunity by name, a lead by email, a campaign by name. A surrogate key hashed from a source
id cannot be translated and is left out, by name, in SURROGATE_KEYS; a mart that describes the
export files themselves is left out in VENDOR_MARTS; the few columns HubSpot does not export or
that hold a CRM's own picklist text are in COLUMNS_NOT_COMPARED, and the forecast's manager
rollup in ROWS_NOT_COMPARED. Bookkeeping columns (`_...`, never published) are not compared.
Every list is in docs/HUBSPOT.md; nothing else may differ."""

from __future__ import annotations

import json

import duckdb
import pytest

from revops import publish

# Id columns of the marts -> the kind of record they identify (translated to its name).
ID_COLUMNS = {
    "owner_id": "rep",
    "rep_id": "rep",
    "manager_id": "rep",
    "account_id": "account",
    "opportunity_id": "opportunity",
    "campaign_id": "campaign",
    "crm_campaign_id": "campaign",
    "lead_id": "lead",
}
# (mart, column) whose value is a rep id on some rows (the rest pass through unchanged).
REP_KEYED = {("forecast_call", "rollup_key")}
# Keys hashed from a CRM record id: unique per row within a build, meaningless across CRMs.
SURROGATE_KEYS = {"stage_event_id", "stage_history_id", "attribution_id"}
# Marts about the export files (per source object and load), not about the company.
VENDOR_MARTS = {"data_quality_quarantine_by_object"}
# Columns left out, with why: what HubSpot does not export (null there), and the CRM's own
# picklist text as delivered (the mapped value beside it is compared).
COLUMNS_NOT_COMPARED = {
    ("dim_reps", "manager_id"): "HubSpot owners have no manager",
    ("dim_reps", "manager_name"): "HubSpot owners have no manager",
    ("dim_reps", "department"): "HubSpot owners have no department",
    ("dim_reps", "segment"): "HubSpot owners have no segment",
    ("dim_reps", "team"): "rep_roles' team, else the department (none on HubSpot)",
    ("rep_forecast", "manager_id"): "HubSpot owners have no manager",
    ("dim_accounts", "currency"): "HubSpot companies have no currency",
    ("dim_accounts", "account_type"): "vendor text: Salesforce Type, HubSpot lifecyclestage",
    ("dim_campaigns", "campaign_type"): "HubSpot campaigns have no type",
    ("dim_campaigns", "campaign_status"): "vendor text: each CRM's status values",
    ("fct_lead_funnel", "lead_status"): "vendor text: lead Status, lifecyclestage",
    ("fct_opportunities", "opportunity_type_label"): "vendor text: Type, dealtype",
}
# Rows left out: the forecast's team rollup is by manager, which HubSpot does not export.
ROWS_NOT_COMPARED = {"forecast_call": "rollup_level <> 'team'"}
# How each kind of id is named, per build: (relation, id column, name column).
NAMES = {
    "rep": ("dim_reps", "rep_id", "rep_name"),
    "account": ("dim_accounts", "account_id", "account_name"),
    "opportunity": ("fct_opportunities", "opportunity_id", "opportunity_name"),
    "campaign": ("dim_campaigns", "campaign_id", "campaign_name"),
    "lead": ("int_crm_leads_unioned", "lead_id", "lower(email)"),
}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@pytest.fixture(scope="module")
def both(xs_published, xs_hubspot_published, dbt_manifest):
    """One connection with the Salesforce build attached as `sf` and the HubSpot build as
    `hs`, each with an `<side>_names(kind, id, name)` table; and the list of marts."""
    manifest = json.loads(dbt_manifest.read_text())
    marts = sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["fqn"][1] == "marts"
        and node["config"]["materialized"] in ("table", "incremental")
    )
    con = duckdb.connect()
    con.execute(f"attach '{xs_published['warehouse']}' as sf (read_only)")
    con.execute(f"attach '{xs_hubspot_published['warehouse']}' as hs (read_only)")
    for side in ("sf", "hs"):
        parts = [
            f"select '{kind}' as kind, cast({key} as varchar) as id, "
            f"cast(any_value({name}) as varchar) as name "
            f"from {side}.main.{relation} where {key} is not null group by {key}"
            for kind, (relation, key, name) in NAMES.items()
        ]
        con.execute(f"create table {side}_names as {' union all '.join(parts)}")
    yield con, marts
    con.close()


def _select(con: duckdb.DuckDBPyConnection, side: str, mart: str) -> str:
    """The mart's rows with ids translated to names and surrogate keys left out."""
    columns = con.execute(f"describe {side}.main.{_q(mart)}").fetchall()
    expressions = []
    for name, data_type, *_ in columns:
        column = f"t.{_q(name)}"
        kind = ID_COLUMNS.get(name) or ("rep" if (mart, name) in REP_KEYED else None)
        if name in SURROGATE_KEYS or (mart, name) in COLUMNS_NOT_COMPARED:
            continue
        if name.startswith(publish.BOOKKEEPING_PREFIX):
            continue  # what an incremental mart was built from (hashes of ids): not published
        if kind:
            expressions.append(
                f"coalesce((select n.name from {side}_names as n where n.kind = '{kind}' "
                f"and n.id = cast({column} as varchar)), cast({column} as varchar)) as {_q(name)}"
            )
        elif data_type in ("DOUBLE", "FLOAT"):
            # a sum of doubles may differ in its last bit with the order of its rows
            expressions.append(f"round({column}, 9) as {_q(name)}")
        else:
            expressions.append(column)
    where = f" where {ROWS_NOT_COMPARED[mart]}" if mart in ROWS_NOT_COMPARED else ""
    return f"select {', '.join(expressions)} from {side}.main.{_q(mart)} as t{where}"


def test_every_mart_is_the_same_from_salesforce_and_from_hubspot(both):
    con, marts = both
    assert len(marts) >= 30
    differences: dict[str, object] = {}
    compared = 0
    for mart in marts:
        if mart in VENDOR_MARTS:
            continue
        sf_columns = [r[0] for r in con.execute(f"describe sf.main.{_q(mart)}").fetchall()]
        hs_columns = [r[0] for r in con.execute(f"describe hs.main.{_q(mart)}").fetchall()]
        assert sf_columns == hs_columns, mart
        sf, hs = _select(con, "sf", mart), _select(con, "hs", mart)
        counts = con.execute(
            f"select (select count(*) from ({sf})), (select count(*) from ({hs}))"
        ).fetchone()
        only_sf = con.execute(f"{sf} except all {hs} limit 3").fetchall()
        only_hs = con.execute(f"{hs} except all {sf} limit 3").fetchall()
        if only_sf or only_hs or counts[0] != counts[1]:
            (n_sf,) = con.execute(f"select count(*) from ({sf} except all {hs})").fetchone()
            (n_hs,) = con.execute(f"select count(*) from ({hs} except all {sf})").fetchone()
            differences[mart] = {
                "rows": counts,
                "only_salesforce": n_sf,
                "only_hubspot": n_hs,
                "columns": [
                    c
                    for c in sf_columns
                    if c not in SURROGATE_KEYS and (mart, c) not in COLUMNS_NOT_COMPARED
                ],
                "salesforce_e_g": only_sf,
                "hubspot_e_g": only_hs,
            }
        compared += counts[0]
    assert not differences, json.dumps(differences, indent=1, default=str)
    assert compared > 20_000


def test_the_marts_the_parity_rests_on_are_not_empty(both):
    """A parity of empty tables proves nothing: the funnel, opportunity and metric marts hold
    rows, and the id translation names every rep, account and opportunity of the facts."""
    con, _ = both
    for mart in (
        "fct_lead_funnel",
        "fct_opportunities",
        "fct_opportunity_stage_history",
        "fct_pipeline_snapshots",
        "sales_ops_metrics",
        "revops_metrics",
        "mrr_by_month",
        "rep_performance",
    ):
        assert con.execute(f"select count(*) from hs.main.{mart}").fetchone()[0] > 10, mart
    for side in ("sf", "hs"):
        unnamed = con.execute(
            f"""
            select count(*) from {side}.main.fct_opportunities as o
            where (o.account_id is not null and not exists (
                    select 1 from {side}_names as n
                    where n.kind = 'account' and n.id = o.account_id))
               or not exists (select 1 from {side}_names as n
                              where n.kind = 'opportunity' and n.id = o.opportunity_id)
            """
        ).fetchone()[0]
        assert unnamed == 0, side
