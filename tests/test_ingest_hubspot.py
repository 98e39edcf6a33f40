"""HubSpot exports (CRM v3 objects as JSON lines) load losslessly into the same ledger as every
other source; bad HubSpot files are rejected or quarantined with file, line and column named;
a re-run loads nothing twice. Tiny hand-written files, no generator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from revops import contract
from revops.ingest import SOURCE_OPTIONAL_NOT_DELIVERED, ingest_landing
from revops.ingest.summary import SOURCE_MISSING, source_status
from tests.ingest_support import DAY, DAY2, jsonl_bytes, ledger, query, write

TS = "2025-03-01T14:02:11.000Z"


def contact(cid: Any, **props: str) -> dict[str, Any]:
    return {
        "id": cid,
        "properties": {
            "email": f"c{cid}@example.com",
            "lifecyclestage": "lead",
            "createdate": TS,
            "lastmodifieddate": TS,
            **props,
        },
        "propertiesWithHistory": {
            "lifecyclestage": [
                {"value": "lead", "timestamp": TS, "sourceType": "CRM_UI", "sourceId": "x"}
            ]
        },
        "associations": {"companies": {"results": [{"id": "501", "type": "contact_to_company"}]}},
        "createdAt": TS,
        "updatedAt": TS,
        "archived": False,
    }


def company(cid: str) -> dict[str, Any]:
    return {
        "id": cid,
        "properties": {"name": f"Co {cid}", "domain": "example.com", "createdate": TS},
        "createdAt": TS,
        "updatedAt": TS,
        "archived": False,
    }


def deal(did: str, **props: str) -> dict[str, Any]:
    return {
        "id": did,
        "properties": {
            "dealname": f"Deal {did}",
            "pipeline": "default",
            "dealstage": "qualification",
            "amount": "12000.50",
            "deal_currency_code": "EUR",
            "closedate": "2025-04-01T00:00:00.000Z",
            "createdate": TS,
            **props,
        },
        "propertiesWithHistory": {
            "dealstage": [{"value": "qualification", "timestamp": TS, "sourceType": "CRM_UI"}]
        },
        "associations": {
            "companies": {"results": [{"id": "501", "type": "deal_to_company"}]},
            "contacts": {"results": [{"id": "101", "type": "deal_to_contact"}]},
        },
        "createdAt": TS,
        "updatedAt": TS,
        "archived": False,
    }


OWNER = {
    "id": "9001",
    "email": "ae@example.com",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "userId": 4242,
    "teams": [{"id": "1", "name": "Account Executive", "primary": True}],
    "createdAt": TS,
    "updatedAt": TS,
    "archived": False,
}
PIPELINE = {
    "id": "default",
    "label": "Sales Pipeline",
    "displayOrder": 0,
    "stages": [
        {
            "id": "qualification",
            "label": "Qualification",
            "displayOrder": 0,
            "metadata": {"probability": "0.2", "isClosed": "false"},
            "archived": False,
            "createdAt": TS,
            "updatedAt": TS,
        }
    ],
    "createdAt": TS,
    "updatedAt": TS,
    "archived": False,
}


def good_landing(landing: Path) -> dict[str, list[dict[str, Any]]]:
    """One delivery of each required HubSpot object; returns what was written, by object."""
    written = {
        "contacts": [contact("101"), contact("102", lifecyclestage="marketingqualifiedlead")],
        "companies": [company("501")],
        "deals": [deal("701")],
        "owners": [OWNER],
        "deal_pipelines": [PIPELINE],
    }
    for name, data in written.items():
        write(landing, f"hubspot/{name}", DAY, f"{name}.jsonl", jsonl_bytes(data))
    return written


def hubspot_objects() -> list[contract.ExportObject]:
    return [o for o in contract.OBJECTS if o.source == "hubspot"]


def test_good_hubspot_files_load_losslessly_into_the_ledger(tmp_path: Path):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    written = good_landing(landing)

    summary = ingest_landing(landing, warehouse, objects=hubspot_objects())

    assert summary.ok
    rows = {r["file_path"]: r for r in ledger(warehouse)}
    for name, data in written.items():
        entry = rows[f"hubspot/{name}/{DAY}/{name}.jsonl"]
        assert (entry["status"], entry["rows_read"], entry["rows_loaded"]) == (
            "loaded",
            len(data),
            len(data),
        )
        # every top-level field of every line is in raw, nested values as their JSON text
        table = f"raw.hubspot__{name}"
        for record in data:
            columns = list(record)
            quoted = ", ".join(f'"{c}"' for c in columns)
            got = query(warehouse, f"select {quoted} from {table} where id = ?", [record["id"]])
            assert len(got) == 1, (name, record["id"])
            for column, value in zip(columns, got[0], strict=True):
                if isinstance(value, str) and value[:1] in "[{":
                    assert json.loads(value) == record[column], (name, column)
                elif isinstance(record[column], bool):
                    assert value == str(record[column]).lower(), (name, column)
                else:
                    assert value == str(record[column]), (name, column)
    # nothing quarantined or rejected
    assert query(warehouse, "select count(*) from raw._quarantine") == [(0,)]
    assert query(warehouse, "select count(*) from raw._rejects") == [(0,)]


def test_a_numeric_id_is_kept_as_its_digits(tmp_path: Path):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    write(landing, "hubspot/contacts", DAY, "c.jsonl", jsonl_bytes([contact(12345678901)]))

    assert ingest_landing(landing, warehouse, objects=["hubspot/contacts"]).ok
    assert query(warehouse, "select id from raw.hubspot__contacts") == [("12345678901",)]


def test_rerun_is_idempotent(tmp_path: Path):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    good_landing(landing)
    ingest_landing(landing, warehouse, objects=hubspot_objects())
    before = query(warehouse, "select count(*) from raw.hubspot__contacts")
    n_ledger = len(ledger(warehouse))

    again = ingest_landing(landing, warehouse, objects=hubspot_objects())

    assert again.ok
    assert query(warehouse, "select count(*) from raw.hubspot__contacts") == before == [(2,)]
    assert len(ledger(warehouse)) == n_ledger  # handled files are not attempted again
    # a second delivery with a newer version appends one row, old versions stay
    newer = contact("101", lifecyclestage="customer")
    newer["updatedAt"] = "2025-03-02T09:00:00.000Z"
    write(landing, "hubspot/contacts", DAY2, "contacts.jsonl", jsonl_bytes([newer]))
    assert ingest_landing(landing, warehouse, objects=["hubspot/contacts"]).ok
    assert query(warehouse, "select count(*) from raw.hubspot__contacts") == [(3,)]


def _lines(*records: Any) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records).encode(
        "utf-8"
    )


def test_bad_lines_are_rejected_with_file_and_line(tmp_path: Path):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    no_id = contact("103")
    del no_id["id"]
    path = "hubspot/contacts/2025-03-01/contacts.jsonl"
    write(
        landing,
        "hubspot/contacts",
        DAY,
        "contacts.jsonl",
        _lines(
            contact("101"),
            '{"id": "102", "properties": {',  # line 2: invalid JSON
            '["not", "an", "object"]',  # line 3: not an object
            no_id,  # line 4: no key
            contact("105"),
        ),
    )

    summary = ingest_landing(landing, warehouse, objects=["hubspot/contacts"])

    (entry,) = ledger(warehouse, path)
    assert (entry["rows_read"], entry["rows_loaded"], entry["rows_rejected"]) == (5, 2, 3)
    rejects = query(
        warehouse,
        "select line_number, error_type from raw._rejects where file_path = ? order by 1",
        [path],
    )
    assert [line for line, _ in rejects] == [2, 3, 4]
    assert query(warehouse, "select id from raw.hubspot__contacts order by id") == [
        ("101",),
        ("105",),
    ]
    assert summary.ok or summary.objects  # a partly bad file still loads its good lines


def test_missing_required_properties_and_wrong_types_are_quarantined(tmp_path: Path):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    no_properties = deal("702")
    del no_properties["properties"]
    bad_time = deal("703")
    bad_time["updatedAt"] = "yesterday"
    bad_archived = deal("704")
    bad_archived["archived"] = "maybe"
    not_object = deal("705")
    not_object["properties"] = "dealname=x"
    write(
        landing,
        "hubspot/deals",
        DAY,
        "deals.jsonl",
        _lines(deal("701"), no_properties, bad_time, bad_archived, not_object),
    )

    ingest_landing(landing, warehouse, objects=["hubspot/deals"])

    got = query(
        warehouse,
        "select row_number, column_name, rule from raw._quarantine "
        "where file_path = 'hubspot/deals/2025-03-01/deals.jsonl' order by 1, 2",
    )
    assert got == [
        (2, "properties", "required"),
        (3, "updatedAt", "cast:timestamp"),
        (4, "archived", "cast:boolean"),
        (5, "properties", "cast:object"),
    ]
    assert query(warehouse, "select id from raw.hubspot__deals") == [("701",)]


def test_a_file_without_a_required_column_fails_whole(tmp_path: Path):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    pipeline = dict(PIPELINE)
    del pipeline["stages"]
    write(landing, "hubspot/deal_pipelines", DAY, "p.jsonl", jsonl_bytes([pipeline]))

    ingest_landing(landing, warehouse, objects=["hubspot/deal_pipelines"])

    (entry,) = ledger(warehouse)
    assert entry["status"] == "failed"
    assert "stages" in entry["error"]
    assert query(warehouse, "select count(*) from raw.hubspot__deal_pipelines") == [(0,)]


@pytest.mark.parametrize(
    ("delivered", "expected_unused"),
    [
        (set(), {"hubspot"}),  # nothing yet: Salesforce is expected
        ({"salesforce", "stripe"}, {"hubspot"}),
        ({"hubspot", "stripe"}, {"salesforce"}),
        ({"salesforce", "hubspot"}, set()),  # both delivered: both expected
    ],
)
def test_the_crm_a_company_does_not_use_is_not_expected(delivered, expected_unused):
    assert contract.unused_sources(delivered) == expected_unused
    contacts = contract.get("hubspot", "contacts")
    lead = contract.get("salesforce", "Lead")
    for obj in (contacts, lead):
        status = source_status(obj, 0, 0, delivered)
        if obj.source in expected_unused:
            assert status == SOURCE_OPTIONAL_NOT_DELIVERED
        else:
            assert status == SOURCE_MISSING
