"""The CRM side of the simulation: reps, leads and their status changes, conversions,
accounts, contacts and new-business opportunities with their stage history.

Every funnel event is a time in Unix seconds; NAT means "did not happen within the history".
Events are strictly increasing per lead, so the export's status history reproduces them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from revops.generator import names
from revops.generator.common import DAY, NAT, business_seconds, choice_p, lognormal_int
from revops.generator.marketing import CHANNELS
from revops.generator.reference import COUNTRY_CURRENCY, COUNTRY_WEIGHTS, CURRENCIES

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
UNKNOWN_SEGMENT = "Unknown"
# Head-count bands (inclusive lower bound) that define the segments; mirrored in the dbt seed.
SEGMENT_LOWER_BOUNDS = (1, 200, 1000)

# Lead statuses and the funnel stage each means (0 none, 1 MQL, 2 SQL, 3 converted).
STATUS_OPEN = "Open - Not Contacted"
STATUS_WORKING = "Working - Contacted"
STATUS_MQL = "Marketing Qualified"
STATUS_SQL = "Sales Qualified"
STATUS_CONVERTED = "Closed - Converted"
STATUS_NOT_CONVERTED = "Closed - Not Converted"
STATUS_NURTURE = "Nurture"
STATUS_RANK = {
    STATUS_OPEN: 0,
    STATUS_WORKING: 0,
    STATUS_NURTURE: 0,
    STATUS_NOT_CONVERTED: 0,
    STATUS_MQL: 1,
    STATUS_SQL: 2,
    STATUS_CONVERTED: 3,
}

OPP_STAGES = ("Qualification", "Discovery", "Proposal", "Negotiation")
STAGE_PROBABILITY = {
    "Qualification": 10,
    "Discovery": 20,
    "Proposal": 50,
    "Negotiation": 75,
    "Closed Won": 100,
    "Closed Lost": 0,
}
FORECAST_CATEGORY = {
    "Qualification": "Pipeline",
    "Discovery": "Pipeline",
    "Proposal": "Best Case",
    "Negotiation": "Commit",
    "Closed Won": "Closed",
    "Closed Lost": "Omitted",
}

# Plans: per-seat monthly list price by currency (minor units) for each segment's product.
PRODUCT_BY_SEGMENT = ("Starter", "Growth", "Enterprise")
SEAT_PRICE = {
    "Starter": {"USD": 2500, "EUR": 2300, "GBP": 2000, "JPY": 3800},
    "Growth": {"USD": 4500, "EUR": 4200, "GBP": 3600, "JPY": 6800},
    "Enterprise": {"USD": 7500, "EUR": 6900, "GBP": 6000, "JPY": 11000},
}
SEATS_MEDIAN = (8, 45, 250)
SEATS_RANGE = ((1, 60), (10, 400), (60, 4000))
P_WIN = (0.34, 0.28, 0.22)
CYCLE_MEAN_DAYS = (21, 48, 95)
BILLING_MIX = ((0.72, 0.05, 0.23), (0.45, 0.05, 0.50), (0.10, 0.05, 0.85))  # month, quarter, year


@dataclass
class Users:
    id: np.ndarray
    name: np.ndarray
    email: np.ndarray
    role: np.ndarray  # AE, SDR, Manager, Marketing, Integration
    title: np.ndarray
    department: np.ndarray
    segment: np.ndarray  # index into SEGMENTS, -1 for none
    manager: np.ndarray  # index of the manager, -1 for none
    hire_ts: np.ndarray
    leave_ts: np.ndarray  # NAT while employed


def build_users(rng: np.random.Generator, n_leads: int, start_ts: int, end_ts: int) -> Users:
    n_ae = int(np.clip(round(n_leads / 1500), 6, 450))
    n_sdr = max(3, n_ae // 2)
    role: list[str] = []
    seg: list[int] = []
    for count, split, r in ((n_ae, (0.45, 0.35, 0.20), "AE"), (n_sdr, (0.5, 0.3, 0.2), "SDR")):
        per = np.maximum(1, np.round(np.array(split) * count)).astype(int)
        for s, k in enumerate(per):
            role += [r] * int(k)
            seg += [s] * int(k)
    n_reps = len(role)
    n_mgr_per_seg = max(1, n_reps // 30)
    for s in range(3):
        role += ["Manager"] * n_mgr_per_seg
        seg += [s] * n_mgr_per_seg
    role += ["Marketing", "Integration"]
    seg += [-1, -1]
    n = len(role)
    role_a = np.array(role)
    seg_a = np.array(seg, dtype=np.int64)
    history = end_ts - start_ts
    hire = start_ts - rng.integers(30, 900, n) * DAY
    late = (rng.random(n) < 0.2) & np.isin(role_a, ["AE", "SDR"])
    hire = np.where(late, start_ts + rng.integers(0, max(1, history // DAY - 60), n) * DAY, hire)
    leave = np.where(
        (rng.random(n) < 0.15) & np.isin(role_a, ["AE", "SDR"]),
        hire + rng.integers(120, 900, n) * DAY,
        NAT,
    )
    # One AE and one SDR per segment are there from before the start and never leave, so
    # every lead and deal always has an owner.
    for r in ("AE", "SDR"):
        for s in range(3):
            first = np.flatnonzero((role_a == r) & (seg_a == s))[0]
            hire[first] = start_ts - 400 * DAY
            leave[first] = NAT
    hire = hire + business_seconds(rng, n)
    leave = np.where(leave >= end_ts, NAT, leave)
    first = names.FIRST_NAMES[rng.integers(0, names.FIRST_NAMES.size, n)]
    last = names.LAST_NAMES[rng.integers(0, names.LAST_NAMES.size, n)]
    full = _join(first, " ", last)
    full[role_a == "Integration"] = "Integration User"
    email = _join(np.char.lower(_join(first, ".", last)), np.arange(n).astype(str), "@northwind.io")
    titles = {
        "AE": "Account Executive",
        "SDR": "Sales Development Rep",
        "Manager": "Sales Manager",
        "Marketing": "Marketing Operations Manager",
        "Integration": "Integration User",
    }
    title = np.array([titles[r] for r in role])
    department = np.array(["Marketing" if r == "Marketing" else "Sales" for r in role])
    department[role_a == "Integration"] = "IT"
    manager = np.full(n, -1, dtype=np.int64)
    mgr_idx = np.flatnonzero(role_a == "Manager")
    for s in range(3):
        mine = mgr_idx[seg_a[mgr_idx] == s]
        reps = np.flatnonzero(np.isin(role_a, ["AE", "SDR"]) & (seg_a == s))
        manager[reps] = mine[np.arange(reps.size) % mine.size]
    return Users(
        id=np.array([], dtype=str),
        name=full,
        email=email,
        role=role_a,
        title=title,
        department=department,
        segment=seg_a,
        manager=manager,
        hire_ts=hire,
        leave_ts=leave,
    )


def assign_owner(
    rng: np.random.Generator, users: Users, role: str, segment: np.ndarray, ts: np.ndarray
) -> np.ndarray:
    """A random rep of `role` in each row's segment team who is employed at `ts`."""
    owner = np.full(segment.size, -1, dtype=np.int64)
    for s in range(3):
        team = np.flatnonzero((users.role == role) & (users.segment == s))
        rows = np.flatnonzero(segment == s)
        pending = rows
        for _ in range(25):
            if pending.size == 0:
                break
            pick = team[rng.integers(0, team.size, pending.size)]
            ok = (users.hire_ts[pick] <= ts[pending]) & (ts[pending] < users.leave_ts[pick])
            owner[pending[ok]] = pick[ok]
            pending = pending[~ok]
        owner[pending] = team[0]  # the rep who is always there
    return owner


