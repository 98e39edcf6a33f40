"""The Stripe side of the simulation: customers, the price catalogue, subscriptions billed
period by period (trials, coupons, seat and plan changes with proration, cancellations,
failed payments, reactivations), invoices, line items, charges and refunds.

The loop runs over billing periods, vectorised over every live subscription. Alongside the
invoice lines it records each subscription item's state segments (what was in force from when
to when); truth.json's MRR is computed from those segments, independently of the lines.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from revops.generator.common import DAY, NAT, add_months, round_half_up
from revops.generator.crm import PRODUCT_BY_SEGMENT, SEAT_PRICE, Deals, Leads
from revops.generator.reference import CURRENCIES

CURRENCY_CODES = tuple(CURRENCIES)  # USD, EUR, GBP, JPY
# Billing kinds: (Stripe interval, interval_count, months per period)
KINDS = (("month", 1, 1.0), ("month", 3, 3.0), ("year", 1, 12.0), ("week", 1, 12.0 / 52.0))
MONTH, QUARTER, YEAR, WEEK = range(4)
# Numerator of the monthly normalisation over a common denominator of 12:
# MRR = amount * MULT / 12 (monthly 12/12, quarterly 4/12, yearly 1/12, weekly 52/12).
MRR_MULT = np.array([12, 4, 1, 52], dtype=np.int64)

ADDON_PRICE = {"USD": 19900, "EUR": 18900, "GBP": 15900, "JPY": 29000}
SUPPORT_PRICE = {"USD": 4900, "EUR": 4500, "GBP": 3900, "JPY": 7000}
ONBOARDING_PRICE = {"USD": 250000, "EUR": 230000, "GBP": 200000, "JPY": 380000}
PRICE_INCREASE = 1.10  # list prices rise once, two years into the default history
PRICE_CHANGE_DAY = 731

# (code, name, percent_off, amount_off (USD cents), duration, duration_in_months)
COUPONS = (
    ("LAUNCH20", "Launch offer 20% for 3 months", 20, 0, "repeating", 3),
    ("ANNUAL10", "Annual plan 10% forever", 10, 0, "forever", 0),
    ("PARTNER25", "Partner referral 25% for 12 months", 25, 0, "repeating", 12),
    ("WELCOME100", "Welcome credit", 0, 10000, "once", 0),
)
VAT = {"USD": 0, "EUR": 20, "GBP": 20, "JPY": 10}  # percent of the discounted subtotal
CHURN_MONTHLY = np.array([0.030, 0.016, 0.008])
CHURN_ANNUAL = np.array([0.18, 0.12, 0.08])


def _currency_index(currency: np.ndarray) -> np.ndarray:
    out = np.full(currency.shape, -1, dtype=np.int64)
    for i, code in enumerate(CURRENCY_CODES):
        out[currency == code] = i
    return out


@dataclass
class Catalogue:
    """Products and prices. Index = price number."""

    product_names: tuple[str, ...]
    price_product: np.ndarray
    price_currency: np.ndarray
    price_kind: np.ndarray  # index into KINDS, -1 for one-time
    price_version: np.ndarray
    price_unit: np.ndarray  # minor units
    price_created: np.ndarray
    price_inactive_at: np.ndarray  # NAT while active
    lookup: dict[tuple[int, str, int, int], int] = field(default_factory=dict)
    _grid: np.ndarray | None = None

    def index(
        self, product: np.ndarray, currency: np.ndarray, kind: np.ndarray, version: np.ndarray
    ) -> np.ndarray:
        """Price numbers for (product, currency code, kind, version) arrays; -1 kind = one-time."""
        if self._grid is None:
            grid = np.full((len(self.product_names), len(CURRENCY_CODES), len(KINDS) + 1, 2), -1)
            for (p, c, k, v), i in self.lookup.items():
                grid[p, CURRENCY_CODES.index(c), k, v] = i
            self._grid = grid
        cur = _currency_index(np.asarray(currency))
        out = self._grid[np.asarray(product), cur, np.asarray(kind), np.asarray(version)]
        if (out < 0).any():
            raise KeyError("price lookup for a product, currency and interval with no price")
        return out


def build_catalogue(start_ts: int, end_ts: int) -> Catalogue:
    products = (*PRODUCT_BY_SEGMENT, "Analytics Add-on", "Premium Support", "Onboarding")
    rows = []
    change_ts = start_ts + PRICE_CHANGE_DAY * DAY
    created0 = start_ts - 400 * DAY
    for product in products:
        for cur in CURRENCY_CODES:
            whole = 10 ** CURRENCIES[cur][1]
            if product in PRODUCT_BY_SEGMENT:
                versions = (0, 1) if change_ts < end_ts else (0,)
                for v in versions:
                    base = SEAT_PRICE[product][cur]
                    if v == 1:
                        base = round(base * PRICE_INCREASE / whole) * whole
                    units = {
                        MONTH: base,
                        QUARTER: 3 * round(base * 0.95),
                        YEAR: 12 * round(base * 0.85),
                    }
                    created = created0 if v == 0 else change_ts
                    inactive = change_ts if (v == 0 and len(versions) == 2) else NAT
                    for kind, unit in units.items():
                        rows.append((product, cur, kind, v, unit, created, inactive))
            elif product == "Analytics Add-on":
                m = ADDON_PRICE[cur]
                for kind, unit in {MONTH: m, QUARTER: 3 * m, YEAR: 12 * m}.items():
                    rows.append((product, cur, kind, 0, unit, created0, NAT))
            elif product == "Premium Support":
                rows.append((product, cur, WEEK, 0, SUPPORT_PRICE[cur], created0, NAT))
            else:
                rows.append((product, cur, -1, 0, ONBOARDING_PRICE[cur], created0, NAT))
    cols = list(zip(*rows, strict=True))
    cat = Catalogue(
        product_names=products,
        price_product=np.array([products.index(p) for p in cols[0]], dtype=np.int64),
        price_currency=np.array(cols[1]),
        price_kind=np.array(cols[2], dtype=np.int64),
        price_version=np.array(cols[3], dtype=np.int64),
        price_unit=np.array(cols[4], dtype=np.int64),
        price_created=np.array(cols[5], dtype=np.int64),
        price_inactive_at=np.array(cols[6], dtype=np.int64),
    )
    for i, r in enumerate(rows):
        cat.lookup[(products.index(r[0]), r[1], r[2], r[3])] = i
    return cat


@dataclass
class Customers:
    deal: np.ndarray  # index into Deals (-1 for a test customer)
    account: np.ndarray  # CRM account index (= deal index)
    created: np.ndarray
    currency: np.ndarray
    segment: np.ndarray
    email: np.ndarray
    name: np.ndarray
    country: np.ndarray
    has_metadata: np.ndarray
    deleted_at: np.ndarray


class Ledger:
    """Accumulates record batches (dicts of equal-length arrays) by record type."""

    def __init__(self) -> None:
        self.parts: dict[str, list[dict[str, np.ndarray]]] = defaultdict(list)
        self.counters: dict[str, int] = defaultdict(int)

    def next_ids(self, name: str, m: int) -> np.ndarray:
        """The next `m` sequence numbers of `name` (invoices are numbered as they are made)."""
        first = self.counters[name]
        self.counters[name] = first + m
        return np.arange(first, first + m, dtype=np.int64)

    def add(self, kind: str, **cols: np.ndarray) -> None:
        n = {np.asarray(v).shape[0] for v in cols.values()}
        if len(n) != 1:
            raise ValueError(f"{kind}: ragged batch {n}")
        if n.pop():
            self.parts[kind].append({k: np.asarray(v) for k, v in cols.items()})

    def table(self, kind: str) -> dict[str, np.ndarray]:
        parts = self.parts.get(kind, [])
        if not parts:
            return {}
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


@dataclass
class Billing:
    catalogue: Catalogue
    customers: Customers
    subs: dict[str, np.ndarray]
    ledger: Ledger  # lines, invoices, segments, sub_events, item_events, renewals, expansions


@dataclass
class _Batch:
    """A batch of subscriptions being billed: the catalogue, the ledger, and per-subscription
    arrays indexed by row. The state arrays (seats, tier, addon, base_product) change in place
    as the loop applies mid-period changes; every helper sees the current state."""

    cat: Catalogue
    ledger: Ledger
    sid: np.ndarray
    cust: np.ndarray
    cur: np.ndarray
    kind: np.ndarray
    base_item: np.ndarray
    addon_item: np.ndarray
    base_product: np.ndarray
    seats: np.ndarray
    addon: np.ndarray
    tier: np.ndarray
    pct: np.ndarray
    discount_end: np.ndarray
    change_ts: int


def _period_start(anchor: np.ndarray, kind: np.ndarray, k: int) -> np.ndarray:
    months = np.where(kind == QUARTER, 3 * k, np.where(kind == YEAR, 12 * k, k))
    by_month = add_months(anchor, months)
    return np.where(kind == WEEK, anchor + 7 * DAY * k, by_month)


def build_customers(rng: np.random.Generator, deals: Deals, leads: Leads, end_ts: int) -> Customers:
    won = np.flatnonzero(deals.won & (deals.closed_at != NAT))
    created = deals.closed_at[won] + rng.integers(600, 2 * DAY, won.size)
    ok = created < end_ts
    won, created = won[ok], created[ok]
    lead = deals.lead[won]
    return Customers(
        deal=won,
        account=deals.account[won],
        created=created,
        currency=deals.currency[won],
        segment=deals.segment[won],
        email=leads.email[lead],
        name=leads.company[lead],
        country=leads.country[lead],
        has_metadata=rng.random(won.size) >= 0.03,
        deleted_at=np.full(won.size, NAT, dtype=np.int64),
    )


def simulate_billing(
    rng: np.random.Generator, deals: Deals, customers: Customers, start_ts: int, end_ts: int
) -> Billing:
    cat = build_catalogue(start_ts, end_ts)
    ledger = Ledger()
    n = customers.deal.size
    seg = customers.segment
    # generation 0: the subscription each won deal starts
    d = customers.deal
    trial = (seg == 0) & (rng.random(n) < 0.25)
    subs0 = dict(
        customer=np.arange(n),
        start=customers.created + rng.integers(60, 3600, n),
        kind=deals.billing[d].astype(np.int64),
        tier=seg.copy(),
        seats=deals.seats[d].copy(),
        addon=(seg >= 1) & (rng.random(n) < 0.25),
        trial=trial,
        trial_converts=~trial | (rng.random(n) < 0.8),
        gen=np.zeros(n, dtype=np.int64),
    )
    all_subs = [subs0]
    _run(rng, cat, customers, subs0, 0, ledger, start_ts, end_ts)
    next_id = n
    # reactivations: some customers who cancelled come back with a new subscription
    for gen in (1, 2):
        ended = ledger.table("sub_end")
        if not ended:
            break
        mine = ended["gen"] == gen - 1
        voluntary = ended["voluntary"][mine]
        cust = ended["customer"][mine][voluntary]
        back_at = ended["ended_at"][mine][voluntary] + rng.integers(45, 300, cust.size) * DAY
        comes_back = (rng.random(cust.size) < 0.22) & (back_at < end_ts)
        cust, back_at = cust[comes_back], back_at[comes_back]
        if cust.size == 0:
            break
        m = cust.size
        prior_seats = deals.seats[customers.deal[cust]]
        subs = dict(
            customer=cust,
            start=back_at + rng.integers(0, DAY, m),
            kind=deals.billing[customers.deal[cust]].astype(np.int64),
            tier=customers.segment[cust].copy(),
            seats=np.maximum(1, np.round(prior_seats * rng.uniform(0.6, 1.2, m))).astype(np.int64),
            addon=np.zeros(m, dtype=bool),
            trial=np.zeros(m, dtype=bool),
            trial_converts=np.ones(m, dtype=bool),
            gen=np.full(m, gen, dtype=np.int64),
        )
        _run(rng, cat, customers, subs, next_id, ledger, start_ts, end_ts)
        all_subs.append(subs)
        next_id += m
    # Premium Support: a weekly subscription some larger customers add later
    pick = np.flatnonzero((seg >= 1) & (rng.random(n) < 0.08))
    start = customers.created[pick] + rng.integers(20, 200, pick.size) * DAY
    keep = start < end_ts
    pick, start = pick[keep], start[keep]
    m = pick.size
    if m:
        subs = dict(
            customer=pick,
            start=start,
            kind=np.full(m, WEEK, dtype=np.int64),
            tier=np.full(m, -1, dtype=np.int64),
            seats=np.ones(m, dtype=np.int64),
            addon=np.zeros(m, dtype=bool),
            trial=np.zeros(m, dtype=bool),
            trial_converts=np.ones(m, dtype=bool),
            gen=np.full(m, -1, dtype=np.int64),
        )
        _run(rng, cat, customers, subs, next_id, ledger, start_ts, end_ts)
        all_subs.append(subs)
    subs_all = {k: np.concatenate([s[k] for s in all_subs]) for k in all_subs[0]}
    # customers whose only subscription was a trial that never converted are deleted later
    trial_only = np.flatnonzero(subs0["trial"] & ~subs0["trial_converts"])
    reactivated = np.isin(trial_only, subs_all["customer"][subs_all["gen"] != 0])
    trial_only = trial_only[~reactivated]
    gone = customers.created[trial_only] + 75 * DAY
    customers.deleted_at[trial_only] = np.where(gone < end_ts, gone, NAT)
    return Billing(catalogue=cat, customers=customers, subs=subs_all, ledger=ledger)


def _coupon_for(rng: np.random.Generator, kind: np.ndarray, gen: np.ndarray) -> np.ndarray:
    n = kind.size
    coupon = np.full(n, -1, dtype=np.int64)
    u = rng.random(n)
    first = gen == 0
    coupon[first & (u < 0.06)] = 0
    coupon[first & (u >= 0.06) & (u < 0.10) & (kind == YEAR)] = 1
    coupon[first & (u >= 0.10) & (u < 0.13)] = 2
    coupon[first & (u >= 0.13) & (u < 0.17)] = 3
    coupon[kind == WEEK] = -1
    return coupon


def _run(
    rng: np.random.Generator,
    cat: Catalogue,
    customers: Customers,
    subs: dict[str, np.ndarray],
    first_id: int,
    ledger: Ledger,
    start_ts: int,
    end_ts: int,
) -> None:
    """Bill a batch of subscriptions period by period until each ends or history ends."""
    n = subs["customer"].size
    sid = first_id + np.arange(n)
    cust = subs["customer"]
    cur = customers.currency[cust]
    seg = customers.segment[cust]
    kind = subs["kind"]
    start = subs["start"]
    trial = subs["trial"]
    trial_end = np.where(trial, start + 14 * DAY, NAT)
    anchor = np.where(trial, trial_end, start)
    coupon = _coupon_for(rng, kind, subs["gen"])
    subs["id"] = sid
    subs["coupon"] = coupon
    subs["trial_end"] = trial_end
    subs["anchor"] = anchor
    pct = np.array([c[2] for c in COUPONS] + [0])[coupon]
    months = np.array([c[5] for c in COUPONS] + [0])[coupon]
    discount_end = np.where(
        (coupon >= 0) & (np.array([c[4] for c in COUPONS] + ["none"])[coupon] == "repeating"),
        add_months(start, months),
        NAT,
    )
    subs["discount_end"] = discount_end
    subs["pct"] = pct
    change_ts = start_ts + PRICE_CHANGE_DAY * DAY
    tier = subs["tier"].copy()
    seats = subs["seats"].copy()
    addon = subs["addon"].copy()
    base_item = 3 * sid
    addon_item = 3 * sid + 1
    support = kind == WEEK
    base_product = np.where(support, 4, np.maximum(tier, 0))
    ended_at = np.full(n, NAT, dtype=np.int64)
    batch = _Batch(
        cat,
        ledger,
        sid,
        cust,
        cur,
        kind,
        base_item,
        addon_item,
        base_product,
        seats,
        addon,
        tier,
        pct,
        discount_end,
        change_ts,
    )
    # the items exist from the start
    ledger.add(
        "item_events",
        item=base_item,
        sub=sid,
        t=start,
        product=base_product,
        price=_price(cat, base_product, cur, kind, start >= change_ts),
        qty=seats,
        deleted=np.zeros(n, bool),
    )
    has_addon = np.flatnonzero(addon)
    ledger.add(
        "item_events",
        item=addon_item[has_addon],
        sub=sid[has_addon],
        t=start[has_addon],
        product=np.full(has_addon.size, 3),
        price=_price(
            cat,
            np.full(has_addon.size, 3),
            cur[has_addon],
            kind[has_addon],
            np.zeros(has_addon.size, bool),
        ),
        qty=np.ones(has_addon.size, dtype=np.int64),
        deleted=np.zeros(has_addon.size, bool),
    )
    _sub_event(
        batch,
        np.arange(n),
        start,
        np.where(trial, "trialing", "active"),
        start,
        np.where(trial, trial_end, _period_start(anchor, kind, 1)),
    )
    # --- the trial period: a zero invoice; MRR is zero until it ends -----------------------
    t_idx = np.flatnonzero(trial)
    if t_idx.size:
        _invoice(
            rng,
            batch,
            t_idx,
            start[t_idx],
            trial_end[t_idx],
            start[t_idx],
            "subscription_create",
            is_trial=True,
            proration=False,
        )
        lost = t_idx[~subs["trial_converts"][t_idx] & (trial_end[t_idx] < end_ts)]
        ended_at[lost] = trial_end[lost]
        _end(ledger, sid, cust, subs["gen"], lost, trial_end[lost], trial_end[lost], False)
        _sub_event(
            batch,
            lost,
            trial_end[lost],
            "canceled",
            start[lost],
            trial_end[lost],
            canceled_at=trial_end[lost],
            ended_at=trial_end[lost],
        )
        never = t_idx[~subs["trial_converts"][t_idx]]
        alive_mask = np.ones(n, bool)
        alive_mask[never] = False
    else:
        alive_mask = np.ones(n, bool)
    k = 0
    while True:
        ps = _period_start(anchor, kind, k)
        pe = _period_start(anchor, kind, k + 1)
        act = np.flatnonzero(alive_mask & (ps < end_ts))
        if act.size == 0:
            break
        first_invoice = k == 0
        reason = "subscription_create" if first_invoice else "subscription_cycle"
        reason_arr = np.where(trial[act] & first_invoice, "subscription_cycle", reason)
        months = np.array([kk[2] for kk in KINDS])[kind[act]]
        # churn decided for this period (voluntary)
        h = np.where(
            kind[act] == YEAR,
            CHURN_ANNUAL[np.maximum(seg[act], 0)],
            1 - (1 - CHURN_MONTHLY[np.maximum(seg[act], 0)]) ** months,
        )
        h = np.where(kind[act] == WEEK, 0.012, h)
        churn = rng.random(act.size) < h
        # mid-period change (not for subscriptions that churn this period)
        u = rng.random(act.size)
        per_seat = ~support[act]
        p_seat = np.where(per_seat, 1 - 0.94**months, 0)
        p_up = np.where(per_seat & (tier[act] < 2), 1 - 0.988**months, 0)
        p_down = np.where(per_seat & (tier[act] > 0), 1 - 0.994**months, 0)
        p_add = np.where(per_seat & (tier[act] >= 1) & ~addon[act], 1 - 0.99**months, 0)
        p_rem = np.where(addon[act], 1 - 0.992**months, 0)
        edges = np.cumsum(np.stack([p_seat, p_up, p_down, p_add, p_rem]), axis=0)
        event = np.where(churn, 5, (u[None, :] >= edges).sum(axis=0))  # 5 = none
        change_at = ps[act] + ((pe[act] - ps[act]) * rng.uniform(0.1, 0.9, act.size)).astype(
            np.int64
        )
        event = np.where(change_at >= end_ts, 5, event)
        # the regular invoice for the period, in the state at its start
        seg_end = np.where(np.isin(event, [0, 1, 2]), change_at, pe[act])
        period_invoice = _invoice(
            rng,
            batch,
            act,
            ps[act],
            pe[act],
            ps[act],
            reason_arr,
            is_trial=False,
            proration=False,
            seg_end=seg_end,
            onboarding=first_invoice & (subs["gen"][act] == 0) & (tier[act] == 2),
        )
        renew = act[(k > 0) | trial[act]]
        _sub_event(batch, renew, ps[renew], "active", ps[renew], pe[renew])
        # apply the mid-period change, with proration lines from the change to period end
        for code in (0, 1, 2, 3):
            rows = act[event == code]
            if rows.size == 0:
                continue
            at = change_at[event == code]
            old_mrr = _sub_mrr_numer(
                batch,
                rows,
                at,
                ps,
            )
            if code == 0:
                up = rng.random(rows.size) < 0.65
                new = np.where(
                    up,
                    np.ceil(seats[rows] * rng.uniform(1.1, 1.5, rows.size)),
                    np.floor(seats[rows] * rng.uniform(0.6, 0.9, rows.size)),
                ).astype(np.int64)
                new = np.maximum(1, np.where(new == seats[rows], new + np.where(up, 1, -1), new))
                changed = new != seats[rows]
                rows, at, new = rows[changed], at[changed], new[changed]
                old_mrr = old_mrr[changed]
                _proration(
                    rng,
                    batch,
                    rows,
                    at,
                    pe[rows],
                    ps,
                    new_seats=new,
                )
                seats[rows] = new
            elif code in (1, 2):
                new_tier = tier[rows] + (1 if code == 1 else -1)
                _proration(
                    rng,
                    batch,
                    rows,
                    at,
                    pe[rows],
                    ps,
                    new_tier=new_tier,
                )
                tier[rows] = new_tier
                base_product[rows] = new_tier
            else:
                addon[rows] = True
                ledger.add(
                    "item_events",
                    item=addon_item[rows],
                    sub=sid[rows],
                    t=at,
                    product=np.full(rows.size, 3),
                    price=_price(
                        cat, np.full(rows.size, 3), cur[rows], kind[rows], np.zeros(rows.size, bool)
                    ),
                    qty=np.ones(rows.size, dtype=np.int64),
                    deleted=np.zeros(rows.size, bool),
                )
                _addon_line(batch, rows, at, ps[rows], pe[rows])
            if rows.size:
                new_mrr = _sub_mrr_numer(
                    batch,
                    rows,
                    at,
                    ps,
                )
                ledger.add(
                    "expansions",
                    sub=sid[rows],
                    customer=cust[rows],
                    t=at,
                    delta_numer=new_mrr - old_mrr,
                    currency=cur[rows],
                )
        # add-on removals take effect at the period end (no proration)
        rem = act[event == 4]
        rem = rem[pe[rem] < end_ts]
        if rem.size:
            addon[rem] = False
            ledger.add(
                "item_events",
                item=addon_item[rem],
                sub=sid[rem],
                t=pe[rem],
                product=np.full(rem.size, 3),
                price=_price(
                    cat, np.full(rem.size, 3), cur[rem], kind[rem], np.zeros(rem.size, bool)
                ),
                qty=np.ones(rem.size, dtype=np.int64),
                deleted=np.ones(rem.size, bool),
            )
        # cancellations
        c_rows = act[churn]
        requested = ps[c_rows] + (
            (pe[c_rows] - ps[c_rows]) * rng.uniform(0.05, 0.95, c_rows.size)
        ).astype(np.int64)
        happened = requested < end_ts
        c_rows, requested = c_rows[happened], requested[happened]
        immediate = (kind[c_rows] == MONTH) & (rng.random(c_rows.size) < 0.1)
        end_at = np.where(immediate, requested, pe[c_rows])
        _sub_event(
            batch,
            c_rows,
            requested,
            np.where(immediate, "canceled", "active"),
            ps[c_rows],
            pe[c_rows],
            cancel_at_period_end=~immediate,
            canceled_at=requested,
            ended_at=np.where(immediate, requested, NAT),
        )
        ended_at[c_rows] = end_at
        sched = ~immediate & (end_at < end_ts)
        later = c_rows[sched]
        _sub_event(
            batch,
            later,
            pe[later],
            "canceled",
            ps[later],
            pe[later],
            cancel_at_period_end=True,
            canceled_at=requested[sched],
            ended_at=pe[later],
        )
        done = end_at < end_ts
        _end(ledger, sid, cust, subs["gen"], c_rows[done], end_at[done], requested[done], True)
        # a payment that never succeeds: past due, then cancelled after two weeks of dunning
        calm = (event == 5) & ~churn & (kind[act] != WEEK)
        fail = act[calm & (rng.random(act.size) < 0.01)]
        fail_inv = period_invoice[calm & np.isin(act, fail)]
        stop = np.minimum(ps[fail] + 14 * DAY, pe[fail])
        past_due = ps[fail] + 3 * DAY
        ok = past_due < end_ts
        ledger.add("failed_invoices", invoice=fail_inv[ok], at=past_due[ok], gives_up=stop[ok])
        _sub_event(batch, fail[ok], past_due[ok], "past_due", ps[fail[ok]], pe[fail[ok]])
        gone = stop < end_ts
        f = fail[gone]
        ended_at[f] = stop[gone]
        _sub_event(
            batch,
            f,
            stop[gone],
            "canceled",
            ps[f],
            pe[f],
            canceled_at=stop[gone],
            ended_at=stop[gone],
        )
        _end(ledger, sid, cust, subs["gen"], f, stop[gone], stop[gone], False)
        alive_mask[f] = False
        # renewal opportunities for annual contracts: decided at each renewal
        yr = act[kind[act] == YEAR]
        if yr.size:
            renewed = ~np.isin(yr, c_rows)
            arr = _sub_mrr_numer(
                batch,
                yr,
                np.maximum(ps[yr], pe[yr] - 1),
                ps,
            )
            ledger.add(
                "renewals",
                sub=sid[yr],
                customer=cust[yr],
                t=pe[yr],
                renewed=renewed,
                arr_numer=arr * 12,
                currency=cur[yr],
            )
        alive_mask[c_rows] = False
        k += 1
    subs["ended_at"] = ended_at
    subs["tier_final"] = tier


def _end(ledger, sid, cust, gen, rows, end_at, requested, voluntary) -> None:
    if rows.size:
        ledger.add(
            "sub_end",
            sub=sid[rows],
            customer=cust[rows],
            gen=gen[rows],
            ended_at=end_at,
            canceled_at=requested,
            voluntary=np.full(rows.size, voluntary),
        )


def _price(
    cat: Catalogue, product: np.ndarray, cur: np.ndarray, kind: np.ndarray, new: np.ndarray
) -> np.ndarray:
    version = np.where(product <= 2, new.astype(np.int64), 0)
    return cat.index(product, cur, kind, version)


def _sub_mrr_numer(b: _Batch, rows: np.ndarray, at: np.ndarray, ps: np.ndarray) -> np.ndarray:
    """MRR of the subscriptions' current state, times 1200 (exact integer), at time `at`."""
    cat, cur, kind, base_product, seats = b.cat, b.cur, b.kind, b.base_product, b.seats
    addon, pct, discount_end, change_ts = b.addon, b.pct, b.discount_end, b.change_ts
    price = _price(cat, base_product[rows], cur[rows], kind[rows], ps[rows] >= change_ts)
    p = np.where((discount_end[rows] == NAT) | (at < discount_end[rows]), pct[rows], 0)
    base = cat.price_unit[price] * seats[rows] * (100 - p) * MRR_MULT[kind[rows]]
    a_price = _price(
        cat,
        np.full(rows.size, 3),
        cur[rows],
        np.where(kind[rows] == WEEK, MONTH, kind[rows]),
        np.zeros(rows.size, bool),
    )
    add = np.where(addon[rows], cat.price_unit[a_price] * (100 - p) * MRR_MULT[kind[rows]], 0)
    return base + add


