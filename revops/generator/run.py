"""Runs the whole simulation, writes the deliveries and truth.json, and reports what it did."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from revops import contract
from revops.generator import billing as bl
from revops.generator import crm, dirty, marketing, reference, touches, truth
from revops.generator.common import DAY, NAT, month_index, month_start_ts, sf_ids
from revops.generator.company import Company, Manifest, check_folder, write_manifest
from revops.generator.config import CRMS, REPORTING_CURRENCY, GeneratorConfig
from revops.generator.exports import build_opportunities, write_all
from revops.generator.exports_hubspot import hs_ids
from revops.generator.writer import DeliveryWriter

TRUTH_FILE = "truth.json"
QUEUES = 3  # salesforce-defaults: lead queues (web-to-lead and the like)
GENERATOR_VERSION = "1"


@dataclass
class GenerationResult:
    out: Path
    seconds: float
    rows: dict[str, int]  # rows the simulation wrote per object, over the whole history
    files: int  # files written into `out` by this generation
    truth: dict = field(repr=False)
    # the delivery days this generation wrote (None, None: nothing new), and whether the
    # folder now holds the whole history (and truth.json)
    delivered_from: dt.date | None = None
    delivered_through: dt.date | None = None
    complete: bool = True

    @property
    def truth_path(self) -> Path:
        return self.out / TRUTH_FILE


def _quotas(users: crm.Users, start_ts: int, end_ts: int) -> dict[str, np.ndarray]:
    m0 = int(month_index(np.array([start_ts]))[0])
    m1 = int(month_index(np.array([end_ts - 1]))[0])
    q_months = np.arange(m0 - m0 % 3, m1 + 1, 3)
    ae = np.flatnonzero(users.role == "AE")
    rows = []
    for i, qm in enumerate(q_months):
        qs = int(month_start_ts(np.array([qm]))[0])
        qe = int(month_start_ts(np.array([qm + 3]))[0])
        employed = ae[(users.hire_ts[ae] < qs + 30 * DAY) & (users.leave_ts[ae] > qs)]
        base = np.array([90_000, 180_000, 360_000])[users.segment[employed]] * (1 + 0.04 * i)
        delivered = max(start_ts, qs - 14 * DAY)
        if delivered >= end_ts:
            continue
        rows.append(
            (
                employed,
                np.full(employed.size, qs),
                np.full(employed.size, qe),
                np.round(base / 1000).astype(np.int64) * 100_000,
                np.full(employed.size, delivered),
            )
        )
    cols = [np.concatenate([r[k] for r in rows]) for k in range(5)]
    return {
        "user": cols[0],
        "start": cols[1],
        "end": cols[2],
        "amount_cents": cols[3],
        "delivered": cols[4],
    }


def _expenses(
    users: crm.Users, campaigns: marketing.Campaigns, start_ts: int, end_ts: int
) -> dict[str, np.ndarray]:
    m0 = int(month_index(np.array([start_ts]))[0])
    m1 = int(month_index(np.array([end_ts - 1]))[0])
    out: dict[str, list] = defaultdict(list)
    for i, m in enumerate(range(m0, m1 + 1)):
        ms = int(month_start_ts(np.array([m]))[0])
        me = int(month_start_ts(np.array([m + 1]))[0])
        delivered = me + 4 * DAY
        if delivered >= end_ts:
            continue
        on = (users.hire_ts < me) & (users.leave_ts > ms)
        salaries = {"AE": 10_500, "SDR": 6_000, "Manager": 14_000}
        sales_pay = sum(int(((users.role == r) & on).sum()) * v for r, v in salaries.items())
        reps = int((np.isin(users.role, ["AE", "SDR", "Manager"]) & on).sum())
        day0 = (ms - start_ts) // DAY
        shows = (
            (campaigns.kind == "Event")
            & (campaigns.start_day >= day0)
            & (campaigns.start_day < day0 + 31)
        )
        growth = 1 + 0.02 * i
        lines = [
            ("sales", "salaries", sales_pay),
            ("sales", "tools", reps * 150),
            ("marketing", "salaries", round(6 * 9_000 * growth)),
            ("marketing", "tools", round(4_000 * growth)),
            ("marketing", "events", int(campaigns.budget_usd[shows].sum())),
            ("marketing", "agencies", round(8_000 * growth)),
        ]
        for dept, cat, usd in lines:
            out["month"].append(ms)
            out["department"].append(dept)
            out["category"].append(cat)
            out["amount_cents"].append(int(usd) * 100)
            out["delivered"].append(delivered)
    return {k: np.array(v) for k, v in out.items()}


def generate(
    config: GeneratorConfig, on_step: Callable[[str, float], None] | None = None
) -> GenerationResult:
    """Write the company's deliveries up to `config.until` (default: its last day) into
    `config.out`, after the days the folder already holds (`.revops-generator.json`).

    The folder must be empty or hold the same company (company.AnotherCompanyError otherwise,
    before anything is simulated). The whole history is always simulated, so extending a folder
    day by day gives the very files one generation to that day writes; truth.json (ground truth
    over the whole history) is written with the last day. `on_step(name, fraction_done)`
    reports progress."""
    t0 = time.perf_counter()
    out = Path(config.out)
    company = Company.of(config)
    until = config.until or company.end_date
    manifest = check_folder(out, company)
    if manifest is not None and until <= manifest.delivered_through:
        # nothing new: the folder already holds these days
        return GenerationResult(
            out=out,
            seconds=time.perf_counter() - t0,
            rows={},
            files=0,
            truth={},
            complete=manifest.delivered_through == company.end_date,
        )
    first = manifest.delivered_through + dt.timedelta(days=1) if manifest else company.start_date
    complete = until == company.end_date
    if manifest is None and complete:
        result = _simulate(config, on_step)  # the whole history, straight into `out`
    elif not config.dirty:
        # Each day's files depend on that day's rows only: write the new days next to the
        # old ones (truth.json, with the last day, summarises the files of every day).
        result = _simulate(config, on_step, only_days=(first, until))
    else:
        result = _generate_dirty(config, on_step, first, until)
    write_manifest(out, Manifest(company, until))
    result.seconds = time.perf_counter() - t0
    result.delivered_from, result.delivered_through = first, until
    result.complete = complete
    return result


def _generate_dirty(
    config: GeneratorConfig,
    on_step: Callable[[str, float], None] | None,
    first: dt.date,
    until: dt.date,
) -> GenerationResult:
    """--dirty picks the files it damages among every delivered file: simulate and damage the
    whole history beside the deliveries (hidden: ingestion skips it), then move the files of
    days `first`..`until` into place."""
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".revops-generate-", dir=out))
    try:
        full = _simulate(dataclasses.replace(config, out=staging, until=None), on_step)
        moved = _move_deliveries(staging, out, first, until)
        complete = until == Company.of(config).end_date
        if complete:
            os.replace(staging / TRUTH_FILE, out / TRUTH_FILE)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dataclasses.replace(full, out=out, files=moved, truth=full.truth if complete else {})


def _move_deliveries(src: Path, dst: Path, first: dt.date, last: dt.date) -> int:
    """Move the delivery files of days `first`..`last` (`<source>/<object>/<YYYY-MM-DD>/`)
    from `src` to the same place under `dst`; return how many."""
    moved = 0
    for day_dir in sorted(src.glob("*/*/*")):
        try:
            day = dt.date.fromisoformat(day_dir.name)
        except ValueError:
            raise ValueError(f"{day_dir}: not a delivery day folder (YYYY-MM-DD)") from None
        if not first <= day <= last:
            continue
        target = dst / day_dir.relative_to(src)
        target.mkdir(parents=True, exist_ok=True)
        for file in sorted(day_dir.iterdir()):
            os.replace(file, target / file.name)
            moved += 1
    return moved


def _simulate(
    config: GeneratorConfig,
    on_step: Callable[[str, float], None] | None = None,
    only_days: tuple[dt.date, dt.date] | None = None,
) -> GenerationResult:
    """Simulate the company and write its whole history to `config.out`, replacing what the
    generator wrote there before; or, with `only_days` (first, last), add the deliveries of
    those days to what is there, and write truth.json only when `last` is the last day."""
    t0 = time.perf_counter()
    report = on_step or (lambda name, frac: None)
    rng = np.random.default_rng(config.seed)
    profile = config.profile
    # the profile's own draws come from a separate stream, so `revops` draws exactly as before
    prng = np.random.default_rng([config.seed, 15])
    start_ts, end_ts, n_days = config.start_ts, config.end_ts, config.days
    report("markets and spend", 0.02)
    fx = reference.fx_micro_rates(rng, n_days)
    fx_float = {k: v / 1e6 for k, v in fx.items()}
    start = config.start_date
    demand = marketing.demand_curve(n_days, start.weekday(), start.timetuple().tm_yday - 1)
    campaigns = marketing.build_campaigns(rng, n_days, config.leads)
    spend = marketing.simulate_spend(rng, campaigns, demand, config.leads, fx_float)
    ads = marketing.restated_deliveries(spend, rng, n_days)
    arrival = marketing.lead_arrivals(rng, campaigns, spend, demand, config.leads)
    report("leads and funnel", 0.10)
    users = crm.build_users(rng, config.leads, start_ts, end_ts)
    leads = crm.build_leads(rng, users, *arrival, start_ts, end_ts)
    if profile.single_currency:
        leads.currency[:] = profile.single_currency
    deals = crm.build_deals(rng, users, leads, end_ts)
    report("billing", 0.25)
    customers = bl.build_customers(rng, deals, leads, end_ts)
    billing = bl.simulate_billing(rng, deals, customers, start_ts, end_ts)
    settled = bl.settle(rng, billing, end_ts)
    opps = build_opportunities(rng, deals, leads, billing, end_ts)
    fx_usable = {c: np.ones(n_days, bool) for c in fx}
    fx_delivered = dict(fx_usable)
    fx_gap_rows: list[dict] = []
    if profile.fx_gaps:
        fx, fx_usable, fx_delivered, fx_gap_rows = _fx_gaps(prng, config, opps, fx)
    if profile.won_without_amount_share:
        won = np.unique(opps.ev_opp[opps.ev_stage == "Closed Won"])
        pick = won[prng.random(won.size) < profile.won_without_amount_share]
        opps.no_amount[pick] = True
    lead_queue = np.full(leads.n, -1, dtype=np.int64)
    if profile.queue_lead_share:
        # queues own only leads that are never converted (web-to-lead that went nowhere)
        never = leads.converted_at == NAT
        queued = never & (prng.random(leads.n) < profile.queue_lead_share / max(never.mean(), 0.01))
        lead_queue[queued] = prng.integers(0, QUEUES, int(queued.sum()))
    tch = touches.build_touches(rng, leads, campaigns, start_ts, end_ts)
    quotas = _quotas(users, start_ts, end_ts)
    expenses = _expenses(users, campaigns, start_ts, end_ts)
    # final (latest-delivered) spend per campaign-day in USD cents, for Campaign.ActualCost
    last = _latest_delivery(ads)
    ads_rate = np.array(
        [
            fx[marketing.PLATFORM_CURRENCY[p]][d]
            for p, d in zip(campaigns.platform[ads["campaign"]], ads["day"], strict=True)
        ],
        dtype=np.int64,
    )
    ads["final_usd_cents"] = np.where(
        last,
        truth.to_cents(
            ads["spend_minor"].astype(object) * ads_rate.astype(object),
            np.full(ads_rate.size, 10**6, dtype=object),
        ),
        0,
    )

    out = Path(config.out)
    if only_days is None:
        _prepare(out)
    writer = DeliveryWriter(
        out, config.start_date, upper_case=profile.upper_case_headers, only_days=only_days
    )
    # the objects of the sources this company delivers (one CRM of the two)
    other_crms = {c for c in CRMS if c != config.crm}
    objects = [o.folder for o in contract.OBJECTS if o.source not in other_crms]
    done = {"n": 0}

    def step(name: str) -> None:
        done["n"] += 1
        report(f"writing {name}", 0.35 + 0.55 * done["n"] / 12)

    try:
        write_all(
            writer,
            start_ts=start_ts,
            end_ts=end_ts,
            users=users,
            leads=leads,
            deals=deals,
            opps=opps,
            campaigns=campaigns,
            ads=ads,
            touches=tch,
            billing=billing,
            settled=settled,
            fx=fx,
            quotas=quotas,
            expenses=expenses,
            profile=profile,
            lead_queue=lead_queue,
            fx_delivered=fx_delivered,
            stripe_cutover=_stripe_cutover(config),
            progress=step,
            crm=config.crm,
            seed=config.seed,
        )
    finally:
        writer.close()
    if not config.dirty:
        faults = []
    elif config.crm == "hubspot":
        faults = dirty.apply_hubspot_faults(out, config.seed, config.leads)
    else:
        faults = dirty.apply_faults(
            out, config.seed, config.leads, profile.lead_status(crm.STATUS_MQL)
        )
    if only_days is not None and only_days[1] != config.end_date:
        report("done", 1.0)  # the ground truth comes with the last day
        return GenerationResult(
            out=out,
            seconds=time.perf_counter() - t0,
            rows=dict(writer.rows),
            files=len(writer.files),
            truth={},
        )
    report("ground truth", 0.92)
    result_truth = build_truth(
        config,
        leads,
        deals,
        opps,
        billing,
        fx,
        ads,
        campaigns,
        faults,
        users=users,
        fx_usable=fx_usable,
        fx_gaps=fx_gap_rows,
        expenses=expenses,
    )
    files = sorted(
        p
        for p in out.rglob("*")
        if p.is_file()
        and p.name != TRUTH_FILE
        and not p.relative_to(out).parts[0].startswith(".")  # the manifest
    )
    result_truth["deliveries"] = _delivery_summary(out, files, objects)
    (out / TRUTH_FILE).write_text(json.dumps(result_truth, indent=1, sort_keys=False) + "\n")
    report("done", 1.0)
    return GenerationResult(
        out=out,
        seconds=time.perf_counter() - t0,
        rows=dict(writer.rows),
        files=len(files) if only_days is None else len(writer.files),
        truth=result_truth,
    )


STRIPE_OLD_API = "2024-06-20"
STRIPE_NEW_API = "2025-03-31.basil"
STRIPE_UPGRADE = dt.date(2025, 4, 1)


def _stripe_cutover(config: GeneratorConfig) -> int | None:
    """stripe-2025: the day the account upgraded its Stripe API version (2025-04-01, or two
    thirds into a history that does not span it); earlier deliveries keep the old shape."""
    if not config.profile.stripe_api_cutover:
        return None
    day = (STRIPE_UPGRADE - config.start_date).days
    if not 30 <= day <= config.days - 30:
        day = config.days * 2 // 3
    return day


def _stripe_api(config: GeneratorConfig) -> list[dict]:
    """Which Stripe API version shaped the deliveries from which day (truth.json)."""
    out = [{"version": STRIPE_OLD_API, "first_delivery": config.start_date.isoformat()}]
    cutover = _stripe_cutover(config)
    if cutover is not None:
        first = config.start_date + dt.timedelta(days=cutover)
        out.append({"version": STRIPE_NEW_API, "first_delivery": first.isoformat()})
    return out


def _won_amount(row: dict, prefix: str) -> str:
    """A sum of won amounts in USD; deals left out (no Amount, no usable rate) add nothing and
    are counted apart, so a row whose every won deal is left out says 0.00, as the marts do."""
    return truth.cents_str(row.get(f"{prefix}won_amount_cents", 0))


def _fx_gaps(prng: np.random.Generator, config: GeneratorConfig, opps, fx: dict):
    """multi-currency-gaps: weekend and long gaps in the rates, and a few opportunities in a
    currency that has no rates at all."""
    start_ts = config.start_ts
    closing = opps.ev_stage == "Closed Won"
    gbp = opps.currency[opps.ev_opp] == reference.GAP_CURRENCY
    close_days = (opps.ev_t[closing & gbp] - start_ts) // DAY
    spans = reference.gap_spans(prng, config.start_date, close_days)
    fx, usable, delivered, gaps = reference.fx_gaps(fx, config.start_date, spans)
    # month-end rates (MRR) are always usable
    month_end = np.flatnonzero(
        np.diff(month_index(start_ts + np.arange(config.days + 1) * DAY)) != 0
    )
    month_end = np.append(month_end, config.days - 1)
    assert all(usable[c][month_end].all() for c in usable), "an FX gap covers a month end"
    # a few opportunities in a currency without rates: some won, some not
    won = np.unique(opps.ev_opp[closing & (opps.currency[opps.ev_opp] == "EUR")])
    other = np.setdiff1d(np.flatnonzero(opps.currency == "EUR"), won)
    chf = np.concatenate([prng.permutation(won)[:3], prng.permutation(other)[:2]]).astype(np.int64)
    opps.currency = opps.currency.astype(object)
    opps.currency[chf] = reference.NO_RATE_CURRENCY
    if chf.size:
        gaps.append(
            {
                "currency": reference.NO_RATE_CURRENCY,
                "first_missing_date": config.start_date.isoformat(),
                "last_missing_date": config.end_date.isoformat(),
                "first_unconvertible_date": config.start_date.isoformat(),
                "last_unconvertible_date": config.end_date.isoformat(),
            }
        )
    return fx, usable, delivered, gaps


def _prepare(out: Path) -> None:
    """Clear what a previous generation wrote (and only that) so files never mix."""
    out.mkdir(parents=True, exist_ok=True)
    for source in contract.SOURCES:
        if (out / source).exists():
            shutil.rmtree(out / source)
    (out / TRUTH_FILE).unlink(missing_ok=True)


def _latest_delivery(ads: dict[str, np.ndarray]) -> np.ndarray:
    key = ads["campaign"] * 100_000 + ads["day"]
    order = np.lexsort((ads["delivery_day"], key))
    last = np.zeros(key.size, dtype=bool)
    k_sorted = key[order]
    is_last = np.concatenate([k_sorted[1:] != k_sorted[:-1], [True]])
    last[order[is_last]] = True
    return last


def _delivery_summary(
    out: Path, files: list[Path], objects: list[str]
) -> dict[str, dict[str, int]]:
    summary: dict[str, dict[str, int]] = {o: {"files": 0, "data_rows": 0} for o in objects}
    for f in files:
        rel = f.relative_to(out)
        folder = "/".join(rel.parts[:2])
        data = f.read_bytes()
        lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
        data_rows = lines - 1 if f.suffix == ".csv" else lines
        summary[folder]["files"] += 1
        summary[folder]["data_rows"] += max(0, data_rows)
    return summary


# The generator's opportunity types and the deal category each maps to (seed opportunity_types).
DEAL_CATEGORIES = {"New Business": "new_business", "Expansion": "expansion", "Renewal": "renewal"}


def _deal_categories(rows, months, segments) -> dict:
    """truth `deal_categories`: per month x segment x category the opportunities created, won
    and lost, won amount (and the won deals it leaves out), and the new-business close rate per
    month over every segment (won / (won + lost), null without a close)."""
    per_segment = []
    close_rate = []
    for m in months:
        won_all = closed_all = 0
        for s in segments:
            r = rows.get((m, s), {})
            for category in DEAL_CATEGORIES.values():
                per_segment.append(
                    {
                        "month": m,
                        "segment": s,
                        "deal_category": category,
                        "opportunities_created": int(r.get(f"{category}_created", 0)),
                        "opportunities_won": int(r.get(f"{category}_won", 0)),
                        "opportunities_lost": int(r.get(f"{category}_lost", 0)),
                        "won_amount": _won_amount(r, f"{category}_"),
                        "won_without_amount": int(r.get(f"{category}_won_without_amount", 0)),
                        "won_unconverted": int(r.get(f"{category}_won_unconverted", 0)),
                    }
                )
            won = int(r.get("new_business_won", 0))
            won_all += won
            closed_all += won + int(r.get("new_business_lost", 0))
        close_rate.append(
            {
                "month": m,
                "won": won_all,
                "closed": closed_all,
                "close_rate": won_all / closed_all if closed_all else None,
            }
        )
    return {
        "definition": (
            "deal_category from the opportunity type (New Business -> new_business, Expansion "
            "-> expansion, Renewal -> renewal); created by created month, won / lost / "
            "won_amount by close month, as in `funnel`; new_business_close_rate = new-business "
            "won / (won + lost) per close month over every segment"
        ),
        "rows": per_segment,
        "new_business_close_rate": close_rate,
    }


def _forecast_outcomes(rows, months: list[str], segments: list[str]) -> dict:
    """truth `forecast_outcomes`: the final new-business bookings per month and per quarter,
    per segment and over every segment (`All`), what forecast_accuracy's actuals must equal."""
    out = []
    periods: dict[tuple[str, str], list[str]] = defaultdict(list)
    for m in months:
        year, month = int(m[:4]), int(m[5:7])
        periods[("month", f"{m}-01")].append(m)
        periods[("quarter", f"{year:04d}-{3 * ((month - 1) // 3) + 1:02d}-01")].append(m)
    fields = ("won", "won_amount_cents", "won_without_amount", "won_unconverted")
    for (grain, start), period_months in sorted(periods.items()):
        total = dict.fromkeys(fields, 0)
        for s in [*segments, "All"]:
            if s == "All":
                part = total
            else:
                part = {
                    f: sum(
                        int(rows.get((m, s), {}).get(f"new_business_{f}", 0)) for m in period_months
                    )
                    for f in fields
                }
                for f in fields:
                    total[f] += part[f]
            out.append(
                {
                    "period_grain": grain,
                    "period_start": start,
                    "segment": s,
                    "new_business_won": part["won"],
                    "new_business_won_amount": truth.cents_str(part["won_amount_cents"]),
                    "won_without_amount": part["won_without_amount"],
                    "won_unconverted": part["won_unconverted"],
                }
            )
    return {
        "definition": (
            "per month and per quarter (period_start its first day) and segment (and All): "
            "new-business opportunities won with a close date in the period and their won amount "
            "in the reporting currency, leaving out (and counting) won deals without an Amount "
            "or without a usable FX rate, as deal_categories does; a period the history only "
            "partly covers holds the covered months"
        ),
        "rows": out,
    }