@dataclass
class Leads:
    n: int
    created: np.ndarray
    channel: np.ndarray  # index into CHANNELS
    campaign: np.ndarray  # campaign index or -1
    true_segment: np.ndarray  # index into SEGMENTS
    employees: np.ndarray  # true head count
    employees_known: np.ndarray  # False: the lead form had no head count
    country: np.ndarray
    currency: np.ndarray
    industry: np.ndarray
    title: np.ndarray
    first_name: np.ndarray
    last_name: np.ndarray
    company: np.ndarray
    domain: np.ndarray
    email: np.ndarray
    owner: np.ndarray  # SDR user index
    initial_status: np.ndarray
    # status slots, in time order; NAT when the event does not happen in the history
    t_contact: np.ndarray
    t_mql: np.ndarray
    t_regress: np.ndarray
    t_sql: np.ndarray
    t_final: np.ndarray
    final_status: np.ndarray  # status set at t_final
    deleted_at: np.ndarray  # NAT unless deleted (spam)
    # truth
    mql_at: np.ndarray
    sql_at: np.ndarray
    converted_at: np.ndarray


def _segment_mix(lead_source: str) -> tuple[float, float, float]:
    return {
        "Outbound": (0.35, 0.40, 0.25),
        "LinkedIn": (0.45, 0.35, 0.20),
        "Facebook": (0.80, 0.15, 0.05),
        "Trade Show": (0.40, 0.38, 0.22),
        "Partner": (0.50, 0.32, 0.18),
    }.get(lead_source, (0.62, 0.27, 0.11))


