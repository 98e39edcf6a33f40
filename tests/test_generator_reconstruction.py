"""The exports alone reproduce truth.json: an independent reading of the files, in plain
DuckDB SQL, following only the rules docs/EXPORTS.md states (latest version wins, deletes,
status history, service periods of invoice lines, FX rules). If this fails, either the files
or the truth are wrong, and the warehouse could never match the truth."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

SEGMENT_SQL = """
    case
        when {col} is null then 'Unknown'
        when {col} >= 1000 then 'Enterprise'
        when {col} >= 200 then 'Mid-Market'
        else 'SMB'
    end
"""


def _csv(root: Path, folder: str) -> str:
    return (
        f"read_csv('{root}/{folder}/*/*.csv', all_varchar = true, header = true, "
        "union_by_name = true, filename = true, ignore_errors = true)"
    )


def _json(root: Path, folder: str) -> str:
    # Raw JSON text per line: schema inference from a sample would type a key that is null in
    # the sampled files as NULL and lose its later values.
    return (
        f"read_ndjson_objects('{root}/{folder}/*/*.jsonl', filename = true, ignore_errors = true)"
    )


def _views(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    """Latest version of each record, as the contract says, and what the funnel needs."""
    con.execute(
        f"""
        create or replace table leads as
        select * from {_csv(root, "salesforce/Lead")}
        qualify row_number() over (
            partition by Id order by LastModifiedDate desc, filename desc
        ) = 1;
        create or replace view test_emails as
        select unnest(['example.com', 'northwind.io']) as domain;
        create or replace view live_leads as
        select
            Id as lead_id,
            cast(CreatedDate as timestamp) as created_at,
            {SEGMENT_SQL.format(col="try_cast(NumberOfEmployees as integer)")} as segment
        from leads
        where IsDeleted = 'false'
          and split_part(lower(trim(Email)), '@', 2) not in (select domain from test_emails);
        create or replace table status_events as
        with history as (
            select * from {_csv(root, "salesforce/LeadHistory")} where Field = 'Status'
        ),
        first_change as (
            select LeadId, arg_min(OldValue, CreatedDate) as old_value
            from history group by LeadId
        ),
        initial as (
            select l.Id as lead_id, l.CreatedDate as changed_at,
                coalesce(f.old_value, l.Status) as status
            from leads l left join first_change f on f.LeadId = l.Id
        )
        select lead_id, cast(changed_at as timestamp) as changed_at, status from initial
        union all
        select LeadId, cast(CreatedDate as timestamp), NewValue from history;
        create or replace view stages as
        select lead_id,
            min(changed_at) filter (where status in
                ('Marketing Qualified', 'Sales Qualified', 'Closed - Converted')) as mql_at,
            min(changed_at) filter (
                where status in ('Sales Qualified', 'Closed - Converted')
            ) as sql_at
        from status_events group by lead_id;
        create or replace table accounts as
        select * from {_csv(root, "salesforce/Account")}
        qualify row_number() over (
            partition by Id order by LastModifiedDate desc, filename desc) = 1;
        create or replace table fx as
        select cast(rate_date as date) as rate_date, base_currency as currency,
            cast(rate as decimal(18, 6)) as rate
        from {_csv(root, "reference/fx_rates")}
        union all
        select distinct cast(rate_date as date), 'USD', 1.0
        from {_csv(root, "reference/fx_rates")};
        create or replace table opps as
        select o.*, {SEGMENT_SQL.format(col="try_cast(a.NumberOfEmployees as integer)")} as segment
        from (
            select * from {_csv(root, "salesforce/Opportunity")}
            qualify row_number() over (
                partition by Id order by LastModifiedDate desc, filename desc) = 1
        ) o
        left join accounts a on a.Id = o.AccountId
        where o.IsDeleted = 'false';
        """
    )


def _funnel(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], dict[str, object]]:
    out: dict[tuple[str, str], dict[str, object]] = defaultdict(dict)
    queries = {
        "leads": """select strftime(created_at, '%Y-%m'), segment, count(*)
                    from live_leads group by all""",
        "mqls": """select strftime(s.mql_at, '%Y-%m'), l.segment, count(*) from live_leads l
                   join stages s using (lead_id) where s.mql_at is not null group by all""",
        "sqls": """select strftime(s.sql_at, '%Y-%m'), l.segment, count(*) from live_leads l
                   join stages s using (lead_id) where s.sql_at is not null group by all""",
        "opportunities_created": """select strftime(cast(CreatedDate as timestamp), '%Y-%m'),
                   segment, count(*) from opps group by all""",
        "opportunities_won": """select strftime(cast(CloseDate as date), '%Y-%m'), segment,
                   count(*) from opps where IsWon = 'true' group by all""",
        "opportunities_lost": """select strftime(cast(CloseDate as date), '%Y-%m'), segment,
                   count(*) from opps where IsClosed = 'true' and IsWon = 'false' group by all""",
        "won_amount": """select strftime(cast(o.CloseDate as date), '%Y-%m'), o.segment,
                   sum(round(cast(o.Amount as decimal(18, 2)) * fx.rate, 2))
                   from opps o join fx on fx.rate_date = cast(o.CloseDate as date)
                    and fx.currency = o.CurrencyIsoCode
                   where o.IsWon = 'true' group by all""",
    }
    for name, sql in queries.items():
        for month, segment, value in con.execute(sql).fetchall():
            out[(month, segment)][name] = value
    return out


def _check_funnel(company) -> None:
    con = duckdb.connect()
    _views(con, company.out)
    got = _funnel(con)
    for row in company.truth["funnel"]:
        key = (row["month"], row["segment"])
        for name in (
            "leads",
            "mqls",
            "sqls",
            "opportunities_created",
            "opportunities_won",
            "opportunities_lost",
        ):
            assert got.get(key, {}).get(name, 0) == row[name], (key, name)
        assert Decimal(got.get(key, {}).get("won_amount", 0)) == Decimal(row["won_amount"]), key


def test_funnel_in_the_files_equals_the_truth(xs_company):
    _check_funnel(xs_company)


def test_funnel_in_dirty_files_equals_the_truth(xs_dirty):
    _check_funnel(xs_dirty)


MRR_SQL = """
with
subs as (
    select * from {subs}
    qualify row_number() over (partition by json->>'id' order by filename desc) = 1
),
sub as (
    select json->>'id' as subscription_id, json->>'customer' as customer_id,
        cast(json->>'start_date' as bigint) as started, cast(json->>'ended_at' as bigint) as ended
    from subs
),
lines as (
    select distinct on (json->>'id') json from {lines}
),
line as (
    select
        json->>'subscription' as subscription_id,
        json->>'subscription_item' as item_id,
        cast(json->'period'->>'start' as bigint) as period_start,
        cast(json->'period'->>'end' as bigint) as period_end,
        cast(json->>'amount' as bigint) as amount,
        cast(json->>'quantity' as bigint) as quantity,
        cast(json->'price'->>'unit_amount' as bigint) as unit_amount,
        json->'price'->'recurring'->>'interval' as interval,
        cast(json->'price'->'recurring'->>'interval_count' as bigint) as interval_count,
        coalesce(cast(json->'discounts'->0->'coupon'->>'percent_off' as bigint), 0) as pct,
        cast(json->>'proration' as boolean) as proration
    from lines
    where json->>'type' = 'subscription' and cast(json->>'amount' as bigint) >= 0
),
months as (
    select m as month_start,
        least(m + interval 1 month, timestamp '{end}') as month_end
    from range(timestamp '{start}', timestamp '{end}', interval 1 month) t(m)
),
refs as (
    select s.*, mo.month_start,
        least(epoch(mo.month_end)::bigint, coalesce(s.ended, 9e18::bigint)) - 1 as t_ref
    from sub s cross join months mo
),
in_service as (
    select * from refs where t_ref >= epoch(month_start)::bigint and t_ref >= started
),
state as (
    select r.customer_id, r.month_start, l.*,
        row_number() over (
            partition by r.subscription_id, l.item_id, r.month_start
            order by l.period_start desc, l.proration desc
        ) as rn
    from in_service r
    join line l on l.subscription_id = r.subscription_id
        and l.period_start <= r.t_ref and r.t_ref < l.period_end
),
valued as (
    select customer_id, month_start,
        case when amount = 0 then 0 else
            cast(unit_amount as hugeint) * quantity * (100 - pct) * case
                when interval = 'month' then 12 // interval_count
                when interval = 'year' then 1
                when interval = 'week' then 52 // interval_count
            end
        end as numer
    from state where rn = 1
),
customers as (
    select json->>'id' as customer_id, json->>'currency' as currency,
        json->'metadata'->>'crm_account_id' as account_id,
        lower(trim(json->>'email')) as email
    from {customers}
    qualify row_number() over (partition by json->>'id' order by filename desc) = 1
),
month_rate as (
    select currency, date_trunc('month', rate_date) as month_start,
        arg_max(rate, rate_date) as rate
    from fx group by all
),
per_customer as (
    select v.customer_id, v.month_start, sum(v.numer) as numer
    from valued v group by all
)
select
    strftime(p.month_start, '%Y-%m') as month,
    {segment} as segment,
    c.customer_id,
    -- exact: numer / 1200 minor units, times the rate, rounded half up to the cent
    cast(floor(
        (p.numer * cast(r.rate * 1000000 as hugeint) * 100 * 2
         + d.denom) // (2 * d.denom)
    ) as bigint) as cents