def build_truth(
    config,
    leads,
    deals,
    opps,
    billing,
    fx,
    ads,
    campaigns,
    faults,
    *,
    users,
    fx_usable: dict[str, np.ndarray],
    fx_gaps: list[dict],
    expenses: dict[str, np.ndarray] | None = None,
) -> dict:
    start_ts, end_ts = config.start_ts, config.end_ts
    m0 = int(month_index(np.array([start_ts]))[0])
    m1 = int(month_index(np.array([end_ts - 1]))[0])
    months = truth.month_label(np.arange(m0, m1 + 1))
    lead_seg = crm.lead_segment_label(leads)
    live = leads.deleted_at == NAT
    rows: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def count(ts: np.ndarray, seg: np.ndarray, name: str, value: np.ndarray | None = None) -> None:
        has = ts != NAT
        mi = month_index(ts[has]) - m0
        vals = np.ones(int(has.sum()), dtype=np.int64) if value is None else value[has]
        for m, s, v in zip(mi.tolist(), seg[has].tolist(), vals.tolist(), strict=True):
            rows[(months[m], s)][name] += v

    count(np.where(live, leads.created, NAT), lead_seg, "leads")
    count(np.where(live, leads.mql_at, NAT), lead_seg, "mqls")
    count(np.where(live, leads.sql_at, NAT), lead_seg, "sqls")
    # opportunities: first event = creation; the closing event gives won / lost
    acc_seg = np.array(crm.SEGMENTS)[deals.segment]
    seg_o = acc_seg[opps.account]
    alive = opps.deleted_at == NAT
    count(np.where(alive, opps.created, NAT), seg_o, "opportunities_created")
    closing = np.isin(opps.ev_stage, ["Closed Won", "Closed Lost"])
    c_opp = opps.ev_opp[closing]
    c_t = opps.ev_t[closing]
    c_won = opps.ev_stage[closing] == "Closed Won"
    c_close_day = (c_t - start_ts) // DAY
    c_cur = opps.currency[c_opp]
    # a won amount counts when it has an amount and a usable rate on its close date
    has_rate = np.array(
        [c in fx_usable and bool(fx_usable[c][d]) for c, d in zip(c_cur, c_close_day, strict=True)],
        dtype=bool,
    )
    usd = truth.amount_to_usd_cents(
        opps.ev_amount[closing],
        c_cur,
        np.array(
            [fx[c][d] if ok else 0 for c, d, ok in zip(c_cur, c_close_day, has_rate, strict=True)],
            dtype=np.int64,
        ),
    )
    no_amount = opps.no_amount[c_opp]
    counted = has_rate & ~no_amount
    keep = alive[c_opp]
    for label, mask in (("won", c_won), ("lost", ~c_won)):
        sel = keep & mask
        count(np.where(sel, c_t, NAT), seg_o[c_opp], f"opportunities_{label}")
    won_kept = keep & c_won
    count(np.where(won_kept & counted, c_t, NAT), seg_o[c_opp], "won_amount_cents", usd)
    count(np.where(won_kept & no_amount, c_t, NAT), seg_o[c_opp], "won_without_amount")
    unconverted = won_kept & ~no_amount & ~has_rate
    count(np.where(unconverted, c_t, NAT), seg_o[c_opp], "won_unconverted")
    for typ in ("New Business", "Expansion", "Renewal"):
        key = typ.lower().replace(" ", "_")
        is_t = opps.type == typ
        count(np.where(alive & is_t, opps.created, NAT), seg_o, f"{key}_created")
        sel = keep & c_won & is_t[c_opp]
        count(np.where(sel, c_t, NAT), seg_o[c_opp], f"{key}_won")
        count(np.where(sel & counted, c_t, NAT), seg_o[c_opp], f"{key}_won_amount_cents", usd)
        lost_t = keep & ~c_won & is_t[c_opp]
        count(np.where(lost_t, c_t, NAT), seg_o[c_opp], f"{key}_lost")
        count(np.where(sel & no_amount, c_t, NAT), seg_o[c_opp], f"{key}_won_without_amount")
        count(np.where(sel & unconverted, c_t, NAT), seg_o[c_opp], f"{key}_won_unconverted")
    segments_all = [*crm.SEGMENTS, crm.UNKNOWN_SEGMENT]
    funnel = []
    for m in months:
        for s in segments_all:
            r = rows.get((m, s), {})
            rec = {"month": m, "segment": s}
            for name in (
                "leads",
                "mqls",
                "sqls",
                "opportunities_created",
                "opportunities_won",
                "opportunities_lost",
            ):
                rec[name] = int(r.get(name, 0))
            rec["won_amount"] = _won_amount(r, "")
            rec["won_without_amount"] = int(r.get("won_without_amount", 0))
            rec["won_unconverted"] = int(r.get("won_unconverted", 0))
            for typ in ("new_business", "expansion", "renewal"):
                rec[f"{typ}_created"] = int(r.get(f"{typ}_created", 0))
                rec[f"{typ}_won"] = int(r.get(f"{typ}_won", 0))
                rec[f"{typ}_won_amount"] = _won_amount(r, f"{typ}_")
            funnel.append(rec)
    deal_categories = _deal_categories(rows, months, segments_all)
    forecast_outcomes = _forecast_outcomes(rows, months, list(crm.SEGMENTS))
    # won deals per month and owner (every opportunity owner is a user), by the CRM's owner id
    if config.crm == "hubspot":
        user_id = hs_ids("owner", np.arange(users.name.size))
    else:
        user_id = sf_ids("005", np.arange(users.name.size))
    rep_rows: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    won_idx = np.flatnonzero(won_kept)
    rep_month = month_index(c_t[won_idx]) - m0
    rep_owner = user_id[opps.owner[c_opp[won_idx]]]
    for i, m, o in zip(won_idx.tolist(), rep_month.tolist(), rep_owner.tolist(), strict=True):
        r = rep_rows[(months[m], o)]
        r["opportunities_won"] += 1
        r["won_amount_cents"] += int(usd[i]) if counted[i] else 0
        r["won_without_amount"] += int(no_amount[i])
        r["won_unconverted"] += int(unconverted[i])
        if opps.type[c_opp[i]] == "New Business":
            r["new_business_won"] += 1
            r["new_business_won_amount_cents"] += int(usd[i]) if counted[i] else 0
    reps = [
        {
            "month": m,
            "owner_id": o,
            "opportunities_won": r["opportunities_won"],
            "won_amount": _won_amount(r, ""),
            "won_without_amount": r["won_without_amount"],
            "won_unconverted": r["won_unconverted"],
            "new_business_won": r["new_business_won"],
            "new_business_won_amount": _won_amount(r, "new_business_"),
        }
        for (m, o), r in sorted(rep_rows.items())
    ]
    # cohorts: leads created in a month and how far they got by the end of the history
    won_lead = np.zeros(leads.n, dtype=bool)
    won_lead[deals.lead] = deals.won & (deals.closed_at != NAT)
    reached = {
        "leads": live,
        "reached_mql": live & (leads.mql_at != NAT),
        "reached_sql": live & (leads.sql_at != NAT),
        "reached_opportunity": live & (leads.converted_at != NAT),
        "reached_won": live & won_lead,
    }
    cohort_month = month_index(leads.created) - m0
    seg_codes = {s: i for i, s in enumerate(segments_all)}
    seg_idx = np.array([seg_codes[s] for s in lead_seg])
    cohorts = []
    grids = {}
    for name, mask in reached.items():
        grid = np.zeros((len(months), len(segments_all)), dtype=np.int64)
        np.add.at(grid, (cohort_month[mask], seg_idx[mask]), 1)
        grids[name] = grid
    for mi_, m in enumerate(months):
        for si_, s in enumerate(segments_all):
            cohorts.append(
                {"cohort_month": m, "segment": s, **{k: int(g[mi_, si_]) for k, g in grids.items()}}
            )
    # MRR
    values = truth.customer_values(billing, fx, start_ts, end_ts)
    cents, constant = values.cents, values.constant
    cust_seg = np.array(crm.SEGMENTS)[billing.customers.segment]
    mrr = []
    for j, m in enumerate(months):
        for s in crm.SEGMENTS:
            sel = cust_seg == s
            mrr.append(
                {
                    "month": m,
                    "segment": s,
                    "mrr": truth.cents_str(int(cents[sel, j].sum())),
                    "mrr_constant_currency": truth.cents_str(int(constant[sel, j].sum())),
                    "customers": int((cents[sel, j] > 0).sum()),
                    "previous_mrr": truth.cents_str(int(cents[sel, j - 1].sum()) if j else 0),
                }
            )
    mrr_fx_neutral = _mrr_fx_neutral(values, cust_seg, months)
    cltv_and_pipeline = {
        "cltv_churn": _cltv_churn(values, cust_seg, months),
        **_slipped_opportunities(opps, acc_seg),
    }
    # ad spend, as last delivered, in USD
    spend_rows: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    last = _latest_delivery(ads)
    plat = campaigns.platform[ads["campaign"]][last]
    mi = month_index(start_ts + ads["day"][last] * DAY) - m0
    for p, m, c, i, k in zip(
        plat.tolist(),
        mi.tolist(),
        ads["final_usd_cents"][last].tolist(),
        ads["impressions"][last].tolist(),
        ads["clicks"][last].tolist(),
        strict=True,
    ):
        r = spend_rows[(months[m], p)]
        r["spend_cents"] += c
        r["impressions"] += i
        r["clicks"] += k
    spend = [
        {
            "month": m,
            "platform": p,
            "spend": truth.cents_str(r["spend_cents"]),
            "impressions": r["impressions"],
            "clicks": r["clicks"],
        }
        for (m, p), r in sorted(spend_rows.items())
    ]
    return {
        "generator": {
            "version": GENERATOR_VERSION,
            "leads_target": config.leads,
            "start_date": config.start_date.isoformat(),
            "days": config.days,
            "end_date": config.end_date.isoformat(),
            "seed": config.seed,
            "dirty": config.dirty,
            "reporting_currency": REPORTING_CURRENCY,
            "org_profile": config.org_profile,
            "crm": config.crm,
        },
        "definitions": {
            "funnel": "see docs/EXPORTS.md#ground-truth",
            "segments": {
                "SMB": "1-199 employees",
                "Mid-Market": "200-999",
                "Enterprise": "1000+",
                "Unknown": "no head count (leads only)",
            },
            "fx_rule": (
                "amounts convert at the rate of the day they close; "
                "MRR at the rate of the month's last day"
            ),
            "won_exclusions": (
                "won_amount (funnel and reps) leaves out won deals without an Amount "
                "(won_without_amount) and won deals whose currency has no rate on or before the "
                "close date at most 7 days old (won_unconverted); opportunities_won counts both"
            ),
            "reps": (
                "one row per close month and owner with at least one won opportunity (every "
                "deal type); new_business_won / new_business_won_amount: its new-business deals"
            ),
            "mrr_rounding": (
                "per customer and month, exact in the customer's currency, then converted "
                "and rounded half up to the cent"
            ),
            "costs": (
                "per month: paid_leads = leads (not deleted) of channels with an ad platform, "
                "event_leads = of event channels (Webinar, Trade Show); expenses in USD as "
                "delivered for the month (null until delivered, on the 5th of the next month): "
                "sales and marketing, marketing programs (every marketing category but "
                "salaries), marketing events"
            ),
            "cltv_and_pipeline": (
                "cltv_churn: CLTV's churn input per month and segment, gross revenue churn "
                "(FX-neutral contraction + churn) and starting MRR each summed over the month and "
                "the 11 before it; slipped: opportunities (not deleted) whose latest version is "
                "open with a close date before the day of the latest Opportunity export"
            ),
            "pipeline_as_of": (
                "per as-of date (every month end; each quarter end minus 90, 60 and 30 days; "
                "up to the day of the last opportunity change) "
                "and stage: opportunities open at the end of the day as the simulation then "
                "stood (created, not yet deleted, the last stage change before the day ended "
                "not closed; a re-opened deal is open again), their amount as it then stood "
                "at that day's FX rate, each rounded to the cent; amount_missing (no Amount) "
                "and amount_unconverted (no usable rate that day) are left out of amount"
            ),
            "mrr_fx_neutral": (
                "movements in constant currency: a customer paying both months expands or "
                "contracts by this month's items at last month's rate less last month's MRR; "
                "fx = this month's MRR less the same items at last month's rate; new and "
                "reactivation at this month's rate, churn at last month's; previous_mrr + new + "
                "reactivation + expansion - contraction - churn + fx = mrr. Retained MRR "
                "(NRR/GRR numerators) at the cohort month's rates: last month's for monthly, "
                "twelve months earlier's for trailing 12"
            ),
        },
        "totals": {
            "leads": int(live.sum()),
            "leads_deleted": int((~live).sum()),
            "mqls": int((live & (leads.mql_at != NAT)).sum()),
            "sqls": int((live & (leads.sql_at != NAT)).sum()),
            "opportunities": int(alive.sum()),
            "customers": int((cents > 0).any(axis=1).sum()),
            "subscriptions": int(billing.subs["id"].size),
            "mrr_last_month": truth.cents_str(int(cents[:, -1].sum())),
        },
        "funnel": funnel,
        "deal_categories": deal_categories,
        "funnel_cohorts": cohorts,
        "mrr": mrr,
        "mrr_fx_neutral": mrr_fx_neutral,
        "costs": _costs(leads, live, expenses, months, m0),
        "cltv_and_pipeline": cltv_and_pipeline,
        "forecast_outcomes": forecast_outcomes,
        "ad_spend": spend,
        "dirty": faults,
        "reps": reps,
        "fx_gaps": fx_gaps,
        "settings": dict(config.profile.settings),
        "stripe_api": _stripe_api(config),
        "pipeline_as_of": _pipeline_as_of(config, opps, fx, fx_usable),
    }