def _cut(t: np.ndarray, end_ts: int) -> np.ndarray:
    return np.where(t >= end_ts, NAT, t)


def build_leads(
    rng: np.random.Generator,
    users: Users,
    arrival_day: np.ndarray,
    arrival_channel: np.ndarray,
    arrival_campaign: np.ndarray,
    start_ts: int,
    end_ts: int,
) -> Leads:
    n = arrival_day.size
    created = start_ts + arrival_day * DAY + business_seconds(rng, n)
    ch = arrival_channel
    # segment and head count
    seg = np.empty(n, dtype=np.int64)
    u = rng.random(n)
    for ci, channel in enumerate(CHANNELS):
        rows = ch == ci
        p = np.cumsum(_segment_mix(channel.lead_source))
        seg[rows] = np.searchsorted(p, u[rows] * p[-1], side="right")
    seg = np.minimum(seg, 2)
    lo = np.array([2, 200, 1000])[seg]
    hi = np.array([199, 999, 60000])[seg]
    employees = np.clip(np.round(np.exp(rng.uniform(np.log(lo), np.log(hi + 1)))), lo, hi).astype(
        np.int64
    )
    employees_known = rng.random(n) >= 0.09
    countries = np.array(list(COUNTRY_WEIGHTS))
    country = countries[choice_p(rng, n, COUNTRY_WEIGHTS)]
    currency = np.array([COUNTRY_CURRENCY[c] for c in countries])[_index_of(countries, country)]
    industry = names.INDUSTRIES[rng.integers(0, names.INDUSTRIES.size, n)]
    title = names.TITLES[rng.integers(0, names.TITLES.size, n)]
    first = names.FIRST_NAMES[rng.integers(0, names.FIRST_NAMES.size, n)]
    last = names.LAST_NAMES[rng.integers(0, names.LAST_NAMES.size, n)]
    head = names.COMPANY_HEADS[rng.integers(0, names.COMPANY_HEADS.size, n)]
    tail = names.COMPANY_TAILS[rng.integers(0, names.COMPANY_TAILS.size, n)]
    suffix = np.array([names.COMPANY_SUFFIX[c] for c in countries])[_index_of(countries, country)]
    tld = np.array([names.COUNTRY_TLD[c] for c in countries])[_index_of(countries, country)]
    serial = np.char.mod("%d", np.arange(n) + 101)
    # The serial keeps company names and domains unique, as distinct firms are.
    company = _join(head, " ", tail, " ", serial, " ", suffix)
    domain = _join(np.char.lower(_join(head, tail)), serial, ".", tld)
    email = _join(np.char.lower(_join(first, ".", last)), "@", domain)
    owner = assign_owner(rng, users, "SDR", seg, created)
    # Object arrays of str: fancy indexing copies pointers, and DuckDB scans them fast.
    first, last, company, domain, email, title, industry, country, currency = (
        a.astype(object)
        for a in (first, last, company, domain, email, title, industry, country, currency)
    )

    # --- funnel -------------------------------------------------------------------------
    src = np.array([c.lead_source for c in CHANNELS])[ch]
    deleted = rng.random(n) < 0.015
    deleted_at = np.where(deleted, created + rng.integers(3600, 5 * DAY, n), NAT)
    p_mql = np.array([c.p_mql for c in CHANNELS])[ch] * np.array([1.0, 1.05, 1.1])[seg]
    is_mql = (rng.random(n) < p_mql) & ~deleted
    created_mql = is_mql & np.isin(src, ["Webinar", "Trade Show"]) & (rng.random(n) < 0.25)
    skip_mql = (
        is_mql
        & ~created_mql
        & np.isin(src, ["Outbound", "Referral", "Partner"])
        & (rng.random(n) < 0.4)
    )
    contacted = ~deleted & ~created_mql & ((rng.random(n) < 0.85) | skip_mql)
    t_contact = np.where(contacted, created + lognormal_int(rng, 0.8 * DAY, 0.9, n, 600), NAT)
    base = np.where(contacted, t_contact, created)
    p_sql = np.array([0.38, 0.46, 0.52])[seg]
    is_sql = is_mql & ((rng.random(n) < p_sql) | skip_mql)
    t_mql = np.where(
        is_mql & ~created_mql & ~skip_mql, base + lognormal_int(rng, 4 * DAY, 0.9, n, 3600), NAT
    )
    after_mql = np.where(created_mql, created, np.where(skip_mql, base, t_mql))
    t_sql = np.where(is_sql, after_mql + lognormal_int(rng, 6 * DAY, 0.8, n, 3600), NAT)
    regress = is_sql & ~skip_mql & (rng.random(n) < 0.10)
    # a recycled lead drops back to Working between MQL and SQL; the first MQL time stands
    t_regress = np.where(
        regress, after_mql + ((t_sql - after_mql) * rng.uniform(0.3, 0.7, n)).astype(np.int64), NAT
    )
    converts = is_sql & (rng.random(n) < 0.88)
    t_convert = np.where(converts, t_sql + lognormal_int(rng, 2 * DAY, 0.8, n, 600), NAT)
    last_stage = np.maximum.reduce(
        [np.where(t == NAT, 0, t) for t in (created, t_contact, t_mql, t_sql)]
    )
    closes = ~converts & ~deleted & (rng.random(n) < 0.55)
    t_close = np.where(closes, last_stage + lognormal_int(rng, 30 * DAY, 0.6, n, DAY), NAT)
    final_status = np.where(
        converts,
        STATUS_CONVERTED,
        np.where(rng.random(n) < 0.3, STATUS_NURTURE, STATUS_NOT_CONVERTED),
    )
    t_final = np.where(converts, t_convert, t_close)
    # Nothing after the end of history is exported. The slots are strictly increasing per
    # lead, so cutting each at the end also cuts everything after the first cut one.
    t_contact, t_mql, t_regress, t_sql, t_final = (
        _cut(t, end_ts) for t in (t_contact, t_mql, t_regress, t_sql, t_final)
    )
    deleted_at = _cut(deleted_at, end_ts)
    initial = np.where(created_mql, STATUS_MQL, STATUS_OPEN)
    converted_at = np.where(final_status == STATUS_CONVERTED, t_final, NAT)
    mql_at = np.where(created_mql, created, _first(t_mql, t_sql, converted_at))
    sql_at = _first(t_sql, converted_at)
    return Leads(
        n=n,
        created=created,
        channel=ch,
        campaign=arrival_campaign,
        true_segment=seg,
        employees=employees,
        employees_known=employees_known,
        country=country,
        currency=currency,
        industry=industry,
        title=title,
        first_name=first,
        last_name=last,
        company=company,
        domain=domain,
        email=email,
        owner=owner,
        initial_status=initial,
        t_contact=t_contact,
        t_mql=t_mql,
        t_regress=t_regress,
        t_sql=t_sql,
        t_final=t_final,
        final_status=final_status,
        deleted_at=deleted_at,
        mql_at=mql_at,
        sql_at=sql_at,
        converted_at=converted_at,
    )


