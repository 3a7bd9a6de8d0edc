"""JSON Schema -> grammar compiler: its options (additional properties, whitespace modes, lenient
mode), the keywords it refuses with their keyword and pointer, unsatisfiable or malformed roots,
annotations it ignores, and shared definitions compiled once."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from maaza_rt import SchemaError
from maaza_rt.grammar import Grammar

sys.path.insert(0, str(Path(__file__).parent))
from schema_oracle import matches, repro  # noqa: E402


def test_schema_additional_properties_option() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    assert not matches(Grammar.from_json_schema(schema), '{"a":1,"b":2}')
    assert matches(Grammar.from_json_schema(schema, additional_properties=True), '{"a":1,"b":2}')
    assert not matches(
        Grammar.from_json_schema(schema, additional_properties=True), '{"a":1,"a":2}'
    )


@pytest.mark.parametrize(
    ("whitespace", "good", "bad"),
    [
        ("compact", ['{"a":1,"b":[1,2]}', '{"a":1,"b":[]}'], ['{"a": 1, "b": [1, 2]}', ' {"a":1}']),
        (
            "python",
            ['{"a": 1, "b": [1, 2]}', '{"a": 1, "b": []}'],
            ['{"a":1,"b":[1,2]}', '{"a": 1,"b": [1, 2]}', '{ "a": 1}'],
        ),
        (
            "flexible",
            [
                '{"a":1,"b":[1,2]}',
                '{ "a" : 1 ,\n\t"b" : [ 1 , 2 ] }',
                '{"a":1,"b":[ ]}',
                '{"a":' + " " * 24 + "1}",
            ],
            ['{"a":' + " " * 25 + "1}", '{"a":1,"b":[1,2]} ', '{"a"\u00a0:1}'],
        ),
    ],
)
def test_schema_whitespace_modes(whitespace: str, good: list[str], bad: list[str]) -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "b": {"type": "array", "items": {"type": "integer"}},
        },
        "required": ["a"],
    }
    grammar = Grammar.from_json_schema(schema, whitespace=whitespace)
    for text in good:
        assert matches(grammar, text), repro(schema, text, grammar)
    for text in bad:
        assert not matches(grammar, text), repro(schema, text, grammar)


def test_schema_whitespace_const_python() -> None:
    grammar = Grammar.from_json_schema({"const": {"x": [1, 2], "y": {}}}, whitespace="python")
    assert matches(grammar, json.dumps({"x": [1, 2], "y": {}}))
    assert not matches(grammar, '{"x":[1,2],"y":{}}')


def test_schema_flexible_whitespace_is_capped() -> None:
    grammar = Grammar.from_json_schema({"type": "array"}, whitespace="flexible", max_whitespace=3)
    assert matches(grammar, "[   1   ]")
    assert not matches(grammar, "[    1]")


# (schema, keyword, pointer) for keywords the compiler refuses.
REFUSED = [
    ({"not": {"type": "string"}}, "not", ""),
    ({"type": "object", "properties": {"a": {"if": {}, "then": {}}}}, "if", "/properties/a"),
    ({"type": "array", "uniqueItems": True}, "uniqueItems", ""),
    ({"type": "array", "contains": {"type": "integer"}}, "contains", ""),
    ({"type": "object", "patternProperties": {"^a": {}}}, "patternProperties", ""),
    ({"type": "object", "propertyNames": {"maxLength": 3}}, "propertyNames", ""),
    ({"dependentRequired": {"a": ["b"]}}, "dependentRequired", ""),
    ({"dependencies": {"a": ["b"]}}, "dependencies", ""),
    ({"type": "object", "minProperties": 1}, "minProperties", ""),
    ({"type": "object", "maxProperties": 1}, "maxProperties", ""),
    ({"unevaluatedProperties": False}, "unevaluatedProperties", ""),
    ({"type": "array", "items": {"unevaluatedItems": False}}, "unevaluatedItems", "/items"),
    ({"$ref": "https://example.com/s.json"}, "$ref", ""),
    ({"$ref": "#/$defs/missing"}, "$ref", ""),
    ({"type": "number", "multipleOf": 0.5}, "multipleOf", ""),
    ({"type": "string", "format": "ipv6"}, "format", ""),
    ({"type": "string", "pattern": "(?=a)b"}, "pattern", ""),
    ({"type": "string", "pattern": "(a)\\1"}, "pattern", ""),
    ({"type": "string", "pattern": "[a"}, "pattern", ""),
    ({"type": "string", "pattern": "^a", "maxLength": 3}, "maxLength", ""),
    ({"type": "object", "properties": {"x": {"type": "float"}}}, "type", "/properties/x"),
    ({"type": "object", "required": "a"}, "required", ""),
    ({"type": "string", "minLength": -1}, "minLength", ""),
    ({"type": "object", "properties": {"a~b": {"nullable": True}}}, "nullable", "/properties/a~0b"),
    ({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}, "$ref", ""),
    (
        {"properties": {"a": {"type": "integer", "minimum": 5, "maximum": 4}}},
        "minimum",
        "/properties/a",
    ),
    ({"items": {"type": "string", "minLength": 3, "maxLength": 2}}, "minLength", "/items"),
    ({"anyOf": [{"type": "array", "minItems": 3, "maxItems": 2}, {}]}, "minItems", "/anyOf/0"),
    ({"allOf": [{"pattern": "a"}, {"pattern": "b"}]}, "allOf", ""),
]


@pytest.mark.parametrize(("schema", "keyword", "pointer"), REFUSED, ids=[k for _, k, _ in REFUSED])
def test_schema_refused_keyword(schema: Any, keyword: str, pointer: str) -> None:
    with pytest.raises(SchemaError) as info:
        Grammar.from_json_schema(schema)
    assert info.value.keyword == keyword, str(info.value)
    if keyword != "allOf":
        assert info.value.pointer == pointer, str(info.value)


@pytest.mark.parametrize(
    "schema",
    [
        False,
        {"type": "integer", "minimum": 5, "maximum": 4},
        {"type": "array", "minItems": 3, "maxItems": 2},
        {"type": "object", "properties": {"a": False}, "required": ["a"]},
        {"enum": []},
        {"allOf": [{"type": "string"}, {"type": "integer"}]},
        3,
        "x",
    ],
)
def test_schema_unsatisfiable_or_malformed_root(schema: Any) -> None:
    with pytest.raises(SchemaError):
        Grammar.from_json_schema(json.dumps(schema))


def test_schema_ref_inside_embedded_resource_refused() -> None:
    schema = {"$defs": {"inner": {"$id": "https://example.com/inner",
                                  "$defs": {"x": {"type": "integer"}},
                                  "$ref": "#/$defs/x"},
                        "x": {"type": "string"}},
              "$ref": "#/$defs/inner"}
    with pytest.raises(SchemaError) as e:
        Grammar.from_json_schema(schema)
    assert (e.value.keyword, e.value.pointer) == ("$ref", "/$defs/inner")


def test_schema_lenient_lists_ignored() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "array", "uniqueItems": True},
            "b": {"type": "string", "format": "ipv6"},
        },
        "not": {"required": ["a"]},
    }
    grammar = Grammar.from_json_schema(schema, lenient=True)
    assert sorted(grammar.ignored) == [
        "format at /properties/b",
        "not at #",
        "uniqueItems at /properties/a",
    ]
    assert matches(grammar, '{"a":[1,1],"b":"::1"}')
    assert Grammar.from_json_schema({"type": "string"}, lenient=True).ignored == []


def test_schema_annotations_ignored_silently() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "x",
        "title": "t",
        "description": "d",
        "examples": [1],
        "default": 1,
        "$comment": "c",
        "readOnly": True,
        "writeOnly": False,
        "deprecated": False,
        "type": "integer",
    }
    grammar = Grammar.from_json_schema(schema)
    assert grammar.ignored == []
    assert matches(grammar, "1")


def test_schema_non_vocabulary_keywords_are_annotations() -> None:
    schema = {
        "id": "http://example.com/draft4-id",
        "type": "object",
        "properties": {"a": {"type": "integer", "x-order": 1, "javaType": "Long"}},
        "allOf": [{"x-note": "left"}, {"x-note": "right", "required": ["a"]}],
    }
    grammar = Grammar.from_json_schema(schema)
    assert grammar.ignored == []
    assert matches(grammar, '{"a":1}')
    assert not matches(grammar, "{}")
    assert not matches(grammar, '{"a":"1"}')


def test_schema_shared_rules_stay_small() -> None:
    item = {
        "type": "object",
        "properties": {f"k{i}": {"type": "string", "maxLength": 50} for i in range(10)},
    }
    by_ref = {
        "$defs": {"item": item},
        "type": "object",
        "properties": {f"p{i}": {"$ref": "#/$defs/item"} for i in range(30)},
    }
    inline = {"type": "object", "properties": {f"p{i}": item for i in range(30)}}
    shared = Grammar.from_json_schema(by_ref).to_gbnf()
    copied = Grammar.from_json_schema(inline).to_gbnf()
    # 30 references to one definition compile it once; 30 inline copies compile it 30 times.
    assert len(shared) * 4 < len(copied), shared
    assert shared.count("char ::=") == 1
