"""Turns the simulated company into the contract's export objects and writes them.

Every record version is delivered on the day it was made (records that predate the history
arrive in the first delivery), exactly as an incremental export by modified time would.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from revops import contract
from revops.generator import writer as w
from revops.generator.billing import COUPONS, KINDS, Billing
from revops.generator.common import DAY, NAT, sf_ids, stripe_ids
from revops.generator.crm import (
    CYCLE_MEAN_DAYS,
    FORECAST_CATEGORY,
    OPP_STAGES,
    SEGMENTS,
    STAGE_PROBABILITY,
    STATUS_CONVERTED,
    STATUS_MQL,
    STATUS_SQL,
    STATUS_WORKING,
    Deals,
    Leads,
    Users,
)
from revops.generator.exports_hubspot import write_hubspot
from revops.generator.marketing import CHANNELS, PLATFORM_CURRENCY, Campaigns
from revops.generator.profiles import SF_LEAD_STATUSES, SF_STAGES, SF_TITLES, OrgProfile
from revops.generator.reference import CURRENCIES, MINOR_EXPONENT
from revops.generator.touches import Touches


@dataclass
class Opportunities:
    """Every opportunity: new business (from deals), expansion and renewal (from billing)."""

    account: np.ndarray
    owner: np.ndarray
    name: np.ndarray
    type: np.ndarray
    currency: np.ndarray
    lead_source: np.ndarray
    campaign: np.ndarray
    created: np.ndarray
    deleted_at: np.ndarray
    # events: one row per state change, sorted by (opp, t)
    ev_opp: np.ndarray
    ev_t: np.ndarray
    ev_stage: np.ndarray
    ev_amount: np.ndarray  # minor units
    ev_close: np.ndarray  # Unix time of the (expected) close date
    no_amount: np.ndarray  # Amount empty on every version (salesforce-defaults)


def _day(ts: np.ndarray, start_ts: int) -> np.ndarray:
    return np.maximum(0, (np.asarray(ts) - start_ts) // DAY)


def _opp_events(deals: Deals, leads: Leads, end_ts: int):
    n = deals.lead.size
    mean = np.array(CYCLE_MEAN_DAYS)[deals.segment] * DAY
    rows = []
    for k, stage in enumerate(OPP_STAGES):
        t = deals.stage_times[:, k]
        expected = t + (mean * (1 - k / 4)).astype(np.int64)
        amount = deals.amount_initial if k < 2 else deals.amount
        rows.append((np.arange(n), t, np.full(n, stage), amount, expected))
    rows.append(
        (
            np.arange(n),
            deals.regress_at,
            np.full(n, "Discovery"),
            deals.amount,
            deals.regress_at + mean // 2,
        )
    )
    final = np.where(deals.won, "Closed Won", "Closed Lost")
    rows.append(
        (
            np.arange(n),
            deals.closed_at,
            final,
            np.where(deals.won, deals.amount, deals.amount_initial),
            deals.closed_at,
        )
    )
    cols = [np.concatenate([r[i] for r in rows]) for i in range(5)]
    keep = cols[1] != NAT
    return [c[keep] for c in cols]


def build_opportunities(
    rng: np.random.Generator, deals: Deals, leads: Leads, billing: Billing, end_ts: int
) -> Opportunities:
    n = deals.lead.size
    opp, t, stage, amount, close = _opp_events(deals, leads, end_ts)
    lead = deals.lead
    src = np.array([c.lead_source for c in CHANNELS])[leads.channel[lead]]
    accounts = [deals.account]
    owners = [deals.owner]
    names_ = [leads.company[lead] + " - New Business"]
    types = [np.full(n, "New Business")]
    currencies = [deals.currency]
    sources = [src]
    camps = [leads.campaign[lead]]
    created = [deals.created]
    ev = [(opp, t, stage, amount, close)]
    next_opp = n
    cust = billing.customers
    for kind in ("expansions", "renewals"):
        tab = billing.ledger.table(kind)
        if not tab:
            continue
        whole = np.array([10 ** CURRENCIES[c][1] for c in tab["currency"]], dtype=np.int64)
        if kind == "expansions":
            minor = tab["delta_numer"] * 12 // 1200
            keep = minor >= whole
            close_t = tab["t"]
            open_t = close_t - rng.integers(7, 30, close_t.size) * DAY
            won = np.ones(close_t.size, bool)
            label = "Expansion"
        else:
            minor = tab["arr_numer"] // 1200
            close_t = tab["t"]
            open_t = close_t - 60 * DAY
            keep = minor >= whole
            won = tab["renewed"]
            label = "Renewal"
        c = tab["customer"]
        keep &= (open_t < end_ts) & (open_t >= cust.created[c])
        idx = np.flatnonzero(keep)
        m = idx.size
        if m == 0:
            continue
        c = c[idx]
        acct = cust.account[c]
        amt = (minor[idx] // whole[idx]) * whole[idx]
        ids = next_opp + np.arange(m)
        next_opp += m
        accounts.append(acct)
        owners.append(deals.owner[acct])
        names_.append(leads.company[deals.lead[acct]] + f" - {label}")
        types.append(np.full(m, label))
        currencies.append(tab["currency"][idx])
        sources.append(np.full(m, ""))
        camps.append(np.full(m, -1))
        created.append(open_t[idx])
        closed = np.where(close_t[idx] < end_ts, close_t[idx], NAT)
        ev.append((ids, open_t[idx], np.full(m, "Negotiation"), amt, close_t[idx]))
        final = np.where(won[idx], "Closed Won", "Closed Lost")
        sel = closed != NAT
        ev.append((ids[sel], closed[sel], final[sel], amt[sel], closed[sel]))
    # a few duplicates entered by mistake and deleted the next day
    dup = np.flatnonzero(rng.random(n) < 0.006)
    m = dup.size
    ids = next_opp + np.arange(m)
    accounts.append(deals.account[dup])
    owners.append(deals.owner[dup])
    names_.append(leads.company[lead[dup]] + " - New Business (dup)")
    types.append(np.full(m, "New Business"))
    currencies.append(deals.currency[dup])
    sources.append(src[dup])
    camps.append(leads.campaign[lead[dup]])
    dup_created = deals.created[dup] + 600
    created.append(dup_created)
    ev.append(
        (
            ids,
            dup_created,
            np.full(m, "Qualification"),
            deals.amount_initial[dup],
            dup_created + 30 * DAY,
        )
    )
    total = next_opp + m
    deleted_at = np.full(total, NAT, dtype=np.int64)
    deleted_at[ids] = np.where(dup_created + DAY < end_ts, dup_created + DAY, NAT)
    ev_cols = [np.concatenate([e[i] for e in ev]) for i in range(5)]
    order = np.lexsort((ev_cols[1], ev_cols[0]))
    ev_cols = [c[order] for c in ev_cols]
    return Opportunities(
        account=np.concatenate(accounts),
        owner=np.concatenate(owners),
        name=np.concatenate(names_),
        type=np.concatenate(types),
        currency=np.concatenate(currencies),
        lead_source=np.concatenate(sources),
        campaign=np.concatenate(camps),
        created=np.concatenate(created),
        deleted_at=deleted_at,
        ev_opp=ev_cols[0],
        ev_t=ev_cols[1],
        ev_stage=ev_cols[2],
        ev_amount=ev_cols[3],
        ev_close=ev_cols[4],
        no_amount=np.zeros(total, dtype=bool),
    )


def _money(minor: np.ndarray, currency: np.ndarray, null: np.ndarray | None = None) -> w.Col:
    """Salesforce currency fields in units; JPY has no decimals."""
    exp = np.array([MINOR_EXPONENT[c] for c in currency])
    scaled = np.asarray(minor, dtype=np.int64) * np.where(exp == 0, 100, 1)
    return w.money(scaled, 2, null)


def write_all(
    writer: w.DeliveryWriter,
    *,
    start_ts: int,
    end_ts: int,
    users: Users,
    leads: Leads,
    deals: Deals,
    opps: Opportunities,
    campaigns: Campaigns,
    ads: dict[str, np.ndarray],
    touches: Touches,
    billing: Billing,
    settled: dict,
    fx: dict[str, np.ndarray],
    quotas: dict[str, np.ndarray],
    expenses: dict[str, np.ndarray],
    profile: OrgProfile,
    lead_queue: np.ndarray,
    fx_delivered: dict[str, np.ndarray],
    stripe_cutover: int | None = None,
    progress=None,
    crm: str = "salesforce",
    seed: int = 0,
) -> None:
    # Ids as object arrays of str: indexing them per record version copies pointers, not
    # fixed-width characters (a 6M-row unicode column would take half a gigabyte).
    user_id = sf_ids("005", np.arange(users.name.size)).astype(object)
    lead_id = sf_ids("00Q", np.arange(leads.n)).astype(object)
    n_acc = deals.lead.size
    account_id = sf_ids("001", np.arange(n_acc)).astype(object)
    contact_id = sf_ids("003", np.arange(n_acc)).astype(object)
    opp_id = sf_ids("006", np.arange(opps.account.size)).astype(object)
    campaign_id = sf_ids("701", np.arange(campaigns.name.size)).astype(object)
    camp_or_blank = lambda idx: np.where(idx >= 0, campaign_id[np.maximum(idx, 0)], "")  # noqa: E731
    src = np.array([c.lead_source for c in CHANNELS])[leads.channel]
    step = progress or (lambda name: None)
    queue_id = sf_ids("00G", np.arange(max(1, int(lead_queue.max()) + 1))).astype(object)
    titles = _titles(users) if profile.varied_titles else users.title

    if crm == "hubspot":
        # the CRM as HubSpot exports it: its ids stand in for the Salesforce ones wherever
        # marketing, Stripe and the reference files name a CRM record
        hs = write_hubspot(
            writer,
            start_ts=start_ts,
            end_ts=end_ts,
            users=users,
            leads=leads,
            deals=deals,
            opps=opps,
            campaigns=campaigns,
            ads=ads,
            billing=billing,
            profile=profile,
            seed=seed,
            progress=step,
        )
        user_id, account_id, campaign_id = hs.owner_id, hs.company_id, hs.campaign_id
    else:
        # --- salesforce/User --------------------------------------------------------------------
        u = np.arange(users.name.size)
        left = users.leave_ts != NAT
        ver_u = np.concatenate([u, u[left]])
        ver_t = np.concatenate([users.hire_ts, users.leave_ts[left]])
        active = np.concatenate([np.ones(u.size, bool), np.zeros(int(left.sum()), bool)])
        mgr = users.manager[ver_u]
        writer.write(
            contract.get("salesforce", "User"),
            {
                "Id": w.text(user_id[ver_u]),
                "Name": w.text(users.name[ver_u]),
                "Email": w.text(users.email[ver_u]),
                "ManagerId": w.text(np.where(mgr >= 0, user_id[np.maximum(mgr, 0)], "")),
                "Department": w.text(users.department[ver_u]),
                "Title": w.text(titles[ver_u]),
                "Segment__c": w.text(
                    np.where(
                        users.segment[ver_u] >= 0,
                        np.array(SEGMENTS)[np.maximum(users.segment[ver_u], 0)],
                        "",
                    )
                ),
                "IsActive": w.boolean(active),
                "CreatedDate": w.timestamp(users.hire_ts[ver_u]),
                "LastModifiedDate": w.timestamp(ver_t),
            },
            _day(ver_t, start_ts),
            order=["LastModifiedDate", "Id"],
        )
        step("salesforce/User")

        # --- salesforce/Lead and LeadHistory ----------------------------------------------------
        slots = [
            (leads.t_contact, np.full(leads.n, STATUS_WORKING)),
            (leads.t_mql, np.full(leads.n, STATUS_MQL)),
            (leads.t_regress, np.full(leads.n, STATUS_WORKING)),
            (leads.t_sql, np.full(leads.n, STATUS_SQL)),
            (leads.t_final, leads.final_status),
        ]
        ev_lead = [np.arange(leads.n)]
        ev_t = [leads.created]
        ev_status = [leads.initial_status]
        ev_kind = [np.zeros(leads.n, np.int64)]  # 0 created, 1 status, 2 deleted
        for t, status in slots:
            has = t != NAT
            ev_lead.append(np.flatnonzero(has))
            ev_t.append(t[has])
            ev_status.append(status[has])
            ev_kind.append(np.ones(int(has.sum()), np.int64))
        dl = np.flatnonzero(leads.deleted_at != NAT)
        ev_lead.append(dl)
        ev_t.append(leads.deleted_at[dl])
        ev_status.append(leads.initial_status[dl])
        ev_kind.append(np.full(dl.size, 2))
        e_lead, e_t, e_status, e_kind = (
            np.concatenate(x) for x in (ev_lead, ev_t, ev_status, ev_kind)
        )
        e_status = e_status.astype(object)
        order = np.lexsort((e_kind, e_t, e_lead))
        e_lead, e_t, e_status, e_kind = e_lead[order], e_t[order], e_status[order], e_kind[order]
        # the status before each event (for history OldValue)
        same = np.concatenate([[False], e_lead[1:] == e_lead[:-1]])
        prev_status = np.where(same, np.concatenate([[""], e_status[:-1]]), "")
        converted = e_status == STATUS_CONVERTED
        conv_acc = np.full(leads.n, -1, dtype=np.int64)
        conv_acc[deals.lead] = deals.account
        acc = conv_acc[e_lead]
        writer.write(
            contract.get("salesforce", "Lead"),
            {
                "Id": w.text(lead_id[e_lead]),
                "FirstName": w.text(leads.first_name[e_lead]),
                "LastName": w.text(leads.last_name[e_lead]),
                "Email": w.text(leads.email[e_lead]),
                "Company": w.text(leads.company[e_lead]),
                "Title": w.text(leads.title[e_lead]),
                "LeadSource": w.text(src[e_lead]),
                "Status": w.text(_relabel(e_status, profile.lead_status_labels)),
                "OwnerId": w.text(
                    np.where(
                        lead_queue[e_lead] >= 0,
                        queue_id[np.maximum(lead_queue[e_lead], 0)],
                        user_id[leads.owner[e_lead]],
                    )
                ),
                "Country": w.text(leads.country[e_lead]),
                "NumberOfEmployees": w.integer(
                    leads.employees[e_lead], null=~leads.employees_known[e_lead]
                ),
                "Industry": w.text(leads.industry[e_lead]),
                "CreatedDate": w.timestamp(leads.created[e_lead]),
                "LastModifiedDate": w.timestamp(e_t),
                "IsConverted": w.boolean(converted),
                "ConvertedDate": w.date(np.where(converted, e_t, NAT)),
                "ConvertedAccountId": w.text(
                    np.where(converted, account_id[np.maximum(acc, 0)], "")
                ),
                "ConvertedContactId": w.text(
                    np.where(converted, contact_id[np.maximum(acc, 0)], "")
                ),
                "ConvertedOpportunityId": w.text(
                    np.where(converted, opp_id[np.maximum(acc, 0)], "")
                ),
                "IsDeleted": w.boolean(e_kind == 2),
            },
            _day(e_t, start_ts),
            order=["LastModifiedDate", "Id"],
        )
        step("salesforce/Lead")
        st = e_kind == 1
        h_lead = [e_lead[e_kind == 0], e_lead[st], e_lead[st & converted]]
        h_t = [e_t[e_kind == 0], e_t[st], e_t[st & converted]]
        h_field = [
            np.full(h_lead[0].size, "created"),
            np.full(h_lead[1].size, "Status"),
            np.full(h_lead[2].size, "leadConverted"),
        ]
        h_old = [np.full(h_lead[0].size, ""), prev_status[st], np.full(h_lead[2].size, "")]
        h_new = [np.full(h_lead[0].size, ""), e_status[st], np.full(h_lead[2].size, "")]
        hl, ht, hf, ho, hn = (np.concatenate(x) for x in (h_lead, h_t, h_field, h_old, h_new))
        order = np.lexsort((hf, ht, hl))
        hl, ht, hf, ho, hn = hl[order], ht[order], hf[order], ho[order], hn[order]
        writer.write(
            contract.get("salesforce", "LeadHistory"),
            {
                "Id": w.text(sf_ids("017", np.arange(hl.size))),
                "LeadId": w.text(lead_id[hl]),
                "Field": w.text(hf),
                "OldValue": w.text(_relabel(ho, profile.lead_status_labels)),
                "NewValue": w.text(_relabel(hn, profile.lead_status_labels)),
                "CreatedDate": w.timestamp(ht),
            },
            _day(ht, start_ts),
            order=["CreatedDate", "Id"],
        )
        step("salesforce/LeadHistory")

        # --- salesforce/Account and Contact ----------------------------------------------------
        a_lead = deals.lead
        cust = billing.customers
        acct_ev = [np.arange(n_acc)]
        acct_t = [deals.created]
        acct_type = [np.full(n_acc, "Prospect")]
        acct_ev.append(cust.account)
        acct_t.append(deals.closed_at[cust.deal])
        acct_type.append(np.full(cust.account.size, "Customer"))
        ends = billing.ledger.table("sub_end")
        subs = billing.subs
        if ends:
            # a customer becomes Former Customer when its last subscription ends, and Customer
            # again when it comes back
            main = subs["kind"] != 3
            last_end = np.full(cust.deal.size, -1, dtype=np.int64)
            np.maximum.at(
                last_end,
                subs["customer"][main],
                np.where(
                    subs["ended_at"][main] == NAT, np.iinfo(np.int64).max, subs["ended_at"][main]
                ),
            )
            lapsed = np.flatnonzero((last_end > 0) & (last_end < end_ts))
            acct_ev.append(cust.account[lapsed])
            acct_t.append(last_end[lapsed])
            acct_type.append(np.full(lapsed.size, "Former Customer"))
            back = subs["gen"] > 0
            bc = subs["customer"][back]
            acct_ev.append(cust.account[bc])
            acct_t.append(subs["start"][back])
            acct_type.append(np.full(bc.size, "Customer"))
            # the lapse before a comeback
            prev_end = ends["ended_at"][ends["gen"] >= 0]
            prev_cust = ends["customer"][ends["gen"] >= 0]
            keep = np.isin(prev_cust, bc) & ~np.isin(prev_cust, lapsed)
            acct_ev.append(cust.account[prev_cust[keep]])
            acct_t.append(prev_end[keep])
            acct_type.append(np.full(int(keep.sum()), "Former Customer"))
        av, at, atype = (np.concatenate(x) for x in (acct_ev, acct_t, acct_type))
        order = np.lexsort((at, av))
        av, at, atype = av[order], at[order], atype[order]
        # keep each account's versions time-ordered and unique in time
        al = a_lead[av]
        revenue_per_head = 90_000 + (av * 7919) % 160_000
        acc_cur = deals.currency[av]
        account_cols = {
            "Id": w.text(account_id[av]),
            "Name": w.text(leads.company[al]),
            "Website": w.text(leads.domain[al]),
            "Industry": w.text(leads.industry[al]),
            "NumberOfEmployees": w.integer(leads.employees[al]),
            "AnnualRevenue": _money(
                (leads.employees[al] * revenue_per_head // 1000 * 1000)
                * np.where(np.array([CURRENCIES[c][1] for c in acc_cur]) == 0, 1, 100),
                acc_cur,
            ),
            "BillingCountry": w.text(leads.country[al]),
            "OwnerId": w.text(user_id[deals.owner[av]]),
            "Type": w.text(atype),
            "CurrencyIsoCode": w.text(acc_cur),
            "CreatedDate": w.timestamp(deals.created[av]),
            "LastModifiedDate": w.timestamp(at),
            "IsDeleted": w.boolean(np.zeros(av.size, bool)),
        }
        if not profile.currency_iso_code:
            del account_cols["CurrencyIsoCode"]
        writer.write(
            contract.get("salesforce", "Account"),
            account_cols,
            _day(at, start_ts),
            order=["LastModifiedDate", "Id"],
        )
        writer.write(
            contract.get("salesforce", "Contact"),
            {
                "Id": w.text(contact_id),
                "AccountId": w.text(account_id),
                "FirstName": w.text(leads.first_name[a_lead]),
                "LastName": w.text(leads.last_name[a_lead]),
                "Email": w.text(leads.email[a_lead]),
                "Title": w.text(leads.title[a_lead]),
                "LeadSource": w.text(src[a_lead]),
                "OwnerId": w.text(user_id[deals.owner]),
                "CreatedDate": w.timestamp(deals.created),
                "LastModifiedDate": w.timestamp(deals.created),
                "IsDeleted": w.boolean(np.zeros(n_acc, bool)),
            },
            _day(deals.created, start_ts),
            order=["LastModifiedDate", "Id"],
        )
        step("salesforce/Account")

        # --- salesforce/Opportunity and OpportunityHistory -------------------------------------
        o = opps.ev_opp
        stage = opps.ev_stage
        closed = np.isin(stage, ["Closed Won", "Closed Lost"])
        prob = np.array([STAGE_PROBABILITY[s] for s in stage], dtype=np.int64)
        fc = np.array([FORECAST_CATEGORY[s] for s in stage])
        if profile.stage_labels:
            stage_out = _relabel(stage.astype(object), profile.stage_labels)
            prob = np.array([profile.stage_probability[s] for s in stage_out], dtype=np.int64)
            fc = np.array([profile.forecast_category[s] for s in stage_out])
        else:
            stage_out = stage
        close_day = opps.ev_close - opps.ev_close % DAY
        deleted_rows = opps.deleted_at != NAT
        d_o = np.flatnonzero(deleted_rows)
        # deletion versions repeat the last state with IsDeleted = true
        last_ev = np.searchsorted(o, d_o, side="right") - 1
        vo = np.concatenate([o, d_o])
        vt = np.concatenate([opps.ev_t, opps.deleted_at[d_o]])
        vi = np.concatenate([np.arange(o.size), last_ev])
        vdel = np.concatenate([np.zeros(o.size, bool), np.ones(d_o.size, bool)])
        acc_o = opps.account[vo]
        opp_cols = {
            "Id": w.text(opp_id[vo]),
            "AccountId": w.text(account_id[acc_o]),
            "OwnerId": w.text(user_id[opps.owner[vo]]),
            "Name": w.text(opps.name[vo]),
            "Type": w.text(_relabel(opps.type[vo].astype(object), profile.type_labels)),
            "StageName": w.text(stage_out[vi]),
            "Amount": _money(
                opps.ev_amount[vi],
                opps.currency[vo],
                null=opps.no_amount[vo] if opps.no_amount.any() else None,
            ),
            "CurrencyIsoCode": w.text(opps.currency[vo]),
            "Probability": w.integer(prob[vi]),
            "ForecastCategoryName": w.text(fc[vi]),
            "CloseDate": w.date(close_day[vi]),
            "IsClosed": w.boolean(closed[vi]),
            "IsWon": w.boolean(stage[vi] == "Closed Won"),
            "LeadSource": w.text(opps.lead_source[vo]),
            "CampaignId": w.text(camp_or_blank(opps.campaign[vo])),
            "CreatedDate": w.timestamp(opps.created[vo]),
            "LastModifiedDate": w.timestamp(vt),
            "IsDeleted": w.boolean(vdel),
        }
        if not profile.currency_iso_code:
            del opp_cols["CurrencyIsoCode"]
        writer.write(
            contract.get("salesforce", "Opportunity"),
            opp_cols,
            _day(vt, start_ts),
            order=["LastModifiedDate", "Id"],
        )
        writer.write(
            contract.get("salesforce", "OpportunityHistory"),
            {
                "Id": w.text(sf_ids("008", np.arange(o.size))),
                "OpportunityId": w.text(opp_id[o]),
                "StageName": w.text(stage_out),
                "Amount": _money(
                    opps.ev_amount,
                    opps.currency[o],
                    null=opps.no_amount[o] if opps.no_amount.any() else None,
                ),
                "Probability": w.integer(prob),
                "CloseDate": w.date(close_day),
                "CreatedDate": w.timestamp(opps.ev_t),
            },
            _day(opps.ev_t, start_ts),
            order=["CreatedDate", "Id"],
        )
        if profile.metadata_exports:
            _write_metadata(writer, start_ts)
        step("salesforce/Opportunity")

        # --- salesforce/Campaign and CampaignMember -------------------------------------------
        c = np.arange(campaigns.name.size)
        c_start = start_ts + campaigns.start_day * DAY
        c_end = start_ts + campaigns.end_day * DAY
        c_created = np.maximum(start_ts - 30 * DAY, c_start - 14 * DAY)
        done = c_end < end_ts
        spend_usd = np.zeros(c.size)
        np.add.at(spend_usd, ads["campaign"], ads["final_usd_cents"] / 100.0)
        budget = np.where(
            campaigns.platform != "", np.round(spend_usd * 1.1, -2), campaigns.budget_usd
        )
        cv = np.concatenate([c, c[done]])
        ct = np.concatenate([c_created, c_end[done]])
        status = np.concatenate(
            [
                np.where(c_start <= c_created, "In Progress", "Planned"),
                np.full(int(done.sum()), "Completed"),
            ]
        )
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
        writer.write(
            contract.get("salesforce", "Campaign"),
            {
                "Id": w.text(campaign_id[cv]),
                "Name": w.text(campaigns.name[cv]),
                "Type": w.text(campaigns.kind[cv]),
                "Status": w.text(status),
                "StartDate": w.date(c_start[cv]),
                "EndDate": w.date(c_end[cv] - DAY),
                "BudgetedCost": w.money(np.round(budget[cv] * 100).astype(np.int64)),
                "ActualCost": w.money(actual_cents, null=actual_cents == 0),
                "CreatedDate": w.timestamp(c_created[cv]),
                "LastModifiedDate": w.timestamp(ct),
                "IsDeleted": w.boolean(np.zeros(cv.size, bool)),
            },
            _day(ct, start_ts),
            order=["LastModifiedDate", "Id"],
        )
        mem = np.flatnonzero((leads.campaign >= 0) & (leads.deleted_at == NAT))
        writer.write(
            contract.get("salesforce", "CampaignMember"),
            {
                "Id": w.text(sf_ids("00v", np.arange(mem.size))),
                "CampaignId": w.text(campaign_id[leads.campaign[mem]]),
                "LeadId": w.text(lead_id[mem]),
                "ContactId": w.text(np.full(mem.size, "")),
                "Status": w.text(
                    np.where(np.isin(src[mem], ["Webinar", "Trade Show"]), "Attended", "Responded")
                ),
                "HasResponded": w.boolean(np.ones(mem.size, bool)),
                "FirstRespondedDate": w.date(leads.created[mem]),
                "CreatedDate": w.timestamp(leads.created[mem]),
                "LastModifiedDate": w.timestamp(leads.created[mem]),
                "IsDeleted": w.boolean(np.zeros(mem.size, bool)),
            },
            _day(leads.created[mem], start_ts),
            order=["LastModifiedDate", "Id"],
        )
        step("salesforce/Campaign")

    # --- ad platforms ----------------------------------------------------------------------
    for platform in ("google_ads", "linkedin_ads", "meta_ads"):
        sel = campaigns.platform[ads["campaign"]] == platform
        camp = ads["campaign"][sel]
        day_ts = start_ts + ads["day"][sel] * DAY
        cost = ads["spend_minor"][sel]
        cur = np.full(camp.size, PLATFORM_CURRENCY[platform])
        delivery = ads["delivery_day"][sel]
        if platform == "google_ads":
            cols = {
                "segments.date": w.date(day_ts),
                "campaign.id": w.text(campaigns.platform_id[camp]),
                "campaign.name": w.text(campaigns.name[camp]),
                "metrics.cost_micros": w.integer(cost * 10_000),
                "metrics.impressions": w.integer(ads["impressions"][sel]),
                "metrics.clicks": w.integer(ads["clicks"][sel]),
                "customer.currency_code": w.text(cur),
            }
            order = ["segments.date", "campaign.id"]
        elif platform == "linkedin_ads":
            cols = {
                "date": w.date(day_ts),
                "campaign_urn": w.text(
                    np.char.add("urn:li:sponsoredCampaign:", campaigns.platform_id[camp])
                ),
                "campaign_name": w.text(campaigns.name[camp]),
                "costInLocalCurrency": w.money(cost),
                "costInUsd": w.money(cost),
                "impressions": w.integer(ads["impressions"][sel]),
                "clicks": w.integer(ads["clicks"][sel]),
                "currency": w.text(cur),
            }
            order = ["date", "campaign_urn"]
        else:
            cols = {
                "date_start": w.date(day_ts),
                "date_stop": w.date(day_ts),
                "campaign_id": w.text(campaigns.platform_id[camp]),
                "campaign_name": w.text(campaigns.name[camp]),
                "spend": w.money(cost),
                "impressions": w.integer(ads["impressions"][sel]),
                "clicks": w.integer(ads["clicks"][sel]),
                "account_currency": w.text(cur),
            }
            order = ["date_start", "campaign_id"]
        name = {
            "google_ads": "campaign_stats",
            "linkedin_ads": "ad_analytics",
            "meta_ads": "ads_insights",
        }[platform]
        writer.write(contract.get(platform, name), cols, delivery, order=order)
    step("ads")

    # --- marketing_automation/activities --------------------------------------------------
    camp_t = touches.campaign
    utm_campaign = np.where(camp_t >= 0, campaigns.name[np.maximum(camp_t, 0)], "")
    utm_campaign = np.where(touches.utm_source == "", "", utm_campaign)
    writer.write(
        contract.get("marketing_automation", "activities"),
        {
            "activity_id": w.expr("'act-' || lpad(cast(_row + 1 as varchar), 9, '0')"),
            "email": w.text(touches.email),
            "activity_type": w.text(touches.type),
            "activity_timestamp": w.timestamp(touches.ts),
            "campaign_id": w.text(camp_or_blank(camp_t)),
            "utm_source": w.text(touches.utm_source),
            "utm_medium": w.text(touches.utm_medium),
            "utm_campaign": w.text(utm_campaign),
            "landing_page": w.text(touches.landing_page),
        },
        _day(touches.ts, start_ts),
        order=["activity_timestamp"],
    )
    step("marketing_automation/activities")

    _write_stripe(writer, billing, settled, account_id, start_ts, end_ts, stripe_cutover)
    step("stripe")
    _write_reference(writer, fx, fx_delivered, quotas, expenses, user_id, start_ts, end_ts)
    step("reference")


def _write_stripe(
    writer: w.DeliveryWriter,
    billing: Billing,
    settled: dict,
    account_id: np.ndarray,
    start_ts: int,
    end_ts: int,
    cutover: int | None = None,
) -> None:
    """Stripe objects; with `cutover` (a day index), deliveries from that day on are in the
    API 2025-03-31 shape, earlier ones in the 2024-06-20 shape."""
    cat = billing.catalogue
    cust = billing.customers
    subs = billing.subs
    led = billing.ledger
    n_c = cust.deal.size
    cus_id = stripe_ids("cus", np.arange(n_c), 11)
    prod_id = stripe_ids("prod", np.arange(len(cat.product_names)), 12)
    price_id = stripe_ids("price", np.arange(cat.price_unit.size), 13)
    sub_id = stripe_ids("sub", subs["id"], 14)
    # subscriptions are numbered in the order they are stored: the id is the position
    assert np.array_equal(subs["id"], np.arange(subs["id"].size))
    sub_pos = None

    # customers: created, and deleted (trial-only customers, later)
    dl = np.flatnonzero(cust.deleted_at != NAT)
    cv = np.concatenate([np.arange(n_c), dl])
    ct = np.concatenate([cust.created, cust.deleted_at[dl]])
    cdel = np.concatenate([np.zeros(n_c, bool), np.ones(dl.size, bool)])
    meta_acc = np.where(cust.has_metadata[cv], account_id[cust.account[cv]], "")
    writer.write(
        contract.get("stripe", "customers"),
        {
            "id": w.text(cus_id[cv]),
            "object": w.text(np.full(cv.size, "customer")),
            "created": w.unix(cust.created[cv]),
            "email": w.text(cust.email[cv]),
            "name": w.text(cust.name[cv]),
            "currency": w.text(np.char.lower(cust.currency[cv].astype(str))),
            "address": w.expr("{'country': _country}"),
            "metadata": w.expr(
                "case when _crm = '' then map {}::map(varchar, varchar) "
                "else map {'crm_account_id': _crm} end"
            ),
            "livemode": w.boolean(np.zeros(cv.size, bool)),
            "deleted": w.boolean(cdel),
        },
        _day(ct, start_ts),
        order=["created", "id"],
        helpers={"_country": cust.country[cv], "_crm": meta_acc},
    )

    # products and prices (the catalogue predates the history; new prices on the change day)
    n_p = len(cat.product_names)
    writer.write(
        contract.get("stripe", "products"),
        {
            "id": w.text(prod_id),
            "object": w.text(np.full(n_p, "product")),
            "name": w.text(np.array(cat.product_names)),
            "active": w.boolean(np.ones(n_p, bool)),
            "created": w.unix(np.full(n_p, start_ts - 400 * DAY)),
            "updated": w.unix(np.full(n_p, start_ts - 400 * DAY)),
            "metadata": w.expr("map {}::map(varchar, varchar)"),
            "deleted": w.boolean(np.zeros(n_p, bool)),
        },
        np.zeros(n_p, np.int64),
        order=["id"],
    )
    n_pr = cat.price_unit.size
    inactive = np.flatnonzero(cat.price_inactive_at != NAT)
    pv = np.concatenate([np.arange(n_pr), inactive])
    pt = np.concatenate([cat.price_created, cat.price_inactive_at[inactive]])
    pactive = np.concatenate([np.ones(n_pr, bool), np.zeros(inactive.size, bool)])
    kind = cat.price_kind[pv]
    writer.write(
        contract.get("stripe", "prices"),
        {
            "id": w.text(price_id[pv]),
            "object": w.text(np.full(pv.size, "price")),
            "product": w.text(prod_id[cat.price_product[pv]]),
            "currency": w.text(np.char.lower(cat.price_currency[pv].astype(str))),
            "unit_amount": w.integer(cat.price_unit[pv]),
            "type": w.text(np.where(kind >= 0, "recurring", "one_time")),
            "recurring": w.expr(
                "case when _interval = '' then null else {'interval': _interval, "
                "'interval_count': _count, 'usage_type': 'licensed'} end"
            ),
            "nickname": w.text(
                np.char.add(
                    np.char.add(np.array(cat.product_names)[cat.price_product[pv]], " "),
                    np.where(cat.price_version[pv] == 1, "2025", "v1"),
                )
            ),
            "active": w.boolean(pactive),
            "created": w.unix(cat.price_created[pv]),
            "deleted": w.boolean(np.zeros(pv.size, bool)),
        },
        _day(pt, start_ts),
        order=["created", "id"],
        helpers={
            "_interval": np.array([KINDS[k][0] if k >= 0 else "" for k in kind]),
            "_count": np.array([KINDS[k][1] if k >= 0 else 0 for k in kind], dtype=np.int64),
        },
    )

    # coupons
    n_cp = len(COUPONS)
    writer.write(
        contract.get("stripe", "coupons"),
        {
            "id": w.text(np.array([c[0] for c in COUPONS])),
            "object": w.text(np.full(n_cp, "coupon")),
            "name": w.text(np.array([c[1] for c in COUPONS])),
            "percent_off": w.integer(
                np.array([c[2] for c in COUPONS]), null=np.array([c[2] == 0 for c in COUPONS])
            ),
            "amount_off": w.integer(
                np.array([c[3] for c in COUPONS]), null=np.array([c[3] == 0 for c in COUPONS])
            ),
            "currency": w.text(np.array(["usd" if c[3] else "" for c in COUPONS])),
            "duration": w.text(np.array([c[4] for c in COUPONS])),
            "duration_in_months": w.integer(
                np.array([c[5] for c in COUPONS]),
                null=np.array([c[4] != "repeating" for c in COUPONS]),
            ),
            "valid": w.boolean(np.ones(n_cp, bool)),
            "created": w.unix(np.full(n_cp, start_ts - 300 * DAY)),
            "deleted": w.boolean(np.zeros(n_cp, bool)),
        },
        np.zeros(n_cp, np.int64),
        order=["id"],
    )

    # subscriptions: one version per event
    ev = led.table("sub_events")
    pos = ev["sub"]
    coupon = subs["coupon"][pos]
    disc_end = subs["discount_end"][pos]
    pct_coupon = coupon >= 0
    disc_active = (
        pct_coupon
        & ((disc_end == NAT) | (ev["t"] < disc_end))
        & (np.array([c[4] for c in COUPONS] + ["x"])[coupon] != "once")
    )
    disc_id = np.char.add("di_", np.char.replace(sub_id[pos].astype(str), "sub_", ""))
    sub_cols = {
        "id": w.text(sub_id[pos]),
        "object": w.text(np.full(pos.size, "subscription")),
        "customer": w.text(cus_id[subs["customer"][pos]]),
        "status": w.text(ev["status"]),
        "currency": w.text(np.char.lower(cust.currency[subs["customer"][pos]].astype(str))),
        "created": w.unix(subs["start"][pos]),
        "start_date": w.unix(subs["start"][pos]),
        "current_period_start": w.unix(ev["cps"]),
        "current_period_end": w.unix(ev["cpe"]),
        "billing_cycle_anchor": w.unix(subs["anchor"][pos]),
        "cancel_at_period_end": w.boolean(ev["cancel_at_period_end"]),
        "canceled_at": w.unix(ev["canceled_at"]),
        "ended_at": w.unix(ev["ended_at"]),
        "trial_start": w.unix(np.where(subs["trial"][pos], subs["start"][pos], NAT)),
        "trial_end": w.unix(subs["trial_end"][pos]),
        "discount": w.expr(
            "case when not _disc then null else {'id': _disc_id, 'coupon': _coupon, "
            "'start': _disc_start, 'end': case when _disc_end = "
            + str(NAT)
            + " then null else _disc_end end} end"
        ),
        "metadata": w.expr("map {}::map(varchar, varchar)"),
        "deleted": w.boolean(np.zeros(pos.size, bool)),
    }
    # API 2025-03-31: the periods move to the items, `discounts` (ids) replaces `discount`
    sub_cols_2025 = {k: v for k, v in sub_cols.items() if k not in _SUB_MOVED}
    sub_cols_2025["discounts"] = w.expr("case when _disc then [_disc_id] else []::varchar[] end")
    _write_versions(
        writer,
        contract.get("stripe", "subscriptions"),
        sub_cols,
        sub_cols_2025,
        _day(ev["t"], start_ts),
        cutover,
        order=["id"],
        helpers={
            "_disc": disc_active,
            "_disc_id": disc_id,
            "_coupon": np.array([c[0] for c in COUPONS] + [""])[coupon],
            "_disc_start": subs["start"][pos],
            "_disc_end": disc_end,
            "_t": ev["t"],
        },
    )

    # subscription items
    it = led.table("item_events")
    ipos = it["sub"]
    si_id = stripe_ids("si", it["item"], 15)
    price_helpers = _price_helpers(cat, it["price"], price_id, prod_id)
    item_cols = {
        "id": w.text(si_id),
        "object": w.text(np.full(si_id.size, "subscription_item")),
        "subscription": w.text(sub_id[ipos]),
        "price": w.expr(_PRICE_SQL),
        "quantity": w.integer(it["qty"]),
        "created": w.unix(it["t"]),
        "deleted": w.boolean(it["deleted"]),
    }
    item_cols_2025 = dict(item_cols)
    if cutover is not None:
        # the subscription's period at the item version's time
        cps, cpe = _period_at(ev["sub"], ev["t"], ev["cps"], ev["cpe"], ipos, it["t"])
        item_cols_2025["current_period_start"] = w.unix(cps)
        item_cols_2025["current_period_end"] = w.unix(cpe)
    _write_versions(
        writer,
        contract.get("stripe", "subscription_items"),
        item_cols,
        item_cols_2025,
        _day(it["t"], start_ts),
        cutover,
        order=["created", "id"],
        helpers=price_helpers,
    )

    # invoices with their lines, payments and refunds
    _write_invoices(
        writer,
        billing,
        cus_id,
        sub_id,
        sub_pos,
        price_id,
        prod_id,
        disc_id_for=lambda p: np.char.add(
            "di_", np.char.replace(sub_id[p].astype(str), "sub_", "")
        ),
        start_ts=start_ts,
        end_ts=end_ts,
        settled=settled,
        cutover=cutover,
    )


_SUB_MOVED = ("current_period_start", "current_period_end", "discount")
_LINE_MOVED = ("subscription", "subscription_item", "type", "price", "proration")


def _write_versions(
    writer: w.DeliveryWriter,
    obj: contract.ExportObject,
    before: dict[str, w.Col],
    after: dict[str, w.Col],
    day: np.ndarray,
    cutover: int | None,
    order: list[str],
    helpers: dict[str, np.ndarray],
) -> None:
    """One Stripe object: deliveries before `cutover` with the `before` columns (API
    2024-06-20), from it on with the `after` columns (2025-03-31); all `before` without one."""
    if cutover is None:
        writer.write(obj, before, day, order=order, helpers=helpers)
        return
    for cols, rows, replace in ((before, day < cutover, True), (after, day >= cutover, False)):
        sliced = {
            k: c if c.values is None else dataclasses.replace(c, values=c.values[rows])
            for k, c in cols.items()
        }
        sub_helpers = {k: np.asarray(v)[rows] for k, v in helpers.items()}
        writer.write(obj, sliced, day[rows], order=order, helpers=sub_helpers, replace=replace)


def _period_at(
    ev_sub: np.ndarray,
    ev_t: np.ndarray,
    ev_cps: np.ndarray,
    ev_cpe: np.ndarray,
    sub: np.ndarray,
    t: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The subscription's current period (its latest version at or before `t`) per row."""
    key_ev = (ev_sub.astype(np.int64) << 32) + ev_t.astype(np.int64)
    key = (np.asarray(sub, dtype=np.int64) << 32) + np.asarray(t, dtype=np.int64)
    srt = np.argsort(key_ev, kind="stable")
    at = np.searchsorted(key_ev[srt], key, side="right") - 1
    hit = srt[np.maximum(at, 0)]
    ok = (at >= 0) & (ev_sub[hit] == sub)
    return np.where(ok, ev_cps[hit], NAT), np.where(ok, ev_cpe[hit], NAT)


