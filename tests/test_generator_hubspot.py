"""`revops generate --crm hubspot`: the same company as HubSpot CRM v3 exports. The files keep
the contract, the truth is the Salesforce company's, the bytes are deterministic, and the
variations HubSpot has (archived records, lifecycle set backwards, pipeline moves, several
currencies, merged contacts under --dirty) are in the files."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from revops import contract
from revops.generator.company import AnotherCompanyError
from revops.generator.config import SCALES, GeneratorConfig
from revops.generator.run import generate
from tests.test_generator import assert_files_match_contract

HUBSPOT_OBJECTS = [o for o in contract.OBJECTS if o.source == "hubspot"]


@pytest.fixture(scope="module")
def xs_hubspot(tmp_path_factory: pytest.TempPathFactory):
    """The `xs` company (as the session's xs_company) exported from HubSpot."""
    out = tmp_path_factory.mktemp("xs_hubspot") / "landing"
    return generate(GeneratorConfig(out=out, leads=SCALES["xs"], crm="hubspot"))


def _objects(root: Path, name: str) -> str:
    return f"read_ndjson_objects('{root}/hubspot/{name}/*/*.jsonl')"


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(root.rglob("*")):
        if f.is_file():
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


@pytest.mark.parametrize("obj", HUBSPOT_OBJECTS, ids=lambda o: o.folder)
def test_hubspot_files_match_the_contract(xs_hubspot, obj):
    assert_files_match_contract(xs_hubspot.out, obj)


def test_the_crm_folder_is_hubspot_only(xs_hubspot):
    root = xs_hubspot.out
    assert not (root / "salesforce").exists()
    assert {p.name for p in (root / "hubspot").iterdir()} == {o.name for o in HUBSPOT_OBJECTS}
    assert not any(k.startswith("salesforce/") for k in xs_hubspot.truth["deliveries"])


def test_same_company_same_truth(xs_hubspot, xs_company):
    """truth.json is the Salesforce company's but for the CRM named in the generator config,
    the CRM's owner ids in `reps` and the files summary (`deliveries`)."""
    hs, sf = xs_hubspot.truth, xs_company.truth
    assert hs["generator"].pop("crm") == "hubspot"
    assert sf["generator"].pop("crm") == "salesforce"
    try:
        assert set(hs) == set(sf)
        for key in set(sf) - {"reps", "deliveries"}:
            assert hs[key] == sf[key], key
        # reps: the same rows, each Salesforce user id standing for one HubSpot owner id
        strip = lambda rows: Counter(  # noqa: E731
            json.dumps({k: v for k, v in r.items() if k != "owner_id"}, sort_keys=True)
            for r in rows
        )
        assert strip(hs["reps"]) == strip(sf["reps"])
        owners = {}
        for a, b in zip(
            sorted(sf["reps"], key=lambda r: (r["month"], r["won_amount"], r["owner_id"])),
            sorted(hs["reps"], key=lambda r: (r["month"], r["won_amount"], r["owner_id"])),
            strict=True,
        ):
            owners.setdefault(a["owner_id"], set()).add(b["owner_id"])
        assert all(len(v) == 1 for v in owners.values())
        # the other sources' files: rows per object the same
        other = {k: v for k, v in sf["deliveries"].items() if not k.startswith("salesforce/")}
        assert {k: v for k, v in hs["deliveries"].items() if not k.startswith("hubspot/")} == other
    finally:
        hs["generator"]["crm"], sf["generator"]["crm"] = "hubspot", "salesforce"


def test_other_sources_are_the_same_files(xs_hubspot, xs_company):
    """Ads, FX and expenses are byte-identical; Stripe's customers name HubSpot company ids."""
    for folder in ("google_ads", "meta_ads", "linkedin_ads", "reference/fx_rates", "stripe/prices"):
        a, b = xs_company.out / folder, xs_hubspot.out / folder
        assert _digest(a) == _digest(b), folder
    con = duckdb.connect()
    ids = con.execute(
        f"select distinct json_extract_string(json, '$.metadata.crm_account_id') "
        f"from read_ndjson_objects('{xs_hubspot.out}/stripe/customers/*/*.jsonl') "
        "where json_extract_string(json, '$.metadata.crm_account_id') is not null"
    ).fetchall()
    companies = {
        r[0]
        for r in con.execute(
            f"select distinct json_extract_string(json, '$.id') "
            f"from {_objects(xs_hubspot.out, 'companies')}"
        ).fetchall()
    }
    assert ids and {i for (i,) in ids} <= companies


def test_same_arguments_give_byte_identical_files(tmp_path):
    small = dict(leads=400, days=120, crm="hubspot", dirty=True)
    a = generate(GeneratorConfig(out=tmp_path / "a", **small))
    b = generate(GeneratorConfig(out=tmp_path / "b", **small))
    assert _digest(a.out) == _digest(b.out)
    faults = {f["fault"]: f for f in a.truth["dirty"]}
    assert faults["renamed_column"]["skipped"] == "hubspot"
    merges = faults["merged_contacts"]["merges"]
    assert merges
    con = duckdb.connect()
    for m in merges:
        rows = con.execute(
            f"select json_extract_string(json, '$.updatedAt'), "
            f"json_extract_string(json, '$.properties.hs_merged_object_ids') "
            f"from {_objects(a.out, 'contacts')} "
            f"where json_extract_string(json, '$.id') = '{m['survivor']}' order by 1"
        ).fetchall()
        # the survivor names the absorbed contact from the merge on, not before
        assert all((merged == m["absorbed"]) == (t >= m["merged_at"]) for t, merged in rows)
        assert rows[-1][1] == m["absorbed"]
        absorbed = con.execute(
            f"select count(*) from {_objects(a.out, 'contacts')} "
            f"where json_extract_string(json, '$.id') = '{m['absorbed']}'"
        ).fetchone()[0]
        assert absorbed == 1  # sent once, never again


def test_a_folder_of_the_other_crm_is_refused(tmp_path):
    generate(GeneratorConfig(out=tmp_path, leads=300, days=60, seed=1))
    with pytest.raises(AnotherCompanyError) as refused:
        generate(GeneratorConfig(out=tmp_path, leads=300, days=60, seed=1, crm="hubspot"))
    assert "exported from hubspot" in str(refused.value)


def test_hubspot_variations_are_in_the_files(xs_hubspot):
    root = xs_hubspot.out
    con = duckdb.connect()
    contacts = _objects(root, "contacts")
    deals = _objects(root, "deals")

    def one(sql: str):
        return con.execute(sql).fetchone()[0]

    # an archived contact and an archived deal (the simulation's deleted leads and duplicates)
    for rel in (contacts, deals):
        assert one(
            f"select count(*) from {rel} where json_extract(json, '$.archived')::boolean "
            "and json_extract_string(json, '$.archivedAt') is not null"
        )
    # lifecycle history newest first; set backwards (MQL, then lead again); a skipped stage
    # (SQL without MQL); contacts created as subscribers
    history = (
        f"select json_extract_string(json, '$.id') as id, "
        f"json_extract_string(json, '$.updatedAt') as updated_at, "
        f"json_extract_string(json, '$.properties.lifecyclestage') as stage, "
        f"cast(json_extract(json, '$.propertiesWithHistory.lifecyclestage') as json[]) as h "
        f"from {contacts}"
    )
    con.execute(f"create table history as {history}")
    assert one("select count(*) from history where h[1]->>'value' is distinct from stage") == 0
    # newest first: no change is older than the one after it
    assert (
        one(
            "select count(*) from history where len(h) > 1 and list_bool_or(list_transform("
            "range(1, len(h)), lambda i: (h[i]->>'timestamp') < (h[i + 1]->>'timestamp')))"
        )
        == 0
    )
    values = "list_transform(list_reverse(h), lambda x: x->>'value')"  # oldest first
    steps = f"list_transform(range(1, len(h)), lambda i: {values}[i] || '>' || {values}[i + 1])"
    assert one(
        f"select count(*) from history where list_contains({steps}, 'marketingqualifiedlead>lead')"
    )
    assert one(
        f"select count(*) from history where list_contains({values}, 'salesqualifiedlead') "
        f"and not list_contains({values}, 'marketingqualifiedlead')"
    )
    assert one(f"select count(*) from history where {values}[1] = 'subscriber'")
    # a head count sent as a range option
    assert one(
        f"select count(*) from {contacts} "
        "where json_extract_string(json, '$.properties.numemployees') like '%-%'"
    )
    # deals moved between pipelines: two pipelines in the history, the stage id of the second
    moved = one(
        f"select count(distinct json_extract_string(json, '$.id')) from {deals} where "
        "json_array_length(json_extract(json, '$.propertiesWithHistory.pipeline')) = 2 and "
        "json_extract_string(json, '$.properties.pipeline') <> 'default' and "
        "json_extract_string(json, '$.properties.dealstage') in (select unnest(list_transform("
        "cast(json_extract(json, '$.stages') as json[]), lambda s: s->>'id')) from "
        f"{_objects(root, 'deal_pipelines')} where json_extract_string(json, '$.id') <> 'default')"
    )
    assert moved
    # deals in several currencies; stage entry dates set
    assert (
        one(
            f"select count(distinct json_extract_string(json, '$.properties.deal_currency_code')) "
            f"from {deals}"
        )
        >= 2
    )
    assert one(
        f"select count(*) from {deals} where "
        "json_extract_string(json, '$.properties.hs_date_entered_closedwon') is not null"
    )
    # owners and pipelines: a full snapshot every delivery day
    days = one(f"select count(*) from glob('{root}/hubspot/owners/*/*.jsonl')")
    assert days == xs_hubspot.truth["generator"]["days"]
    assert one(f"select count(*) from glob('{root}/hubspot/deal_pipelines/*/*.jsonl')") == days


def _comparable(truth: dict) -> dict:
    """truth.json less what names the CRM: its name, the owner ids in `reps`, the files."""
    out = {k: v for k, v in truth.items() if k not in ("reps", "deliveries")}
    out["generator"] = {k: v for k, v in truth["generator"].items() if k != "crm"}
    out["reps"] = sorted(
        json.dumps({k: v for k, v in r.items() if k != "owner_id"}, sort_keys=True)
        for r in truth["reps"]
    )
    return out


@pytest.mark.parametrize("profile", ["salesforce-defaults", "multi-currency-gaps"])
def test_org_profiles_work_with_hubspot(tmp_path, profile):
    """The profile facts a HubSpot portal can have (one currency, won deals without an amount,
    the org's stage labels, FX gaps) come through; Salesforce-only ones (headers, queues,
    metadata exports, picklist labels of lead status and type) do not apply. Same truth."""
    args = dict(leads=2000, days=365, org_profile=profile)
    sf = generate(GeneratorConfig(out=tmp_path / "sf", **args))
    hs = generate(GeneratorConfig(out=tmp_path / "hs", crm="hubspot", **args))
    assert _comparable(hs.truth) == _comparable(sf.truth)
    for obj in HUBSPOT_OBJECTS:
        assert_files_match_contract(hs.out, obj)
    con = duckdb.connect()
    deals = _objects(hs.out, "deals")
    currencies = {
        r[0]
        for r in con.execute(
            f"select distinct json_extract_string(json, '$.properties.deal_currency_code') "
            f"from {deals}"
        ).fetchall()
    }
    labels = {
        r[0]
        for r in con.execute(
            "select distinct unnest(list_transform(cast(json_extract(json, '$.stages') as "
            f"json[]), lambda s: s->>'label')) from {_objects(hs.out, 'deal_pipelines')}"
        ).fetchall()
    }
    if profile == "salesforce-defaults":
        assert currencies == {"USD"}
        assert "Proposal/Price Quote" in labels
        no_amount = con.execute(
            f"select count(*) from {deals} where json_extract_string(json, "
            "'$.properties.hs_is_closed_won') = 'true' and "
            "json_extract_string(json, '$.properties.amount') is null"
        ).fetchone()[0]
        assert no_amount > 0
    else:
        assert len(currencies) >= 3 and "Proposal" in labels


def test_until_extends_the_hubspot_company_day_by_day(tmp_path):
    """`--until` then a later `--until` writes the very files of one generation (the daily
    snapshots of owners and pipelines included), and the same truth."""
    import datetime as dt

    args = dict(leads=300, days=60, crm="hubspot")
    whole = generate(GeneratorConfig(out=tmp_path / "whole", **args))
    generate(GeneratorConfig(out=tmp_path / "parts", until=dt.date(2023, 1, 25), **args))
    parts = generate(GeneratorConfig(out=tmp_path / "parts", **args))
    assert parts.complete
    assert _digest(tmp_path / "parts") == _digest(tmp_path / "whole")
    assert json.loads((parts.out / "truth.json").read_text()) == whole.truth
