"""Org profiles (`revops generate --org-profile`): each xs company matches the contract (header
case aside), its truth.json is internally consistent and agrees with an independent reading of
its files, and `revops` (the default) is exactly the company the generator made before."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from revops import contract
from revops.cli import main
from revops.generator import profiles
from revops.generator.company import MANIFEST_FILE
from revops.generator.config import SCALES, GeneratorConfig
from revops.generator.run import GenerationResult, generate
from tests.test_generator import CHECKS
from tests.test_generator_reconstruction import _check_funnel, _check_mrr, _views

PROFILES = [p for p in profiles.PROFILES if p != profiles.DEFAULT_PROFILE]
_COMPANIES: dict[str, GenerationResult] = {}


@pytest.fixture(scope="session")
def profile_companies(tmp_path_factory: pytest.TempPathFactory):
    """Each profile's xs company, generated once per session on first use."""

    def get(name: str) -> GenerationResult:
        if name not in _COMPANIES:
            out = tmp_path_factory.mktemp(f"profile_{name}") / "landing"
            _COMPANIES[name] = generate(
                GeneratorConfig(out=out, leads=SCALES["xs"], org_profile=name)
            )
        return _COMPANIES[name]

    return get


def _files(root: Path, obj: contract.ExportObject) -> list[Path]:
    return sorted((root / obj.source / obj.name).glob("*/*"))


def _csv(root: Path, folder: str) -> str:
    return (
        f"read_csv('{root}/{folder}/*/*.csv', all_varchar = true, header = true, filename = true)"
    )


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


# --- every profile ------------------------------------------------------------------------


@pytest.mark.parametrize("name", PROFILES)
def test_profile_files_match_the_contract(profile_companies, name):
    """Contract columns in contract order (any case), required ones present and non-empty,
    values of the declared types; optional objects checked when delivered."""
    root = profile_companies(name).out
    con = duckdb.connect()
    # the profiles' companies export from Salesforce (test_generator_hubspot.py: HubSpot's)
    for obj in (o for o in contract.OBJECTS if o.source != "hubspot"):
        files = _files(root, obj)
        if not files:
            assert obj.optional, f"no deliveries for {obj.folder}"
            continue
        canon = {c.lower(): c for c in obj.column_names}
        names_seen: set[str] = set()
        # every file's header (CSV); the first and last 50 files line by line (JSON: the
        # deliveries before and after a Stripe API upgrade)
        sample = files if obj.format == "csv" else files[:50] + files[-50:]
        for f in sample:
            if obj.format == "csv":
                names = [canon.get(h.lower(), h) for h in _header(f)]
                shapes = [names]
            else:
                shapes = [list(json.loads(line)) for line in f.read_text().splitlines()]
            for names in shapes:
                assert names == [c for c in obj.column_names if c in names], (f, names)
                assert set(obj.required_columns) <= set(names), f
                for group in obj.required_any:
                    assert set(group) & set(names), (f, group)
                names_seen |= set(names)
        paths = [str(f) for f in files]
        if obj.format == "csv":
            rel = f"read_csv({paths}, all_varchar = true, header = true)"
            exprs = {c: f'"{c}"' for c in names_seen}
        else:
            rel = f"read_ndjson_objects({paths})"
            exprs = {c: f"json_extract_string(json, '$.\"{c}\"')" for c in names_seen}
        checks: list[tuple[str, str]] = []
        for col in obj.columns:
            if col.name not in names_seen:
                continue
            value = exprs[col.name]
            if col.required:
                checks.append((f"{col.name} empty", f"{value} is null"))
            if col.type in CHECKS:
                bad = CHECKS[col.type].format(c=value)
                checks.append(
                    (f"{col.name} not {col.type}", f"{value} is not null and {bad} is null")
                )
        counts = con.execute(
            "select "
            + ", ".join(f"count(*) filter (where {c})" for _, c in checks)
            + f" from {rel}"
        ).fetchone()
        failing = {label: n for (label, _), n in zip(checks, counts, strict=True) if n}
        assert not failing, (obj.folder, failing)