def _discount_pct(
    pct: np.ndarray, discount_end: np.ndarray, rows: np.ndarray, at: np.ndarray
) -> np.ndarray:
    return np.where((discount_end[rows] == NAT) | (at < discount_end[rows]), pct[rows], 0)


def _invoice(
    rng,
    b: _Batch,
    rows,
    ps,
    pe,
    created,
    reason,
    *,
    is_trial,
    proration,
    seg_end=None,
    onboarding=None,
) -> np.ndarray:
    """An invoice per row with the regular lines for the period [ps, pe)."""
    ledger, cat, sid, cust, cur, kind = b.ledger, b.cat, b.sid, b.cust, b.cur, b.kind
    base_item, addon_item, base_product, seats = b.base_item, b.addon_item, b.base_product, b.seats
    addon, pct, discount_end, change_ts = b.addon, b.pct, b.discount_end, b.change_ts
    m = rows.size
    inv = ledger.next_ids("invoice", m)
    new_prices = (ps >= change_ts) & ~is_trial
    b_price = _price(cat, base_product[rows], cur[rows], kind[rows], np.asarray(new_prices))
    p = _discount_pct(pct, discount_end, rows, ps) if not is_trial else np.zeros(m, dtype=np.int64)
    b_amount = 0 if is_trial else cat.price_unit[b_price] * seats[rows]
    b_amount = np.broadcast_to(np.asarray(b_amount, dtype=np.int64), (m,))
    seg_to = pe if seg_end is None else seg_end
    _line(
        b,
        inv,
        rows,
        base_item[rows],
        b_price,
        seats[rows],
        b_amount,
        p,
        ps,
        pe,
        False,
        "subscription",
    )
    _segment(
        b,
        base_item[rows],
        rows,
        ps,
        seg_to,
        b_price,
        seats[rows],
        p,
        np.full(m, is_trial),
    )
    a = np.flatnonzero(addon[rows])
    if a.size:
        r = rows[a]
        a_price = _price(cat, np.full(a.size, 3), cur[r], kind[r], np.zeros(a.size, bool))
        a_amount = np.zeros(a.size, dtype=np.int64) if is_trial else cat.price_unit[a_price]
        _line(
            b,
            inv[a],
            r,
            addon_item[r],
            a_price,
            np.ones(a.size, np.int64),
            a_amount,
            p[a],
            ps[a],
            pe[a],
            False,
            "subscription",
        )
        _segment(
            b,
            addon_item[r],
            r,
            ps[a],
            pe[a],
            a_price,
            np.ones(a.size, np.int64),
            p[a],
            np.full(a.size, is_trial),
        )
    if onboarding is not None and onboarding.any():
        o = np.flatnonzero(onboarding)
        r = rows[o]
        o_price = cat.index(
            np.full(o.size, 5), cur[r], np.full(o.size, -1), np.zeros(o.size, np.int64)
        )
        _line(
            b,
            inv[o],
            r,
            np.full(o.size, -1),
            o_price,
            np.ones(o.size, np.int64),
            cat.price_unit[o_price],
            np.zeros(o.size, np.int64),
            ps[o],
            ps[o] + 1,
            False,
            "invoiceitem",
        )
    ledger.add(
        "invoices",
        invoice=inv,
        sub=sid[rows],
        customer=cust[rows],
        currency=cur[rows],
        created=np.asarray(created),
        period_start=ps,
        period_end=pe,
        reason=np.broadcast_to(np.asarray(reason), (m,)),
    )
    return inv


