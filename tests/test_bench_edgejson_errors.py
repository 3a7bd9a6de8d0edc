"""bench.edgejson_errors: differences by kind, the ambiguity check, and the command on a
report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import EDGEJSON

from bench import edgejson_errors as errors
from maaza_rt import edgejson


def _kinds(got: Any, expected: Any) -> list[tuple[str, str]]:
    return [(d.kind, d.pointer) for d in errors.differences(got, expected)]


def test_equal_values_have_no_difference() -> None:
    value = {"a": 1, "b": [1.0, {"c": None}], "d/e": "x"}
    assert _kinds(json.loads(json.dumps(value)), value) == []
    assert _kinds({"n": 1.0}, {"n": 1}) == []  # the metrics' equality


def test_each_kind_of_difference_with_its_pointer() -> None:
    expected = {"a": 1, "b": [1, 2, 3], "c": {"d": "x"}, "e": True, "f~g/h": 1}
    got = {"a": 2, "b": [1, 5], "c": ["x"], "e": 1, "z": 0}
    assert _kinds(got, expected) == [
        ("value", "/a"), ("length", "/b"), ("value", "/b/1"), ("type", "/c"),
        ("type", "/e"), ("missing", "/f~0g~1h"), ("extra", "/z")]
    d = errors.differences({"x": [1]}, {"x": [1, 2]})[0]
    assert (d.got, d.expected) == (1, 2)


def test_unparseable_output_is_one_type_difference() -> None:
    rows = {"r": {"id": "r", "schema_id": "s", "expected_output": {"a": 1}}}
    ex = [{"id": "r", "complexity": "simple", "text": "{\"a\":", "scores": {"json_exact": False}}]
    [rec] = errors.analyse(ex, rows, {"s": {}})
    assert [(d.kind, d.pointer) for d in rec["differences"]] == [("type", "")]


SCHEMA = {"type": "object", "properties": {"items": {"type": "array", "items": {
    "type": "object", "properties": {"a": {}, "b": {}, "c": {}}}}}}


@pytest.mark.parametrize(("items", "found"), [
    ([{"a": 1, "c": 2}, {"a": 3}], None),  # a new item starts with a property seen again
    ([{"a": 1, "b": 2}, {"b": 3}], None),  # b after b: a new item
    ([{"a": 1}, {"b": 2}], ("item boundary", "/items/1")),  # reads as one item {a, b}
    ([{"a": 1}, {}, {"a": 2}], ("empty item", "/items/1")),
    ([], None),
])
def test_ambiguity(items: list, found: tuple | None) -> None:
    assert errors.ambiguity({"items": items}, SCHEMA) == found


def test_nested_ambiguity_is_found_through_objects_and_arrays() -> None:
    schema = {"properties": {"outer": {"items": SCHEMA}}}
    value = {"outer": [{"items": [{"a": 1}]}, {"items": [{"c": 1}, {}]}]}
    assert errors.ambiguity(value, schema) == ("empty item", "/outer/1/items/1")


def test_real_rows_with_empty_items_are_ambiguous() -> None:
    rows = edgejson.load_rows(EDGEJSON / "train.jsonl")
    schemas = edgejson.load_schemas(EDGEJSON / "schemas")
    flagged = [r for r in rows if errors.ambiguity(r["expected_output"], schemas[r["schema_id"]])]
    simple = [r for r in rows if edgejson.complexity(r) == "simple"]
    assert flagged and len(flagged) < len(rows) // 4
    # simple schemas have no arrays of objects: nothing in them is ambiguous
    assert not any(r in flagged for r in simple)


def test_command_prints_the_table_and_rows(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    rows = edgejson.load_rows(EDGEJSON / "train.jsonl")
    picked = [next(r for r in rows if edgejson.complexity(r) == c) for c in edgejson.COMPLEXITIES]
    examples = []
    for i, r in enumerate(picked):
        got = dict(r["expected_output"])
        if i:  # the medium and complex rows lose their first property
            got.pop(next(iter(got)))
        examples.append({"id": r["id"], "complexity": edgejson.complexity(r),
                         "text": json.dumps(got), "scores": {"json_exact": i == 0}})
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"engines": {"maaza": {"examples": examples}}}))
    assert errors.main([str(report), "--rows", "5"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("| group | rows | exact | missed |")
    simple = next(line for line in lines if line.startswith("| simple |"))
    assert simple.split(" | ")[1:5] == ["1", "1", "0", "0"]
    total = next(line for line in lines if line.startswith("| all |"))
    cells = total.strip("| ").split(" | ")
    assert cells[1:4] == ["3", "1", "2"]
    assert cells[6] == "2"  # both missed only by a missing property
    assert cells[8] == "2"  # two missed rows with a missing property
    key = next(iter(picked[1]["expected_output"]))
    assert f"  - missing /{key}: expected" in out
    with pytest.raises(SystemExit):
        errors.main([str(report), "--engine", "free"])
