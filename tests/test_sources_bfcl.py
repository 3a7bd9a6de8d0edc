"""Tests of the BFCL converter (train/sources/bfcl.py) on the staged corpus beside the repo:
every row validates, the split is by function name, and known rows convert to known values."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from train.sources import bfcl, in_text, sgd

BFCL = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "bfcl"


@pytest.fixture(scope="module")
def converted() -> dict[str, tuple[list[dict[str, Any]], dict[str, int]]]:
    """Rows and drop counts of both splits, converted once for the module."""
    if not BFCL.is_dir():
        pytest.skip(f"BFCL corpus not staged at {BFCL}")
    return {split: bfcl.convert(BFCL, split) for split in ("train", "dev")}


@pytest.fixture(scope="module")
def by_id(converted: dict[str, tuple[list[dict[str, Any]], dict[str, int]]]
          ) -> dict[str, dict[str, Any]]:
    """All rows of both splits by id."""
    return {r["id"]: r for rows, _ in converted.values() for r in rows}


def _strings(value: Any, node: dict[str, Any]) -> list[str]:
    """The string values of ``value`` outside an enum, walking objects (not lists)."""
    if isinstance(value, dict):
        props = node.get("properties", {})
        if "anyOf" in node:
            props = next((b.get("properties", {}) for b in node["anyOf"]
                          if b.get("type") == "object"), {})
        return [s for k, v in value.items() for s in _strings(v, props.get(k, {}))]
    if isinstance(value, str) and "enum" not in node:
        return [value]
    return []


def test_bfcl_rows_validate_against_their_schema(converted) -> None:
    checked: set[str] = set()
    for split, (rows, _) in converted.items():
        assert len(rows) > (800 if split == "train" else 150), split
        for row in rows:
            canonical = json.dumps(row["schema"], sort_keys=True)
            if canonical not in checked:  # the check is slow; many rows share a schema
                Draft202012Validator.check_schema(row["schema"])
                checked.add(canonical)
            errors = list(Draft202012Validator(row["schema"]).iter_errors(row["expected"]))
            assert not errors, (row["id"], errors[0].message)
            assert row["schema"]["type"] == "object"
            assert row["schema"]["additionalProperties"] is False
            assert row["source"] == "bfcl" and row["text"] and len(row["text"]) <= bfcl.MAX_TEXT


def test_bfcl_ids_unique_and_split_by_function(converted) -> None:
    ids = [r["id"] for rows, _ in converted.values() for r in rows]
    assert len(ids) == len(set(ids))
    train, dev = ({r["schema_id"] for r in converted[s][0]} for s in ("train", "dev"))
    assert not train & dev
    # Also the function names (schema ids without a variant hash) never cross the split.
    names = {s: {i.split("@")[0].removeprefix("bfcl/") for i in ids_}
             for s, ids_ in (("train", train), ("dev", dev))}
    assert not names["train"] & names["dev"]
    assert all(bfcl.split_of(n) == s for s, ns in names.items() for n in ns)
    assert 0.12 < len(names["dev"]) / (len(names["dev"]) + len(names["train"])) < 0.3


def test_bfcl_sgd_made_functions_follow_the_sgd_split(converted) -> None:
    sgd_root = BFCL.parent / "sgd"
    with open(sgd_root / "train" / "schema.json", encoding="utf-8") as f:
        assert bfcl.SGD_TRAIN_SERVICES == {s["service_name"] for s in json.load(f)}
    assert bfcl.SGD_DEV_SERVICES == set(sgd.dev_services(sgd_root))
    assert bfcl.split_of("Hotels_4_SearchHotel") == "dev"
    assert bfcl.split_of("Hotels_2_SearchHouse") == "train"
    # live_multiple_594-158-0 calls Hotels_4_SearchHotel (whose crc32 alone says train).
    assert zlib.crc32(b"Hotels_4_SearchHotel") % 5 != 0
    dev = {r["id"]: r for r in converted["dev"][0]}
    assert dev["bfcl/live_multiple_594-158-0"]["schema_id"].startswith("bfcl/Hotels_4_")
    assert not any(r["schema_id"].startswith(("bfcl/Hotels_4_", "bfcl/Services_4_"))
                   for r in converted["train"][0])


def test_bfcl_rows_sharing_a_schema_id_share_the_schema(converted) -> None:
    seen: dict[str, str] = {}
    for rows, _ in converted.values():
        for row in rows:
            text = json.dumps(row["schema"], sort_keys=True)
            assert seen.setdefault(row["schema_id"], text) == text, row["schema_id"]


def test_bfcl_string_values_occur_in_text(converted) -> None:
    for rows, _ in converted.values():
        for row in rows:
            for value in _strings(row["expected"], row["schema"]):
                assert in_text(value, row["text"]), (row["id"], value)


def test_bfcl_simple_python_0_converts_exactly(by_id) -> None:
    row = by_id["bfcl/simple_python_0"]
    assert row["schema_id"].startswith("bfcl/calculate_triangle_area")
    assert row["text"] == ("Find the area of a triangle with a base of 10 units and height of 5 "
                           "units.")
    assert row["schema"] == {
        "type": "object",
        "properties": {
            "base": {"type": "integer", "description": "The base of the triangle."},
            "height": {"type": "integer", "description": "The height of the triangle."},
            "unit": {"type": "string",
                     "description": "The unit of measure (defaults to 'units' if not specified)"},
        },
        "required": ["base", "height"],
        "additionalProperties": False,
    }
    # unit: ["units", ""] -> "units" is in the text, so it is taken.
    assert row["expected"] == {"base": 10, "height": 5, "unit": "units"}


def test_bfcl_java_types_map_to_json_schema(by_id) -> None:
    row = by_id["bfcl/simple_java_1"]
    props = row["schema"]["properties"]
    assert "type" not in props["object"]  # BFCL "any"
    assert props["useShortName"]["type"] == "boolean"
    assert props["params"]["anyOf"] == [{"type": "object"}, {"type": "string"}]  # HashMap
    assert row["expected"] == {"object": "Customers", "useShortName": True,
                               "params": {"limit": 50, "schemaFilter": "public"}}


def test_bfcl_convert_schema_maps_the_dialect() -> None:
    params = {"type": "dict", "required": ["a"], "properties": {
        "a": {"type": "String", "description": "x" * 500, "default": "q"},
        "b": {"type": "float", "default": 1.5}, "c": {"type": "double"},
        "d": {"type": "tuple", "items": {"type": "integer"}}, "e": {"type": "any"},
        "f": {"type": "HashMap"}, "g": {"type": "ArrayList", "items": {"type": "long"}},
        "h": {"type": "char"}, "i": {"type": "Boolean"},
        "j": {"type": "string", "enum": ["x", "y"], "default": "x"},
        "k": {"type": "dict", "properties": {"n": {"type": "long"}}, "required": ["n"]},
        "l": {"type": "array", "items": {"type": "string"}, "enum": ["p", "q"]}}}
    schema = bfcl.convert_schema(params)
    props = schema["properties"]
    assert schema["type"] == "object" and schema["required"] == ["a"]
    assert props["a"]["type"] == "string" and "default" not in props["a"]
    assert len(props["a"]["description"]) <= bfcl.MAX_DESCRIPTION + 3
    assert props["b"] == {"type": "number"} and props["c"] == {"type": "number"}
    assert props["d"] == {"type": "array", "items": {"type": "integer"}}
    assert props["e"] == {}
    assert props["f"] == {"type": "object"}
    assert props["g"] == {"type": "array", "items": {"type": "integer"}}
    assert props["h"] == {"type": "string"} and props["i"] == {"type": "boolean"}
    assert props["j"] == {"type": "string", "enum": ["x", "y"]}
    assert props["k"] == {"type": "object", "properties": {"n": {"type": "integer"}},
                          "required": ["n"], "additionalProperties": False}
    assert props["l"] == {"type": "array", "items": {"type": "string", "enum": ["p", "q"]}}
    Draft202012Validator.check_schema(schema)
    # In the Java/JavaScript categories a container parameter also takes an expression.
    coded = bfcl.convert_schema(params, code=True)["properties"]
    assert coded["f"] == {"anyOf": [{"type": "object"}, {"type": "string"}]}


def test_bfcl_only_empty_alternatives_are_left_out(by_id) -> None:
    # simple_python_211: cc: [""], bcc: [""] (the request names neither).
    row = by_id["bfcl/simple_python_211"]
    assert row["expected"] == {"to": "john.doe@example.com", "subject": "Meeting",
                               "body": "Let's meet at 10 AM tomorrow"}
    assert "cc" in row["schema"]["properties"] and "bcc" in row["schema"]["properties"]
    assert "cc" not in row["schema"].get("required", [])
    # simple_python_280: make: [""].
    assert by_id["bfcl/simple_python_280"]["expected"] == {"budget": 1000, "type": "acoustic"}


def test_bfcl_optional_defaults_the_text_does_not_state_are_left_out(by_id) -> None:
    # simple_python_25: initial_velocity [0, ""] is stated ("zero"), gravity [9.81, ""] is not.
    assert by_id["bfcl/simple_python_25"]["expected"] == {"height": 150, "initial_velocity": 0}
    # simple_python_2: z ["", 0] is a default.
    assert by_id["bfcl/simple_python_2"]["expected"] == {"x": 4, "y": 5}


def test_bfcl_required_are_stated_or_present(converted) -> None:
    for rows, _ in converted.values():
        for row in rows:
            assert set(row["schema"].get("required", [])) <= set(row["expected"]), row["id"]


def test_bfcl_unstated_required_strings_drop_the_row(converted, by_id) -> None:
    # live_simple_4-3-0: location ["Tel Aviv, Israel"] but the text says only "Tel Aviv".
    assert "bfcl/live_simple_4-3-0" not in by_id
    drops = converted["train"][1]
    assert drops["not_in_text"] > 0
    # Parallel and irrelevance categories are not used.
    assert not any(i.startswith(("bfcl/parallel", "bfcl/irrelevance", "bfcl/live_parallel",
                                 "bfcl/live_irrelevance")) for i in by_id)


def test_bfcl_rejects_unknown_split() -> None:
    with pytest.raises(ValueError):
        bfcl.rows(BFCL, "test")
