"""Ground truth computed by the simulation itself (never by SQL): the funnel, MRR and its
movements, and ad spend per month, as the pipeline's marts must reproduce them.

Definitions (the same ones docs/METRICS.md gives the marts):
- leads: leads created in the month, excluding deleted (spam) and test leads; segment from the
  lead's head count (`Unknown` without one).
- mqls / sqls: leads whose first MQL-or-later (SQL-or-later) status falls in the month; a lead
  that skips MQL counts as MQL when it reaches SQL; regressions keep the first time.
- opportunities_created: opportunities (all types, not deleted) created in the month;
  won / lost: closed in the month (by CloseDate); won_amount: sum over won opportunities of
  Amount x the FX rate of the CloseDate, each rounded to the cent. Segment from the account.
- mrr: per customer, the normalised monthly value of every subscription item in service at the
  month's reference instant (its last second, or the subscription's last second of service in
  the month if it ended during it); summed in the customer's currency, converted at the rate
  of the month's last day and rounded to the cent.
- FX-neutral movements (`fx_neutral_movements`): each customer against its previous month, in
  constant currency: new (first MRR ever), reactivation (MRR after a month at zero), churn (zero
  after MRR), and for a customer paying both months expansion or contraction of this month's
  items at last month's rate against last month's MRR; fx = this month's MRR at this month's
  rate less at last month's, so previous + movements + fx = MRR to the cent. Retention parts
  value the cohort's MRR at the cohort month's rates (last month's, or twelve months earlier's).
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import numpy as np

from revops.generator.billing import MRR_MULT, Billing
from revops.generator.common import DAY, NAT, month_index, month_start_ts
from revops.generator.reference import CURRENCIES, MINOR_EXPONENT


def to_cents(numer: np.ndarray, denom_factor: np.ndarray) -> np.ndarray:
    """round_half_up(numer / denom_factor) with Python integers (no overflow, exact)."""
    numer = np.asarray(numer, dtype=object)
    denom = np.asarray(denom_factor, dtype=object)
    sign = np.where(numer < 0, -1, 1)
    return (sign * ((abs(numer) * 2 + denom) // (denom * 2))).astype(np.int64)


def amount_to_usd_cents(
    minor: np.ndarray, currency: np.ndarray, rate_micro: np.ndarray
) -> np.ndarray:
    exp = np.array([MINOR_EXPONENT[c] for c in currency], dtype=object)
    numer = np.asarray(minor, dtype=object) * np.asarray(rate_micro, dtype=object) * 100
    return to_cents(numer, 10**6 * 10**exp)


def month_label(month_idx: np.ndarray | int) -> np.ndarray:
    return np.datetime_as_string(np.asarray(month_idx, dtype="datetime64[M]"), unit="M")


def customer_mrr(billing: Billing, fx: dict[str, np.ndarray], start_ts: int, end_ts: int):
    """MRR per customer and month in reporting cents (dense: customers x months)."""
    values = customer_values(billing, fx, start_ts, end_ts)
    return values.cents, values.constant, values.m0


class CustomerValues(NamedTuple):
    """Per customer x month (dense): 1,200 x the monthly value in the customer's currency, the
    rate of each month's last day (micro units), the currency's 10^exponent, and MRR in
    reporting cents at the month's rate (`cents`) and at the first day's (`constant`)."""

    numer: np.ndarray
    rates: np.ndarray
    exp: np.ndarray
    cents: np.ndarray
    constant: np.ndarray
    m0: int

    def at_rates(self, rates: np.ndarray) -> np.ndarray:
        """This month's values at other rates (one per customer and month), in cents."""
        denom = np.broadcast_to(1200 * 10**6 * self.exp, self.numer.shape)
        return to_cents(self.numer * rates * 100, denom)


