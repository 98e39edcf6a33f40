"""The export contract is consistent and docs/EXPORTS.md shows exactly what the code enforces."""

from pathlib import Path

from revops import contract

ROOT = Path(__file__).resolve().parent.parent


def test_every_object_has_a_known_source_and_format():
    for obj in contract.OBJECTS:
        assert obj.source in contract.SOURCES, obj.folder
        assert obj.format in {"csv", "jsonl"}, obj.folder
        names = obj.column_names
        assert len(names) == len(set(names)), f"duplicate column in {obj.folder}"
        for key in obj.key:
            assert key in obj.required_columns, f"{obj.folder}: key {key} must be required"
        if obj.version_column:
            assert obj.version_column in obj.required_columns


def test_folders_are_unique_and_raw_tables_are_lower_case():
    folders = [o.folder for o in contract.OBJECTS]
    assert len(folders) == len(set(folders))
    assert contract.get("salesforce", "Lead").raw_table == "salesforce__lead"


def test_exports_doc_contains_the_rendered_contract():
    doc = (ROOT / "docs" / "EXPORTS.md").read_text()
    assert contract.render_markdown() in doc, (
        "docs/EXPORTS.md is out of date: paste the output of `revops contract` into it"
    )
