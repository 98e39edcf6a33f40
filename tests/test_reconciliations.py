"""Each blocking reconciliation in data-tests/ fails on a NULL and passes on clean data.

dbt unit tests cannot target singular tests, so each test's SQL is compiled once by
`dbt compile`, taken from the manifest, and run against tiny fixture tables in an in-memory
DuckDB whose catalog, schema and table names match the compiled relation names. A
reconciliation that compares with `<>` passes when one side is NULL (the comparison is never
true); these tests prove that none of them can.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.dbt_support import run_dbt

ROOT = Path(__file__).resolve().parent.parent

# Column types of the fixture tables: every column any reconciliation reads, per relation.
SCHEMAS: dict[str, dict[str, str]] = {
    "data_quality_quarantine_by_object": {
        "source_name": "varchar",
        "object_name": "varchar",
        "load_id": "varchar",
        "rows_read": "bigint",
        "rows_quarantined": "bigint",
        "quarantined_share": "double",
    },
    "util_history_window": {
        "history_start_date": "date",
        "history_end_date": "date",
        "last_month_end_date": "date",
    },
    "fct_attribution": {
        "opportunity_id": "varchar",
        "attribution_model": "varchar",
        "credit": "decimal(18, 6)",
    },
    "channel_performance": {"spend_reporting": "decimal(18, 2)"},
    "fct_ad_spend_daily": {
        "currency": "varchar",
        "spend": "decimal(18, 2)",
        "spend_reporting": "decimal(18, 2)",
        "report_date": "date",
    },
    "revenue_by_month": {
        "segment": "varchar",
        "collected_revenue": "decimal(18, 2)",
        "month": "date",
    },
    "int_customers_linked": {"customer_id": "varchar", "is_excluded": "boolean"},
    "int_fx_rates_daily": {
        "currency": "varchar",
        "calendar_date": "date",
        "rate_to_reporting": "decimal(18, 6)",
    },
    "stg_stripe__charges": {
        "charge_id": "varchar",
        "customer_id": "varchar",
        "currency": "varchar",
        "charge_status": "varchar",
        "amount": "decimal(18, 2)",
        "created_at": "timestamp",
    },
    "stg_stripe__refunds": {
        "refund_id": "varchar",
        "charge_id": "varchar",
        "currency": "varchar",
        "refund_status": "varchar",
        "amount": "decimal(18, 2)",
        "created_at": "timestamp",
    },
    "mrr_by_month": {
        "segment": "varchar",
        "month": "date",
        "mrr": "decimal(18, 2)",
        "customers": "bigint",
        "starting_mrr": "decimal(18, 2)",
        "new_mrr": "decimal(18, 2)",
        "reactivation_mrr": "decimal(18, 2)",
        "expansion_mrr": "decimal(18, 2)",
        "contraction_mrr": "decimal(18, 2)",
        "churn_mrr": "decimal(18, 2)",
        "fx_mrr": "decimal(18, 2)",
        "unconverted_movements": "bigint",
    },
    "fct_mrr": {
        "customer_id": "varchar",
        "month": "date",
        "movement": "varchar",
        "mrr": "decimal(18, 2)",
        "previous_mrr": "decimal(18, 2)",
        "mrr_at_previous_month_rate": "decimal(18, 2)",
        "new_mrr": "decimal(18, 2)",
        "reactivation_mrr": "decimal(18, 2)",
        "expansion_mrr": "decimal(18, 2)",
        "contraction_mrr": "decimal(18, 2)",
        "churn_mrr": "decimal(18, 2)",
        "fx_mrr": "decimal(18, 2)",
    },
    "mrr_cohort_retention": {
        "segment": "varchar",
        "month": "date",
        "mrr": "decimal(18, 2)",
        "active_customers": "bigint",
    },
    "rep_performance": {"won_amount_reporting": "decimal(18, 2)"},
    "fct_opportunities": {
        "deal_category": "varchar",
        "currency": "varchar",
        "amount": "decimal(18, 2)",
        "amount_reporting": "decimal(18, 2)",
        "is_won": "boolean",
        "close_date": "date",
    },
    "int_crm_opportunities_unioned": {
        "currency": "varchar",
        "amount": "decimal(18, 2)",
        "is_closed": "boolean",
        "is_won": "boolean",
        "is_deleted": "boolean",
        "close_date": "date",
        "created_at": "timestamp",
    },
    "revops_metrics": {"segment": "varchar", "month": "date", "mrr": "decimal(18, 2)"},
    "sales_ops_metrics": {
        "segment": "varchar",
        "month": "date",
        "leads": "bigint",
        "mqls": "bigint",
        "sqls": "bigint",
        "won_amount": "decimal(18, 2)",
        "won_without_amount": "bigint",
        "won_unconverted": "bigint",
    },
    "int_opportunity_stages_resolved": {"stage_name": "varchar"},
    "pipeline_velocity_by_month": {"segment": "varchar", "month": "date"},
    "sales_ops_metrics_by_deal_category": {
        "segment": "varchar",
        "month": "date",
        "deal_category": "varchar",
        "won_amount": "decimal(18, 2)",
        "won_without_amount": "bigint",
        "won_unconverted": "bigint",
    },
    "fct_lead_funnel": {
        "created_at": "timestamp",
        "mql_at": "timestamp",
        "sql_at": "timestamp",
    },
    # read by the warning checks only
    "stg_reference__fx_rates": {
        "base_currency": "varchar",
        "quote_currency": "varchar",
        "rate_date": "date",
        "rate": "decimal(18, 6)",
    },
    "util_days": {"calendar_date": "date"},
    "stg_reference__expenses": {
        "currency": "varchar",
        "amount": "decimal(18, 2)",
        "month_start_date": "date",
    },
    "int_opportunities_enriched": {
        "currency": "varchar",
        "amount": "decimal(18, 2)",
        "amount_reporting": "decimal(18, 2)",
        "close_date": "date",
    },
    "int_mrr_customer_months": {
        "currency": "varchar",
        "mrr": "decimal(18, 2)",
        "reference_date": "date",
    },
    "int_revenue_records_converted": {
        "record_type": "varchar",
        "currency": "varchar",
        "amount": "decimal(18, 2)",
        "amount_reporting": "decimal(18, 2)",
        "record_date": "date",
    },
    "int_crm_leads_unioned": {"created_at": "timestamp", "is_deleted": "boolean"},
    "stg_stripe__subscriptions": {"created_at": "timestamp"},
    "stg_stripe__invoices": {"created_at": "timestamp"},
    "int_ad_spend_unioned": {"report_date": "date"},
}

WINDOW = [
    {
        "history_start_date": "2024-01-01",
        "history_end_date": "2024-03-10",
        "last_month_end_date": "2024-03-31",
    }
]

MOVEMENTS_ZERO = {
    "new_mrr": 0,
    "reactivation_mrr": 0,
    "expansion_mrr": 0,
    "contraction_mrr": 0,
    "churn_mrr": 0,
    "fx_mrr": 0,
}
BRIDGE_ZERO = {"starting_mrr": 0} | MOVEMENTS_ZERO

# Per reconciliation: a clean fixture (the test returns no row) and fixtures with a NULL that
# a `<>` comparison would let through (the test must return rows). Relations a case leaves out
# are empty tables.
Fixture = dict[str, list[dict[str, Any]]]

CASES: dict[str, dict[str, Any]] = {
    "assert_attribution_credits_sum_to_one": {
        "clean": {
            "fct_attribution": [
                {"opportunity_id": "o1", "attribution_model": "linear", "credit": 0.5},
                {"opportunity_id": "o1", "attribution_model": "linear", "credit": 0.5},
            ]
        },
        "null": {
            "one null credit beside credits summing to one": {
                "fct_attribution": [
                    {"opportunity_id": "o1", "attribution_model": "linear", "credit": 0.5},
                    {"opportunity_id": "o1", "attribution_model": "linear", "credit": 0.5},
                    {"opportunity_id": "o1", "attribution_model": "linear", "credit": None},
                ]
            },
            "every credit null": {
                "fct_attribution": [
                    {"opportunity_id": "o1", "attribution_model": "linear", "credit": None},
                ]
            },
        },
    },
    "assert_channel_performance_spend_reconciles": {
        "clean": {
            "util_history_window": WINDOW,
            "channel_performance": [{"spend_reporting": 60}, {"spend_reporting": 40}],
            "fct_ad_spend_daily": [
                {"spend_reporting": 100, "report_date": "2024-01-05"},
                # without a usable FX rate: null on both sides, reported by a warning check
                {"spend_reporting": None, "report_date": "2024-01-06"},
            ],
        },
        "null": {
            "null spend in the mart": {
                "util_history_window": WINDOW,
                "channel_performance": [{"spend_reporting": None}],
                "fct_ad_spend_daily": [{"spend_reporting": 100, "report_date": "2024-01-05"}],
            },
            "empty mart": {
                "util_history_window": WINDOW,
                "fct_ad_spend_daily": [{"spend_reporting": 100, "report_date": "2024-01-05"}],
            },
        },
    },
    "assert_collected_revenue_reconciles_with_staging": {
        "clean": {
            "util_history_window": WINDOW,
            "revenue_by_month": [
                {"segment": "All", "collected_revenue": 90, "month": "2024-01-01"},
                {"segment": "All", "collected_revenue": 0, "month": "2024-02-01"},
            ],
            "int_customers_linked": [{"customer_id": "c1", "is_excluded": False}],
            "int_fx_rates_daily": [
                {"currency": "USD", "calendar_date": "2024-01-05", "rate_to_reporting": 1},
                {"currency": "USD", "calendar_date": "2024-01-06", "rate_to_reporting": 1},
            ],
            "stg_stripe__charges": [
                {
                    "charge_id": "ch1",
                    "customer_id": "c1",
                    "currency": "USD",
                    "charge_status": "succeeded",
                    "amount": 100,
                    "created_at": "2024-01-05 10:00:00",
                },
                {
                    # EUR without a rate: left out on both sides, reported by a warning check
                    "charge_id": "ch2",
                    "customer_id": "c1",
                    "currency": "EUR",
                    "charge_status": "succeeded",
                    "amount": 50,
                    "created_at": "2024-01-05 11:00:00",
                },
            ],
            "stg_stripe__refunds": [
                {
                    "refund_id": "re1",
                    "charge_id": "ch1",
                    "currency": "USD",
                    "refund_status": "succeeded",
                    "amount": 10,
                    "created_at": "2024-01-06 10:00:00",
                }
            ],
        },
        "null": {
            "null collected revenue in the mart": {
                "util_history_window": WINDOW,
                "revenue_by_month": [
                    {"segment": "All", "collected_revenue": None, "month": "2024-01-01"},
                ],
                "int_customers_linked": [{"customer_id": "c1", "is_excluded": False}],
                "int_fx_rates_daily": [
                    {"currency": "USD", "calendar_date": "2024-01-05", "rate_to_reporting": 1},
                ],
                "stg_stripe__charges": [
                    {
                        "charge_id": "ch1",
                        "customer_id": "c1",
                        "currency": "USD",
                        "charge_status": "succeeded",
                        "amount": 100,
                        "created_at": "2024-01-05 10:00:00",
                    }
                ],
            },
        },
    },
    "assert_mrr_bridge_balances": {
        "clean": {
            "mrr_by_month": [
                {"segment": "All", "month": "2024-01-01", "mrr": 100, "unconverted_movements": 0}
                | BRIDGE_ZERO
                | {"new_mrr": 100},
                # a month with an unconverted movement cannot balance: not checked
                {"segment": "All", "month": "2024-02-01", "mrr": 0, "unconverted_movements": 1}
                | BRIDGE_ZERO
                | {"starting_mrr": 100},
                # 110 = 100 + 5 expansion at last month's rate + 5 currency effect
                {"segment": "All", "month": "2024-03-01", "mrr": 110, "unconverted_movements": 0}
                | BRIDGE_ZERO
                | {"starting_mrr": 100, "expansion_mrr": 5, "fx_mrr": 5},
            ],
            "fct_mrr": [
                {"customer_id": "c1", "month": "2024-01-01", "movement": "new", "mrr": 100}
                | MOVEMENTS_ZERO
                | {"previous_mrr": 0, "new_mrr": 100},
                {"customer_id": "c1", "month": "2024-02-01", "movement": "unconverted"}
                | MOVEMENTS_ZERO
                | {"mrr": None, "previous_mrr": 100},
                # an exchange-rate move alone: unchanged in constant currency, all of it fx
                {"customer_id": "c2", "month": "2024-02-01", "movement": "unchanged", "mrr": 108}
                | MOVEMENTS_ZERO
                | {"previous_mrr": 100, "mrr_at_previous_month_rate": 100, "fx_mrr": 8},
                {"customer_id": "c3", "month": "2024-02-01", "movement": "expansion", "mrr": 110}
                | MOVEMENTS_ZERO
                | {
                    "previous_mrr": 100,
                    "mrr_at_previous_month_rate": 105,
                    "expansion_mrr": 5,
                    "fx_mrr": 5,
                },
            ],
        },
        "null": {
            "null MRR in mrr_by_month": {
                "mrr_by_month": [
                    {"segment": "All", "month": "2024-01-01", "unconverted_movements": 0}
                    | BRIDGE_ZERO
                    | {"mrr": None, "new_mrr": 100},
                ],
            },
            "null movement in fct_mrr": {
                "fct_mrr": [
                    {"customer_id": "c1", "month": "2024-01-01", "movement": "new", "mrr": 100}
                    | MOVEMENTS_ZERO
                    | {"previous_mrr": 0, "new_mrr": None},
                ],
            },
            "null fx in mrr_by_month": {
                "mrr_by_month": [
                    {"segment": "All", "month": "2024-01-01", "unconverted_movements": 0}
                    | BRIDGE_ZERO
                    | {"mrr": 108, "starting_mrr": 100, "fx_mrr": None},
                ],
            },
            "null fx in fct_mrr": {
                "fct_mrr": [
                    {"customer_id": "c1", "month": "2024-02-01", "movement": "unchanged"}
                    | MOVEMENTS_ZERO
                    | {
                        "mrr": 108,
                        "previous_mrr": 100,
                        "mrr_at_previous_month_rate": 100,
                        "fx_mrr": None,
                    },
                ],
            },
            # fx used as a plug: the reported bridge balances, but the rate move was booked as
            # expansion (MRR at last month's rate is still 100)
            "expansion that is an exchange-rate move": {
                "fct_mrr": [
                    {"customer_id": "c1", "month": "2024-02-01", "movement": "expansion"}
                    | MOVEMENTS_ZERO
                    | {
                        "mrr": 108,
                        "previous_mrr": 100,
                        "mrr_at_previous_month_rate": 100,
                        "expansion_mrr": 8,
                    },
                ],
            },
            "null MRR at last month's rate": {
                "fct_mrr": [
                    {"customer_id": "c1", "month": "2024-02-01", "movement": "unchanged"}
                    | MOVEMENTS_ZERO
                    | {"mrr": 108, "previous_mrr": 100, "fx_mrr": 8},
                ],
            },
        },
    },
    "assert_mrr_cohort_retention_reconciles": {
        "clean": {
            "mrr_cohort_retention": [
                {"segment": "All", "month": "2024-01-01", "mrr": 60, "active_customers": 1},
                {"segment": "All", "month": "2024-01-01", "mrr": 40, "active_customers": 1},
            ],
            "mrr_by_month": [
                {"segment": "All", "month": "2024-01-01", "mrr": 100, "customers": 2},
                {"segment": "All", "month": "2024-02-01", "mrr": 0, "customers": 0},
            ],
        },
        "null": {
            "null MRR in mrr_by_month": {
                "mrr_cohort_retention": [
                    {"segment": "All", "month": "2024-01-01", "mrr": 100, "active_customers": 1},
                ],
                "mrr_by_month": [
                    {"segment": "All", "month": "2024-01-01", "mrr": None, "customers": 1},
                ],
            },
            "null customers in mrr_by_month": {
                "mrr_cohort_retention": [
                    {"segment": "All", "month": "2024-01-01", "mrr": 100, "active_customers": 1},
                ],
                "mrr_by_month": [
                    {"segment": "All", "month": "2024-01-01", "mrr": 100, "customers": None},
                ],
            },
        },
    },
    "assert_pipeline_velocity_stage_is_known": {
        "clean": {
            "int_opportunity_stages_resolved": [
                {"stage_name": "Prospecting"},
                {"stage_name": "Qualification"},
            ],
        },
        "null": {
            "the default stage is not one of the org's": {
                "int_opportunity_stages_resolved": [{"stage_name": "Discovery"}],
            },
            "no stages at all": {},
        },
    },
    # Blocking at the defaults: at least 10 rows (quarantine_block_min_rows) and more than 1%
    # (quarantine_block_share) of the rows an object's latest load read.
    "assert_quarantine_share_below_threshold": {
        "clean": {
            "data_quality_quarantine_by_object": [
                # 1 of 200 = 0.5%: a bad cell, not a break
                {
                    "object_name": "Lead",
                    "rows_read": 200,
                    "rows_quarantined": 1,
                    "quarantined_share": 0.005,
                },
                # 9 of 9: every row, but fewer than 10 (a small daily delivery)
                {
                    "object_name": "Contact",
                    "rows_read": 9,
                    "rows_quarantined": 9,
                    "quarantined_share": 1.0,
                },
                # 10 of 1,000 = exactly 1%: not more than the share
                {
                    "object_name": "Account",
                    "rows_read": 1000,
                    "rows_quarantined": 10,
                    "quarantined_share": 0.01,
                },
            ],
        },
        "null": {
            "12 of 12 rows of the latest load are quarantined": {
                "data_quality_quarantine_by_object": [
                    {
                        "object_name": "Lead",
                        "rows_read": 12,
                        "rows_quarantined": 12,
                        "quarantined_share": 1.0,
                    },
                ],
            },
            "11 of 1,000 rows (1.1%) are quarantined": {
                "data_quality_quarantine_by_object": [
                    {
                        "object_name": "Lead",
                        "rows_read": 1000,
                        "rows_quarantined": 11,
                        "quarantined_share": 0.011,
                    },
                ],
            },
        },
    },
    "assert_rep_performance_won_amount_reconciles": {
        "clean": {
            "util_history_window": WINDOW,
            "rep_performance": [{"won_amount_reporting": 100}, {"won_amount_reporting": 0}],
            "fct_opportunities": [
                {
                    "deal_category": "new_business",
                    "amount_reporting": 100,
                    "is_won": True,
                    "close_date": "2024-01-10",
                },
                {
                    "deal_category": "new_business",
                    "amount_reporting": None,
                    "is_won": True,
                    "close_date": "2024-01-11",
                },
                {
                    "deal_category": "new_business",
                    "amount_reporting": 70,
                    "is_won": False,
                    "close_date": "2024-01-12",
                },
                # a renewal: not in rep_performance's (new-business) won amount
                {
                    "deal_category": "renewal",
                    "amount_reporting": 500,
                    "is_won": True,
                    "close_date": "2024-01-12",
                },
            ],
        },
        "null": {
            "null won amount in the mart (the issue's empty rep table)": {
                "util_history_window": WINDOW,
                "rep_performance": [{"won_amount_reporting": None}],
                "fct_opportunities": [
                    {
                        "deal_category": "new_business",
                        "amount_reporting": 100,
                        "is_won": True,
                        "close_date": "2024-01-10",
                    },
                ],
            },
            "empty mart": {
                "util_history_window": WINDOW,
                "fct_opportunities": [
                    {
                        "deal_category": "new_business",
                        "amount_reporting": 100,
                        "is_won": True,
                        "close_date": "2024-01-10",
                    },
                ],
            },
        },
    },
    "assert_revops_metrics_mrr_reconciles": {
        "clean": {
            "mrr_by_month": [{"segment": "All", "month": "2024-01-01", "mrr": 100}],
            "revops_metrics": [
                {"segment": "All", "month": "2024-01-01", "mrr": 100},
                {"segment": "All", "month": "2024-02-01", "mrr": 0},
            ],
        },
        "null": {
            "null MRR in revops_metrics": {
                "mrr_by_month": [{"segment": "All", "month": "2024-01-01", "mrr": 100}],
                "revops_metrics": [{"segment": "All", "month": "2024-01-01", "mrr": None}],
            },
            "null MRR on both sides": {
                "mrr_by_month": [{"segment": "All", "month": "2024-01-01", "mrr": None}],
                "revops_metrics": [{"segment": "All", "month": "2024-01-01", "mrr": None}],
            },
        },
    },
    "assert_sales_ops_metrics_reconcile_with_funnel": {
        "clean": {
            "util_history_window": WINDOW,
            "sales_ops_metrics": [
                {"segment": "All", "month": "2024-01-01", "leads": 1, "mqls": 1, "sqls": 0},
                {"segment": "All", "month": "2024-02-01", "leads": 0, "mqls": 0, "sqls": 0},
            ],
            # won amounts summed over the deal categories (All rows; segment rows not read)
            "sales_ops_metrics_by_deal_category": [
                {
                    "segment": "All",
                    "month": "2024-01-01",
                    "deal_category": "new_business",
                    "won_amount": 60,
                    "won_without_amount": 1,
                    "won_unconverted": 0,
                },
                {
                    "segment": "All",
                    "month": "2024-01-01",
                    "deal_category": "renewal",
                    "won_amount": 40,
                    "won_without_amount": 0,
                    "won_unconverted": 1,
                },
                {
                    "segment": "SMB",
                    "month": "2024-01-01",
                    "deal_category": "renewal",
                    "won_amount": 40,
                    "won_without_amount": 0,
                    "won_unconverted": 1,
                },
            ],
            "fct_lead_funnel": [
                {"created_at": "2024-01-02 10:00:00", "mql_at": "2024-01-03 10:00:00"},
            ],
            "fct_opportunities": [
                {
                    "amount": 60,
                    "amount_reporting": 60,
                    "is_won": True,
                    "close_date": "2024-01-10",
                },
                {
                    "amount": 40,
                    "amount_reporting": 40,
                    "is_won": True,
                    "close_date": "2024-01-10",
                },
                {
                    "amount": None,
                    "amount_reporting": None,
                    "is_won": True,
                    "close_date": "2024-01-11",
                },
                {
                    "amount": 50,
                    "amount_reporting": None,
                    "is_won": True,
                    "close_date": "2024-01-12",
                },
            ],
        },
        "null": {
            "null won amount in one deal category": {
                "util_history_window": WINDOW,
                "sales_ops_metrics": [
                    {"segment": "All", "month": "2024-01-01", "leads": 0, "mqls": 0, "sqls": 0},
                ],
                "sales_ops_metrics_by_deal_category": [
                    {
                        "segment": "All",
                        "month": "2024-01-01",
                        "deal_category": "new_business",
                        "won_amount": 100,
                        "won_without_amount": 0,
                        "won_unconverted": 0,
                    },
                    {
                        "segment": "All",
                        "month": "2024-01-01",
                        "deal_category": "renewal",
                        "won_amount": None,
                        "won_without_amount": 0,
                        "won_unconverted": 0,
                    },
                ],
                "fct_opportunities": [
                    {
                        "amount": 100,
                        "amount_reporting": 100,
                        "is_won": True,
                        "close_date": "2024-01-10",
                    },
                ],
            },
            "null lead count in the metrics": {
                "util_history_window": WINDOW,
                "sales_ops_metrics": [
                    {"segment": "All", "month": "2024-01-01", "leads": None, "mqls": 0, "sqls": 0},
                ],
                "fct_lead_funnel": [{"created_at": "2024-01-02 10:00:00"}],
            },
        },
    },
    "assert_won_amount_reconciles_with_staging": {
        "clean": {
            "fct_opportunities": [
                {"currency": "USD", "amount": 100, "is_won": True, "close_date": "2024-01-10"},
                {"currency": "USD", "amount": None, "is_won": True, "close_date": "2024-01-11"},
                {"currency": "EUR", "amount": None, "is_won": True, "close_date": "2024-02-11"},
            ],
            "int_crm_opportunities_unioned": [
                # an empty currency is the corporate currency (default USD)
                {
                    "currency": None,
                    "amount": 100,
                    "is_won": True,
                    "is_deleted": False,
                    "close_date": "2024-01-10",
                },
                {
                    "currency": "USD",
                    "amount": None,
                    "is_won": True,
                    "is_deleted": False,
                    "close_date": "2024-01-11",
                },
                {
                    "currency": "EUR",
                    "amount": None,
                    "is_won": True,
                    "is_deleted": False,
                    "close_date": "2024-02-11",
                },
                {
                    "currency": "USD",
                    "amount": 999,
                    "is_won": True,
                    "is_deleted": True,
                    "close_date": "2024-01-10",
                },
            ],
        },
        "null": {
            "null amount in the mart": {
                "fct_opportunities": [
                    {"currency": "USD", "amount": None, "is_won": True, "close_date": "2024-01-10"},
                    {"currency": "USD", "amount": 50, "is_won": True, "close_date": "2024-01-10"},
                ],
                "int_crm_opportunities_unioned": [
                    {
                        "currency": "USD",
                        "amount": 100,
                        "is_won": True,
                        "is_deleted": False,
                        "close_date": "2024-01-10",
                    },
                    {
                        "currency": "USD",
                        "amount": 50,
                        "is_won": True,
                        "is_deleted": False,
                        "close_date": "2024-01-10",
                    },
                ],
            },
            "a won deal without an amount lost from the mart": {
                "fct_opportunities": [
                    {"currency": "USD", "amount": 100, "is_won": True, "close_date": "2024-01-10"},
                ],
                "int_crm_opportunities_unioned": [
                    {
                        "currency": "USD",
                        "amount": 100,
                        "is_won": True,
                        "is_deleted": False,
                        "close_date": "2024-01-10",
                    },
                    {
                        "currency": "USD",
                        "amount": None,
                        "is_won": True,
                        "is_deleted": False,
                        "close_date": "2024-01-10",
                    },
                ],
            },
        },
    },
}


@pytest.fixture(scope="module")
def compiled_tests(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every singular test node of the manifest, with its compiled SQL (`dbt compile`)."""
    base = tmp_path_factory.mktemp("reconciliations")
    env = {
        key: value
        for key, value in os.environ.items()
        # the project defaults, whatever the developer's shell sets
        if not key.startswith("REVOPS_") or key in ("REVOPS_DBT_TARGET",)
    }
    env["REVOPS_WAREHOUSE"] = str(base / "warehouse.duckdb")
    result = run_dbt("compile", "--select", "test_type:singular", base=base, env=env)
    assert result.returncode == 0, result.stdout[-5000:]
    manifest = json.loads((base / "target" / "manifest.json").read_text())
    nodes = manifest["nodes"]
    tests = {}
    for node in nodes.values():
        if node["resource_type"] != "test" or "compiled_code" not in node:
            continue
        if node["original_file_path"].startswith("data-tests/assert_"):
            parents = [nodes[parent] for parent in node["depends_on"]["nodes"]]
            tests[node["name"]] = {
                "sql": node["compiled_code"],
                "severity": node["config"]["severity"].lower(),
                "parents": {
                    parent["name"]: (parent["database"], parent["schema"], parent["alias"])
                    for parent in parents
                },
            }
    return tests