def customer_values(
    billing: Billing, fx: dict[str, np.ndarray], start_ts: int, end_ts: int
) -> CustomerValues:
    """Item values per customer and month in the customer's currency, and their conversions."""
    seg = billing.ledger.table("segments")
    subs = billing.subs
    cat = billing.catalogue
    sub_pos = np.argsort(subs["id"])
    pos = sub_pos[np.searchsorted(subs["id"], seg["sub"], sorter=sub_pos)]
    ended = subs["ended_at"][pos]
    started = subs["start"][pos]
    customer = subs["customer"][pos]
    m0 = int(month_index(np.array([start_ts]))[0])
    m_last = int(month_index(np.array([end_ts - 1]))[0])
    n_months = m_last - m0 + 1
    first = month_index(seg["t_from"])
    last = month_index(np.minimum(seg["t_to"], end_ts) - 1)
    span = np.maximum(0, last - first + 1)
    rep = np.repeat(np.arange(span.size), span)
    offs = np.arange(rep.size) - np.repeat(np.cumsum(span) - span, span)
    month = first[rep] + offs
    m_start = month_start_ts(month)
    m_end = np.minimum(month_start_ts(month + 1), end_ts)
    t_ref = np.minimum(m_end, ended[rep]) - 1
    in_service = (t_ref >= m_start) & (t_ref >= started[rep])
    covers = (seg["t_from"][rep] <= t_ref) & (t_ref < seg["t_to"][rep])
    keep = in_service & covers
    rep, month = rep[keep], month[keep]
    price = seg["price"][rep]
    value = np.where(
        seg["zero"][rep],
        0,
        cat.price_unit[price]
        * seg["qty"][rep]
        * (100 - seg["pct"][rep])
        * MRR_MULT[cat.price_kind[price]],
    ).astype(object)
    n_cust = billing.customers.deal.size
    numer = np.zeros((n_cust, n_months), dtype=object)
    np.add.at(numer, (customer[rep], month - m0), value)
    # convert at the rate of the month's last (simulated) day
    days = (
        np.minimum(month_start_ts(np.arange(m0, m0 + n_months) + 1), end_ts) - DAY - start_ts
    ) // DAY
    cur = billing.customers.currency
    rates = np.stack([fx[c][days] for c in cur]).astype(object)
    fixed = np.array([fx[c][0] for c in cur], dtype=object)[:, None]
    exp = np.array([10 ** CURRENCIES[c][1] for c in cur], dtype=object)[:, None]
    denom = 1200 * 10**6 * exp
    cents = to_cents(numer * rates * 100, np.broadcast_to(denom, numer.shape))
    constant = to_cents(numer * fixed * 100, np.broadcast_to(denom, numer.shape))
    return CustomerValues(numer, rates, exp, cents, constant, m0)


def _shifted(a: np.ndarray, months: int) -> np.ndarray:
    """a[:, j - months], 0 where j < months."""
    out = np.zeros_like(a)
    out[:, months:] = a[:, : a.shape[1] - months]
    return out


def fx_neutral_movements(values: CustomerValues) -> dict[str, np.ndarray]:
    """The FX-neutral MRR bridge and retention parts per customer and month, in cents."""
    cents = values.cents
    prev = _shifted(cents, 1)
    # this month's items at last month's rate (the first month has no previous month: its
    # customers are all new, so the value is never used; it is this month's MRR there)
    rates_before = values.rates.copy()
    rates_before[:, 1:] = values.rates[:, :-1]
    at_previous = values.at_rates(rates_before)
    had = np.maximum.accumulate(cents > 0, axis=1)
    had_before = np.concatenate([np.zeros((cents.shape[0], 1), dtype=bool), had[:, :-1]], axis=1)
    starts = (prev == 0) & (cents > 0)
    paying = (prev > 0) & (cents > 0)
    out = {
        "previous": prev,
        "new": np.where(starts & ~had_before, cents, 0),
        "reactivation": np.where(starts & had_before, cents, 0),
        "churn": np.where((prev > 0) & (cents == 0), prev, 0),
        "expansion": np.where(paying & (at_previous > prev), at_previous - prev, 0),
        "contraction": np.where(paying & (at_previous < prev), prev - at_previous, 0),
        "fx": np.where(paying, cents - at_previous, 0),
        "monthly_retention_base": np.where(prev > 0, prev, 0),
        "monthly_net_retained": np.where(prev > 0, at_previous, 0),
        "monthly_gross_retained": np.where(prev > 0, np.minimum(at_previous, prev), 0),
    }
    year_ago = _shifted(cents, 12)
    rates_year_ago = values.rates.copy()
    rates_year_ago[:, 12:] = values.rates[:, :-12]
    at_year_ago = values.at_rates(rates_year_ago)
    out["trailing_12m_retention_base"] = np.where(year_ago > 0, year_ago, 0)
    out["trailing_12m_net_retained"] = np.where(year_ago > 0, at_year_ago, 0)
    out["trailing_12m_gross_retained"] = np.where(
        year_ago > 0, np.minimum(at_year_ago, year_ago), 0
    )
    return out


def cents_str(c: int) -> str:
    sign = "-" if c < 0 else ""
    c = abs(int(c))
    return f"{sign}{c // 100}.{c % 100:02d}"


def group_sum(keys: list[tuple], values: dict[str, np.ndarray]) -> dict[tuple, dict[str, int]]:
    out: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for name, vals in values.items():
        for key, v in zip(keys, vals.tolist(), strict=True):
            out[key][name] += v
    return out


__all__ = [
    "NAT",
    "amount_to_usd_cents",
    "cents_str",
    "customer_mrr",
    "customer_values",
    "fx_neutral_movements",
    "month_label",
]
