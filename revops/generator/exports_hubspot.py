"""The simulated CRM as HubSpot's CRM v3 API exports it (`revops generate --crm hubspot`).

The same company as the Salesforce export (exports.py), from the same simulated arrays: leads
are contacts (lifecycle stage for the funnel, lead status for the work on them), accounts are
companies, opportunities are deals in a `default` pipeline whose stage labels are the
simulation's, reps are owners. Every contact, company and deal change is a new line in that
day's delivery with the full current `properties` and the full `propertiesWithHistory`
(newest first); owners and deal pipelines are a full snapshot every day.

What HubSpot has and Salesforce does not is exercised without changing the truth: contacts
created as `subscriber` (a stage no funnel counts), lifecycle set backwards (the MQL
regression), deals moved into a second pipeline (`Enterprise`, same labels, other stage ids)
mid-life at one of their stage changes, head counts sent as a range option (not a count).
Those draws come from their own random stream, so the simulation draws exactly as before.

Ids are numeric strings, in a disjoint range per object type (ID_BASE).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np

from revops import contract
from revops.generator import writer as w
from revops.generator.billing import Billing
from revops.generator.common import DAY, NAT
from revops.generator.crm import (
    OPP_STAGES,
    STAGE_PROBABILITY,
    STATUS_CONVERTED,
    STATUS_MQL,
    STATUS_NURTURE,
    Deals,
    Leads,
    Users,
)
from revops.generator.marketing import CHANNELS, Campaigns
from revops.generator.profiles import OrgProfile
from revops.generator.reference import MINOR_EXPONENT

# First id of each object type (ids are numeric strings, disjoint ranges per type).
ID_BASE = {
    "owner": 10_000_000,
    "user": 20_000_000,
    "team": 30_000_000,
    "pipeline": 40_000_000,
    "stage": 50_000_000,
    "contact": 1_000_000_000,
    "merged_contact": 1_500_000_000,  # --dirty: duplicates a survivor later absorbs
    "test_contact": 1_900_000_000,  # --dirty: test and internal contacts
    "company": 2_000_000_000,
    "deal": 3_000_000_000,
    "campaign": 4_000_000_000,
}

# Lifecycle stages (internal values) and the hs_lead_status values the generator writes.
SUBSCRIBER = "subscriber"
LEAD = "lead"
MQL = "marketingqualifiedlead"
SQL = "salesqualifiedlead"
OPPORTUNITY = "opportunity"
CUSTOMER = "customer"
LIFECYCLE_STAGES = (
    SUBSCRIBER,
    LEAD,
    MQL,
    SQL,
    OPPORTUNITY,
    CUSTOMER,
    "evangelist",
    "other",
)
LS_NEW, LS_WORKING, LS_OPEN_DEAL = "NEW", "IN_PROGRESS", "OPEN_DEAL"
LS_UNQUALIFIED, LS_NURTURE = "UNQUALIFIED", "BAD_TIMING"

# Share of contacts (not created as MQL) created as subscribers; share of new-business deals
# moved into the second pipeline; share of unknown head counts sent as a range option.
SUBSCRIBER_SHARE = 0.15
PIPELINE_MOVE_SHARE = 0.12
RANGE_HEADCOUNT_SHARE = 0.5
HEADCOUNT_RANGES = ((1, 5), (5, 25), (25, 50), (50, 100), (100, 500), (500, 1000), (1000, None))

# Where HubSpot's analytics put each simulated lead source: (hs_analytics_source,
# hs_analytics_source_data_1); None: the referring domain.
ANALYTICS_SOURCE = {
    "Google Ads": ("PAID_SEARCH", "google"),
    "LinkedIn": ("PAID_SOCIAL", "LinkedIn"),
    "Facebook": ("PAID_SOCIAL", "Facebook"),
    "Organic Search": ("ORGANIC_SEARCH", "google"),
    "Webinar": ("OFFLINE", "INTEGRATION"),
    "Trade Show": ("OFFLINE", "IMPORT"),
    "Outbound": ("OFFLINE", "CRM_UI"),
    "Referral": ("REFERRALS", None),
    "Partner": ("OTHER_CAMPAIGNS", "partner"),
}
REFERRER_DOMAINS = ("g2.com", "capterra.com", "producthunt.com", "news.ycombinator.com")

DEAL_TYPES = {"New Business": "newbusiness", "Expansion": "existingbusiness", "Renewal": "renewal"}
DEFAULT_PIPELINE = ("default", "Sales Pipeline")
SECOND_PIPELINE_LABEL = "Enterprise"
STAGES = (*OPP_STAGES, "Closed Won", "Closed Lost")

# rows per COPY of contacts and deals: their lines are wide (every property, the whole history)
WIDE_CHUNK_ROWS = 100_000

ISO_SQL = "strftime(make_timestamp(cast({c} as bigint) * 1000000), '%Y-%m-%dT%H:%M:%S.000Z')"


@dataclass
class HubSpotIds:
    """The HubSpot ids that stand in for CRM records in the other sources' files."""

    owner_id: np.ndarray  # per user
    company_id: np.ndarray  # per account
    campaign_id: np.ndarray  # per campaign
    contact_id: np.ndarray  # per lead