# Marketing program categories: every marketing expense but salaries (the setting
# marketing_program_expense_categories' default).
_PROGRAM_CATEGORIES = ("agencies", "events", "tools", "other")


def _costs(leads, live: np.ndarray, expenses: dict | None, months: list[str], m0: int) -> list:
    """truth `costs`: per month, the leads of paid channels (an ad platform) and of event
    channels, and the sales and marketing expenses delivered for the month (all, marketing
    programs, events; null when the month's expenses are not delivered), in USD."""
    paid = np.array([c.platform is not None for c in marketing.CHANNELS])[leads.channel]
    event = np.array([c.event for c in marketing.CHANNELS])[leads.channel]
    created = month_index(leads.created[live]) - m0
    paid_counts = np.bincount(created[paid[live]], minlength=len(months))
    event_counts = np.bincount(created[event[live]], minlength=len(months))
    cents: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if expenses:
        for ms, dept, cat, amount in zip(
            expenses["month"].tolist(),
            expenses["department"].tolist(),
            expenses["category"].tolist(),
            expenses["amount_cents"].tolist(),
            strict=True,
        ):
            m = months[int(month_index(np.array([ms]))[0]) - m0]
            cents[m]["sales_marketing_expenses"] += amount
            if dept == "marketing" and cat in _PROGRAM_CATEGORIES:
                cents[m]["marketing_program_expenses"] += amount
            if dept == "marketing" and cat == "events":
                cents[m]["event_expenses"] += amount
    rows = []
    for i, m in enumerate(months):
        row: dict[str, object] = {
            "month": m,
            "paid_leads": int(paid_counts[i]),
            "event_leads": int(event_counts[i]),
            "expenses_delivered": m in cents,
        }
        for name in ("sales_marketing_expenses", "marketing_program_expenses", "event_expenses"):
            row[name] = truth.cents_str(cents[m][name]) if m in cents else None
        rows.append(row)
    return rows


