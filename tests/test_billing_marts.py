"""End to end on the `s` company with every --dirty fault (the `s_dirty_warehouse` session
build of tests/conftest.py): `mrr_by_month` must equal truth.json `mrr` to the cent per month and
segment, for MRR, constant-currency MRR, customers and every movement."""

from __future__ import annotations

from decimal import Decimal

import duckdb

from tests import truth_support as ts


def test_mrr_by_month_and_segment_equals_the_truth(s_dirty_warehouse):
    company, warehouse = s_dirty_warehouse
    con = duckdb.connect(str(warehouse), read_only=True)
    assert ts.assert_mrr_equals_truth(con, company.truth) > 1000
    constant = {
        (month, segment): value
        for month, segment, value in con.execute(
            "select strftime(month, '%Y-%m'), segment, sum(mrr_constant_currency) "
            "from fct_mrr group by all"
        ).fetchall()
    }
    for row in company.truth["mrr"]:
        key = (row["month"], row["segment"])
        assert Decimal(constant.get(key, 0)) == Decimal(row["mrr_constant_currency"]), key
    # All is the sum of the segments
    got = dict(
        con.execute(
            "select strftime(month, '%Y-%m'), mrr from mrr_by_month where segment = 'All'"
        ).fetchall()
    )
    for month in {row["month"] for row in company.truth["mrr"]}:
        total = sum(
            (Decimal(row["mrr"]) for row in company.truth["mrr"] if row["month"] == month),
            Decimal(0),
        )
        assert Decimal(got[month]) == total, month


def test_every_month_of_history_is_in_mrr_by_month(s_dirty_warehouse):
    company, warehouse = s_dirty_warehouse
    con = duckdb.connect(str(warehouse), read_only=True)
    months = {row["month"] for row in company.truth["mrr"]}
    got = con.execute(
        "select strftime(month, '%Y-%m'), count(*) from mrr_by_month group by all"
    ).fetchall()
    assert {month for month, _ in got} == months
    assert {count for _, count in got} == {5}


def test_test_customers_have_no_mrr(s_dirty_warehouse):
    company, warehouse = s_dirty_warehouse
    con = duckdb.connect(str(warehouse), read_only=True)
    fault = next(f for f in company.truth["dirty"] if f["fault"] == "test_accounts")
    customers = fault["customers"]
    placeholders = ", ".join("?" for _ in customers)
    count = con.execute(
        f"select count(*) from fct_mrr where customer_id in ({placeholders})", customers
    ).fetchone()[0]
    assert count == 0


def test_an_exchange_rate_move_alone_is_never_an_expansion(s_dirty_warehouse):
    """A customer whose items are worth exactly the same in its own currency as last month
    (a flat native MRR) is `unchanged` whatever the rates did, and its whole MRR change is
    fx_mrr; there are many such customer-months with a non-zero fx on the `s` company."""
    _, warehouse = s_dirty_warehouse
    con = duckdb.connect(str(warehouse), read_only=True)
    flat = con.execute(
        """
        with native as (
            select
                customer_id,
                month_start_date as month,
                monthly_value_x1200,
                lag(monthly_value_x1200) over (
                    partition by customer_id order by month_start_date
                ) as previous_value_x1200
            from int_mrr_customer_months
        )
        select f.movement, f.mrr - f.previous_mrr = f.fx_mrr, f.fx_mrr <> 0, count(*)
        from fct_mrr as f
        inner join native as n on f.customer_id = n.customer_id and f.month = n.month
        where n.monthly_value_x1200 > 0 and n.monthly_value_x1200 = n.previous_value_x1200
        group by all
        """
    ).fetchall()
    assert {(movement, balanced) for movement, balanced, _, _ in flat} == {("unchanged", True)}
    assert sum(count for _, _, moved, count in flat if moved) > 1000, flat
