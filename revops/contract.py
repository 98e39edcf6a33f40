"""The export contract: every source object the landing folder accepts, as data.

docs/EXPORTS.md is rendered from this module (`revops contract`), the generator writes exactly
these columns, and the loaders check deliveries against them, so the three cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

SOURCES = (
    "salesforce",
    "google_ads",
    "linkedin_ads",
    "meta_ads",
    "marketing_automation",
    "stripe",
    "hubspot",
    "reference",
)

# Sources of which a company delivers one: its CRM. The objects of a source of the group that
# was never delivered, while another of the group was, are not expected (never missing, never
# stale, like optional objects); with none of the group delivered, the first is expected.
ALTERNATIVE_SOURCES: tuple[tuple[str, ...], ...] = (("salesforce", "hubspot"),)


def unused_sources(delivered: Iterable[str]) -> frozenset[str]:
    """The sources not expected, given the sources with at least one delivery."""
    delivered = set(delivered)
    unused: set[str] = set()
    for group in ALTERNATIVE_SOURCES:
        used = [s for s in group if s in delivered] or [group[0]]
        unused.update(s for s in group if s not in used)
    return frozenset(unused)


# Column types as delivered (raw keeps the text; staging casts).
STRING = "string"
INTEGER = "integer"
DECIMAL = "decimal"
BOOLEAN = "boolean"
DATE = "date"  # YYYY-MM-DD
TIMESTAMP = "timestamp"  # ISO 8601 in UTC, e.g. 2025-03-01T14:02:11.000Z
UNIX_TIME = "unix_time"  # integer seconds since 1970-01-01 UTC
OBJECT = "object"  # nested JSON object
ARRAY = "array"  # JSON array


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class ExportObject:
    """One object (a folder under its source) and the rules its deliveries follow."""

    source: str
    name: str
    format: str  # "csv" or "jsonl"
    grain: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    updates: str
    deletes: str
    version_column: str | None = None
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    # Groups of columns of which a file must carry at least one (the same fact under the
    # names of different API versions, e.g. Stripe's `price` before 2025-03-31, `pricing` after).
    required_any: tuple[tuple[str, ...], ...] = ()
    # An object an org may never deliver (metadata exports): no file is not a problem.
    optional: bool = False
    # Named fields inside a nested column (HubSpot's `properties`), documented in their own
    # table: (column they live in, fields). Loaded as part of that column's JSON text.
    nested_fields: tuple[tuple[str, tuple[Column, ...]], ...] = ()

    @property
    def folder(self) -> str:
        return f"{self.source}/{self.name}"

    @property
    def raw_table(self) -> str:
        return f"{self.source}__{self.name.lower()}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def expected(self, delivered_sources: Iterable[str]) -> bool:
        """True for a required object of a source in use (see ALTERNATIVE_SOURCES):
        `delivered_sources` are the sources with at least one delivery."""
        return not self.optional and self.source not in unused_sources(delivered_sources)

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


def _c(name: str, type_: str = STRING, required: bool = False, description: str = "") -> Column:
    return Column(name, type_, required, description)


_SF_UPDATES = (
    "Incremental by `LastModifiedDate`: a delivery holds every record created or modified that "
    "day as a full row. The version with the latest `LastModifiedDate` wins; on a tie, the later "
    "delivery, then the later row in the file."
)
_SF_DELETES = "A row with `IsDeleted` = `true` (as the Bulk API `queryAll` exports it)."
_APPEND_ONLY = (
    "Append-only: rows are never updated; a row re-sent with the same key is a duplicate."
)
_NO_DELETES = "Never deleted."
_STRIPE_UPDATES = (
    "A delivery holds every object created or updated that day, as the full API object at the "
    "end of that day. The version in the latest delivery wins; within a delivery, the last line."
)
_STRIPE_DELETES = 'The object arrives again with `"deleted": true` (and its `id`).'
_ADS_UPDATES = (
    "Each daily delivery re-sends the previous {days} days as well: platforms restate cost and "
    "clicks after the fact. For a (date, campaign) the row in the latest delivery wins."
)

SF_BOOL = BOOLEAN

SALESFORCE = (
    ExportObject(
        source="salesforce",
        name="User",
        format="csv",
        grain="One row per user version.",
        key=("Id",),
        version_column="LastModifiedDate",
        updates=_SF_UPDATES,
        deletes="Users are deactivated (`IsActive` = `false`), never deleted.",
        columns=(
            _c("Id", STRING, True, "18-character Salesforce id (prefix 005)."),
            _c("Name", STRING, True, "Full name."),
            _c("Email", STRING, True, "Work email."),
            _c("ManagerId", STRING, False, "User id of the manager."),
            _c("Department", STRING, False, "Department, e.g. `Sales`, `Marketing`."),
            _c(
                "Title",
                STRING,
                False,
                "Job title, free text (e.g. `Account Executive`, `Enterprise AE`, `SDR`); the "
                "`rep_roles` mapping reads it.",
            ),
            _c("Segment__c", STRING, False, "Custom field: the segment the rep sells to."),
            _c("IsActive", SF_BOOL, True, "`true` while the user can log in."),
            _c("CreatedDate", TIMESTAMP, True),
            _c("LastModifiedDate", TIMESTAMP, True),
        ),
    ),
    ExportObject(
        source="salesforce",
        name="Account",
        format="csv",
        grain="One row per account version.",
        key=("Id",),
        version_column="LastModifiedDate",
        updates=_SF_UPDATES,
        deletes=_SF_DELETES,
        columns=(
            _c("Id", STRING, True, "18-character Salesforce id (prefix 001)."),
            _c("Name", STRING, True, "Company name."),
            _c("Website", STRING, False, "Company web domain; used to match billing customers."),
            _c("Industry", STRING),
            _c("NumberOfEmployees", INTEGER, False, "Head count; drives the segment band."),
            _c("AnnualRevenue", DECIMAL, False, "In the account's currency."),
            _c("BillingCountry", STRING, False, "ISO 3166 alpha-2 country code."),
            _c("OwnerId", STRING, True, "User id of the account owner."),
            _c("Type", STRING, False, "`Prospect`, `Customer` or `Former Customer`."),
            _c(
                "CurrencyIsoCode",
                STRING,
                False,
                "ISO 4217 currency of the account; the corporate currency if empty or absent "
                "(single-currency orgs have no such column).",
            ),
            _c("CreatedDate", TIMESTAMP, True),
            _c("LastModifiedDate", TIMESTAMP, True),
            _c("IsDeleted", SF_BOOL, True),
        ),
    ),
    ExportObject(
        source="salesforce",
        name="Contact",
        format="csv",
        grain="One row per contact version.",
        key=("Id",),
        version_column="LastModifiedDate",
        updates=_SF_UPDATES,
        deletes=_SF_DELETES,
        columns=(
            _c("Id", STRING, True, "18-character Salesforce id (prefix 003)."),
            _c("AccountId", STRING, False, "Account the contact belongs to."),
            _c("FirstName", STRING),
            _c("LastName", STRING, True),
            _c("Email", STRING, False, "As typed: may carry stray case and white space."),
            _c("Title", STRING),
            _c("LeadSource", STRING),
            _c("OwnerId", STRING, True),
            _c("CreatedDate", TIMESTAMP, True),
            _c("LastModifiedDate", TIMESTAMP, True),
            _c("IsDeleted", SF_BOOL, True),
        ),
    ),
    ExportObject(
        source="salesforce",
        name="Lead",
        format="csv",
        grain="One row per lead version.",
        key=("Id",),
        version_column="LastModifiedDate",
        updates=_SF_UPDATES,
        deletes=_SF_DELETES,
        columns=(
            _c("Id", STRING, True, "18-character Salesforce id (prefix 00Q)."),
            _c("FirstName", STRING),
            _c("LastName", STRING, True),
            _c("Email", STRING, False, "As typed: may carry stray case and white space."),
            _c("Company", STRING, True),
            _c("Title", STRING),
            _c("LeadSource", STRING, False, "Picklist, e.g. `Google Ads`, `Webinar`, `Referral`."),
            _c(
                "Status",
                STRING,
                True,
                "Lead status picklist (Salesforce's defaults or the org's own); the "
                "`lead_status_stages` mapping reads it.",
            ),
            _c(
                "OwnerId",
                STRING,
                True,
                "User (prefix 005) or queue (prefix 00G, e.g. web-to-lead) that owns the lead.",
            ),
            _c("Country", STRING, False, "ISO 3166 alpha-2 country code."),
            _c("NumberOfEmployees", INTEGER, False, "Head count; drives the segment band."),
            _c("Industry", STRING),
            _c("CreatedDate", TIMESTAMP, True),
            _c("LastModifiedDate", TIMESTAMP, True),
            _c("IsConverted", SF_BOOL, True),
            _c("ConvertedDate", DATE),
            _c("ConvertedAccountId", STRING),
            _c("ConvertedContactId", STRING),
            _c("ConvertedOpportunityId", STRING),
            _c("IsDeleted", SF_BOOL, True),
        ),
    ),
    ExportObject(
        source="salesforce",
        name="LeadHistory",
        format="csv",
        grain="One row per tracked field change on a lead.",
        key=("Id",),
        updates=_APPEND_ONLY,
        deletes=_NO_DELETES,
        description=(
            "`Field` = `created` marks the creation (no values); `Status` rows give the funnel "
            "stage dates; `leadConverted` marks the conversion. The status a lead was created "
            "with is the `OldValue` of its first `Status` row, or `Lead.Status` if it never "
            "changed."
        ),
        columns=(
            _c("Id", STRING, True, "18-character Salesforce id (prefix 017)."),
            _c("LeadId", STRING, True),
            _c("Field", STRING, True, "`created`, `Status`, `Owner` or `leadConverted`."),
            _c("OldValue", STRING),
            _c("NewValue", STRING),
            _c("CreatedDate", TIMESTAMP, True, "When the change happened."),
        ),
    ),
    ExportObject(
        source="salesforce",
        name="Opportunity",
        format="csv",
        grain="One row per opportunity version.",
        key=("Id",),
        version_column="LastModifiedDate",
        updates=_SF_UPDATES,
        deletes=_SF_DELETES,
        description=(
            "`IsClosed`, `IsWon`, `Probability` and `ForecastCategoryName` are used as delivered "
            "(the org's own stage settings), ahead of the `opportunity_stages` mapping."
        ),
        columns=(
            _c("Id", STRING, True, "18-character Salesforce id (prefix 006)."),
            _c("AccountId", STRING),
            _c("OwnerId", STRING, True, "User who owns the opportunity (never a queue)."),
            _c("Name", STRING, True),
            _c(
                "Type",
                STRING,
                False,
                "Picklist, e.g. `New Business`, `Expansion`, `Renewal`, or Salesforce's "
                "defaults `New Customer`, `Existing Customer - Upgrade` (`- Replacement`, "
                "`- Downgrade`); the `opportunity_types` mapping reads it.",
            ),
            _c(
                "StageName", STRING, True, "Stage picklist value (an `OpportunityStage` `ApiName`)."
            ),
            _c(
                "Amount",
                DECIMAL,
                False,
                "Annual contract value in `CurrencyIsoCode`. May be empty: the deal still counts "
                "in win rates and cycle times, not in amounts.",
            ),
            _c(
                "CurrencyIsoCode",
                STRING,
                False,
                "ISO 4217; the org's corporate currency if empty or absent.",
            ),
            _c("Probability", DECIMAL, False, "Percent, 0-100."),
            _c("ForecastCategoryName", STRING),
            _c("CloseDate", DATE, True, "Expected close date while open; actual once closed."),
            _c("IsClosed", SF_BOOL, True),
            _c("IsWon", SF_BOOL, True),
            _c("LeadSource", STRING),
            _c("CampaignId", STRING, False, "Primary campaign source."),
            _c("CreatedDate", TIMESTAMP, True),
            _c("LastModifiedDate", TIMESTAMP, True),
            _c("IsDeleted", SF_BOOL, True),
        ),
    ),
    ExportObject(
        source="salesforce",
        name="OpportunityHistory",
        format="csv",
        grain="One row per change of stage, amount or close date on an opportunity.",
        key=("Id",),
        updates=_APPEND_ONLY,
        deletes=_NO_DELETES,
        columns=(
            _c("Id", STRING, True, "18-character Salesforce id (prefix 008)."),
            _c("OpportunityId", STRING, True),
            _c("StageName", STRING, True),
            _c("Amount", DECIMAL),
            _c("Probability", DECIMAL),
            _c("CloseDate", DATE),
            _c("CreatedDate", TIMESTAMP, True, "When the opportunity entered this state."),
        ),
    ),
    ExportObject(
        source="salesforce",
        name="Campaign",
        format="csv",
        grain="One row per campaign version.",
        key=("Id",),
        version_column="LastModifiedDate",
        updates=_SF_UPDATES,
        deletes=_SF_DELETES,
        description=(
            "Paid campaigns carry the ad platform's campaign name in `Name`, which is how ad "
            "spend joins to the CRM."
        ),
        columns=(
            _c("Id", STRING, True, "18-character Salesforce id (prefix 701)."),
            _c("Name", STRING, True),
            _c("Type", STRING, False, "e.g. `Paid Search`, `Paid Social`, `Webinar`, `Email`."),
            _c("Status", STRING, False, "`Planned`, `In Progress`, `Completed`."),
            _c("StartDate", DATE),
            _c("EndDate", DATE),
            _c("BudgetedCost", DECIMAL, False, "In the corporate currency (default USD)."),
            _c("ActualCost", DECIMAL, False, "In the corporate currency (default USD)."),
            _c("CreatedDate", TIMESTAMP, True),
            _c("LastModifiedDate", TIMESTAMP, True),
            _c("IsDeleted", SF_BOOL, True),
        ),
    ),
    ExportObject(
        source="salesforce",
        name="CampaignMember",
        format="csv",
        grain="One row per campaign member version.",
        key=("Id",),
        version_column="LastModifiedDate",
        updates=_SF_UPDATES,
        deletes=_SF_DELETES,
        columns=(
            _c("Id", STRING, True, "18-character Salesforce id (prefix 00v)."),
            _c("CampaignId", STRING, True),
            _c("LeadId", STRING),
            _c("ContactId", STRING),
            _c("Status", STRING, False, "`Sent`, `Responded`, `Attended`, ..."),
            _c("HasResponded", SF_BOOL, True),
            _c("FirstRespondedDate", DATE),
            _c("CreatedDate", TIMESTAMP, True),
            _c("LastModifiedDate", TIMESTAMP, True),
            _c("IsDeleted", SF_BOOL, True),
        ),
    ),
)

SALESFORCE_METADATA = (
    ExportObject(
        source="salesforce",
        name="OpportunityStage",
        format="csv",
        grain="One row per opportunity stage (a value of the `StageName` picklist) version.",
        key=("Id",),
        updates=(
            "Optional metadata export (`SELECT ... FROM OpportunityStage`): a delivery holds "
            "the whole picklist or the stages changed that day. The row in the latest delivery "
            "wins (then the later `LastModifiedDate`)."
        ),
        deletes="A retired stage stays with `IsActive` = `false`; rows are never deleted.",
        optional=True,
        description=(
            "When delivered, it is the truth about stages: order (`SortOrder`), default "
            "probability, closed and won flags and forecast category, ahead of the "
            "`opportunity_stages` mapping seed. `Opportunity.StageName` holds the stage's "
            "`ApiName` (equal to `MasterLabel` unless renamed)."
        ),
        columns=(
            _c("Id", STRING, True, "18-character Salesforce id (prefix 01J)."),
            _c("MasterLabel", STRING, True, "The stage's label."),
            _c("ApiName", STRING, False, "The value stored in `Opportunity.StageName`."),
            _c("IsActive", SF_BOOL),
            _c("SortOrder", INTEGER, False, "Position in the sales process."),
            _c("IsClosed", SF_BOOL, True),
            _c("IsWon", SF_BOOL, True),
            _c("DefaultProbability", DECIMAL, False, "Percent, 0-100."),
            _c("ForecastCategoryName", STRING, False, "`Pipeline`, `Best Case`, `Commit`, ..."),
            _c("CreatedDate", TIMESTAMP),
            _c("LastModifiedDate", TIMESTAMP),
        ),
    ),
    ExportObject(
        source="salesforce",
        name="LeadStatus",
        format="csv",
        grain="One row per lead status (a value of the `Lead.Status` picklist) version.",
        key=("Id",),
        updates=(
            "Optional metadata export (`SELECT ... FROM LeadStatus`): a delivery holds the "
            "whole picklist or the values changed that day. The row in the latest delivery wins "
            "(then the later `LastModifiedDate`)."
        ),
        deletes="Never deleted.",
        optional=True,
        description=(
            "When delivered, `IsConverted` marks the converted statuses and `SortOrder` their "
            "order; which statuses are MQL or SQL comes from the `lead_status_stages` mapping."
        ),
        columns=(
            _c("Id", STRING, True, "18-character Salesforce id (prefix 01J)."),
            _c("MasterLabel", STRING, True, "The status's label."),
            _c("ApiName", STRING, False, "The value stored in `Lead.Status`."),
            _c("SortOrder", INTEGER),
            _c("IsDefault", SF_BOOL, False, "The status a new lead gets."),
            _c("IsConverted", SF_BOOL, True, "A status a lead is converted with."),
            _c("CreatedDate", TIMESTAMP),
            _c("LastModifiedDate", TIMESTAMP),
        ),
    ),
)

ADS_RESTATEMENT_DAYS = 2

MARKETING = (
    ExportObject(
        source="google_ads",
        name="campaign_stats",
        format="csv",
        grain="One row per campaign per day (per delivery).",
        key=("segments.date", "campaign.id"),
        updates=_ADS_UPDATES.format(days=ADS_RESTATEMENT_DAYS),
        deletes=_NO_DELETES,
        description="Google Ads API report `campaign` with GAQL field names as the header.",
        columns=(
            _c("segments.date", DATE, True),
            _c("campaign.id", INTEGER, True),
            _c("campaign.name", STRING, True),
            _c("metrics.cost_micros", INTEGER, True, "Cost in millionths of the account currency."),
            _c("metrics.impressions", INTEGER, True),
            _c("metrics.clicks", INTEGER, True),
            _c("customer.currency_code", STRING, True, "ISO 4217 account currency."),
        ),
    ),
    ExportObject(
        source="linkedin_ads",
        name="ad_analytics",
        format="csv",
        grain="One row per campaign per day (per delivery).",
        key=("date", "campaign_urn"),
        updates=_ADS_UPDATES.format(days=ADS_RESTATEMENT_DAYS),
        deletes=_NO_DELETES,
        description="LinkedIn Marketing API `adAnalytics` pivoted by campaign, daily granularity.",
        columns=(
            _c("date", DATE, True),
            _c("campaign_urn", STRING, True, "`urn:li:sponsoredCampaign:<id>`."),
            _c("campaign_name", STRING, True),
            _c("costInLocalCurrency", DECIMAL, True, "Cost in the account currency (units)."),
            _c("costInUsd", DECIMAL, False),
            _c("impressions", INTEGER, True),
            _c("clicks", INTEGER, True),
            _c("currency", STRING, True, "ISO 4217 account currency."),
        ),
    ),
    ExportObject(
        source="meta_ads",
        name="ads_insights",
        format="csv",
        grain="One row per campaign per day (per delivery).",
        key=("date_start", "campaign_id"),
        updates=_ADS_UPDATES.format(days=ADS_RESTATEMENT_DAYS),
        deletes=_NO_DELETES,
        description="Meta Marketing API Insights at `level=campaign`, `time_increment=1`.",
        columns=(
            _c("date_start", DATE, True),
            _c("date_stop", DATE, True),
            _c("campaign_id", STRING, True),
            _c("campaign_name", STRING, True),
            _c("spend", DECIMAL, True, "Spend in the account currency (units)."),
            _c("impressions", INTEGER, True),
            _c("clicks", INTEGER, True),
            _c("account_currency", STRING, True, "ISO 4217 account currency."),
        ),
    ),
    ExportObject(
        source="marketing_automation",
        name="activities",
        format="csv",
        grain="One row per marketing touch.",
        key=("activity_id",),
        updates=_APPEND_ONLY,
        deletes=_NO_DELETES,
        description="Activity export of a marketing-automation tool (Marketo, HubSpot, Pardot).",
        columns=(
            _c("activity_id", STRING, True),
            _c("email", STRING, True, "As captured: may carry stray case and white space."),
            _c(
                "activity_type",
                STRING,
                True,
                "`form_fill`, `content_download`, `webinar`, `email_click`, `web_visit`, "
                "`ad_click`.",
            ),
            _c("activity_timestamp", TIMESTAMP, True),
            _c("campaign_id", STRING, False, "Salesforce Campaign id."),
            _c("utm_source", STRING),
            _c("utm_medium", STRING),
            _c("utm_campaign", STRING),
            _c("landing_page", STRING),
        ),
    ),
)

STRIPE = (
    ExportObject(
        source="stripe",
        name="customers",
        format="jsonl",
        grain="One line per customer version.",
        key=("id",),
        updates=_STRIPE_UPDATES,
        deletes=_STRIPE_DELETES,
        columns=(
            _c("id", STRING, True, "`cus_...`"),
            _c("object", STRING, True, "`customer`"),
            _c("created", UNIX_TIME, True),
            _c("email", STRING),
            _c("name", STRING),
            _c("currency", STRING, False, "Lower-case ISO 4217."),
            _c("address", OBJECT, False, "`{country}`."),
            _c("metadata", OBJECT, False, "`{crm_account_id}`: the Salesforce Account id."),
            _c("livemode", BOOLEAN),
            _c("deleted", BOOLEAN),
        ),
    ),
    ExportObject(
        source="stripe",
        name="products",
        format="jsonl",
        grain="One line per product version.",
        key=("id",),
        updates=_STRIPE_UPDATES,
        deletes=_STRIPE_DELETES,
        columns=(
            _c("id", STRING, True, "`prod_...`"),
            _c("object", STRING, True, "`product`"),
            _c("name", STRING, True),
            _c("active", BOOLEAN, True),
            _c("created", UNIX_TIME, True),
            _c("updated", UNIX_TIME),
            _c("metadata", OBJECT),
            _c("deleted", BOOLEAN),
        ),
    ),
    ExportObject(
        source="stripe",
        name="prices",
        format="jsonl",
        grain="One line per price version.",
        key=("id",),
        updates=_STRIPE_UPDATES,
        deletes=_STRIPE_DELETES,
        description=(
            "Amounts are in the currency's minor unit (cents; for zero-decimal currencies such "
            "as JPY, the unit itself)."
        ),
        columns=(
            _c("id", STRING, True, "`price_...`"),
            _c("object", STRING, True, "`price`"),
            _c("product", STRING, True),
            _c("currency", STRING, True, "Lower-case ISO 4217."),
            _c("unit_amount", INTEGER, True, "Minor units."),
            _c("type", STRING, True, "`recurring` or `one_time`."),
            _c("recurring", OBJECT, False, "`{interval: day|week|month|year, interval_count}`."),
            _c("nickname", STRING),
            _c("active", BOOLEAN, True),
            _c("created", UNIX_TIME, True),
            _c("deleted", BOOLEAN),
        ),
    ),
    ExportObject(
        source="stripe",
        name="subscriptions",
        format="jsonl",
        grain="One line per subscription version.",
        key=("id",),
        updates=_STRIPE_UPDATES,
        deletes=_STRIPE_DELETES,
        columns=(
            _c("id", STRING, True, "`sub_...`"),
            _c("object", STRING, True, "`subscription`"),
            _c("customer", STRING, True),
            _c(
                "status",
                STRING,
                True,
                "`trialing`, `active`, `past_due`, `canceled`, `unpaid`, `incomplete`.",
            ),
            _c("currency", STRING, True),
            _c("created", UNIX_TIME, True),
            _c("start_date", UNIX_TIME, True),
            _c("current_period_start", UNIX_TIME),
            _c("current_period_end", UNIX_TIME),
            _c("billing_cycle_anchor", UNIX_TIME),
            _c("cancel_at_period_end", BOOLEAN),
            _c("canceled_at", UNIX_TIME),
            _c("ended_at", UNIX_TIME, False, "Service ends here; no MRR after it."),
            _c("trial_start", UNIX_TIME),
            _c("trial_end", UNIX_TIME),
            _c("discount", OBJECT, False, "`{id, coupon, start, end}` while a coupon applies."),
            _c(
                "discounts",
                ARRAY,
                False,
                "Discount ids or objects (API 2025-03-31 and later, in place of `discount`).",
            ),
            _c("metadata", OBJECT),
            _c("deleted", BOOLEAN),
        ),
    ),
    ExportObject(
        source="stripe",
        name="subscription_items",
        format="jsonl",
        grain="One line per subscription item version.",
        key=("id",),
        updates=_STRIPE_UPDATES,
        deletes=_STRIPE_DELETES,
        columns=(
            _c("id", STRING, True, "`si_...`"),
            _c("object", STRING, True, "`subscription_item`"),
            _c("subscription", STRING, True),
            _c("price", OBJECT, True, "The full price object."),
            _c("quantity", INTEGER, True),
            _c(
                "current_period_start",
                UNIX_TIME,
                False,
                "API 2025-03-31 and later (the subscription's before).",
            ),
            _c("current_period_end", UNIX_TIME),
            _c("created", UNIX_TIME, True),
            _c("deleted", BOOLEAN),
        ),
    ),
    ExportObject(
        source="stripe",
        name="invoices",
        format="jsonl",
        grain="One line per invoice version.",
        key=("id",),
        updates=_STRIPE_UPDATES,
        deletes="Invoices are voided (`status` = `void`), never deleted.",
        columns=(
            _c("id", STRING, True, "`in_...`"),
            _c("object", STRING, True, "`invoice`"),
            _c("customer", STRING, True),
            _c("subscription", STRING),
            _c("number", STRING),
            _c("status", STRING, True, "`draft`, `open`, `paid`, `uncollectible`, `void`."),
            _c(
                "billing_reason",
                STRING,
                False,
                "`subscription_create`, `subscription_cycle`, `subscription_update`, `manual`.",
            ),
            _c("currency", STRING, True),
            _c("created", UNIX_TIME, True),
            _c("period_start", UNIX_TIME),
            _c("period_end", UNIX_TIME),
            _c("subtotal", INTEGER, True, "Minor units, before discounts and tax."),
            _c("total_discount_amounts", ARRAY, False, "`[{amount, discount}]`."),
            _c("tax", INTEGER, False, "Minor units."),
            _c("total", INTEGER, True, "Minor units: subtotal - discounts + tax."),
            _c("amount_due", INTEGER, True),
            _c("amount_paid", INTEGER, True),
            _c("amount_remaining", INTEGER, True),
            _c("status_transitions", OBJECT, False, "`{finalized_at, paid_at, voided_at}`."),
            _c(
                "parent",
                OBJECT,
                False,
                "API 2025-03-31 and later: `{type, subscription_details: {subscription}}` in "
                "place of the top-level `subscription`.",
            ),
            _c(
                "total_taxes",
                ARRAY,
                False,
                "API 2025-03-31 and later: `[{amount, ...}]` in place of `tax`.",
            ),
        ),
    ),
    ExportObject(
        source="stripe",
        name="invoice_line_items",
        format="jsonl",
        grain="One line per invoice line item.",
        key=("id",),
        updates=_STRIPE_UPDATES,
        deletes=_NO_DELETES,
        description=(
            "The service periods of subscription lines are the MRR history: a line covers "
            "`[period.start, period.end)`; a proration line (`proration` = `true`) starts at the "
            "change and supersedes the regular line for the rest of that period. Lines with "
            "`type` = `invoiceitem` are one-time charges. From API version 2025-03-31 a line "
            "carries `pricing` and `parent` in place of `price`, `type`, `proration`, "
            "`subscription` and `subscription_item` (docs/EXPORTS.md, Stripe API versions)."
        ),
        required_any=(("price", "pricing"),),
        columns=(
            _c("id", STRING, True, "`il_...`"),
            _c("object", STRING, True, "`line_item`"),
            _c("invoice", STRING, True),
            _c("subscription", STRING),
            _c("subscription_item", STRING),
            _c("type", STRING, False, "`subscription` or `invoiceitem` (before 2025-03-31)."),
            _c(
                "price",
                OBJECT,
                False,
                "The full price object at the time of the line (before 2025-03-31).",
            ),
            _c(
                "pricing",
                OBJECT,
                False,
                "API 2025-03-31 and later: `{type, price_details: {price, product}, "
                "unit_amount_decimal}`; `price` is the price id.",
            ),
            _c(
                "parent",
                OBJECT,
                False,
                "API 2025-03-31 and later: `{type, subscription_item_details: {subscription, "
                "subscription_item, proration}, invoice_item_details: {...}}`.",
            ),
            _c("quantity", INTEGER, True),
            _c("amount", INTEGER, True, "Minor units, before discounts, excluding tax."),
            _c("currency", STRING, True),
            _c("discount_amounts", ARRAY, False, "`[{amount, discount}]`."),
            _c(
                "discounts",
                ARRAY,
                False,
                "Expanded discount objects "
                "`[{id, coupon: {id, percent_off, duration}, start, end}]`.",
            ),
            _c("proration", BOOLEAN, False, "Before 2025-03-31."),
            _c("period", OBJECT, True, "`{start, end}` as Unix times."),
            _c("description", STRING),
        ),
    ),
    ExportObject(
        source="stripe",
        name="charges",
        format="jsonl",
        grain="One line per charge version.",
        key=("id",),
        updates=_STRIPE_UPDATES,
        deletes=_NO_DELETES,
        columns=(
            _c("id", STRING, True, "`ch_...`"),
            _c("object", STRING, True, "`charge`"),
            _c("customer", STRING, True),
            _c("invoice", STRING),
            _c("amount", INTEGER, True, "Minor units."),
            _c("amount_captured", INTEGER),
            _c("amount_refunded", INTEGER),
            _c("currency", STRING, True),
            _c("status", STRING, True, "`succeeded`, `failed`, `pending`."),
            _c("paid", BOOLEAN, True),
            _c("refunded", BOOLEAN),
            _c("failure_code", STRING),
            _c("failure_message", STRING),
            _c("created", UNIX_TIME, True),
        ),
    ),
    ExportObject(
        source="stripe",
        name="refunds",
        format="jsonl",
        grain="One line per refund version.",
        key=("id",),
        updates=_STRIPE_UPDATES,
        deletes=_NO_DELETES,
        columns=(
            _c("id", STRING, True, "`re_...`"),
            _c("object", STRING, True, "`refund`"),
            _c("charge", STRING, True),
            _c("amount", INTEGER, True, "Minor units."),
            _c("currency", STRING, True),
            _c("status", STRING, True, "`succeeded`, `pending`, `failed`."),
            _c("reason", STRING, False, "`requested_by_customer`, `duplicate`, `fraudulent`."),
            _c("created", UNIX_TIME, True),
        ),
    ),
    ExportObject(
        source="stripe",
        name="coupons",
        format="jsonl",
        grain="One line per coupon version.",
        key=("id",),
        updates=_STRIPE_UPDATES,
        deletes=_STRIPE_DELETES,
        columns=(
            _c("id", STRING, True),
            _c("object", STRING, True, "`coupon`"),
            _c("name", STRING),
            _c("percent_off", DECIMAL, False, "Percent, when the coupon is a percentage."),
            _c("amount_off", INTEGER, False, "Minor units of `currency`, when a fixed amount."),
            _c("currency", STRING),
            _c("duration", STRING, True, "`once`, `repeating` or `forever`."),
            _c("duration_in_months", INTEGER),
            _c("valid", BOOLEAN),
            _c("created", UNIX_TIME, True),
            _c("deleted", BOOLEAN),
        ),
    ),
)

_HS_UPDATES = (
    "Incremental by `hs_lastmodifieddate` (`lastmodifieddate` on contacts): a delivery holds "
    "every record created or modified that day, as the full v3 object (all exported "
    "properties, not only the changed ones). The version with the latest `updatedAt` wins; on "
    "a tie, the later delivery, then the later line."
)
_HS_DELETES = (
    "An archived (deleted) record arrives once more with `archived` = `true` and `archivedAt` "
    "set, its last properties included, and is never sent again. A merge arrives as the "
    "surviving record, whose `hs_merged_object_ids` lists the ids it absorbed; an absorbed "
    "record is not sent again (nor archived)."
)
_HS_SNAPSHOT = (
    "Full snapshot: every delivery holds the whole list (a small object). The latest delivery "
    "is the current list; a record missing from it no longer exists."
)
_HS_SNAPSHOT_DELETES = (
    "Removed from the next snapshot, or sent with `archived` = `true` when the export asks "
    "for archived records too."
)
_HS_ID = "HubSpot record id: a numeric string (a JSON number is accepted and kept as its text)."
_HS_PROPERTIES = (
    "JSON object of property internal name -> value. Every value is a string (numbers, dates "
    "and booleans included); an empty string or an absent property is null. See the "
    "properties table."
)
_HS_HISTORY = (
    "JSON object of property -> array of `{value, timestamp, sourceType, sourceId, "
    "updatedByUserId}`, newest first, the full history on every delivered version (as the v3 "
    "API's `propertiesWithHistory` gives it)."
)


def _hs_top(history: str | None = None, associations: str | None = None) -> tuple[Column, ...]:
    """The top-level fields of a HubSpot v3 CRM object."""
    columns = [_c("id", STRING, True, _HS_ID), _c("properties", OBJECT, True, _HS_PROPERTIES)]
    if history:
        columns.append(_c("propertiesWithHistory", OBJECT, False, f"{_HS_HISTORY} {history}"))
    if associations:
        columns.append(_c("associations", OBJECT, False, associations))
    columns += [
        _c("createdAt", TIMESTAMP, True, "When the record was created."),
        _c("updatedAt", TIMESTAMP, True, "Last modification; the version column."),
        _c("archived", BOOLEAN, True, "`true` once the record is deleted."),
        _c("archivedAt", TIMESTAMP, False, "When it was deleted (archived records only)."),
    ]
    return tuple(columns)


def _p(name: str, type_: str = STRING, description: str = "") -> Column:
    """A HubSpot property (always delivered as a string; `type_` is what the text holds)."""
    return Column(name, type_, False, description)


_HS_MERGED = _p(
    "hs_merged_object_ids",
    STRING,
    "`;`-separated ids of the records merged into this one (the survivor).",
)
_LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
_LIFECYCLE = (
    "Lifecycle stage internal value: `subscriber`, `lead`, `marketingqualifiedlead`, "
    "`salesqualifiedlead`, `opportunity`, `customer`, `evangelist`, `other` (or a custom "
    "stage's id). The `lead_status_stages` mapping (`source_system` = `hubspot`) places it in "
    "the funnel. It may be set backwards, and may skip stages."
)

HUBSPOT = (
    ExportObject(
        source="hubspot",
        name="contacts",
        format="jsonl",
        grain="One line per contact version.",
        key=("id",),
        version_column="updatedAt",
        updates=_HS_UPDATES,
        deletes=_HS_DELETES,
        description=(
            "The CRM v3 contacts object. A contact plays the part of a Salesforce lead (and, "
            "with an associated company, of a contact)."
        ),
        columns=_hs_top(
            history="Exported for `lifecyclestage` and `hs_lead_status`.",
            associations=(
                '`{"companies": {"results": [{"id", "type": "contact_to_company"}]}, '
                '"deals": {"results": [{"id", "type": "contact_to_deal"}]}}`.'
            ),
        ),
        nested_fields=(
            (
                "properties",
                (
                    _p("email"),
                    _p("firstname"),
                    _p("lastname"),
                    _p("company", STRING, "Company name as typed on the contact."),
                    _p("jobtitle"),
                    _p("country"),
                    _p("industry"),
                    _p(
                        "numemployees",
                        INTEGER,
                        "Head count as digits. A range option (e.g. `25-50`) is not a count: "
                        "staging makes it null, and the null is counted.",
                    ),
                    _p("lifecyclestage", STRING, _LIFECYCLE),
                    _p(
                        "hs_lead_status",
                        STRING,
                        "Lead status (`NEW`, `OPEN`, `IN_PROGRESS`, ..., or custom values such "
                        "as `working`, `unqualified`, `nurture`).",
                    ),
                    _p("hubspot_owner_id", STRING, "Owner id (`hubspot/owners`)."),
                    _p(
                        "hs_analytics_source",
                        STRING,
                        "Original source: `ORGANIC_SEARCH`, `PAID_SEARCH`, `PAID_SOCIAL`, "
                        "`SOCIAL_MEDIA`, `EMAIL_MARKETING`, `REFERRALS`, `OTHER_CAMPAIGNS`, "
                        "`DIRECT_TRAFFIC`, `OFFLINE`, ...; mapped by `hubspot_lead_sources`.",
                    ),
                    _p(
                        "hs_analytics_source_data_1",
                        STRING,
                        "Original source drill-down 1 (e.g. `google`, `LinkedIn`, `IMPORT`).",
                    ),
                    _p("hs_analytics_source_data_2", STRING, "Original source drill-down 2."),
                    _p("utm_source", STRING, "Custom property, where the portal has one."),
                    _p("utm_medium", STRING, "Custom property, where the portal has one."),
                    _p("utm_campaign", STRING, "Custom property, where the portal has one."),
                    _p("associatedcompanyid", STRING, "Primary associated company id."),
                    _HS_MERGED,
                    _p("createdate", TIMESTAMP, "Create date (may be set by an import)."),
                    _p("lastmodifieddate", TIMESTAMP),
                    *(
                        _p(
                            f"hs_lifecyclestage_{stage}_date",
                            TIMESTAMP,
                            f"When the contact became `{stage}`.",
                        )
                        for stage in _LIFECYCLE_STAGES
                    ),
                ),
            ),
        ),
    ),
    ExportObject(
        source="hubspot",
        name="companies",
        format="jsonl",
        grain="One line per company version.",
        key=("id",),
        version_column="updatedAt",
        updates=_HS_UPDATES,
        deletes=_HS_DELETES,
        description="The CRM v3 companies object; a company plays the part of an account.",
        columns=_hs_top(),
        nested_fields=(
            (
                "properties",
                (
                    _p("name"),
                    _p("domain", STRING, "Primary web domain, e.g. `example.com`."),
                    _p("industry"),
                    _p("numberofemployees", INTEGER),
                    _p("annualrevenue", DECIMAL),
                    _p("country"),
                    _p("hubspot_owner_id", STRING, "Owner id (`hubspot/owners`)."),
                    _p("lifecyclestage", STRING, _LIFECYCLE),
                    _HS_MERGED,
                    _p("createdate", TIMESTAMP),
                    _p("hs_lastmodifieddate", TIMESTAMP),
                ),
            ),
        ),
    ),
    ExportObject(
        source="hubspot",
        name="deals",
        format="jsonl",
        grain="One line per deal version.",
        key=("id",),
        version_column="updatedAt",
        updates=_HS_UPDATES,
        deletes=_HS_DELETES,
        description=(
            "The CRM v3 deals object; a deal plays the part of an opportunity. Its stage is a "
            "stage id of its pipeline (`hubspot/deal_pipelines`); a deal may move to another "
            "pipeline. Amounts are in the deal's currency (`deal_currency_code`)."
        ),
        columns=_hs_top(
            history=(
                "Exported for `dealstage`, `amount`, `closedate`, `pipeline` and "
                "`deal_currency_code`."
            ),
            associations=(
                '`{"companies": {"results": [{"id", "type": "deal_to_company"}]}, '
                '"contacts": {"results": [{"id", "type": "deal_to_contact"}]}}`; the first '
                "associated company and contact are the deal's."
            ),
        ),
        nested_fields=(
            (
                "properties",
                (
                    _p("dealname"),
                    _p("dealstage", STRING, "A stage id of the deal's pipeline."),
                    _p("pipeline", STRING, "Pipeline id (`default` for the first pipeline)."),
                    _p("amount", DECIMAL, "In `deal_currency_code`."),
                    _p(
                        "deal_currency_code",
                        STRING,
                        "ISO 4217 (multi-currency portals); absent: the portal's currency.",
                    ),
                    _p(
                        "closedate",
                        TIMESTAMP,
                        "Expected or actual close; a datetime (`2025-03-01T00:00:00.000Z`) or a "
                        "date (`2025-03-01`).",
                    ),
                    _p("createdate", TIMESTAMP),
                    _p("hs_lastmodifieddate", TIMESTAMP),
                    _p("hs_is_closed", BOOLEAN, "`true` in a closed stage."),
                    _p("hs_is_closed_won", BOOLEAN, "`true` in a won stage."),
                    _p("hs_deal_stage_probability", DECIMAL, "The stage's probability, 0..1."),
                    _p(
                        "dealtype",
                        STRING,
                        "`newbusiness`, `existingbusiness` (HubSpot defaults) or custom "
                        "options (e.g. `renewal`); mapped by `opportunity_types`.",
                    ),
                    _p("hubspot_owner_id", STRING, "Owner id (`hubspot/owners`)."),
                    _p("hs_campaign", STRING, "Campaign id (`hubspot/campaigns`), optional."),
                    _HS_MERGED,
                    _p(
                        "hs_date_entered_<stageId>",
                        TIMESTAMP,
                        "When the deal last entered stage `<stageId>` (one property a stage).",
                    ),
                    _p(
                        "hs_date_exited_<stageId>",
                        TIMESTAMP,
                        "When the deal last left stage `<stageId>`.",
                    ),
                ),
            ),
        ),
    ),
    ExportObject(
        source="hubspot",
        name="owners",
        format="jsonl",
        grain="One line per owner, every day (a full snapshot).",
        key=("id",),
        version_column="updatedAt",
        updates=_HS_SNAPSHOT,
        deletes=_HS_SNAPSHOT_DELETES,
        description="The CRM v3 owners (the users deals and contacts are assigned to).",
        columns=(
            _c("id", STRING, True, "Owner id (what `hubspot_owner_id` holds)."),
            _c("email", STRING, True),
            _c("firstName", STRING),
            _c("lastName", STRING),
            _c("userId", INTEGER, False, "The HubSpot user id (a JSON number)."),
            _c(
                "teams",
                ARRAY,
                False,
                "`[{id, name, primary}]`: the primary team's name is read as the owner's "
                "title by the `rep_roles` mapping.",
            ),
            _c("createdAt", TIMESTAMP, True),
            _c("updatedAt", TIMESTAMP, True),
            _c("archived", BOOLEAN, True, "`true` for a deactivated owner."),
        ),
    ),
    ExportObject(
        source="hubspot",
        name="deal_pipelines",
        format="jsonl",
        grain="One line per deal pipeline, every day (a full snapshot).",
        key=("id",),
        version_column="updatedAt",
        updates=_HS_SNAPSHOT,
        deletes=_HS_SNAPSHOT_DELETES,
        description=(
            "`GET /crm/v3/pipelines/deals`: each pipeline with its stages. A stage's label is "
            "its name in the funnel (the `opportunity_stages` mapping reads it)."
        ),
        columns=(
            _c("id", STRING, True, "Pipeline id (`default` for the first)."),
            _c("label", STRING, True, "Pipeline name."),
            _c("displayOrder", INTEGER),
            _c(
                "stages",
                ARRAY,
                True,
                "`[{id, label, displayOrder, metadata: {probability, isClosed}, archived, "
                'createdAt, updatedAt}]`; `probability` is text `"0.2"` (0..1), `isClosed` '
                'text `"true"`/`"false"`.',
            ),
            _c("createdAt", TIMESTAMP, True),
            _c("updatedAt", TIMESTAMP, True),
            _c("archived", BOOLEAN, True),
        ),
    ),
    ExportObject(
        source="hubspot",
        name="campaigns",
        format="jsonl",
        grain="One line per campaign version.",
        key=("id",),
        version_column="updatedAt",
        updates=_HS_UPDATES.replace(
            "`hs_lastmodifieddate` (`lastmodifieddate` on contacts)", "`updatedAt`"
        ),
        deletes=_HS_DELETES,
        description="Marketing v3 campaigns (Marketing Hub); deals name one in `hs_campaign`.",
        optional=True,
        columns=(
            _c("id", STRING, True, "Campaign id (a GUID)."),
            _c("properties", OBJECT, True, _HS_PROPERTIES),
            _c("createdAt", TIMESTAMP, True),
            _c("updatedAt", TIMESTAMP, True),
            _c("archived", BOOLEAN, True),
        ),
        nested_fields=(
            (
                "properties",
                (
                    _p("hs_name"),
                    _p("hs_campaign_status", STRING, "`planned`, `in_progress`, `active`, ..."),
                    _p("hs_start_date", DATE),
                    _p("hs_end_date", DATE),
                    _p("hs_budget_items_sum_amount", DECIMAL),
                    _p("hs_spend_items_sum_amount", DECIMAL),
                    _p("hs_currency_code", STRING, "ISO 4217."),
                ),
            ),
        ),
    ),
)

REFERENCE = (
    ExportObject(
        source="reference",
        name="fx_rates",
        format="csv",
        grain="One row per currency per day.",
        key=("rate_date", "base_currency", "quote_currency"),
        updates="A re-sent (date, currency pair) supersedes the earlier one; latest delivery wins.",
        deletes=_NO_DELETES,
        description=(
            "1 `base_currency` = `rate` `quote_currency`; the quote is the reporting currency. "
            "A day without a rate (a weekend) uses the latest earlier rate for at most "
            "`fx_max_staleness_days` days (default 7); an amount without a rate that recent is "
            "not converted (null, counted and warned about), never 0."
        ),
        columns=(
            _c("rate_date", DATE, True),
            _c("base_currency", STRING, True, "ISO 4217."),
            _c("quote_currency", STRING, True, "ISO 4217 reporting currency (USD by default)."),
            _c("rate", DECIMAL, True, "Six decimal places."),
        ),
    ),
    ExportObject(
        source="reference",
        name="quotas",
        format="csv",
        grain="One row per rep per quota period.",
        key=("owner_id", "period_start"),
        updates="Latest delivery wins per (owner_id, period_start).",
        deletes=_NO_DELETES,
        columns=(
            _c("owner_id", STRING, True, "Salesforce User id."),
            _c("period_start", DATE, True),
            _c("period_end", DATE, True, "Inclusive."),
            _c("quota_amount", DECIMAL, True, "New bookings target (annual contract value)."),
            _c("currency", STRING, True),
        ),
    ),
    ExportObject(
        source="reference",
        name="expenses",
        format="csv",
        grain="One row per month, department and category.",
        key=("month", "department", "category"),
        updates="Latest delivery wins per (month, department, category).",
        deletes=_NO_DELETES,
        description="Sales and marketing costs beyond ad spend, for fully loaded CAC.",
        columns=(
            _c("month", DATE, True, "First day of the month."),
            _c("department", STRING, True, "`sales` or `marketing`."),
            _c("category", STRING, True, "`salaries`, `tools`, `events`, `agencies`, `other`."),
            _c("amount", DECIMAL, True),
            _c("currency", STRING, True),
        ),
    ),
)

OBJECTS: tuple[ExportObject, ...] = (
    SALESFORCE + SALESFORCE_METADATA + MARKETING + STRIPE + HUBSPOT + REFERENCE
)
BY_FOLDER: dict[str, ExportObject] = {o.folder: o for o in OBJECTS}


@dataclass(frozen=True)
class Cadence:
    """How long an object can go without a delivery that holds records before it is late.

    Measured on load time (the raw table's newest `_loaded_at`): a raw table grows only when a
    delivery holds records, so objects whose records change rarely get looser bounds. dbt's
    `source freshness` (the `_<source>__sources.yml` files) and the Dagster freshness check of
    each ingestion asset both use these bounds; tests/test_dagster_metadata.py holds them equal.
    """

    warn_after_hours: int
    error_after_hours: int | None  # None: never an error (optional metadata exports)

    @property
    def description(self) -> str:
        error = (
            f", an error after {_duration(self.error_after_hours)}"
            if self.error_after_hours
            else ""
        )
        return f"a warning after {_duration(self.warn_after_hours)} without new rows{error}"


def _duration(hours: int) -> str:
    return f"{hours // 24} days" if hours % 24 == 0 and hours >= 48 else f"{hours} hours"


_DAILY = Cadence(36, 72)  # a delivery with records every day
_WEEKLY = Cadence(7 * 24, 30 * 24)  # records most days, but a quiet week happens
_MONTHLY = Cadence(30 * 24, 90 * 24)
_RARE = Cadence(90 * 24, 365 * 24)  # users, refunds: weeks may pass without a change
_CATALOGUE = Cadence(180 * 24, 730 * 24)  # products, prices, coupons
_METADATA = Cadence(365 * 24, None)  # optional picklists, delivered when they change

# Every object's delivery cadence, by folder (a test checks that each object has one).
CADENCE: dict[str, Cadence] = {
    "salesforce/User": _RARE,
    "salesforce/Account": _WEEKLY,
    "salesforce/Contact": _WEEKLY,
    "salesforce/Lead": _DAILY,
    "salesforce/LeadHistory": _DAILY,
    "salesforce/Opportunity": _WEEKLY,
    "salesforce/OpportunityHistory": _WEEKLY,
    "salesforce/Campaign": _MONTHLY,
    "salesforce/CampaignMember": _WEEKLY,
    "salesforce/OpportunityStage": _METADATA,
    "salesforce/LeadStatus": _METADATA,
    "google_ads/campaign_stats": _DAILY,
    "meta_ads/ads_insights": _DAILY,
    "linkedin_ads/ad_analytics": _DAILY,
    "marketing_automation/activities": _DAILY,
    "stripe/customers": _WEEKLY,
    "stripe/subscriptions": _WEEKLY,
    "stripe/subscription_items": _MONTHLY,
    "stripe/invoices": _WEEKLY,
    "stripe/invoice_line_items": _WEEKLY,
    "stripe/charges": _WEEKLY,
    "stripe/refunds": _RARE,
    "stripe/products": _CATALOGUE,
    "stripe/prices": _CATALOGUE,
    "stripe/coupons": _CATALOGUE,
    "hubspot/contacts": _DAILY,
    "hubspot/companies": _WEEKLY,
    "hubspot/deals": _WEEKLY,
    # full snapshots: every delivery holds records
    "hubspot/owners": _DAILY,
    "hubspot/deal_pipelines": _DAILY,
    "hubspot/campaigns": Cadence(30 * 24, None),  # optional (Marketing Hub only)
    "reference/fx_rates": _DAILY,
    # quotas arrive two weeks before each quarter; expenses four days after each month
    "reference/quotas": Cadence(100 * 24, 190 * 24),
    "reference/expenses": Cadence(35 * 24, 62 * 24),
}


def cadence(obj: ExportObject) -> Cadence:
    """The delivery cadence of `obj` (KeyError naming the folder when the contract has none)."""
    try:
        return CADENCE[obj.folder]
    except KeyError:
        raise KeyError(f"no delivery cadence for {obj.folder} in revops/contract.py") from None


def get(source: str, name: str) -> ExportObject:
    """The contract for `<source>/<name>`; raises KeyError naming the folder if unknown."""
    try:
        return BY_FOLDER[f"{source}/{name}"]
    except KeyError:
        raise KeyError(f"no export object {source}/{name} in the contract") from None


def render_markdown() -> str:
    """The per-object reference tables of docs/EXPORTS.md."""
    out: list[str] = []
    for source in SOURCES:
        out.append(f"### `{source}`\n")
        for obj in (o for o in OBJECTS if o.source == source):
            out.append(f"#### `{obj.folder}` ({obj.format})\n")
            out.append(f"{obj.grain} Key: {', '.join(f'`{k}`' for k in obj.key)}.")
            if obj.description:
                out.append(obj.description)
            out.append(f"\n- **Updates**: {obj.updates}\n- **Deletes**: {obj.deletes}")
            out.append(f"- **Delivery cadence**: {cadence(obj).description}.")
            if obj.optional:
                out.append("- **Optional object**: an org that does not export it loses nothing.")
            for group in obj.required_any:
                names = " or ".join(f"`{c}`" for c in group)
                out.append(f"- **Required**: at least one of {names} in every file.")
            out.append("")
            out.append("| column | type | required | notes |\n|---|---|---|---|")
            for col in obj.columns:
                req = "yes" if col.required else ""
                out.append(f"| `{col.name}` | {col.type} | {req} | {col.description} |")
            out.append("")
            for parent, fields in obj.nested_fields:
                out.append(
                    f"Fields of `{parent}` (all delivered as strings; the type is what the "
                    "text holds; none is required):\n"
                )
                out.append("| field | holds | notes |\n|---|---|---|")
                for col in fields:
                    out.append(f"| `{col.name}` | {col.type} | {col.description} |")
                out.append("")
    return "\n".join(out)