def _proration(
    rng,
    b: _Batch,
    rows,
    at,
    pe,
    ps,
    *,
    new_seats=None,
    new_tier=None,
) -> None:
    ledger, cat, sid, cur, kind = b.ledger, b.cat, b.sid, b.cur, b.kind
    base_item, base_product, seats = b.base_item, b.base_product, b.seats
    pct, discount_end, change_ts = b.pct, b.discount_end, b.change_ts
    m = rows.size
    if m == 0:
        return
    inv = ledger.next_ids("invoice", m)
    new_prices = ps[rows] >= change_ts
    old_price = _price(cat, base_product[rows], cur[rows], kind[rows], new_prices)
    product = base_product[rows] if new_tier is None else new_tier
    new_price = _price(cat, product, cur[rows], kind[rows], new_prices)
    qty_old = seats[rows]
    qty_new = qty_old if new_seats is None else new_seats
    p = _discount_pct(pct, discount_end, rows, at)
    span = pe - ps[rows]
    left = pe - at
    credit = -np.round(cat.price_unit[old_price] * qty_old * left / span).astype(np.int64)
    charge = np.round(cat.price_unit[new_price] * qty_new * left / span).astype(np.int64)
    _line(
        b,
        inv,
        rows,
        base_item[rows],
        old_price,
        qty_old,
        credit,
        p,
        at,
        pe,
        True,
        "subscription",
    )
    _line(
        b,
        inv,
        rows,
        base_item[rows],
        new_price,
        qty_new,
        charge,
        p,
        at,
        pe,
        True,
        "subscription",
    )
    _segment(
        b,
        base_item[rows],
        rows,
        at,
        pe,
        new_price,
        qty_new,
        p,
        np.zeros(m, bool),
    )
    ledger.add(
        "item_events",
        item=base_item[rows],
        sub=sid[rows],
        t=at,
        product=product,
        price=new_price,
        qty=qty_new,
        deleted=np.zeros(m, bool),
    )
    _update_invoice(b, inv, rows, at, pe)