_FX_NEUTRAL_MOVEMENTS = ("new", "reactivation", "expansion", "contraction", "churn", "fx")
_RETENTION_PARTS = (
    "monthly_retention_base",
    "monthly_net_retained",
    "monthly_gross_retained",
    "trailing_12m_retention_base",
    "trailing_12m_net_retained",
    "trailing_12m_gross_retained",
)


def _mrr_fx_neutral(
    values: truth.CustomerValues, cust_seg: np.ndarray, months: list[str]
) -> list[dict]:
    """truth `mrr_fx_neutral`: the FX-neutral MRR bridge and retention parts per month and
    segment, and the customers behind each movement (fx: customers with a currency effect)."""
    parts = truth.fx_neutral_movements(values)
    rows = []
    for j, m in enumerate(months):
        for s in crm.SEGMENTS:
            sel = cust_seg == s
            rec: dict[str, object] = {
                "month": m,
                "segment": s,
                "mrr": truth.cents_str(int(values.cents[sel, j].sum())),
                "previous_mrr": truth.cents_str(int(parts["previous"][sel, j].sum())),
            }
            for name in _FX_NEUTRAL_MOVEMENTS:
                rec[name] = truth.cents_str(int(parts[name][sel, j].sum()))
                rec[f"{name}_customers"] = int((parts[name][sel, j] != 0).sum())
            for name in _RETENTION_PARTS:
                rec[name] = truth.cents_str(int(parts[name][sel, j].sum()))
            rows.append(rec)
    return rows


