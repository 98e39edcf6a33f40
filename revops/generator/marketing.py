"""Marketing: campaigns, daily ad spend by platform, and the daily arrival of leads by channel.

Paid leads follow spend (Poisson in spend / cost per lead); other channels follow the company's
growth curve. Ad platforms restate recent days, so each delivery re-sends the last days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from revops.contract import ADS_RESTATEMENT_DAYS
from revops.generator.common import DAY


@dataclass(frozen=True)
class Channel:
    lead_source: str  # Salesforce LeadSource picklist value
    share: float  # share of all leads
    p_mql: float  # chance a lead from it becomes an MQL
    platform: str | None = None  # ad platform folder for paid channels
    cpl_usd: float = 0.0  # cost per lead on the platform
    event: bool = False  # an event channel: its cost is the `events` expenses, not ad spend


CHANNELS: tuple[Channel, ...] = (
    Channel("Google Ads", 0.24, 0.34, "google_ads", 110.0),
    Channel("LinkedIn", 0.12, 0.40, "linkedin_ads", 190.0),
    Channel("Facebook", 0.10, 0.22, "meta_ads", 55.0),
    Channel("Organic Search", 0.19, 0.30),
    Channel("Webinar", 0.08, 0.45, event=True),
    Channel("Trade Show", 0.04, 0.50, event=True),
    Channel("Referral", 0.07, 0.55),
    Channel("Outbound", 0.11, 0.22),
    Channel("Partner", 0.05, 0.45),
)
CHANNEL_INDEX = {c.lead_source: i for i, c in enumerate(CHANNELS)}

# Account currency of each ad platform (Meta's account bills in EUR to exercise FX).
PLATFORM_CURRENCY = {"google_ads": "USD", "linkedin_ads": "USD", "meta_ads": "EUR"}
PLATFORM_PREFIX = {"google_ads": "GGL", "linkedin_ads": "LI", "meta_ads": "META"}
_THEMES = (
    "Brand",
    "NonBrand_Analytics",
    "Competitor",
    "Retargeting",
    "RevOps_Guide",
    "Pipeline_Webinar",
    "Forecasting",
    "CFO_Report",
    "Data_Quality",
    "Attribution",
    "Lookalike",
    "ABM_Enterprise",
)
_REGIONS = ("US", "EMEA", "UKI", "DACH", "APAC", "Global")


@dataclass
class Campaigns:
    """Every campaign (paid, webinar, event, nurture, partner); index = campaign number."""

    name: np.ndarray
    kind: np.ndarray  # Salesforce Campaign.Type
    platform: np.ndarray  # "" when not an ad campaign
    platform_id: np.ndarray  # ad platform's own id, "" otherwise
    start_day: np.ndarray
    end_day: np.ndarray  # exclusive
    lead_source: np.ndarray  # LeadSource of leads it generates ("" when none)
    budget_usd: np.ndarray  # planned cost over the flight


@dataclass
class AdSpend:
    """Final daily figures per (campaign, day) for the paid campaigns."""

    campaign: np.ndarray
    day: np.ndarray
    spend_minor: np.ndarray  # account currency, cents
    impressions: np.ndarray
    clicks: np.ndarray
    leads: np.ndarray  # leads it produced that day


def demand_curve(n_days: int, start_weekday: int, start_doy: int) -> np.ndarray:
    """Relative daily demand: growth (~1.8x a year), weekdays, seasonality, year-end lull."""
    d = np.arange(n_days)
    growth = np.exp(np.log(1.8) * d / 365.0)
    weekday = (start_weekday + d) % 7
    week = np.where(weekday < 5, 1.0, np.where(weekday == 5, 0.35, 0.3))
    doy = (start_doy + d) % 365
    season = 1.0 + 0.12 * np.sin(2 * np.pi * (doy - 80) / 365.0)
    lull = np.where((doy >= 353) | (doy <= 2), 0.6, 1.0)
    return growth * week * season * lull


def build_campaigns(rng: np.random.Generator, n_days: int, n_leads: int) -> Campaigns:
    per_platform = int(np.clip(4 + 2 * np.log2(max(n_leads, 2000) / 2000), 4, 24))
    rows: list[tuple[str, str, str, str, int, int, str, float]] = []
    for channel in CHANNELS:
        if channel.platform is None:
            continue
        prefix = PLATFORM_PREFIX[channel.platform]
        for k in range(per_platform):
            if k < 2:  # always-on campaigns
                start, end = 0, n_days
            else:
                start = int(rng.integers(0, max(1, n_days - 30)))
                end = int(min(n_days, start + rng.integers(30, 180)))
            theme = _THEMES[k % len(_THEMES)]
            region = _REGIONS[int(rng.integers(0, len(_REGIONS)))]
            name = f"{prefix}_{theme}_{region}_{k + 1:02d}"
            if channel.platform == "google_ads":
                pid = str(10_000_000_000 + int(rng.integers(0, 8_999_999_999)))
            elif channel.platform == "linkedin_ads":
                pid = str(100_000_000 + int(rng.integers(0, 899_999_999)))
            else:
                pid = str(23_850_000_000_000_000 + int(rng.integers(0, 10**14)))
            kind = "Paid Search" if channel.platform == "google_ads" else "Paid Social"
            rows.append((name, kind, channel.platform, pid, start, end, channel.lead_source, 0.0))
    # One webinar a month and one trade show a quarter; their leads arrive in the 30 days after.
    for day in range(0, n_days, 30):
        rows.append(
            (
                f"Webinar {day // 30 + 1:03d}: Revenue Operations Live",
                "Webinar",
                "",
                "",
                day,
                min(n_days, day + 30),
                "Webinar",
                float(rng.integers(2, 8) * 1000),
            )
        )
    for day in range(0, n_days, 91):
        rows.append(
            (
                f"Trade Show {day // 91 + 1:02d}: SaaS Connect",
                "Event",
                "",
                "",
                day,
                min(n_days, day + 91),
                "Trade Show",
                float(rng.integers(20, 60) * 1000),
            )
        )
    rows.append(("Nurture - Monthly Newsletter", "Email", "", "", 0, n_days, "", 0.0))
    rows.append(("Partner Program", "Partner", "", "", 0, n_days, "Partner", 0.0))
    cols = list(zip(*rows, strict=True))
    return Campaigns(
        name=np.array(cols[0]),
        kind=np.array(cols[1]),
        platform=np.array(cols[2]),
        platform_id=np.array(cols[3]),
        start_day=np.array(cols[4], dtype=np.int64),
        end_day=np.array(cols[5], dtype=np.int64),
        lead_source=np.array(cols[6]),
        budget_usd=np.array(cols[7], dtype=float),
    )


def simulate_spend(
    rng: np.random.Generator,
    campaigns: Campaigns,
    demand: np.ndarray,
    n_leads: int,
    fx_to_usd: dict[str, np.ndarray],
) -> AdSpend:
    """Daily spend per paid campaign, calibrated so each platform yields its share of leads."""
    parts: list[AdSpend] = []
    n_days = demand.size
    for channel in CHANNELS:
        if channel.platform is None:
            continue
        idx = np.flatnonzero(campaigns.platform == channel.platform)
        weight = rng.lognormal(0.0, 0.5, idx.size)
        active = (np.arange(n_days)[None, :] >= campaigns.start_day[idx, None]) & (
            np.arange(n_days)[None, :] < campaigns.end_day[idx, None]
        )
        intensity = weight[:, None] * demand[None, :] * active
        intensity *= rng.lognormal(0.0, 0.15, intensity.shape)
        cpl = channel.cpl_usd * rng.lognormal(0.0, 0.25, idx.size)
        target_leads = channel.share * n_leads
        # spend_usd / cpl summed over campaign-days equals the platform's target lead count
        scale = target_leads / (intensity / cpl[:, None]).sum()
        spend_usd = intensity * scale
        leads = rng.poisson(spend_usd / cpl[:, None])
        currency = PLATFORM_CURRENCY[channel.platform]
        rate = fx_to_usd[currency] if currency != "USD" else np.ones(n_days)
        spend_local = np.round(spend_usd / rate[None, :] * 100).astype(np.int64)
        cpm = 35.0 if channel.platform != "meta_ads" else 12.0
        impressions = np.round(spend_usd / cpm * 1000 * rng.lognormal(0, 0.1, spend_usd.shape))
        ctr = {"google_ads": 0.035, "linkedin_ads": 0.006, "meta_ads": 0.011}[channel.platform]
        clicks = rng.binomial(impressions.astype(np.int64), ctr)
        c_idx, d_idx = np.nonzero(active)
        parts.append(
            AdSpend(
                campaign=idx[c_idx],
                day=d_idx,
                spend_minor=spend_local[c_idx, d_idx],
                impressions=impressions[c_idx, d_idx].astype(np.int64),
                clicks=clicks[c_idx, d_idx].astype(np.int64),
                leads=leads[c_idx, d_idx].astype(np.int64),
            )
        )
    return AdSpend(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in AdSpend.__dataclass_fields__)
    )


def restated_deliveries(
    spend: AdSpend, rng: np.random.Generator, n_days: int
) -> dict[str, np.ndarray]:
    """Rows as delivered: each day's figures arrive on that day (preliminary, a little low) and
    again, final, on each of the next ADS_RESTATEMENT_DAYS days."""
    reps = ADS_RESTATEMENT_DAYS + 1
    n = spend.day.size
    row = np.repeat(np.arange(n), reps)
    lag = np.tile(np.arange(reps), n)
    delivery_day = spend.day[row] + lag
    keep = delivery_day < n_days
    row, lag, delivery_day = row[keep], lag[keep], delivery_day[keep]
    factor = np.where(lag == 0, rng.uniform(0.85, 0.99, row.size), 1.0)
    return {
        "campaign": spend.campaign[row],
        "day": spend.day[row],
        "delivery_day": delivery_day,
        "spend_minor": np.round(spend.spend_minor[row] * factor).astype(np.int64),
        "impressions": np.round(spend.impressions[row] * factor).astype(np.int64),
        "clicks": np.round(spend.clicks[row] * factor).astype(np.int64),
    }


def lead_arrivals(
    rng: np.random.Generator, campaigns: Campaigns, spend: AdSpend, demand: np.ndarray, n_leads: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(day, channel index, campaign index or -1) for every lead, ordered by day."""
    days: list[np.ndarray] = [np.repeat(spend.day, spend.leads)]
    chans: list[np.ndarray] = [
        np.repeat(
            np.array([CHANNEL_INDEX[s] for s in campaigns.lead_source[spend.campaign]], np.int64),
            spend.leads,
        )
    ]
    camps: list[np.ndarray] = [np.repeat(spend.campaign, spend.leads)]
    p = demand / demand.sum()
    for ci, channel in enumerate(CHANNELS):
        if channel.platform is not None:
            continue
        counts = rng.poisson(channel.share * n_leads * p)
        day = np.repeat(np.arange(demand.size), counts)
        camp = np.full(day.size, -1, dtype=np.int64)
        own = np.flatnonzero(campaigns.lead_source == channel.lead_source)
        if own.size:
            # the campaign running on that day (webinars and shows cover consecutive windows)
            starts = campaigns.start_day[own]
            pos = np.searchsorted(starts, day, side="right") - 1
            camp = own[np.clip(pos, 0, own.size - 1)]
        days.append(day)
        chans.append(np.full(day.size, ci, dtype=np.int64))
        camps.append(camp)
    day = np.concatenate(days)
    order = np.argsort(day, kind="stable")
    return day[order], np.concatenate(chans)[order], np.concatenate(camps)[order]


__all__ = [
    "CHANNELS",
    "DAY",
    "AdSpend",
    "Campaigns",
    "build_campaigns",
    "demand_curve",
    "lead_arrivals",
    "restated_deliveries",
    "simulate_spend",
]