def _addon_line(b: _Batch, rows, at, ps, pe) -> None:
    """An add-on added mid-period: charged for the rest of the period, in proportion."""
    ledger, cat, cur, kind = b.ledger, b.cat, b.cur, b.kind
    addon_item, pct, discount_end = b.addon_item, b.pct, b.discount_end
    m = rows.size
    inv = ledger.next_ids("invoice", m)
    price = _price(cat, np.full(m, 3), cur[rows], kind[rows], np.zeros(m, bool))
    p = _discount_pct(pct, discount_end, rows, at)
    charge = np.round(cat.price_unit[price] * (pe - at) / (pe - ps)).astype(np.int64)
    _line(
        b,
        inv,
        rows,
        addon_item[rows],
        price,
        np.ones(m, np.int64),
        charge,
        p,
        at,
        pe,
        True,
        "subscription",
    )
    _segment(
        b,
        addon_item[rows],
        rows,
        at,
        pe,
        price,
        np.ones(m, np.int64),
        p,
        np.zeros(m, bool),
    )
    _update_invoice(b, inv, rows, at, pe)


def _sub_event(
    b: _Batch,
    rows,
    t,
    status,
    cps,
    cpe,
    *,
    cancel_at_period_end=False,
    canceled_at=NAT,
    ended_at=NAT,
) -> None:
    """A new state of the subscriptions in `rows` from time `t` (scalars apply to every row)."""

    def each(value):
        return np.full(rows.size, value) if np.ndim(value) == 0 else value

    b.ledger.add(
        "sub_events",
        sub=b.sid[rows],
        t=t,
        status=each(status),
        cps=cps,
        cpe=cpe,
        cancel_at_period_end=each(cancel_at_period_end),
        canceled_at=each(canceled_at),
        ended_at=each(ended_at),
    )