def _cltv_churn(values: truth.CustomerValues, cust_seg: np.ndarray, months: list[str]) -> list:
    """truth `cltv_and_pipeline.cltv_churn`: per month and segment the trailing-12-month sums
    of gross revenue churn (contraction + churn, FX-neutral) and of starting MRR (cents)."""
    parts = truth.fx_neutral_movements(values)
    rows = []
    for s in crm.SEGMENTS:
        sel = cust_seg == s
        lost = (parts["contraction"][sel] + parts["churn"][sel]).sum(axis=0)
        base = parts["previous"][sel].sum(axis=0)
        for j, m in enumerate(months):
            lo = max(0, j - 11)
            rows.append(
                {
                    "month": m,
                    "segment": s,
                    "trailing_12m_gross_revenue_churn": truth.cents_str(
                        int(lost[lo : j + 1].sum())
                    ),
                    "trailing_12m_starting_mrr": truth.cents_str(int(base[lo : j + 1].sum())),
                }
            )
    return rows


def _slipped_opportunities(opps, acc_seg: np.ndarray) -> dict:
    """truth `cltv_and_pipeline.slipped_*`: open opportunities (latest version, not deleted)
    whose close date is before the day of the latest Opportunity export, by account segment."""
    last = np.searchsorted(opps.ev_opp, np.arange(opps.account.size), side="right") - 1
    stage = opps.ev_stage[last]
    close_day = opps.ev_close[last] - opps.ev_close[last] % DAY
    deleted = opps.deleted_at != NAT
    latest = int(max(opps.ev_t.max(), opps.deleted_at[deleted].max() if deleted.any() else 0))
    as_of = latest - latest % DAY
    open_ = ~np.isin(stage, ["Closed Won", "Closed Lost"]) & ~deleted
    slipped = open_ & (close_day < as_of)
    seg = acc_seg[opps.account]
    return {
        "slipped_as_of_date": str(np.datetime64(as_of, "s").astype("datetime64[D]")),
        "slipped_open_opportunities": int(slipped.sum()),
        "slipped_by_segment": {s: int((slipped & (seg == s)).sum()) for s in crm.SEGMENTS},
    }


