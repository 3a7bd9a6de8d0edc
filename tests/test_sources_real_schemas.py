"""Tests of the generator's MaskBench part: eligible schemas, cleaning, placeholders, rows."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from train.sources import in_text, real_schemas

MASKBENCH = Path(__file__).resolve().parents[2] / "shared" / "maskbench"


def _root() -> Path:
    if not MASKBENCH.is_dir():
        pytest.skip("../shared/maskbench is absent")
    return MASKBENCH


def _depth(node: dict, depth: int = 0) -> int:
    props = node.get("properties", {})
    return max([depth] + [_depth(v, depth + 1) for v in props.values() if isinstance(v, dict)])


def test_real_schemas_eligible_are_shallow_and_small() -> None:
    files = real_schemas.eligible(_root())
    assert len(files) > 300
    families = Counter(real_schemas._family(name) for name, _, _ in files)
    assert max(families.values()) <= real_schemas.FAMILY_CAP
    for name, schema, instances in files:
        assert not name.startswith("BFCL_")
        assert schema["type"] == "object" and schema["properties"]
        assert len(json.dumps(schema, separators=(",", ":"))) < 1500
        assert _depth(schema) <= 2
        text = json.dumps(schema)
        for key in ('"pattern"', '"$ref"', '"oneOf"', '"anyOf"', '"allOf"', '"if"'):
            assert key not in text, (name, key)
        validator = Draft202012Validator(schema,
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        assert instances and all(validator.is_valid(i) for i in instances)


def test_real_schemas_clean_schema() -> None:
    raw = {"$schema": "http://json-schema.org/draft-04/schema#", "title": "T",
           "properties": {"a": {"type": "string", "title": "A", "default": "x"},
                          "b": {"type": "integer", "minimum": 1, "description": " "}},
           "required": ["a", "zzz"], "additionalProperties": {"type": "string"}}
    assert real_schemas.clean_schema(raw) == {
        "type": "object", "properties": {"a": {"type": "string"},
                                         "b": {"type": "integer", "minimum": 1}},
        "required": ["a"]}


def test_real_schemas_placeholders() -> None:
    for text in ("string", "your_api_key", "some_id", "example.com", "<name>", "foo", "",
                 "Test value", "trait1"):
        assert real_schemas.looks_placeholder(text, "traits"), text
    assert real_schemas.looks_placeholder("Scientific Name", "name")
    for text in ("Homo sapiens", "London", "BTA456", "2022-01-01", "Bolt Type A"):
        assert not real_schemas.looks_placeholder(text, "part name"), text


def test_real_schemas_rows_split_and_valid() -> None:
    drops: Counter[str] = Counter()
    for split in ("train", "dev"):
        rows = real_schemas.rows(_root(), 120, random.Random(0), split, drops)
        assert len(rows) == 120
        for row in rows:
            stem = row["schema_id"].removeprefix("generator/maskbench/")
            name = stem + ".json" if (MASKBENCH / (stem + ".json")).exists() else stem
            assert real_schemas.is_dev_file(name) == (split == "dev")
            validator = Draft202012Validator(
                row["schema"], format_checker=Draft202012Validator.FORMAT_CHECKER)
            assert validator.is_valid(row["expected"])
            for key, value in row["expected"].items():
                node = row["schema"]["properties"][key]
                if isinstance(value, str) and node.get("format") != "date":
                    assert in_text(value, row["text"]), (value, row["text"])
                    assert not real_schemas.looks_placeholder(value) or "enum" in node