def _segment(b: _Batch, item, rows, t_from, t_to, price, qty, pct, zero) -> None:
    """A state segment of a subscription item: what was in force from `t_from` to `t_to`."""
    b.ledger.add(
        "segments",
        item=item,
        sub=b.sid[rows],
        t_from=t_from,
        t_to=t_to,
        price=price,
        qty=qty,
        pct=pct,
        zero=zero,
    )


def _update_invoice(b: _Batch, inv, rows, at, pe) -> None:
    """The invoice of a mid-period change, from the change to the period end."""
    b.ledger.add(
        "invoices",
        invoice=inv,
        sub=b.sid[rows],
        customer=b.cust[rows],
        currency=b.cur[rows],
        created=at,
        period_start=at,
        period_end=pe,
        reason=np.full(rows.size, "subscription_update"),
    )


def _line(b: _Batch, inv, rows, item, price, qty, amount, p, ps, pe, proration, kind) -> None:
    ledger, sid, cust, cur = b.ledger, b.sid, b.cust, b.cur
    m = rows.size
    amount = np.broadcast_to(np.asarray(amount, dtype=np.int64), (m,))
    discount = np.asarray(round_half_up(amount * p, 100), dtype=np.int64)
    ledger.add(
        "lines",
        invoice=inv,
        sub=sid[rows],
        customer=cust[rows],
        currency=cur[rows],
        item=item,
        price=price,
        qty=qty,
        amount=amount,
        pct=p,
        discount=discount,
        period_start=np.broadcast_to(np.asarray(ps), (m,)),
        period_end=np.broadcast_to(np.asarray(pe), (m,)),
        proration=np.full(m, proration),
        type=np.full(m, kind),
    )