# The as-of dates of truth `pipeline_as_of`: every month end and each quarter end minus these
# days (the setting forecast_horizon_days' default), inside the history.
PIPELINE_HORIZON_DAYS = (90, 60, 30)


def _pipeline_as_of_dates(config: GeneratorConfig) -> list[dt.date]:
    start, end = config.start_date, config.end_date
    dates: set[dt.date] = set()
    month = dt.date(start.year, start.month, 1)
    while month <= end:
        following = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
        month_end = following - dt.timedelta(days=1)
        if month_end <= end:
            dates.add(month_end)
        if month.month % 3 == 1:  # a quarter's first month: its quarter end is 3 months on
            q_next = dt.date(month.year + (month.month + 2) // 12, (month.month + 2) % 12 + 1, 1)
            quarter_end = q_next - dt.timedelta(days=1)
            for days in PIPELINE_HORIZON_DAYS:
                d = quarter_end - dt.timedelta(days=days)
                if start <= d <= end:
                    dates.add(d)
        month = following
    return sorted(dates)


def _pipeline_as_of(
    config: GeneratorConfig, opps, fx: dict, fx_usable: dict[str, np.ndarray]
) -> list[dict]:
    """truth `pipeline_as_of`: per as-of date and stage, the opportunities open at the end of
    that day in the simulation's own state (the last state change before the day ended; created,
    not deleted, not in a closed stage), their amount at that day's FX rate in reporting cents,
    and how many have no amount or no usable rate that day (left out of the amount)."""
    start_ts = config.start_ts
    profile = config.profile
    n = opps.account.size
    key = (opps.ev_opp.astype(np.int64) << 32) | opps.ev_t.astype(np.int64)
    # up to the day of the last opportunity change: the last day the CRM's exports show
    # complete (the pipeline's "today", as for slipped deals)
    deleted = opps.deleted_at[opps.deleted_at != NAT]
    latest = int(max(opps.ev_t.max(), deleted.max() if deleted.size else 0))
    last_day = dt.date(1970, 1, 1) + dt.timedelta(days=latest // DAY)
    rows = []
    for day in [d for d in _pipeline_as_of_dates(config) if d <= last_day]:
        t_end = _epoch_day(day) + DAY
        d = (t_end - DAY - start_ts) // DAY
        last = np.searchsorted(key, (np.arange(n, dtype=np.int64) << 32) | t_end, "left") - 1
        known = (last >= 0) & (opps.ev_opp[np.maximum(last, 0)] == np.arange(n))
        o = np.flatnonzero(known)
        ev = last[o]
        stage = opps.ev_stage[ev]
        deleted = (opps.deleted_at[o] != NAT) & (opps.deleted_at[o] < t_end)
        closed = np.isin(stage, ["Closed Won", "Closed Lost"])
        open_ = (opps.created[o] < t_end) & ~deleted & ~closed
        o, ev, stage = o[open_], ev[open_], stage[open_]
        cur = opps.currency[o]
        has_rate = np.array([c in fx_usable and bool(fx_usable[c][d]) for c in cur], dtype=bool)
        rate = np.array([fx[c][d] if ok else 0 for c, ok in zip(cur, has_rate, strict=True)])
        cents = truth.amount_to_usd_cents(opps.ev_amount[ev], cur, rate.astype(np.int64))
        no_amount = opps.no_amount[o]
        counted = has_rate & ~no_amount
        labels = np.array([profile.stage(s) for s in stage.tolist()], dtype=object)
        for label in sorted(set(labels.tolist())):
            sel = labels == label
            rows.append(
                {
                    "as_of_date": day.isoformat(),
                    "stage_name": label,
                    "open_opportunities": int(sel.sum()),
                    "amount": truth.cents_str(int(cents[sel & counted].sum())),
                    "amount_missing": int((sel & no_amount).sum()),
                    "amount_unconverted": int((sel & ~no_amount & ~has_rate).sum()),
                }
            )
    return rows


def _epoch_day(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