from per_customer p
join customers c using (customer_id)
cross join lateral (
    select 1200::hugeint * 1000000
        * pow(10, case when c.currency = 'jpy' then 0 else 2 end)::hugeint as denom
) d
join month_rate r on r.currency = upper(c.currency) and r.month_start = p.month_start
left join accounts a on a.Id = c.account_id
    or (c.account_id is null and a.Website = split_part(c.email, '@', 2))
where split_part(c.email, '@', 2) not in (select domain from test_emails)
"""


def _check_mrr(company) -> None:
    root = company.out
    gen = company.truth["generator"]
    con = duckdb.connect()
    _views(con, root)
    end = __import__("datetime").date.fromisoformat(gen["end_date"]) + __import__(
        "datetime"
    ).timedelta(days=1)
    sql = MRR_SQL.format(
        subs=_json(root, "stripe/subscriptions"),
        lines=_json(root, "stripe/invoice_line_items"),
        customers=_json(root, "stripe/customers"),
        start=gen["start_date"],
        end=end.isoformat(),
        segment=SEGMENT_SQL.format(col="try_cast(a.NumberOfEmployees as integer)"),
    )
    rows = con.execute(sql).fetchall()
    got: dict[tuple[str, str], int] = defaultdict(int)
    customers: dict[tuple[str, str], int] = defaultdict(int)
    for month, segment, _customer, cents in rows:
        got[(month, segment)] += cents
        customers[(month, segment)] += cents > 0
    checked = 0
    for row in company.truth["mrr"]:
        key = (row["month"], row["segment"])
        expected = int(Decimal(row["mrr"]) * 100)
        assert got.get(key, 0) == expected, (key, got.get(key, 0), expected)
        assert customers.get(key, 0) == row["customers"], key
        checked += expected > 0
    assert checked > 20


def test_mrr_from_invoice_line_service_periods_equals_the_truth(xs_company):
    _check_mrr(xs_company)


@pytest.mark.parametrize("fixture", ["xs_dirty"])
def test_mrr_in_dirty_files_equals_the_truth(fixture, request):
    _check_mrr(request.getfixturevalue(fixture))
