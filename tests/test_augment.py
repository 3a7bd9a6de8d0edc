"""train/augment.py: field dropout variants of training rows."""

from __future__ import annotations

import pytest
from conftest import EDGEJSON

from maaza_rt import edgejson
from train.augment import MAX_LABEL_WORDS, drop_field, droppable_fields, field_dropout

SCHEMA = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string"}, "age": {"type": "integer"}, "city": {"type": "string"},
    "active": {"type": "boolean"}, "score": {"type": "number"}, "tags": {"type": "array"}}}


def _row(prompt: str, expected: dict) -> dict:
    return {"id": "r1", "schema_id": "s", "prompt": prompt, "expected_output": expected}


def test_optional_scalars_on_their_own_label_line_are_droppable() -> None:
    row = _row("Person\n\nName: Ada\nAge: 36\nCity: London\nActive: True\nScore: 4.5\n"
               "Tags:\n  x\n\nPlease extract.",
               {"name": "Ada", "age": 36, "city": "London", "active": True, "score": 4.5,
                "tags": ["x"]})
    # name is required, tags is an array
    assert droppable_fields(row, SCHEMA) == {"age": 3, "city": 4, "active": 5, "score": 6}


def test_values_that_are_ambiguous_or_in_prose_are_not_droppable() -> None:
    # 36 occurs on two lines; London sits in a sentence; 4.5 is inside 14.5 only
    row = _row("Name: Ada\nAge: 36\nRoom 36\nShe moved to London in the spring of that same "
               "year with her family.\nScore: 14.5",
               {"name": "Ada", "age": 36, "city": "London", "score": 4.5})
    assert droppable_fields(row, SCHEMA) == {}
    # a line that also holds another field's value stays
    shared = _row("Name: Ada, City: London", {"name": "Ada", "city": "London"})
    assert droppable_fields(shared, SCHEMA) == {}
    long_label = "A B C D E F: London"
    assert len(long_label.split()) - 1 > MAX_LABEL_WORDS
    assert droppable_fields(_row(long_label, {"name": "x", "city": "London"}), SCHEMA) == {}


def test_drop_field_removes_the_line_and_the_property() -> None:
    row = _row("Name: Ada\nAge: 36\nCity: London", {"name": "Ada", "age": 36, "city": "London"})
    variant = drop_field(row, "age", 1)
    assert variant["prompt"] == "Name: Ada\nCity: London"
    assert variant["expected_output"] == {"name": "Ada", "city": "London"}
    assert list(variant["expected_output"]) == ["name", "city"]  # order kept
    assert variant["id"] == "r1~without~age" and variant["schema_id"] == "s"
    assert row["expected_output"]["age"] == 36  # the original is untouched


def test_field_dropout_on_edgejson_is_seeded_and_valid() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    rows = edgejson.load_rows(EDGEJSON / "train.jsonl")[:120]
    schemas = edgejson.load_schemas(EDGEJSON / "schemas")
    one = field_dropout(rows, schemas, 1, seed=3)
    assert one == field_dropout(rows, schemas, 1, seed=3)
    assert one != field_dropout(rows, schemas, 1, seed=4)
    assert len(one) > len(rows) // 3
    two = field_dropout(rows, schemas, 2, seed=3)
    assert len(one) < len(two) <= 2 * len(rows)
    by_id = {r["id"]: r for r in rows}
    for v in one:
        source_id, key = v["id"].split("~without~")
        source = by_id[source_id]
        assert key not in v["expected_output"] and key in source["expected_output"]
        removed = set(source["prompt"].split("\n")) - set(v["prompt"].split("\n"))
        assert len(removed) == 1
        assert v["prompt"].count("\n") == source["prompt"].count("\n") - 1
        jsonschema.validate(v["expected_output"], schemas[v["schema_id"]])
    assert field_dropout(rows, schemas, 0, seed=0) == []
    with pytest.raises(ValueError, match="per_row"):
        field_dropout(rows, schemas, -1, seed=0)
