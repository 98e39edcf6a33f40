"""End to end on the `s` company with every --dirty fault (the `s_dirty_warehouse` session build:
generate, ingest, `dbt build`): the funnel and marketing marts must equal truth.json exactly
(counts) and to the cent (amounts)."""

from __future__ import annotations

import duckdb

from tests import truth_support as ts


def test_funnel_by_month_and_segment_equals_the_truth(s_dirty_warehouse):
    company, warehouse = s_dirty_warehouse
    con = duckdb.connect(str(warehouse), read_only=True)
    assert ts.assert_funnel_equals_truth(con, company.truth) > 500


def test_cohort_conversion_equals_the_truth(s_dirty_warehouse):
    company, warehouse = s_dirty_warehouse
    con = duckdb.connect(str(warehouse), read_only=True)
    assert ts.assert_cohorts_equal_truth(con, company.truth) > 100


def test_ad_spend_equals_the_truth(s_dirty_warehouse):
    company, warehouse = s_dirty_warehouse
    con = duckdb.connect(str(warehouse), read_only=True)
    assert ts.assert_spend_equals_truth(con, company.truth) > 50


def test_rep_wins_equal_the_truth(s_dirty_warehouse):
    company, warehouse = s_dirty_warehouse
    con = duckdb.connect(str(warehouse), read_only=True)
    assert ts.assert_rep_wins_equal_truth(con, company.truth) > 100


def test_deal_categories_and_new_business_close_rate_equal_the_truth(s_dirty_warehouse):
    company, warehouse = s_dirty_warehouse
    con = duckdb.connect(str(warehouse), read_only=True)
    assert ts.assert_deal_categories_equal_truth(con, company.truth) > 500


def test_excluded_and_deleted_leads_are_not_in_the_funnel(s_dirty_warehouse):
    company, warehouse = s_dirty_warehouse
    con = duckdb.connect(str(warehouse), read_only=True)
    test_leads = next(f for f in company.truth["dirty"] if f["fault"] == "test_accounts")["leads"]
    placeholders = ", ".join("?" for _ in test_leads)
    assert (
        con.execute(
            f"select count(*) from fct_lead_funnel where lead_id in ({placeholders})", test_leads
        ).fetchone()[0]
        == 0
    )
    deleted = con.execute("select count(*) from stg_salesforce__leads where is_deleted").fetchone()[
        0
    ]
    assert deleted == company.truth["totals"]["leads_deleted"]
    assert (
        con.execute("select count(*) from fct_lead_funnel").fetchone()[0]
        == company.truth["totals"]["leads"]
    )