@pytest.mark.parametrize("name", PROFILES)
def test_profile_truth_is_internally_consistent(profile_companies, name):
    company = profile_companies(name)
    truth = company.truth
    profile = profiles.get(name)
    assert truth["generator"]["org_profile"] == name
    assert truth["settings"] == profile.settings
    funnel, reps = truth["funnel"], truth["reps"]
    for r in funnel:
        counted = r["opportunities_won"] - r["won_without_amount"] - r["won_unconverted"]
        assert counted >= 0, r
        if counted == 0:
            assert r["won_amount"] == "0.00", r
    by_month: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in funnel:
        m = by_month[r["month"]]
        for key in ("opportunities_won", "won_without_amount", "won_unconverted"):
            m[key] += r[key]
        m["won_amount"] += Decimal(r["won_amount"])
    rep_month: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in reps:
        assert r["opportunities_won"] > 0 and r["owner_id"].startswith("005"), r
        m = rep_month[r["month"]]
        for key in ("opportunities_won", "won_without_amount", "won_unconverted"):
            m[key] += r[key]
        m["won_amount"] += Decimal(r["won_amount"])
    for month, m in by_month.items():
        if m["opportunities_won"]:
            assert rep_month[month] == m, month
    assert sum(r["opportunities_won"] for r in reps) > 50
    # the owners are users of the User export
    users = {
        row[0]
        for row in duckdb.sql(
            f"select distinct Id from {_csv(company.out, 'salesforce/User')}"
        ).fetchall()
    }
    assert {r["owner_id"] for r in reps} <= users


@pytest.mark.parametrize("name", PROFILES)
def test_won_deals_in_the_files_equal_the_truth(profile_companies, name):
    """Won deals per month and owner from the Opportunity files and fx_rates alone: a deal
    without Amount is counted apart; a deal converts at the latest rate on or before its
    close date at most 7 days old, else it is unconverted; amounts sum per deal rounded."""
    company = profile_companies(name)
    root = company.out
    con = duckdb.connect()
    corporate = company.truth["settings"].get("corporate_currency", "USD")
    cols = {c.lower() for c in _header(next((root / "salesforce/Opportunity").glob("*/*")))}
    currency = "CurrencyIsoCode" if "currencyisocode" in cols else f"'{corporate}'"
    rows = con.execute(
        f"""
        with opps as (
            select * from {_csv(root, "salesforce/Opportunity")}
            qualify row_number() over (
                partition by Id order by LastModifiedDate desc, filename desc) = 1
        ),
        won as (
            select Id, OwnerId, cast(CloseDate as date) as close_date,
                cast(Amount as decimal(18, 2)) as amount, {currency} as currency
            from opps where IsWon = 'true' and IsDeleted = 'false'
        ),
        fx as (
            select cast(rate_date as date) as rate_date, base_currency as currency,
                cast(rate as decimal(18, 6)) as rate
            from {_csv(root, "reference/fx_rates")}
        ),
        rated as (
            select w.*, case when w.currency = 'USD' then 1.0
                when fx.rate_date >= w.close_date - 7 then fx.rate end as rate
            from won w asof left join fx
                on fx.currency = w.currency and fx.rate_date <= w.close_date
        )
        select strftime(close_date, '%Y-%m'), OwnerId, count(*),
            coalesce(sum(round(amount * rate, 2)), 0),
            count(*) filter (where amount is null),
            count(*) filter (where amount is not null and rate is null)
        from rated group by all
        """
    ).fetchall()
    got = {(m, o): (n, amt, na, nu) for m, o, n, amt, na, nu in rows}
    want = {
        (r["month"], r["owner_id"]): (
            r["opportunities_won"],
            Decimal(r["won_amount"]),
            r["won_without_amount"],
            r["won_unconverted"],
        )
        for r in company.truth["reps"]
    }
    assert got == want


# --- the default profile is the old company ------------------------------------------------