def _run(test: dict[str, Any], fixture: Fixture) -> list[tuple]:
    """The test's compiled SQL on `fixture` (every parent relation exists, empty if not given)."""
    con = duckdb.connect()
    try:
        for name, (database, schema, alias) in test["parents"].items():
            if name not in SCHEMAS:
                raise AssertionError(f"no fixture schema for {name}: add it to SCHEMAS")
            if database not in {row[0] for row in con.execute("show databases").fetchall()}:
                con.execute(f"attach ':memory:' as \"{database}\"")
            con.execute(f'create schema if not exists "{database}"."{schema}"')
            columns = SCHEMAS[name]
            relation = f'"{database}"."{schema}"."{alias}"'
            con.execute(
                f"create table {relation} ("
                + ", ".join(f'"{column}" {kind}' for column, kind in columns.items())
                + ")"
            )
            for row in fixture.get(name, []):
                unknown = set(row) - set(columns)
                assert not unknown, f"{name}: columns {unknown} are not in SCHEMAS"
                names = list(columns)
                con.execute(
                    f"insert into {relation} values ({', '.join('?' for _ in names)})",
                    [row.get(column) for column in names],
                )
        for name in fixture:
            assert name in test["parents"], f"fixture table {name} is not read by the test"
        return con.execute(test["sql"]).fetchall()
    finally:
        con.close()