def hs_ids(kind: str, numbers: np.ndarray) -> np.ndarray:
    return np.char.mod("%d", ID_BASE[kind] + np.asarray(numbers, dtype=np.int64)).astype(object)


def _day(ts: np.ndarray, start_ts: int) -> np.ndarray:
    return np.maximum(0, (np.asarray(ts) - start_ts) // DAY)


def _iso(column: str) -> str:
    """ISO 8601 text of a Unix-seconds column; NAT is null."""
    return f"case when {column} = {NAT} then null else {ISO_SQL.format(c=column)} end"


def stage_id(label: str) -> str:
    """The default pipeline's stage id for a label: HubSpot's closedwon / closedlost, else
    the label lower-cased without spaces or punctuation."""
    if label == "Closed Won":
        return "closedwon"
    if label == "Closed Lost":
        return "closedlost"
    return re.sub(r"[^a-z0-9]", "", label.lower())


def _probability(profile: OrgProfile) -> list[int]:
    """Percent per simulated stage, as the Salesforce export writes it."""
    if profile.stage_labels:
        return [profile.stage_probability[profile.stage(s)] for s in STAGES]
    return [STAGE_PROBABILITY[s] for s in STAGES]


def _fraction(percent: int) -> str:
    return f"{percent / 100:g}"


def _forward(set_: np.ndarray) -> np.ndarray:
    """Per row, the index of the latest row at or before it where `set_` holds (-1: none)."""
    return np.maximum.accumulate(np.where(set_, np.arange(set_.size), -1))


class _History:
    """`propertiesWithHistory` of one object: per property, every change up to each version,
    newest first. A version's history is the entity's changes up to its time, so it is one of
    the entity's few prefixes: each change's JSON text is made once, each prefix once (newest
    first), and a version picks its prefix by position (no per-version work in Python)."""

    def __init__(
        self, n_entities: int, v_entity: np.ndarray, v_t: np.ndarray, uid: np.ndarray
    ) -> None:
        self.v_entity = v_entity.astype(np.int64)
        self.v_key = (self.v_entity << 32) + v_t.astype(np.int64)
        self.uid = np.char.mod("%d", np.asarray(uid, dtype=np.int64))  # per entity
        self.parts: list[str] = []
        self.helpers: dict[str, np.ndarray] = {}

    def add(self, name: str, entity: np.ndarray, t: np.ndarray, value: np.ndarray) -> None:
        entity = np.asarray(entity, dtype=np.int64)
        order = np.lexsort((t, entity))
        entity, t, value = entity[order], np.asarray(t)[order], np.asarray(value)[order]
        key = (entity << 32) + t.astype(np.int64)
        new_entity = np.concatenate([[True], entity[1:] != entity[:-1]]).tolist()
        prefixes: list[str] = []
        for v, ts, uid, first in zip(
            value.tolist(), _iso_text(t).tolist(), self.uid[entity].tolist(), new_entity,
            strict=True,
        ):  # fmt: skip
            item = (
                f'{{"value":{json.dumps(v) if v else "null"},"timestamp":"{ts}",'
                f'"sourceType":"CRM_UI","sourceId":"userId:{uid}","updatedByUserId":{uid}}}'
            )
            prefixes.append(item if first else item + "," + prefixes[-1])
        text = np.array([*prefixes, ""], dtype=object)
        # changes at or before each version: the last one's prefix (none: an empty list)
        last = np.searchsorted(key, self.v_key, side="right") - 1
        has = (last >= 0) & (entity[np.maximum(last, 0)] == self.v_entity)
        p = len(self.parts)
        self.helpers[f"_h{p}"] = text[np.where(has, last, len(prefixes))]
        self.parts.append(f"'\"{name}\":[' || _h{p} || ']'")

    def sql(self) -> str:
        return "cast('{' || " + " || ',' || ".join(self.parts) + " || '}' as json)"


def write_hubspot(
    writer: w.DeliveryWriter,
    *,
    start_ts: int,
    end_ts: int,
    users: Users,
    leads: Leads,
    deals: Deals,
    opps,
    campaigns: Campaigns,
    ads: dict[str, np.ndarray],
    billing: Billing,
    profile: OrgProfile,
    seed: int,
    progress=None,
) -> HubSpotIds:
    step = progress or (lambda name: None)
    rng = np.random.default_rng([seed, 20])  # HubSpot's own draws: the simulation is untouched
    n_users = users.name.size
    owner_id = hs_ids("owner", np.arange(n_users))
    user_num = ID_BASE["user"] + np.arange(n_users, dtype=np.int64)
    contact_id = hs_ids("contact", np.arange(leads.n))
    n_acc = deals.lead.size
    company_id = hs_ids("company", np.arange(n_acc))
    deal_id = hs_ids("deal", np.arange(opps.account.size))
    campaign_id = hs_ids("campaign", np.arange(campaigns.name.size))

    _write_owners(writer, users, owner_id, user_num, start_ts, end_ts)
    step("hubspot/owners")
    stage_ids = _write_pipelines(writer, profile, start_ts, end_ts)
    step("hubspot/deal_pipelines")
    _write_contacts(
        writer, rng, leads, deals, campaigns, owner_id, user_num, contact_id, company_id,
        deal_id, start_ts,
    )  # fmt: skip
    step("hubspot/contacts")
    _write_companies(writer, leads, deals, billing, owner_id, company_id, start_ts)
    step("hubspot/companies")
    _write_deals(
        writer, rng, leads, deals, opps, profile, stage_ids, owner_id, user_num, contact_id,
        company_id, deal_id, campaign_id, start_ts,
    )  # fmt: skip
    step("hubspot/deals")
    _write_campaigns(writer, campaigns, ads, campaign_id, start_ts, end_ts)
    step("hubspot/campaigns")
    return HubSpotIds(
        owner_id=owner_id, company_id=company_id, campaign_id=campaign_id, contact_id=contact_id
    )


def _write_owners(writer, users: Users, owner_id, user_num, start_ts: int, end_ts: int) -> None:
    """A full snapshot of the owners every day: those hired by the day's end; a rep who left
    is archived from the day after."""
    n_days = (end_ts - start_ts) // DAY
    first = np.clip((users.hire_ts - start_ts) // DAY, 0, n_days)
    counts = n_days - first
    u = np.repeat(np.arange(users.name.size), counts)
    offsets = np.cumsum(counts) - counts
    day = first[u] + np.arange(u.size) - offsets[u]
    day_end = start_ts + (day + 1) * DAY
    left = (users.leave_ts[u] != NAT) & (users.leave_ts[u] < day_end)
    names = users.name.astype(str)
    first_name = np.array([s.split(" ", 1)[0] for s in names], dtype=object)
    last_name = np.array([s.split(" ", 1)[1] if " " in s else "" for s in names], dtype=object)
    titles = sorted(set(users.title.tolist()))
    team_num = ID_BASE["team"] + np.searchsorted(np.array(titles), users.title)
    writer.write(
        contract.get("hubspot", "owners"),
        {
            "id": w.text(owner_id[u]),
            "email": w.text(users.email[u]),
            "firstName": w.text(first_name[u]),
            "lastName": w.text(last_name[u]),
            "userId": w.integer(user_num[u]),
            "teams": w.expr("[{'id': cast(_team_id as varchar), 'name': _team, 'primary': true}]"),
            "createdAt": w.timestamp(users.hire_ts[u]),
            "updatedAt": w.timestamp(np.where(left, users.leave_ts[u], users.hire_ts[u])),
            "archived": w.boolean(left),
        },
        day,
        order=["id"],
        helpers={"_team_id": team_num[u], "_team": users.title[u].astype(object)},
    )


def _write_pipelines(writer, profile: OrgProfile, start_ts: int, end_ts: int) -> np.ndarray:
    """Both deal pipelines, every day. Returns the stage ids, shape (2 pipelines, 6 stages)."""
    labels = [profile.stage(s) for s in STAGES]
    prob = _probability(profile)
    ids = np.array(
        [
            [stage_id(label) for label in labels],
            [str(ID_BASE["stage"] + k) for k in range(len(labels))],
        ],
        dtype=object,
    )
    made = _iso(str(start_ts - 900 * DAY))

    def stages_sql(p: int) -> str:
        items = [
            f"{{'id': '{ids[p, k]}', 'label': '{label}', 'displayOrder': {k}, "
            f"'metadata': {{'probability': '{_fraction(prob[k])}', "
            f"'isClosed': '{'true' if k >= len(OPP_STAGES) else 'false'}'}}, "
            f"'archived': false, 'createdAt': {made}, 'updatedAt': {made}}}"
            for k, label in enumerate(labels)
        ]
        return "[" + ", ".join(items) + "]"

    n_days = (end_ts - start_ts) // DAY
    day = np.repeat(np.arange(n_days), 2)
    p = np.tile(np.arange(2), n_days)
    pipe_id = np.array([DEFAULT_PIPELINE[0], str(ID_BASE["pipeline"] + 1)], dtype=object)
    pipe_label = np.array([DEFAULT_PIPELINE[1], SECOND_PIPELINE_LABEL], dtype=object)
    writer.write(
        contract.get("hubspot", "deal_pipelines"),
        {
            "id": w.text(pipe_id[p]),
            "label": w.text(pipe_label[p]),
            "displayOrder": w.integer(p),
            "stages": w.expr(f"case when _p = 0 then {stages_sql(0)} else {stages_sql(1)} end"),
            "createdAt": w.timestamp(np.full(p.size, start_ts - 900 * DAY)),
            "updatedAt": w.timestamp(np.full(p.size, start_ts - 900 * DAY)),
            "archived": w.boolean(np.zeros(p.size, bool)),
        },
        day,
        order=["displayOrder"],
        helpers={"_p": p},
    )
    return ids


def _headcount(rng, leads: Leads) -> np.ndarray:
    """numemployees: the count's digits; an unknown head count is empty or, for a share, a
    range option of HubSpot's default dropdown (not a count: staging makes it null)."""
    out = np.char.mod("%d", leads.employees).astype(object)
    ranged = ~leads.employees_known & (rng.random(leads.n) < RANGE_HEADCOUNT_SHARE)
    lows = np.array([lo for lo, _ in HEADCOUNT_RANGES])
    labels = np.array(
        [f"{lo}-{hi}" if hi else f"{lo}+" for lo, hi in HEADCOUNT_RANGES], dtype=object
    )
    band = np.searchsorted(lows, leads.employees, side="right") - 1
    out[~leads.employees_known] = ""
    out[ranged] = labels[band[ranged]]
    return out


def _write_contacts(
    writer, rng, leads: Leads, deals: Deals, campaigns: Campaigns, owner_id, user_num,
    contact_id, company_id, deal_id, start_ts: int,
) -> None:  # fmt: skip
    n = leads.n
    subscriber = (leads.initial_status != STATUS_MQL) & (rng.random(n) < SUBSCRIBER_SHARE)
    headcount = _headcount(rng, leads)
    initial = np.where(
        leads.initial_status == STATUS_MQL, MQL, np.where(subscriber, SUBSCRIBER, LEAD)
    ).astype(object)
    converted = leads.final_status == STATUS_CONVERTED
    final_ls = np.where(
        converted,
        LS_OPEN_DEAL,
        np.where(leads.final_status == STATUS_NURTURE, LS_NURTURE, LS_UNQUALIFIED),
    ).astype(object)
    won = deals.won & (deals.closed_at != NAT)
    customer_t = np.full(n, NAT, dtype=np.int64)
    customer_t[deals.lead[won]] = deals.closed_at[won]
    blank = np.full(n, "", dtype=object)
    # (time, lifecycle stage set, lead status set, kind); "" = unchanged; kind 7 = archived
    events = [
        (leads.created, initial, np.full(n, LS_NEW, dtype=object)),
        (leads.t_contact, blank, np.full(n, LS_WORKING, dtype=object)),
        (leads.t_mql, np.full(n, MQL, dtype=object), blank),
        (leads.t_regress, np.full(n, LEAD, dtype=object), blank),  # set backwards
        (leads.t_sql, np.full(n, SQL, dtype=object), blank),
        (leads.t_final, np.where(converted, OPPORTUNITY, "").astype(object), final_ls),
        (customer_t, np.full(n, CUSTOMER, dtype=object), blank),
        (leads.deleted_at, blank, blank),
    ]
    e_lead, e_t, e_lc, e_ls, e_kind = [], [], [], [], []
    for kind, (t, lc, ls) in enumerate(events):
        has = np.flatnonzero(t != NAT)
        e_lead.append(has)
        e_t.append(t[has])
        e_lc.append(lc[has])
        e_ls.append(ls[has])
        e_kind.append(np.full(has.size, kind))
    lead, t, lc, ls, kind = (np.concatenate(x) for x in (e_lead, e_t, e_lc, e_ls, e_kind))
    order = np.lexsort((kind, t, lead))
    lead, t, lc, ls, kind = lead[order], t[order], lc[order], ls[order], kind[order]
    # the created row sets both, so the latest setting row is always the contact's own
    lc_now = lc[_forward(lc != "")]
    ls_now = ls[_forward(ls != "")]
    archived = kind == len(events) - 1
    # hs_lifecyclestage_<stage>_date: the first time the contact entered the stage
    props: dict[str, w.Col] = {}
    src = np.array([c.lead_source for c in CHANNELS])[leads.channel]
    a_source = np.array([ANALYTICS_SOURCE[s][0] for s in src], dtype=object)
    referrer = np.array(REFERRER_DOMAINS, dtype=object)[np.arange(n) % len(REFERRER_DOMAINS)]
    a_data_1 = np.array([ANALYTICS_SOURCE[s][1] or "" for s in src], dtype=object)
    a_data_1 = np.where(a_data_1 == "", referrer, a_data_1)
    camp = leads.campaign
    camp_name = np.where(camp >= 0, campaigns.name[np.maximum(camp, 0)], "").astype(object)
    acc_of = np.full(n, -1, dtype=np.int64)
    acc_of[deals.lead] = deals.account
    associated = (acc_of[lead] >= 0) & converted[lead] & (leads.t_final[lead] <= t)
    acc = np.maximum(acc_of[lead], 0)
    props.update(
        {
            "email": w.text(leads.email[lead]),
            "firstname": w.text(leads.first_name[lead]),
            "lastname": w.text(leads.last_name[lead]),
            "company": w.text(leads.company[lead]),
            "jobtitle": w.text(leads.title[lead]),
            "country": w.text(leads.country[lead]),
            "industry": w.text(leads.industry[lead]),
            "numemployees": w.text(headcount[lead]),
            "lifecyclestage": w.text(lc_now),
            "hs_lead_status": w.text(ls_now),
            "hubspot_owner_id": w.text(owner_id[leads.owner[lead]]),
            "hs_analytics_source": w.text(a_source[lead]),
            "hs_analytics_source_data_1": w.text(a_data_1[lead]),
            "hs_analytics_source_data_2": w.text(camp_name[lead]),
            "utm_campaign": w.text(camp_name[lead]),
            "associatedcompanyid": w.text(np.where(associated, company_id[acc], "")),
            "hs_merged_object_ids": w.text(np.full(lead.size, "", dtype=object)),
            "createdate": w.timestamp(leads.created[lead]),
            "lastmodifieddate": w.timestamp(t),
        }
    )
    for stage in LIFECYCLE_STAGES:
        entered = np.full(n, NAT, dtype=np.int64)
        sel = lc == stage
        np.minimum.at(entered, lead[sel], t[sel])
        at = entered[lead]
        props[f"hs_lifecyclestage_{stage}_date"] = w.timestamp(np.where(at <= t, at, NAT))
    props_sql, helpers = w.struct(props, "pc")
    uid = user_num[leads.owner[lead]]
    history = _History(n, lead, t, uid)
    set_lc = lc != ""
    history.add("lifecyclestage", lead[set_lc], t[set_lc], lc[set_lc])
    set_ls = ls != ""
    history.add("hs_lead_status", lead[set_ls], t[set_ls], ls[set_ls])
    helpers.update(history.helpers)
    helpers["_a_co"] = np.where(associated, company_id[acc], "").astype(object)
    helpers["_a_deal"] = np.where(associated, deal_id[acc], "").astype(object)
    writer.write(
        contract.get("hubspot", "contacts"),
        {
            "id": w.text(contact_id[lead]),
            "properties": w.expr(props_sql),
            "propertiesWithHistory": w.expr(history.sql()),
            "associations": w.expr(
                "case when _a_co = '' then null else "
                "{'companies': {'results': [{'id': _a_co, 'type': 'contact_to_company'}]}, "
                "'deals': {'results': [{'id': _a_deal, 'type': 'contact_to_deal'}]}} end"
            ),
            "createdAt": w.timestamp(leads.created[lead]),
            "updatedAt": w.timestamp(t),
            "archived": w.boolean(archived),
            "archivedAt": w.timestamp(np.where(archived, t, NAT)),
        },
        _day(t, start_ts),
        order=["updatedAt", "id"],
        helpers=helpers,
        chunk_rows=WIDE_CHUNK_ROWS,
    )


def _write_companies(
    writer, leads: Leads, deals: Deals, billing: Billing, owner_id, company_id, start_ts: int
) -> None:
    """A company per account: created with its first deal (lifecycle `opportunity`), a new
    version when it becomes a customer."""
    cust = billing.customers
    real = (cust.deal >= 0) & (deals.closed_at[np.maximum(cust.deal, 0)] != NAT)
    n_acc = deals.lead.size
    av = np.concatenate([np.arange(n_acc), cust.account[real]])
    at = np.concatenate([deals.created, deals.closed_at[cust.deal[real]]])
    lc = np.concatenate(
        [np.full(n_acc, OPPORTUNITY, dtype=object), np.full(int(real.sum()), CUSTOMER, object)]
    )
    order = np.lexsort((at, av))
    av, at, lc = av[order], at[order], lc[order]
    al = deals.lead[av]
    revenue_per_head = 90_000 + (av * 7919) % 160_000  # as the Salesforce Account's
    props = {
        "name": w.text(leads.company[al]),
        "domain": w.text(leads.domain[al]),
        "industry": w.text(leads.industry[al]),
        "numberofemployees": w.integer(leads.employees[al]),
        "annualrevenue": w.integer(leads.employees[al] * revenue_per_head // 1000 * 1000),
        "country": w.text(leads.country[al]),
        "hubspot_owner_id": w.text(owner_id[deals.owner[av]]),
        "lifecyclestage": w.text(lc),
        "hs_merged_object_ids": w.text(np.full(av.size, "", dtype=object)),
        "createdate": w.timestamp(deals.created[av]),
        "hs_lastmodifieddate": w.timestamp(at),
    }
    props_sql, helpers = w.struct(props, "pc")
    writer.write(
        contract.get("hubspot", "companies"),
        {
            "id": w.text(company_id[av]),
            "properties": w.expr(props_sql),
            "createdAt": w.timestamp(deals.created[av]),
            "updatedAt": w.timestamp(at),
            "archived": w.boolean(np.zeros(av.size, bool)),
        },
        _day(at, start_ts),
        order=["updatedAt", "id"],
        helpers=helpers,
    )


def _write_deals(
    writer, rng, leads: Leads, deals: Deals, opps, profile: OrgProfile, stage_ids, owner_id,
    user_num, contact_id, company_id, deal_id, campaign_id, start_ts: int,
) -> None:  # fmt: skip
    o = opps.ev_opp
    n_o = opps.account.size
    uniq, inverse = np.unique(opps.ev_stage, return_inverse=True)
    s_idx = np.array([STAGES.index(s) for s in uniq.tolist()], dtype=np.int64)[inverse]
    first = np.searchsorted(o, o, side="left")
    rank = np.arange(o.size) - first
    n_ev = np.bincount(o, minlength=n_o)
    # a share of new-business deals moves into the second pipeline at one of its stage changes
    new_business = opps.type == "New Business"
    movable = new_business & (n_ev >= 2) & (opps.deleted_at == NAT)
    moves = movable & (rng.random(n_o) < PIPELINE_MOVE_SHARE)
    move_at = np.where(moves, 1 + (rng.random(n_o) * np.maximum(n_ev - 1, 1)).astype(np.int64), 0)
    pipe = (moves[o] & (rank >= move_at[o])).astype(np.int64)
    pipe_id = np.array([DEFAULT_PIPELINE[0], str(ID_BASE["pipeline"] + 1)], dtype=object)
    st_id = stage_ids[pipe, s_idx]
    prob = np.array(_probability(profile))[s_idx]
    closed = s_idx >= len(OPP_STAGES)
    is_won = opps.ev_stage == "Closed Won"
    exp = np.array([MINOR_EXPONENT[c] for c in opps.currency], dtype=np.int64)
    units = opps.ev_amount // 10 ** exp[o]
    amount = np.where(opps.no_amount[o], "", np.char.mod("%d", units)).astype(object)
    # stage entry and exit dates per (pipeline, stage), as of each event
    dated: dict[str, w.Col] = {}
    for p in range(2):
        for k in range(len(STAGES)):
            last = _forward((pipe == p) & (s_idx == k))
            known = last >= first
            last = np.maximum(last, 0)
            nxt = np.minimum(last + 1, o.size - 1)
            entered = np.where(known, opps.ev_t[last], NAT)
            exited = np.where(known & (last < np.arange(o.size)), opps.ev_t[nxt], NAT)
            dated[f"hs_date_entered_{stage_ids[p, k]}"] = w.timestamp(entered)
            dated[f"hs_date_exited_{stage_ids[p, k]}"] = w.timestamp(exited)
    # versions: every event, and an archived one repeating the last state of a deleted deal
    d_o = np.flatnonzero(opps.deleted_at != NAT)
    last_ev = np.searchsorted(o, d_o, side="right") - 1
    vo = np.concatenate([o, d_o])
    vt = np.concatenate([opps.ev_t, opps.deleted_at[d_o]])
    vi = np.concatenate([np.arange(o.size), last_ev])
    varch = np.concatenate([np.zeros(o.size, bool), np.ones(d_o.size, bool)])
    order = np.lexsort((varch, vt, vo))
    vo, vt, vi, varch = vo[order], vt[order], vi[order], varch[order]
    camp = opps.campaign[vo]
    type_out = np.array([DEAL_TYPES[x] for x in opps.type], dtype=object)
    props: dict[str, w.Col] = {
        "dealname": w.text(opps.name[vo].astype(object)),
        "dealstage": w.text(st_id[vi]),
        "pipeline": w.text(pipe_id[pipe[vi]]),
        "amount": w.text(amount[vi]),
        "deal_currency_code": w.text(opps.currency[vo].astype(object)),
        "closedate": w.timestamp(opps.ev_close[vi]),
        "createdate": w.timestamp(opps.created[vo]),
        "hs_lastmodifieddate": w.timestamp(vt),
        "hs_is_closed": w.boolean(closed[vi]),
        "hs_is_closed_won": w.boolean(is_won[vi]),
        "hs_deal_stage_probability": w.text(
            np.array([_fraction(x) for x in range(101)], dtype=object)[prob[vi]]
        ),
        "dealtype": w.text(type_out[vo]),
        "hubspot_owner_id": w.text(owner_id[opps.owner[vo]]),
        "hs_campaign": w.text(np.where(camp >= 0, campaign_id[np.maximum(camp, 0)], "")),
        "hs_merged_object_ids": w.text(np.full(vo.size, "", dtype=object)),
    }
    for name, col in dated.items():
        props[name] = w.timestamp(col.values[vi])
    props_sql, helpers = w.struct(props, "pd")
    history = _History(n_o, vo, vt, user_num[opps.owner[vo]])
    history.add("dealstage", o, opps.ev_t, st_id)
    has_amount = ~opps.no_amount[o]
    amount_changed = (rank == 0) | (
        np.concatenate([[True], opps.ev_amount[1:] != opps.ev_amount[:-1]])
    )
    sel = has_amount & amount_changed
    history.add("amount", o[sel], opps.ev_t[sel], amount[sel])
    close_changed = (rank == 0) | np.concatenate([[True], opps.ev_close[1:] != opps.ev_close[:-1]])
    close_text = _iso_text(opps.ev_close)
    history.add("closedate", o[close_changed], opps.ev_t[close_changed], close_text[close_changed])
    pipe_changed = (rank == 0) | np.concatenate([[True], pipe[1:] != pipe[:-1]])
    history.add("pipeline", o[pipe_changed], opps.ev_t[pipe_changed], pipe_id[pipe[pipe_changed]])
    created = rank == 0
    history.add(
        "deal_currency_code",
        o[created],
        opps.ev_t[created],
        opps.currency[o[created]].astype(object),
    )
    helpers.update(history.helpers)
    acc = opps.account[vo]
    helpers["_a_co"] = company_id[acc]
    helpers["_a_ct"] = contact_id[deals.lead[acc]]
    writer.write(
        contract.get("hubspot", "deals"),
        {
            "id": w.text(deal_id[vo]),
            "properties": w.expr(props_sql),
            "propertiesWithHistory": w.expr(history.sql()),
            "associations": w.expr(
                "{'companies': {'results': [{'id': _a_co, 'type': 'deal_to_company'}]}, "
                "'contacts': {'results': [{'id': _a_ct, 'type': 'deal_to_contact'}]}}"
            ),
            "createdAt": w.timestamp(opps.created[vo]),
            "updatedAt": w.timestamp(vt),
            "archived": w.boolean(varch),
            "archivedAt": w.timestamp(np.where(varch, vt, NAT)),
        },
        _day(vt, start_ts),
        order=["updatedAt", "id"],
        helpers=helpers,
        chunk_rows=WIDE_CHUNK_ROWS,
    )


def _iso_text(ts: np.ndarray) -> np.ndarray:
    """ISO 8601 UTC text with milliseconds (for history values, which are strings)."""
    out = np.datetime_as_string(np.asarray(ts).astype("datetime64[s]"), unit="ms")
    return np.char.add(out, "Z").astype(object)


def _write_campaigns(writer, campaigns: Campaigns, ads, campaign_id, start_ts, end_ts) -> None:
    """Marketing campaigns: created (planned or in progress), and completed at their end, with
    budget and spend in USD as the Salesforce Campaign has them."""
    c = np.arange(campaigns.name.size)
    c_start = start_ts + campaigns.start_day * DAY
    c_end = start_ts + campaigns.end_day * DAY
    c_created = np.maximum(start_ts - 30 * DAY, c_start - 14 * DAY)
    done = c_end < end_ts
    spend_usd = np.zeros(c.size)
    np.add.at(spend_usd, ads["campaign"], ads["final_usd_cents"] / 100.0)
    budget = np.where(campaigns.platform != "", np.round(spend_usd * 1.1, -2), campaigns.budget_usd)
    cv = np.concatenate([c, c[done]])
    ct = np.concatenate([c_created, c_end[done]])
    status = np.concatenate(
        [
            np.where(c_start <= c_created, "in_progress", "planned"),
            np.full(int(done.sum()), "completed"),
        ]
    ).astype(object)
    actual_cents = np.concatenate(
        [
            np.zeros(c.size, np.int64),
            np.round(
                np.where(
                    campaigns.platform[done] != "",
                    spend_usd[done],
                    campaigns.budget_usd[done] * 0.95,
                )
                * 100
            ).astype(np.int64),
        ]
    )
    props = {
        "hs_name": w.text(campaigns.name[cv].astype(object)),
        "hs_campaign_status": w.text(status),
        "hs_start_date": w.date(c_start[cv]),
        "hs_end_date": w.date(c_end[cv] - DAY),
        "hs_budget_items_sum_amount": w.money(np.round(budget[cv] * 100).astype(np.int64)),
        "hs_spend_items_sum_amount": w.money(actual_cents, null=actual_cents == 0),
        "hs_currency_code": w.text(np.full(cv.size, "USD", dtype=object)),
    }
    props_sql, helpers = w.struct(props, "pm")
    writer.write(
        contract.get("hubspot", "campaigns"),
        {
            "id": w.text(campaign_id[cv]),
            "properties": w.expr(props_sql),
            "createdAt": w.timestamp(c_created[cv]),
            "updatedAt": w.timestamp(ct),
            "archived": w.boolean(np.zeros(cv.size, bool)),
        },
        _day(ct, start_ts),
        order=["updatedAt", "id"],
        helpers=helpers,
    )