def settle(
    rng: np.random.Generator, billing: Billing, end_ts: int
) -> dict[str, dict[str, np.ndarray]]:
    """Totals, payment attempts, invoice status changes and refunds for every invoice."""
    inv = billing.ledger.table("invoices")
    lines = billing.ledger.table("lines")
    order = np.argsort(inv["invoice"])
    inv = {k: v[order] for k, v in inv.items()}
    n = inv["invoice"].size
    subtotal = np.zeros(n, dtype=np.int64)
    discount = np.zeros(n, dtype=np.int64)
    np.add.at(subtotal, lines["invoice"], lines["amount"])
    np.add.at(discount, lines["invoice"], lines["discount"])
    # a one-off welcome credit on the first invoice with something to pay (USD accounts)
    once = billing.subs["coupon"][inv["sub"]] == 3
    payable = once & (subtotal > 0) & (inv["currency"] == "USD")
    first_payable = np.zeros(n, dtype=bool)
    seen: set[int] = set()
    for i in np.flatnonzero(payable).tolist():
        s = int(inv["sub"][i])
        if s not in seen:
            seen.add(s)
            first_payable[i] = True
    once_amount = np.where(first_payable, np.minimum(COUPONS[3][3], subtotal - discount), 0)
    after = subtotal - discount - once_amount
    vat = np.array([VAT[c] for c in CURRENCY_CODES], dtype=np.int64)[
        _currency_index(inv["currency"])
    ]
    tax = np.where(after > 0, np.asarray(round_half_up(after * vat, 100), dtype=np.int64), 0)
    total = after + tax
    due = np.maximum(total, 0)
    failed = billing.ledger.table("failed_invoices")
    doomed = np.isin(inv["invoice"], failed["invoice"]) if failed else np.zeros(n, bool)
    gives_up = np.full(n, NAT, dtype=np.int64)
    if failed:
        gives_up[np.searchsorted(inv["invoice"], failed["invoice"])] = failed["gives_up"]
    created = inv["created"]
    retry = ~doomed & (due > 0) & (rng.random(n) < 0.05)
    # payment attempts
    ch_inv, ch_t, ch_ok = [], [], []
    ok_first = (due > 0) & ~doomed & ~retry
    ch_inv.append(np.flatnonzero(ok_first))
    ch_t.append(created[ok_first] + 60)
    ch_ok.append(np.ones(int(ok_first.sum()), bool))
    r = np.flatnonzero(retry)
    ch_inv += [r, r]
    ch_t += [created[r] + 60, created[r] + 3 * DAY]
    ch_ok += [np.zeros(r.size, bool), np.ones(r.size, bool)]
    d = np.flatnonzero(doomed & (due > 0))
    for lag in (60, 3 * DAY, 7 * DAY):
        ch_inv.append(d)
        ch_t.append(created[d] + lag)
        ch_ok.append(np.zeros(d.size, bool))
    c_inv, c_t, c_ok = (np.concatenate(x) for x in (ch_inv, ch_t, ch_ok))
    keep = c_t < end_ts
    c_inv, c_t, c_ok = c_inv[keep], c_t[keep], c_ok[keep]
    # invoice versions: open at creation unless paid on the spot; later paid / uncollectible
    paid_at = np.full(n, NAT, dtype=np.int64)
    paid_at[due == 0] = created[due == 0]
    paid_at[ok_first] = created[ok_first] + 60
    paid_at[r] = np.where(created[r] + 3 * DAY < end_ts, created[r] + 3 * DAY, NAT)
    v_inv = [np.arange(n)]
    v_t = [np.where(paid_at == created, created, created)]
    v_status = [np.where((due == 0) | ok_first, "paid", "open")]
    later_paid = np.flatnonzero(retry & (paid_at != NAT))
    v_inv.append(later_paid)
    v_t.append(paid_at[later_paid])
    v_status.append(np.full(later_paid.size, "paid"))
    lost = np.flatnonzero(doomed & (gives_up != NAT) & (gives_up < end_ts))
    v_inv.append(lost)
    v_t.append(gives_up[lost])
    v_status.append(np.full(lost.size, "uncollectible"))
    vi, vt, vs = (np.concatenate(x) for x in (v_inv, v_t, v_status))
    # refunds on some successful charges
    good = np.flatnonzero(c_ok)
    refund = good[rng.random(good.size) < 0.015]
    rf_t = c_t[refund] + rng.integers(1, 20, refund.size) * DAY
    keep = rf_t < end_ts
    refund, rf_t = refund[keep], rf_t[keep]
    full = rng.random(refund.size) < 0.6
    rf_amount = np.where(full, due[c_inv[refund]], due[c_inv[refund]] // 2)
    return {
        "invoices": {
            **inv,
            "subtotal": subtotal,
            "line_discount": discount,
            "once_discount": once_amount,
            "tax": tax,
            "total": total,
            "due": due,
            "paid_at": paid_at,
            "gives_up": gives_up,
        },
        "invoice_versions": {"row": vi, "t": vt, "status": vs},
        "charges": {"row": c_inv, "t": c_t, "ok": c_ok},
        "refunds": {"charge": refund, "t": rf_t, "amount": rf_amount},
    }