def test_every_blocking_reconciliation_has_fixtures(compiled_tests):
    blocking = {name for name, test in compiled_tests.items() if test["severity"] == "error"}
    assert blocking, "no singular test found in the manifest"
    assert blocking == set(CASES), (
        f"missing fixtures: {sorted(blocking - set(CASES))}; "
        f"not blocking or gone: {sorted(set(CASES) - blocking)}"
    )


@pytest.mark.parametrize("test_name", sorted(CASES))
def test_reconciliation_passes_on_clean_data(compiled_tests, test_name):
    rows = _run(compiled_tests[test_name], CASES[test_name]["clean"])
    assert rows == [], f"{test_name} fails on its clean fixture: {rows}"


@pytest.mark.parametrize(
    ("test_name", "case"),
    [(name, case) for name in sorted(CASES) for case in CASES[name]["null"]],
)
def test_reconciliation_fails_on_a_null(compiled_tests, test_name, case):
    rows = _run(compiled_tests[test_name], CASES[test_name]["null"][case])
    assert rows, f"{test_name} passes although {case}"


def _days(first: int, last: int) -> list[str]:
    return [f"2024-01-{day:02d}" for day in range(first, last + 1)]


def test_fx_warning_names_each_currency_and_span_without_a_rate(compiled_tests):
    """EUR has no usable rate from 01-04 to 01-07 and CHF none at all: the amounts dated there
    stay null (never 0) and the warning check names currency, span and count; converted ones
    and USD are not reported."""
    fixture = {
        "util_days": [{"calendar_date": day} for day in _days(1, 10)],
        "int_fx_rates_daily": [
            {"currency": currency, "calendar_date": day, "rate_to_reporting": rate}
            for currency, days, rate in (("USD", _days(1, 10), 1), ("EUR", _days(1, 3), 1.1))
            for day in days
        ]
        + [
            {"currency": "EUR", "calendar_date": day, "rate_to_reporting": 1.1}
            for day in _days(8, 10)
        ],
        "stg_reference__fx_rates": [
            {
                "base_currency": "EUR",
                "quote_currency": "USD",
                "rate_date": "2024-01-01",
                "rate": 1.1,
            }
        ],
        "int_opportunities_enriched": [
            {
                "currency": "EUR",
                "amount": 100,
                "amount_reporting": None,
                "close_date": "2024-01-05",
            },
            {"currency": "EUR", "amount": 100, "amount_reporting": 110, "close_date": "2024-01-02"},
            {"currency": "CHF", "amount": 50, "amount_reporting": None, "close_date": "2024-01-02"},
            {
                "currency": "USD",
                "amount": None,
                "amount_reporting": None,
                "close_date": "2024-01-02",
            },
        ],
        "fct_ad_spend_daily": [
            {"currency": "EUR", "spend": 10, "spend_reporting": None, "report_date": "2024-01-06"},
            {"currency": "EUR", "spend": 10, "spend_reporting": None, "report_date": "2024-01-07"},
        ],
    }
    rows = _run(compiled_tests["assert_amounts_have_fx_rates"], fixture)
    # columns: has_any_rate, currency, missing from, missing to, object, rows, first, last
    found = {(row[4], row[1], str(row[2]), str(row[3]), row[5], row[0]) for row in rows}
    assert found == {
        ("opportunities", "EUR", "2024-01-04", "2024-01-07", 1, True),
        ("opportunities", "CHF", "2024-01-01", "2024-01-10", 1, False),
        ("ad spend", "EUR", "2024-01-04", "2024-01-07", 2, True),
    }
    assert compiled_tests["assert_amounts_have_fx_rates"]["severity"] == "warn"


def test_window_warning_counts_rows_outside_the_history_window(compiled_tests):
    """Two leads before the window (narrowed by `history_start`) and one charge after today."""
    fixture = {
        "util_history_window": WINDOW,
        "int_crm_leads_unioned": [
            {"created_at": "2023-11-02 10:00:00", "is_deleted": False},
            {"created_at": "2023-12-31 23:00:00", "is_deleted": False},
            {"created_at": "2023-12-01 10:00:00", "is_deleted": True},
            {"created_at": "2024-01-01 00:00:00", "is_deleted": False},
        ],
        "stg_stripe__charges": [{"created_at": "2024-03-11 09:00:00"}],
        "int_ad_spend_unioned": [{"report_date": "2024-03-10"}],
    }
    rows = _run(compiled_tests["assert_rows_inside_history_window"], fixture)
    found = {(row[0], row[1], row[2], str(row[3]), str(row[4])) for row in rows}
    assert found == {
        ("leads", 2, 0, "2023-11-02", "2023-12-31"),
        ("charges", 0, 1, "2024-03-11", "2024-03-11"),
    }
    assert compiled_tests["assert_rows_inside_history_window"]["severity"] == "warn"