# sha256 of `revops generate --leads 400 --days 120 --seed 5 --dirty` before org profiles
# existed (every delivery file: not truth.json, which gained keys, see the next test, nor the
# generator's manifest, which came later)
REVOPS_SMALL_DIGEST = "1030ee900c8fb8115d41fe7a1adcb4c5cd16df8bf05274f19187dcd558e60760"
# sha256 of that company's truth.json then, its `mrr` rows cut to the fields they keep today
# (the reporting-currency movements moved to `mrr_fx_neutral`, in constant currency; the full
# old file's sha256 was 85828112fae9b8c9286207fe27601ac838b14ddbbbb27325bad6dd1818f92c69);
# today's, less the keys added since, is it
REVOPS_SMALL_TRUTH = "4d47f2fa0de0672c5d132a556dff04efa445beb3bb2c53bd570c0289c7aeda9d"
ADDED_KEYS = (
    "reps",
    "fx_gaps",
    "settings",
    "stripe_api",
    "deal_categories",
    "mrr_fx_neutral",
    "costs",
    "cltv_and_pipeline",
    "forecast_outcomes",
    "pipeline_as_of",
)
MRR_KEPT_FIELDS = ["month", "segment", "mrr", "mrr_constant_currency", "customers", "previous_mrr"]


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(root.rglob("*")):
        if f.is_file() and f.name not in ("truth.json", MANIFEST_FILE):
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def test_revops_profile_is_the_default_and_unchanged(tmp_path):
    small = dict(leads=400, days=120, seed=5, dirty=True)
    a = generate(GeneratorConfig(out=tmp_path / "a", **small))
    b = generate(GeneratorConfig(out=tmp_path / "b", org_profile="revops", **small))
    assert _digest(a.out) == _digest(b.out) == REVOPS_SMALL_DIGEST
    truth = json.loads((a.out / "truth.json").read_text())
    assert truth["generator"]["org_profile"] == "revops"
    assert truth["settings"] == {} and truth["fx_gaps"] == []
    assert all(r["won_without_amount"] == r["won_unconverted"] == 0 for r in truth["funnel"])
    del truth["generator"]["org_profile"], truth["generator"]["crm"]
    del truth["definitions"]["won_exclusions"], truth["definitions"]["reps"]
    del truth["definitions"]["mrr_fx_neutral"], truth["definitions"]["costs"]
    del truth["definitions"]["cltv_and_pipeline"], truth["definitions"]["pipeline_as_of"]
    assert [list(r) for r in truth["mrr"]] == [MRR_KEPT_FIELDS] * len(truth["mrr"])
    for r in truth["funnel"]:
        del r["won_without_amount"], r["won_unconverted"]
    for key in ADDED_KEYS:
        del truth[key]
    old = (json.dumps(truth, indent=1, sort_keys=False) + "\n").encode()
    assert hashlib.sha256(old).hexdigest() == REVOPS_SMALL_TRUTH


# --- salesforce-defaults ------------------------------------------------------------------


def test_salesforce_defaults_looks_like_a_new_salesforce_org(profile_companies):
    company = profile_companies("salesforce-defaults")
    root = company.out
    con = duckdb.connect()
    # no CurrencyIsoCode anywhere; Lead and Opportunity headers upper case in every file
    for f in (root / "salesforce").rglob("*.csv"):
        header = _header(f)
        assert "currencyisocode" not in {h.lower() for h in header}, f
        if f.parent.parent.name in ("Lead", "Opportunity"):
            assert header == [h.upper() for h in header], f
            assert "STAGENAME" in header or "STATUS" in header, f
    stages = {s[0] for s in profiles.SF_STAGES}
    got = con.execute(
        f"select distinct StageName, Type from {_csv(root, 'salesforce/Opportunity')}"
    ).fetchall()
    assert {s for s, _ in got} <= stages
    assert {t for _, t in got} == {
        "New Customer",
        "Existing Customer - Upgrade",
        "Existing Customer - Replacement",
    }
    statuses = {s[0] for s in profiles.SF_LEAD_STATUSES}
    lead = _csv(root, "salesforce/Lead")
    assert {r[0] for r in con.execute(f"select distinct Status from {lead}").fetchall()} == (
        statuses
    )
    # metadata exports
    assert con.execute(
        f"select count(*) from {_csv(root, 'salesforce/OpportunityStage')}"
    ).fetchone() == (10,)
    assert con.execute(
        f"select string_agg(MasterLabel, '|' order by SortOrder::int) "
        f"from {_csv(root, 'salesforce/LeadStatus')} where IsConverted = 'true'"
    ).fetchone() == ("Closed - Converted",)
    # queues own about a tenth of the leads, never a converted one, never an opportunity
    queued, leads, converted_queued = con.execute(
        f"""select count(distinct Id) filter (where OwnerId like '00G%'), count(distinct Id),
            count(*) filter (where OwnerId like '00G%' and IsConverted = 'true') from {lead}"""
    ).fetchone()
    assert 0.05 < queued / leads < 0.2 and converted_queued == 0
    assert con.execute(
        f"select count(*) from {_csv(root, 'salesforce/Opportunity')} where OwnerId like '00G%'"
    ).fetchone() == (0,)
    # varied rep titles; a single currency in billing
    titles = {
        r[0] for r in con.execute(f"select Title from {_csv(root, 'salesforce/User')}").fetchall()
    }
    assert {"Senior Account Executive", "Enterprise AE", "BDR"} <= titles
    assert con.execute(
        f"select distinct json->>'currency' from read_ndjson_objects('{root}/stripe/customers/*/*')"
    ).fetchall() == [("usd",)]
    # some won deals without Amount on every version
    funnel = company.truth["funnel"]
    no_amount = sum(r["won_without_amount"] for r in funnel)
    won = sum(r["opportunities_won"] for r in funnel)
    assert 0 < no_amount < 0.1 * won