_PRICE_SQL = (
    "{'id': _p_id, 'object': 'price', 'product': _p_product, 'currency': _p_currency, "
    "'unit_amount': _p_unit, "
    "'type': case when _p_interval = '' then 'one_time' else 'recurring' end, "
    "'recurring': case when _p_interval = '' then null "
    "else {'interval': _p_interval, 'interval_count': _p_count} end}"
)


def _price_helpers(
    cat, price: np.ndarray, price_id: np.ndarray, prod_id: np.ndarray
) -> dict[str, np.ndarray]:
    kind = cat.price_kind[price]
    return {
        "_p_id": price_id[price],
        "_p_product": prod_id[cat.price_product[price]],
        "_p_currency": np.char.lower(cat.price_currency[price].astype(str)),
        "_p_unit": cat.price_unit[price],
        "_p_interval": np.array([k[0] for k in KINDS] + [""], dtype=object)[kind],
        "_p_count": np.array([k[1] for k in KINDS] + [0], dtype=np.int64)[kind],
    }


def _write_invoices(
    writer,
    billing,
    cus_id,
    sub_id,
    sub_pos,
    price_id,
    prod_id,
    disc_id_for,
    start_ts,
    end_ts,
    settled,
    cutover=None,
) -> None:
    inv = settled["invoices"]
    cat = billing.catalogue
    n = inv["invoice"].size
    in_id = stripe_ids("in", inv["invoice"], 16)
    pos = inv["sub"]
    cust = billing.subs["customer"][pos]
    # invoice numbers run per customer: <customer prefix>-0001, -0002, ...
    order = np.lexsort((inv["invoice"], cust))
    seq = np.empty(n, dtype=np.int64)
    first_of = np.concatenate([[True], cust[order][1:] != cust[order][:-1]])
    run_start = np.maximum.accumulate(np.where(first_of, np.arange(n), 0))
    seq[order] = np.arange(n) - run_start + 1
    number = np.char.add(
        np.char.add(
            np.char.upper(np.char.replace(cus_id[cust].astype(str), "cus_", ""))[:].astype("U8"),
            "-",
        ),
        np.char.zfill(seq.astype(str), 4),
    )
    cur_l = np.char.lower(inv["currency"].astype(str))
    disc_total = inv["line_discount"] + inv["once_discount"]
    ver = settled["invoice_versions"]
    r = ver["row"]
    status = ver["status"]
    paid = status == "paid"
    inv_cols = {
        "id": w.text(in_id[r]),
        "object": w.text(np.full(r.size, "invoice")),
        "customer": w.text(cus_id[cust[r]]),
        "subscription": w.text(sub_id[pos[r]]),
        "number": w.text(number[r]),
        "status": w.text(status),
        "billing_reason": w.text(inv["reason"][r]),
        "currency": w.text(cur_l[r]),
        "created": w.unix(inv["created"][r]),
        "period_start": w.unix(inv["period_start"][r]),
        "period_end": w.unix(inv["period_end"][r]),
        "subtotal": w.integer(inv["subtotal"][r]),
        "total_discount_amounts": w.expr(
            "case when _disc = 0 then [] else [{'amount': _disc, 'discount': _disc_id}] end"
        ),
        "tax": w.integer(inv["tax"][r]),
        "total": w.integer(inv["total"][r]),
        "amount_due": w.integer(inv["due"][r]),
        "amount_paid": w.integer(np.where(paid, inv["due"][r], 0)),
        "amount_remaining": w.integer(
            np.where(paid | (status == "uncollectible"), 0, inv["due"][r])
        ),
        "status_transitions": w.expr(
            "{'finalized_at': _created, 'paid_at': case when _paid then _t else null end, "
            "'voided_at': null::bigint}"
        ),
    }
    # API 2025-03-31: `parent` replaces `subscription`, `total_taxes` replaces `tax`
    inv_cols_2025 = {k: v for k, v in inv_cols.items() if k not in ("subscription", "tax")}
    inv_cols_2025["parent"] = w.expr(
        "{'type': 'subscription_details', 'subscription_details': {'subscription': _sub}}"
    )
    inv_cols_2025["total_taxes"] = w.expr("case when _tax = 0 then [] else [{'amount': _tax}] end")
    _write_versions(
        writer,
        contract.get("stripe", "invoices"),
        inv_cols,
        inv_cols_2025,
        _day(ver["t"], start_ts),
        cutover,
        order=["id"],
        helpers={
            "_sub": sub_id[pos[r]],
            "_tax": inv["tax"][r],
            "_disc": disc_total[r],
            "_disc_id": np.where(
                inv["once_discount"][r] > 0,
                "di_welcome_" + np.char.replace(sub_id[pos[r]].astype(str), "sub_", ""),
                disc_id_for(pos[r]),
            ),
            "_created": inv["created"][r],
            "_paid": paid,
            "_t": ver["t"],
        },
    )
    # line items, delivered with the invoice they belong to
    ln = billing.ledger.table("lines")
    lpos = ln["sub"]
    il_id = stripe_ids("il", np.arange(ln["invoice"].size), 17)
    is_sub = ln["type"] == "subscription"
    product = np.array(cat.product_names)[cat.price_product[ln["price"]]]
    qty_s = ln["qty"].astype(str)
    base_desc = np.char.add(np.char.add(qty_s, " x "), product)
    desc = np.where(
        ln["proration"] & (ln["amount"] < 0),
        np.char.add("Unused time on ", base_desc),
        np.where(ln["proration"], np.char.add("Remaining time on ", base_desc), base_desc),
    )
    trial_line = is_sub & (ln["amount"] == 0) & ~ln["proration"]
    desc = np.where(trial_line, np.char.add("Trial period for ", product), desc)
    coupon = billing.subs["coupon"][lpos]
    helpers = _price_helpers(cat, ln["price"], price_id, prod_id)
    helpers.update(
        {
            "_pct": ln["pct"],
            "_disc_amount": ln["discount"],
            "_di": disc_id_for(lpos),
            "_cp": np.array([c[0] for c in COUPONS] + [""])[coupon],
            "_dur": np.array([c[4] for c in COUPONS] + [""])[coupon],
            "_ds": billing.subs["start"][lpos],
            "_de": billing.subs["discount_end"][lpos],
            "_ps": ln["period_start"],
            "_pe": ln["period_end"],
        }
    )
    inv_row = np.searchsorted(inv["invoice"], ln["invoice"])
    item_id = np.where(ln["item"] >= 0, stripe_ids("si", np.maximum(ln["item"], 0), 15), "")
    line_cols = {
        "id": w.text(il_id),
        "object": w.text(np.full(il_id.size, "line_item")),
        "invoice": w.text(in_id[inv_row]),
        "subscription": w.text(sub_id[lpos]),
        "subscription_item": w.text(item_id),
        "type": w.text(ln["type"]),
        "price": w.expr(_PRICE_SQL),
        "quantity": w.integer(ln["qty"]),
        "amount": w.integer(ln["amount"]),
        "currency": w.text(np.char.lower(ln["currency"].astype(str))),
        "discount_amounts": w.expr(
            "case when _pct = 0 then [] else [{'amount': _disc_amount, 'discount': _di}] end"
        ),
        "discounts": w.expr(
            "case when _pct = 0 then [] else [{'id': _di, 'coupon': {'id': _cp, "
            "'percent_off': _pct, 'duration': _dur}, 'start': _ds, 'end': case when _de = "
            + str(NAT)
            + " then null else _de end}] end"
        ),
        "proration": w.boolean(ln["proration"]),
        "period": w.expr("{'start': _ps, 'end': _pe}"),
        "description": w.text(desc),
    }
    # API 2025-03-31: `pricing` (the price id) and `parent` replace `price`, `type`,
    # `proration`, `subscription` and `subscription_item`
    line_cols_2025 = {k: v for k, v in line_cols.items() if k not in _LINE_MOVED}
    line_cols_2025["pricing"] = w.expr(
        "{'type': 'price_details', 'price_details': {'price': _p_id, 'product': _p_product}, "
        "'unit_amount_decimal': cast(_p_unit as varchar)}"
    )
    line_cols_2025["parent"] = w.expr(
        "{'type': case when _is_sub then 'subscription_item_details' "
        "else 'invoice_item_details' end, "
        "'subscription_item_details': case when _is_sub then {'subscription': _sub, "
        "'subscription_item': _si, 'proration': _proration, "
        "'invoice_item': case when _proration then _ii else null end} else null end, "
        "'invoice_item_details': case when _is_sub then null else {'invoice_item': _ii, "
        "'subscription': _sub, 'proration': _proration} end}"
    )
    if cutover is not None:
        helpers.update(
            {
                "_is_sub": is_sub,
                "_sub": sub_id[lpos],
                "_si": item_id,
                "_proration": ln["proration"],
                "_ii": stripe_ids("ii", np.arange(il_id.size), 20),
            }
        )
    _write_versions(
        writer,
        contract.get("stripe", "invoice_line_items"),
        line_cols,
        line_cols_2025,
        _day(inv["created"][inv_row], start_ts),
        cutover,
        order=["id"],
        helpers=helpers,
    )
    # charges: one version per attempt, and again when refunded
    ch = settled["charges"]
    rf = settled["refunds"]
    n_ch = ch["row"].size
    ch_id = stripe_ids("ch", np.arange(n_ch), 18)
    cv = np.concatenate([np.arange(n_ch), rf["charge"]])
    ct = np.concatenate([ch["t"], rf["t"]])
    refunded_amt = np.concatenate([np.zeros(n_ch, np.int64), rf["amount"]])
    crow = ch["row"][cv]
    amount = inv["due"][crow]
    ok = ch["ok"][cv]
    writer.write(
        contract.get("stripe", "charges"),
        {
            "id": w.text(ch_id[cv]),
            "object": w.text(np.full(cv.size, "charge")),
            "customer": w.text(cus_id[cust[crow]]),
            "invoice": w.text(in_id[crow]),
            "amount": w.integer(amount),
            "amount_captured": w.integer(np.where(ok, amount, 0)),
            "amount_refunded": w.integer(refunded_amt),
            "currency": w.text(cur_l[crow]),
            "status": w.text(np.where(ok, "succeeded", "failed")),
            "paid": w.boolean(ok),
            "refunded": w.boolean((refunded_amt > 0) & (refunded_amt == amount)),
            "failure_code": w.text(np.where(ok, "", "card_declined")),
            "failure_message": w.text(np.where(ok, "", "Your card was declined.")),
            "created": w.unix(ch["t"][cv]),
        },
        _day(ct, start_ts),
        order=["created", "id"],
    )
    n_rf = rf["charge"].size
    writer.write(
        contract.get("stripe", "refunds"),
        {
            "id": w.text(stripe_ids("re", np.arange(n_rf), 19)),
            "object": w.text(np.full(n_rf, "refund")),
            "charge": w.text(ch_id[rf["charge"]]),
            "amount": w.integer(rf["amount"]),
            "currency": w.text(cur_l[ch["row"][rf["charge"]]]),
            "status": w.text(np.full(n_rf, "succeeded")),
            "reason": w.text(np.full(n_rf, "requested_by_customer")),
            "created": w.unix(rf["t"]),
        },
        _day(rf["t"], start_ts),
        order=["created", "id"],
    )


