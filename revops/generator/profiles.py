"""Org profiles: how one real company's exports differ from another's (`--org-profile`).

The simulation is the same for every profile; a profile changes how the company is labelled
and exported (picklist values, titles, header case, API shapes, FX deliveries) and, where a
real org would, a few facts (a single currency, queue-owned leads, deals without an amount).
`revops` is the project's own company, byte-identical to the generator before profiles.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

DEFAULT_PROFILE = "revops"

# Salesforce's standard opportunity stages (a new org's `StageName` picklist): sort order,
# default probability, forecast category, closed, won.
SF_STAGES: tuple[tuple[str, int, str, bool, bool], ...] = (
    ("Prospecting", 10, "Pipeline", False, False),
    ("Qualification", 10, "Pipeline", False, False),
    ("Needs Analysis", 20, "Pipeline", False, False),
    ("Value Proposition", 50, "Pipeline", False, False),
    ("Id. Decision Makers", 60, "Pipeline", False, False),
    ("Perception Analysis", 70, "Pipeline", False, False),
    ("Proposal/Price Quote", 75, "Best Case", False, False),
    ("Negotiation/Review", 90, "Commit", False, False),
    ("Closed Won", 100, "Closed", True, True),
    ("Closed Lost", 0, "Omitted", True, False),
)

# Salesforce's default lead statuses plus the org's own MQL/SQL statuses and one nurture
# status that no mapping knows (funnel stage none: it exercises the unmapped-value warning).
SF_LEAD_STATUSES: tuple[tuple[str, bool, bool], ...] = (  # (status, is_default, is_converted)
    ("Open - Not Contacted", True, False),
    ("Working - Contacted", False, False),
    ("Marketing Qualified Lead", False, False),
    ("Sales Accepted Lead", False, False),
    ("Closed - Converted", False, True),
    ("Closed - Not Converted", False, False),
    ("Recycled", False, False),
)

SF_TITLES = {
    "AE": ("Senior Account Executive", "Enterprise AE", "Account Manager", "Account Executive"),
    "SDR": ("BDR", "Sales Development Representative"),
    "Manager": ("Regional Sales Director",),
}


@dataclass(frozen=True)
class OrgProfile:
    name: str
    description: str
    # history a profile prefers when the user gives no --start-date / --days
    start_date: dt.date | None = None
    days: int | None = None
    # simulation label -> exported value (missing keys export as simulated)
    lead_status_labels: dict[str, str] = field(default_factory=dict)
    stage_labels: dict[str, str] = field(default_factory=dict)
    type_labels: dict[str, str] = field(default_factory=dict)
    stage_probability: dict[str, int] = field(default_factory=dict)
    forecast_category: dict[str, str] = field(default_factory=dict)
    varied_titles: bool = False
    single_currency: str | None = None  # every deal and customer in this currency
    currency_iso_code: bool = True  # Account/Opportunity carry CurrencyIsoCode
    upper_case_headers: tuple[str, ...] = ()  # folders whose CSV headers are upper case
    queue_lead_share: float = 0.0  # of never-converted leads, owned by a queue
    won_without_amount_share: float = 0.0  # of won opportunities, Amount empty on every version
    metadata_exports: bool = False  # OpportunityStage and LeadStatus exports
    stripe_api_cutover: bool = False  # Stripe objects in the 2025-03-31 shape from a date on
    fx_gaps: bool = False  # weekend gaps, long gaps in one currency, a currency without rates
    settings: dict[str, str | int] = field(default_factory=dict)  # truth.json `settings`

    def lead_status(self, status: str) -> str:
        return self.lead_status_labels.get(status, status)

    def stage(self, stage: str) -> str:
        return self.stage_labels.get(stage, stage)

    def opp_type(self, type_: str) -> str:
        return self.type_labels.get(type_, type_)


_SF_STAGE_MAP = {
    "Qualification": "Qualification",
    "Discovery": "Needs Analysis",
    "Proposal": "Proposal/Price Quote",
    "Negotiation": "Negotiation/Review",
}

PROFILES: dict[str, OrgProfile] = {
    p.name: p
    for p in (
        OrgProfile(
            name="revops",
            description="the project's own demo company (today's output)",
        ),
        OrgProfile(
            name="salesforce-defaults",
            description=(
                "Salesforce standard picklists, OpportunityStage/LeadStatus exports, no "
                "CurrencyIsoCode (single-currency USD org), queue-owned leads, upper-case "
                "headers on Lead and Opportunity, varied rep titles, won deals without Amount"
            ),
            lead_status_labels={
                "Marketing Qualified": "Marketing Qualified Lead",
                "Sales Qualified": "Sales Accepted Lead",
                "Nurture": "Recycled",
            },
            stage_labels=_SF_STAGE_MAP,
            type_labels={
                "New Business": "New Customer",
                "Expansion": "Existing Customer - Upgrade",
                "Renewal": "Existing Customer - Replacement",
            },
            stage_probability={s: p for s, p, *_ in SF_STAGES},
            forecast_category={s: fc for s, _, fc, *_ in SF_STAGES},
            varied_titles=True,
            single_currency="USD",
            currency_iso_code=False,
            upper_case_headers=("salesforce/Lead", "salesforce/Opportunity"),
            queue_lead_share=0.12,
            won_without_amount_share=0.03,
            metadata_exports=True,
            settings={"corporate_currency": "USD"},
        ),
        OrgProfile(
            name="long-history",
            description="seven years of history starting in 2019",
            start_date=dt.date(2019, 1, 1),
            days=2557,
        ),
        OrgProfile(
            name="stripe-2025",
            description=(
                "Stripe objects in the API 2024-06-20 shape until the account upgrades, in the "
                "2025-03-31 shape (pricing/parent, total_taxes, item periods, discounts) after"
            ),
            stripe_api_cutover=True,
        ),
        OrgProfile(
            name="multi-currency-gaps",
            description=(
                "no FX rates on weekends, spans of missing GBP rates longer than the staleness "
                "window, and a few opportunities in CHF, a currency with no rates at all"
            ),
            fx_gaps=True,
            settings={"fx_max_staleness_days": 7},
        ),
    )
}


def get(name: str) -> OrgProfile:
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise ValueError(f"unknown org profile {name!r} (known: {known})") from None