def test_salesforce_defaults_mrr_in_the_files_equals_the_truth(profile_companies):
    _check_mrr(profile_companies("salesforce-defaults"))


def test_salesforce_defaults_lead_funnel_in_the_files_equals_the_truth(profile_companies):
    """MQL = `Marketing Qualified Lead`, SQL = `Sales Accepted Lead`, converted =
    `Closed - Converted`; `Recycled` means nothing; a queue-owned lead counts like any other."""
    company = profile_companies("salesforce-defaults")
    con = duckdb.connect()
    _views(con, company.out)
    con.execute(
        """
        create or replace view stages as
        select lead_id,
            min(changed_at) filter (where status in (
                'Marketing Qualified Lead', 'Sales Accepted Lead', 'Closed - Converted'
            )) as mql_at,
            min(changed_at) filter (
                where status in ('Sales Accepted Lead', 'Closed - Converted')
            ) as sql_at
        from status_events group by lead_id
        """
    )
    got: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for name, at in (("leads", "l.created_at"), ("mqls", "s.mql_at"), ("sqls", "s.sql_at")):
        rows = con.execute(
            f"""select strftime({at}, '%Y-%m'), l.segment, count(*) from live_leads l
            join stages s using (lead_id) where {at} is not null group by all"""
        ).fetchall()
        for month, segment, n in rows:
            got[(month, segment)][name] = n
    for row in company.truth["funnel"]:
        for name in ("leads", "mqls", "sqls"):
            assert got.get((row["month"], row["segment"]), {}).get(name, 0) == row[name], row


# --- long-history -------------------------------------------------------------------------


def test_long_history_starts_before_2020_and_spans_seven_years(profile_companies):
    company = profile_companies("long-history")
    gen = company.truth["generator"]
    assert gen["start_date"] == "2019-01-01" and gen["days"] == 2557
    months = sorted({r["month"] for r in company.truth["funnel"]})
    assert months[0] == "2019-01" and len(months) == 84
    assert sum(r["leads"] for r in company.truth["funnel"] if r["month"] < "2020") > 0
    assert any(Decimal(r["mrr"]) > 0 for r in company.truth["mrr"] if r["month"] < "2020")
    assert min(p.name for p in (company.out / "salesforce/Lead").iterdir()) < "2020"


def test_long_history_funnel_and_mrr_in_the_files_equal_the_truth(profile_companies):
    _check_funnel(profile_companies("long-history"))
    _check_mrr(profile_companies("long-history"))


def test_profile_history_yields_to_explicit_arguments(tmp_path):
    config = GeneratorConfig(out=tmp_path, org_profile="long-history", days=60)
    assert (config.start_date, config.days) == (dt.date(2019, 1, 1), 60)
    config = GeneratorConfig(
        out=tmp_path, org_profile="long-history", start_date=dt.date(2018, 1, 1)
    )
    assert (config.start_date, config.days) == (dt.date(2018, 1, 1), 2557)
    assert GeneratorConfig(out=tmp_path).start_date == dt.date(2023, 1, 1)
    with pytest.raises(ValueError, match="unknown org profile"):
        GeneratorConfig(out=tmp_path, org_profile="acme")


# --- stripe-2025 --------------------------------------------------------------------------