def _write_reference(writer, fx, fx_delivered, quotas, expenses, user_id, start_ts, end_ts) -> None:
    n_days = (end_ts - start_ts) // DAY
    codes = [c for c in CURRENCIES if c != "USD"]
    day = np.tile(np.arange(n_days), len(codes))
    cur = np.repeat(np.array(codes), n_days)
    rate = np.concatenate([fx[c] for c in codes])
    sent = np.concatenate([fx_delivered[c] for c in codes])
    if not sent.all():  # multi-currency-gaps: days without a rate
        day, cur, rate = day[sent], cur[sent], rate[sent]
    writer.write(
        contract.get("reference", "fx_rates"),
        {
            "rate_date": w.date(start_ts + day * DAY),
            "base_currency": w.text(cur),
            "quote_currency": w.text(np.full(day.size, "USD")),
            "rate": w.money(rate, 6),
        },
        day,
        order=["rate_date", "base_currency"],
    )
    writer.write(
        contract.get("reference", "quotas"),
        {
            "owner_id": w.text(user_id[quotas["user"]]),
            "period_start": w.date(quotas["start"]),
            "period_end": w.date(quotas["end"] - DAY),
            "quota_amount": w.money(quotas["amount_cents"]),
            "currency": w.text(np.full(quotas["user"].size, "USD")),
        },
        _day(quotas["delivered"], start_ts),
        order=["period_start", "owner_id"],
    )
    writer.write(
        contract.get("reference", "expenses"),
        {
            "month": w.date(expenses["month"]),
            "department": w.text(expenses["department"]),
            "category": w.text(expenses["category"]),
            "amount": w.money(expenses["amount_cents"]),
            "currency": w.text(np.full(expenses["month"].size, "USD")),
        },
        _day(expenses["delivered"], start_ts),
        order=["month", "department", "category"],
    )