def _join(*parts: np.ndarray | str) -> np.ndarray:
    out = np.asarray(parts[0])
    for part in parts[1:]:
        out = np.char.add(out, part)
    return out


def _index_of(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    order = np.argsort(keys)
    return order[np.searchsorted(keys, values, sorter=order)]


def _first(*times: np.ndarray) -> np.ndarray:
    """Earliest non-NAT time per row (NAT when none)."""
    return np.minimum.reduce(list(times))


def lead_segment_label(leads: Leads) -> np.ndarray:
    """The segment a lead reports under: from its exported head count, Unknown without one."""
    label = np.array(SEGMENTS)[leads.true_segment]
    return np.where(leads.employees_known, label, UNKNOWN_SEGMENT)


@dataclass
class Deals:
    """New-business opportunities, one per converted lead (plus a few deleted duplicates)."""

    lead: np.ndarray  # lead index
    account: np.ndarray  # account index (= index into the converted leads)
    created: np.ndarray
    owner: np.ndarray
    segment: np.ndarray
    currency: np.ndarray
    seats_initial: np.ndarray
    seats: np.ndarray  # after the proposal
    billing: np.ndarray  # 0 monthly, 1 quarterly, 2 annual
    won: np.ndarray  # outcome, if it closes in the history
    stage_times: np.ndarray  # (n, 4) entry time of each open stage (NAT if not reached)
    regress_at: np.ndarray  # back to Discovery from Proposal (NAT if not)
    closed_at: np.ndarray  # NAT while open at the end of history
    amount_initial: np.ndarray  # minor units of `currency`, whole units
    amount: np.ndarray


def build_deals(rng: np.random.Generator, users: Users, leads: Leads, end_ts: int) -> Deals:
    idx = np.flatnonzero(leads.converted_at != NAT)
    n = idx.size
    created = leads.converted_at[idx]
    seg = leads.true_segment[idx]
    owner = assign_owner(rng, users, "AE", seg, created)
    currency = leads.currency[idx]
    seats0 = np.clip(
        lognormal_int(rng, np.array(SEATS_MEDIAN)[seg], 0.6, n),
        np.array([r[0] for r in SEATS_RANGE])[seg],
        np.array([r[1] for r in SEATS_RANGE])[seg],
    )
    seats = np.maximum(1, np.round(seats0 * rng.uniform(0.8, 1.15, n))).astype(np.int64)
    u = rng.random(n)
    mix = np.cumsum(np.array(BILLING_MIX), axis=1)[seg]
    billing = (u[:, None] >= mix).sum(axis=1).clip(0, 2)
    src = np.array([c.lead_source for c in CHANNELS])[leads.channel[idx]]
    boost = np.where(np.isin(src, ["Referral"]), 1.3, np.where(src == "Partner", 1.2, 1.0))
    boost = np.where(src == "Outbound", 0.85, boost)
    won = rng.random(n) < np.array(P_WIN)[seg] * boost
    mean = np.array(CYCLE_MEAN_DAYS, dtype=float)[seg] * np.where(won, 1.0, 0.8)
    cycle = np.maximum(2.0, rng.gamma(2.0, mean / 2.0)) * DAY
    closed_at = created + cycle.astype(np.int64)
    # stages reached: won deals pass all four; lost ones stop somewhere
    reached = np.where(won, 4, 1 + choice_p(rng, n, {"1": 0.35, "2": 0.3, "3": 0.2, "4": 0.15}))
    fractions = np.sort(rng.uniform(0.05, 0.95, (n, 3)), axis=1)
    stage_times = np.full((n, 4), NAT, dtype=np.int64)
    stage_times[:, 0] = created
    for k in range(1, 4):
        t = created + (cycle * fractions[:, k - 1]).astype(np.int64)
        stage_times[:, k] = np.where(reached > k, t, NAT)
    regress = (reached >= 4) & (rng.random(n) < 0.10)
    regress_at = np.where(
        regress,
        stage_times[:, 2] + ((stage_times[:, 3] - stage_times[:, 2]) * 0.5).astype(np.int64),
        NAT,
    )
    # cut at the end of history
    stage_times = np.where(stage_times >= end_ts, NAT, stage_times)
    regress_at = np.where((regress_at >= end_ts), NAT, regress_at)
    closed_at = np.where(closed_at >= end_ts, NAT, closed_at)
    product = np.array(PRODUCT_BY_SEGMENT)[seg]
    unit = np.array([SEAT_PRICE[p][c] for p, c in zip(product, currency, strict=True)], np.int64)
    exponent = np.array([CURRENCIES[c][1] for c in currency])
    whole = 10**exponent
    amount0 = (seats0 * unit * 12 // whole) * whole
    amount = (seats * unit * 12 // whole) * whole
    return Deals(
        lead=idx,
        account=np.arange(n),
        created=created,
        owner=owner,
        segment=seg,
        currency=currency,
        seats_initial=seats0,
        seats=seats,
        billing=billing,
        won=won,
        stage_times=stage_times,
        regress_at=regress_at,
        closed_at=closed_at,
        amount_initial=amount0,
        amount=amount,
    )
