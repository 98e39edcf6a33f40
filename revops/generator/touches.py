"""Marketing touches: the activity a marketing-automation tool records per person.

Every inbound lead starts with a converting touch (its form fill, webinar registration or ad
click); leads keep engaging with content, email and ads, more so as they qualify; some touches
come from newsletter subscribers who never become leads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from revops.generator.common import DAY, NAT
from revops.generator.crm import Leads
from revops.generator.marketing import CHANNELS, Campaigns

TOUCH_TYPES = ("form_fill", "content_download", "webinar", "email_click", "web_visit", "ad_click")
# utm_source / utm_medium of a lead's first touch, by LeadSource
FIRST_TOUCH_UTM = {
    "Google Ads": ("google", "cpc"),
    "LinkedIn": ("linkedin", "paid_social"),
    "Facebook": ("facebook", "paid_social"),
    "Organic Search": ("google", "organic"),
    "Webinar": ("webinar", "event"),
    "Trade Show": ("tradeshow", "event"),
    "Referral": ("referral", "referral"),
    "Partner": ("partner", "referral"),
    "Outbound": ("", ""),
}


@dataclass
class Touches:
    lead: np.ndarray  # lead index, -1 for a non-lead (newsletter subscriber)
    email: np.ndarray
    type: np.ndarray
    ts: np.ndarray
    campaign: np.ndarray  # campaign index or -1
    utm_source: np.ndarray
    utm_medium: np.ndarray
    landing_page: np.ndarray


def build_touches(
    rng: np.random.Generator, leads: Leads, campaigns: Campaigns, start_ts: int, end_ts: int
) -> Touches:
    live = np.flatnonzero(leads.deleted_at == NAT)
    src = np.array([c.lead_source for c in CHANNELS])[leads.channel]
    # the converting touch (outbound leads are sourced by reps: no inbound touch)
    inbound = live[src[live] != "Outbound"]
    first_type = np.where(
        src[inbound] == "Webinar",
        "webinar",
        np.where(
            np.isin(src[inbound], ["Google Ads", "LinkedIn", "Facebook"]), "ad_click", "form_fill"
        ),
    )
    first_ts = leads.created[inbound] - rng.integers(5, 300, inbound.size)
    utm = np.array([FIRST_TOUCH_UTM[s] for s in src[inbound]]).reshape(-1, 2)
    parts = [
        dict(
            lead=inbound,
            type=first_type,
            ts=first_ts,
            campaign=leads.campaign[inbound],
            utm_source=utm[:, 0],
            utm_medium=utm[:, 1],
        )
    ]
    # paid clicks are followed by the form fill that creates the lead
    paid = inbound[first_type == "ad_click"]
    parts.append(
        dict(
            lead=paid,
            type=np.full(paid.size, "form_fill"),
            ts=leads.created[paid] - 2,
            campaign=leads.campaign[paid],
            utm_source=np.array([FIRST_TOUCH_UTM[s][0] for s in src[paid]]).reshape(-1),
            utm_medium=np.array([FIRST_TOUCH_UTM[s][1] for s in src[paid]]).reshape(-1),
        )
    )
    # engagement after creation, more for leads that qualify
    lam = 1.2 + 1.8 * (leads.mql_at[live] != NAT) + 1.2 * (leads.sql_at[live] != NAT)
    k = rng.poisson(lam)
    who = np.repeat(live, k)
    horizon_end = np.where(
        leads.sql_at[who] != NAT, leads.sql_at[who] + 20 * DAY, leads.created[who] + 60 * DAY
    )
    ts = leads.created[who] + (rng.random(who.size) * (horizon_end - leads.created[who])).astype(
        np.int64
    )
    kind = np.array(["content_download", "webinar", "email_click", "web_visit", "ad_click"])[
        rng.choice(5, who.size, p=[0.2, 0.05, 0.3, 0.35, 0.1])
    ]
    campaign = np.full(who.size, -1, dtype=np.int64)
    source = np.full(who.size, "", dtype=object)
    medium = np.full(who.size, "", dtype=object)
    day = (ts - start_ts) // DAY
    newsletter = np.flatnonzero(campaigns.name == "Nurture - Monthly Newsletter")[0]
    email_rows = kind == "email_click"
    campaign[email_rows] = newsletter
    source[email_rows], medium[email_rows] = "newsletter", "email"
    ad_rows = np.flatnonzero(kind == "ad_click")
    paid_camps = np.flatnonzero(campaigns.platform != "")
    pick = paid_camps[rng.integers(0, paid_camps.size, ad_rows.size)]
    running = (campaigns.start_day[pick] <= day[ad_rows]) & (day[ad_rows] < campaigns.end_day[pick])
    # retargeting click on a running campaign; otherwise it was an organic visit
    campaign[ad_rows[running]] = pick[running]
    platform_utm = {
        "google_ads": ("google", "cpc"),
        "linkedin_ads": ("linkedin", "paid_social"),
        "meta_ads": ("facebook", "paid_social"),
    }
    for plat, (s_, m_) in platform_utm.items():
        sel = ad_rows[running][campaigns.platform[pick[running]] == plat]
        source[sel], medium[sel] = s_, m_
    kind[ad_rows[~running]] = "web_visit"
    web_rows = np.flatnonzero(kind == "web_visit")
    organic = rng.random(web_rows.size) < 0.5
    source[web_rows[organic]], medium[web_rows[organic]] = "google", "organic"
    dl = np.flatnonzero(kind == "content_download")
    source[dl], medium[dl] = "google", "organic"
    wb = np.flatnonzero(kind == "webinar")
    webinars = np.flatnonzero(campaigns.kind == "Webinar")
    wpos = np.clip(
        np.searchsorted(campaigns.start_day[webinars], day[wb], side="right") - 1,
        0,
        webinars.size - 1,
    )
    campaign[wb] = webinars[wpos]
    source[wb], medium[wb] = "webinar", "event"
    parts.append(
        dict(
            lead=who,
            type=kind,
            ts=ts,
            campaign=campaign,
            utm_source=source.astype(str),
            utm_medium=medium.astype(str),
        )
    )
    # newsletter subscribers who never become leads
    n_noise = max(1, live.size // 12)
    noise_ts = start_ts + (rng.random(n_noise) * (end_ts - start_ts)).astype(np.int64)
    parts.append(
        dict(
            lead=np.full(n_noise, -1),
            type=np.full(n_noise, "email_click"),
            ts=noise_ts,
            campaign=np.full(n_noise, newsletter),
            utm_source=np.full(n_noise, "newsletter"),
            utm_medium=np.full(n_noise, "email"),
        )
    )
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    keep = (cols["ts"] < end_ts) & (cols["ts"] >= start_ts)
    cols = {k: v[keep] for k, v in cols.items()}
    order = np.lexsort((cols["lead"], cols["ts"]))
    cols = {k: v[order] for k, v in cols.items()}
    lead = cols["lead"]
    noise_id = np.arange(lead.size)
    email = leads.email[np.maximum(lead, 0)]
    noise = np.flatnonzero(lead < 0)
    email[noise] = [f"subscriber{i}@mailbox.example.org" for i in noise.tolist()]
    pages = np.array(
        [
            "/",
            "/pricing",
            "/demo",
            "/blog/revops-metrics",
            "/webinars",
            "/customers",
            "/guides/pipeline",
        ]
    )
    page = pages[(noise_id * 7 + lead) % pages.size]
    page = np.where(cols["type"] == "email_click", "", page)
    return Touches(
        lead=lead,
        email=email,
        type=cols["type"],
        ts=cols["ts"],
        campaign=cols["campaign"],
        utm_source=cols["utm_source"],
        utm_medium=cols["utm_medium"],
        landing_page=page,
    )
