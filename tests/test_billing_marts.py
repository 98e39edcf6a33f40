"""End to end on the `s` company with every --dirty fault (the `s_dirty_warehouse` session
build of tests/conftest.py): `mrr_by_month` must equal truth.json `mrr` to the cent per month and
segment, for MRR, constant-currency MRR, customers and every movement."""

from __future__ import annotations

from decimal import Decimal

import duckdb

# truth.json field -> mrr_by_month column.
FIELDS = {
    "mrr": "mrr",
    "customers": "customers",
    "previous_mrr": "starting_mrr",
    "new": "new_mrr",
    "new_customers": "new_customers",
    "reactivation": "reactivation_mrr",
    "reactivation_customers": "reactivation_customers",
    "expansion": "expansion_mrr",
    "expansion_customers": "expansion_customers",
    "contraction": "contraction_mrr",
    "contraction_customers": "contraction_customers",
    "churn": "churn_mrr",
    "churn_customers": "churn_customers",
}


def _by_month_and_segment(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], dict]:
    columns = ", ".join(FIELDS.values())
    rows = con.execute(
        f"select strftime(month, '%Y-%m'), segment, {columns} from mrr_by_month"
    ).fetchall()
    return {(row[0], row[1]): dict(zip(FIELDS, row[2:], strict=True)) for row in rows}


def test_mrr_by_month_and_segment_equals_the_truth(s_dirty_warehouse):
    company, warehouse = s_dirty_warehouse
    con = duckdb.connect(str(warehouse), read_only=True)
    got = _by_month_and_segment(con)
    constant = {
        (month, segment): value
        for month, segment, value in con.execute(
            "select strftime(month, '%Y-%m'), segment, sum(mrr_constant_currency) "
            "from fct_mrr group by all"
        ).fetchall()
    }
    checked = 0
    for row in company.truth["mrr"]:
        key = (row["month"], row["segment"])
        for field in FIELDS:
            assert Decimal(got[key][field]) == Decimal(str(row[field])), (key, field)
            checked += Decimal(str(row[field])) != 0
        assert Decimal(constant.get(key, 0)) == Decimal(row["mrr_constant_currency"]), key
    assert checked > 1000
    # Segments the truth does not list (Unknown) hold nothing, and All is the sum of segments.
    listed = {(row["month"], row["segment"]) for row in company.truth["mrr"]}
    for key, values in got.items():
        if key not in listed and key[1] != "All":
            assert values["mrr"] == 0 and values["churn"] == 0, key
    months = {row["month"] for row in company.truth["mrr"]}
    for month in months:
        total = sum(
            (Decimal(row["mrr"]) for row in company.truth["mrr"] if row["month"] == month),
            Decimal(0),
        )
        assert Decimal(got[(month, "All")]["mrr"]) == total, month


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