def test_stripe_2025_is_the_same_company_in_newer_stripe_shapes(profile_companies, xs_company):
    """Same simulation as `revops`: every non-Stripe file identical, the truth identical, and
    each Stripe object after the upgrade carries the same facts in the 2025-03-31 shape."""
    new = profile_companies("stripe-2025")
    old = xs_company
    cutover = new.truth["stripe_api"][1]
    assert cutover["version"].startswith("2025-03-31")
    for f in sorted(old.out.rglob("*")):
        rel = f.relative_to(old.out)
        if f.is_file() and rel.parts[0] != "stripe" and f.name not in ("truth.json", MANIFEST_FILE):
            assert (new.out / rel).read_bytes() == f.read_bytes(), rel
    for key in ("funnel", "funnel_cohorts", "mrr", "ad_spend", "totals", "reps"):
        assert new.truth[key] == old.truth[key], key

    def lines(root: Path, obj: str) -> dict[str, tuple[str, dict]]:
        out = {}
        for f in sorted((root / "stripe" / obj).glob("*/*.jsonl")):
            for line in f.read_text().splitlines():
                rec = json.loads(line)
                out[(rec["id"], f.parent.name)] = rec
        return out

    first = cutover["first_delivery"]
    checked = defaultdict(int)
    for obj in ("invoice_line_items", "invoices", "subscriptions", "subscription_items"):
        a, b = lines(old.out, obj), lines(new.out, obj)
        assert a.keys() == b.keys(), obj
        for key, rec in b.items():
            was = a[key]
            if key[1] < first:
                assert rec == was
                continue
            checked[obj] += 1
            if obj == "invoice_line_items":
                assert not {"type", "price", "proration", "subscription", "subscription_item"} & (
                    set(rec)
                )
                assert rec["pricing"]["price_details"]["price"] == was["price"]["id"]
                assert rec["pricing"]["price_details"]["product"] == was["price"]["product"]
                parent = rec["parent"]
                kind = parent["type"].removesuffix("_details")
                assert (
                    kind
                    == {"subscription": "subscription_item", "invoiceitem": "invoice_item"}[
                        was["type"]
                    ]
                )
                details = parent[parent["type"]]
                assert details["subscription"] == was["subscription"]
                assert details["proration"] == was["proration"]
                if kind == "subscription_item":
                    assert details["subscription_item"] == was["subscription_item"]
            elif obj == "invoices":
                assert "subscription" not in rec and "tax" not in rec
                assert (
                    rec["parent"]["subscription_details"]["subscription"] == (was["subscription"])
                )
                assert sum(t["amount"] for t in rec["total_taxes"]) == was["tax"]
            elif obj == "subscriptions":
                assert not {"current_period_start", "current_period_end", "discount"} & set(rec)
                assert rec["discounts"] == ([was["discount"]["id"]] if was["discount"] else [])
            else:
                assert rec["current_period_start"] is not None
                assert rec["current_period_start"] < rec["current_period_end"]
            rest = {k: v for k, v in rec.items() if k in was}
            assert rest == {k: was[k] for k in rest}, key
    assert min(checked.values()) > 10, checked


# --- multi-currency-gaps ------------------------------------------------------------------


def test_multi_currency_gaps_in_the_rates_file(profile_companies):
    company = profile_companies("multi-currency-gaps")
    root = company.out
    gen = company.truth["generator"]
    start = dt.date.fromisoformat(gen["start_date"])
    rates: dict[str, set[dt.date]] = defaultdict(set)
    for f in (root / "reference/fx_rates").glob("*/*.csv"):
        with f.open(newline="") as fh:
            for row in csv.DictReader(fh):
                rates[row["base_currency"]].add(dt.date.fromisoformat(row["rate_date"]))
    assert set(rates) == {"EUR", "GBP", "JPY"}  # and none for CHF
    days = [start + dt.timedelta(days=i) for i in range(gen["days"])]
    for code, have in rates.items():
        # no weekend rates (except before the history's first weekday)
        assert all(d.weekday() < 5 or d < start + dt.timedelta(days=3) for d in have), code
        # every month's last day has a rate at most 7 days old (MRR converts there)
        for d in days:
            if (d + dt.timedelta(days=1)).day == 1 or d == days[-1]:
                assert any(d - dt.timedelta(days=k) in have for k in range(8)), (code, d)
    gaps = company.truth["fx_gaps"]
    assert [g["currency"] for g in gaps if g["currency"] != "GBP"] == ["CHF"]
    gbp = [g for g in gaps if g["currency"] == "GBP"]
    assert len(gbp) >= 2
    for g in gbp:
        first, last = (
            dt.date.fromisoformat(g[k]) for k in ("first_missing_date", "last_missing_date")
        )
        assert (last - first).days + 1 > 7
        assert not any(first <= d <= last for d in rates["GBP"])
        assert first - dt.timedelta(days=1) in rates["GBP"] or first.weekday() == 0
        dead = dt.date.fromisoformat(g["first_unconvertible_date"])
        assert (dead - max(d for d in rates["GBP"] if d < first)).days == 8
    chf = duckdb.sql(
        f"select count(distinct Id) from {_csv(root, 'salesforce/Opportunity')} "
        "where CurrencyIsoCode = 'CHF'"
    ).fetchall()[0][0]
    assert chf >= 3
    unconverted = sum(r["won_unconverted"] for r in company.truth["funnel"])
    assert unconverted >= 3 + len(gbp)


def test_multi_currency_gaps_mrr_in_the_files_equals_the_truth(profile_companies):
    _check_mrr(profile_companies("multi-currency-gaps"))


def test_cli_generate_takes_an_org_profile(tmp_path, capsys):
    out = tmp_path / "landing"
    args = ["generate", "--leads", "200", "--days", "45", "--seed", "3", "--out", str(out)]
    assert main([*args, "--org-profile", "salesforce-defaults"]) == 0
    truth = json.loads((out / "truth.json").read_text())
    assert truth["generator"]["org_profile"] == "salesforce-defaults"
    assert "org profile salesforce-defaults" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main([*args, "--org-profile", "acme"])