def _relabel(values: np.ndarray, mapping: dict[str, str]) -> np.ndarray:
    """Simulated picklist values as the org's profile names them."""
    if not mapping:
        return values
    return np.array([mapping.get(v, v) for v in values.tolist()], dtype=object)


def _titles(users: Users) -> np.ndarray:
    """salesforce-defaults: reps with the varied titles real orgs give them."""
    out = users.title.astype(object).copy()
    for role, choices in SF_TITLES.items():
        mine = np.flatnonzero(users.role == role)
        out[mine] = np.array(choices, dtype=object)[np.arange(mine.size) % len(choices)]
    return out


def _write_metadata(writer: w.DeliveryWriter, start_ts: int) -> None:
    """salesforce-defaults: the OpportunityStage and LeadStatus metadata exports (the whole
    picklist, delivered with the first export)."""
    made = np.full(len(SF_STAGES), start_ts - 900 * DAY)
    n = len(SF_STAGES)
    writer.write(
        contract.get("salesforce", "OpportunityStage"),
        {
            "Id": w.text(sf_ids("01J", np.arange(n) + 100)),
            "MasterLabel": w.text(np.array([s[0] for s in SF_STAGES])),
            "ApiName": w.text(np.array([s[0] for s in SF_STAGES])),
            "IsActive": w.boolean(np.ones(n, bool)),
            "SortOrder": w.integer(np.arange(n) + 1),
            "IsClosed": w.boolean(np.array([s[3] for s in SF_STAGES])),
            "IsWon": w.boolean(np.array([s[4] for s in SF_STAGES])),
            "DefaultProbability": w.integer(np.array([s[1] for s in SF_STAGES])),
            "ForecastCategoryName": w.text(np.array([s[2] for s in SF_STAGES])),
            "CreatedDate": w.timestamp(made),
            "LastModifiedDate": w.timestamp(made),
        },
        np.zeros(n, np.int64),
        order=["SortOrder"],
    )
    n = len(SF_LEAD_STATUSES)
    made = np.full(n, start_ts - 900 * DAY)
    writer.write(
        contract.get("salesforce", "LeadStatus"),
        {
            "Id": w.text(sf_ids("01J", np.arange(n) + 200)),
            "MasterLabel": w.text(np.array([s[0] for s in SF_LEAD_STATUSES])),
            "ApiName": w.text(np.array([s[0] for s in SF_LEAD_STATUSES])),
            "SortOrder": w.integer(np.arange(n) + 1),
            "IsDefault": w.boolean(np.array([s[1] for s in SF_LEAD_STATUSES])),
            "IsConverted": w.boolean(np.array([s[2] for s in SF_LEAD_STATUSES])),
            "CreatedDate": w.timestamp(made),
            "LastModifiedDate": w.timestamp(made),
        },
        np.zeros(n, np.int64),
        order=["SortOrder"],
    )
