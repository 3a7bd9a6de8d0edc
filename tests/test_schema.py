"""JSON Schema -> grammar compiler: per-keyword tables of instances that must pass or fail, the
passing ones checked by `jsonschema` as an independent oracle (tests/schema_oracle.py).

The other tests of the compiler: test_schema_options.py (compile options, lenient mode, refused
keywords), test_schema_formats.py (formats and patterns with lengths), test_schema_one_of.py
(oneOf), test_schema_keywords.py (merged keywords and drafts) and test_schema_property.py
(property tests against the oracle and random input)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from maaza_rt.grammar import Grammar

sys.path.insert(0, str(Path(__file__).parent))
from schema_oracle import matches, oracle_valid, repro  # noqa: E402


def _no_constants(name: str) -> Any:
    raise ValueError(name)


# (schema, texts that must match, texts that must not). Passing texts must be valid per the oracle;
# failing texts must be invalid per the oracle unless listed in APPROXIMATED.
TABLE: list[tuple[Any, list[str], list[str]]] = [
    (
        {"type": "string"},
        ['""', '"abc"', '"é😀"', '"\\u00e9"', '"\\ud83d\\ude00"', '"a\\"\\\\\\/"'],
        ["abc", '"a', '"\\ud83d"', '"\\ude00"', '"\\x"', '"\n"', "1", '"\\u12"'],
    ),
    (
        {"type": "integer"},
        ["0", "-1", "42", "123456789012345678"],
        ["1.0", "1e2", "01", "-", "+1", "", "1234567890123456789"],
    ),
    (
        {"type": "number"},
        ["0", "-1.5", "2.25", "1e-05", "1E+16", "-0.0"],
        ["1.", ".5", "01", "1e", "NaN"],
    ),
    ({"type": "boolean"}, ["true", "false"], ["True", "1", "null"]),
    ({"type": "null"}, ["null"], ["None", "0"]),
    ({"type": ["string", "null"]}, ['"x"', "null"], ["1", "true"]),
    ({"type": ["integer", "number"]}, ["1", "1.5"], ['"1"']),
    (
        {"type": "integer", "minimum": 100, "maximum": 599},
        ["100", "250", "599"],
        ["99", "600", "-100", "1000", "0"],
    ),
    (
        {"type": "integer", "minimum": -15, "maximum": -3},
        ["-15", "-10", "-3"],
        ["-16", "-2", "3", "0"],
    ),
    ({"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10}, ["1", "9"], ["0", "10"]),
    ({"type": "integer", "minimum": 0.5, "maximum": 2.5}, ["1", "2"], ["0", "3"]),
    ({"type": "integer", "minimum": 0}, ["0", "7", "999999999999999999"], ["-1", "-0"]),
    (
        {"type": "number", "minimum": 0, "maximum": 100},
        ["0", "100", "100.0", "99.999", "0.5", "42"],
        ["-0.1", "100.01", "101", "-1", "1e2"],
    ),
    (
        {"type": "number", "exclusiveMinimum": 0.5, "maximum": 2.25},
        ["0.50001", "1", "2.25", "2.2"],
        ["0.5", "0.4", "2.251", "3"],
    ),
    (
        {"type": "number", "minimum": -2.5, "exclusiveMaximum": -1},
        ["-2.5", "-1.01", "-2"],
        ["-1", "-2.51", "0", "-0.5"],
    ),
    ({"type": "number", "multipleOf": 1}, ["3"], ["3.5"]),
    (
        {"type": "string", "minLength": 2, "maxLength": 3},
        ['"ab"', '"abc"', '"\\n\\t"', '"é😀"'],
        ['"a"', '"abcd"', '""'],
    ),
    ({"type": "string", "maxLength": 0}, ['""'], ['"a"']),
    ({"type": "string", "maxLength": 2097060}, ['""', '"ab"'], ["1"]),
    ({"type": "array", "maxItems": 10**7}, ["[]", "[1,2]"], ["{}"]),
    (
        {"enum": ["a", 1, None, {"x": [1]}, [True]]},
        ['"a"', "1", "null", '{"x":[1]}', "[true]"],
        ['"b"', "2", '{"x":[2]}', "[]"],
    ),
    ({"type": "string", "enum": ["a", 1]}, ['"a"'], ["1"]),
    ({"type": "integer", "enum": [1, 5, 10], "minimum": 2}, ["5", "10"], ["1"]),
    ({"const": "x\ny"}, ['"x\\ny"'], ['"x"']),
    ({"const": {"a": [1, "b"], "c": None}}, ['{"a":[1,"b"],"c":null}'], ['{"a":[1,"b"]}']),
    (
        {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
            "required": ["b"],
        },
        ['{"a":1,"b":"x"}', '{"b":"x"}'],
        [
            '{"a":1}',
            "{}",
            '{"b":"x","a":1}',
            '{"a":1,"b":"x","c":2}',
            '{"a":1,,"b":"x"}',
            '{,"b":"x"}',
        ],
    ),
    (
        {
            "type": "object",
            "properties": {
                "a": {"type": "integer"},
                "b": {"type": "integer"},
                "c": {"type": "integer"},
            },
        },
        ["{}", '{"a":1}', '{"b":1}', '{"c":1}', '{"a":1,"c":3}', '{"a":1,"b":2,"c":3}'],
        ['{"a":1,}', '{,"c":1}', '{"c":1,"a":1}'],
    ),
    (
        {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": True},
        ['{"a":1,"b":[{}]}', '{"ab":2}', '{"":{"x":null}}', "{}"],
        ['{"a":1,"a":2}', '{"b":1,"a":1}'],
    ),
    (
        {
            "type": "object",
            "properties": {"a": {"type": "integer"}},
            "additionalProperties": {"type": "string"},
        },
        ['{"a":1,"z":"q"}', '{"z":"q","y":"r"}'],
        ['{"z":1}', '{"a":"x"}'],
    ),
    (
        {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False},
        ['{"a":1}', "{}"],
        ['{"b":1}'],
    ),
    ({"type": "object"}, ["{}"], ['{"a":1}']),
    (
        {"type": "object", "properties": {"a": False, "b": {"type": "null"}}},
        ['{"b":null}'],
        ['{"a":1}'],
    ),
    (
        {"type": "array", "items": {"type": "integer"}},
        ["[]", "[1]", "[1,2,3]"],
        ["[1,]", '["a"]', "[,1]"],
    ),
    (
        {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 3},
        ["[1,2]", "[1,2,3]"],
        ["[]", "[1]", "[1,2,3,4]"],
    ),
    ({"type": "array"}, ["[]", '[1,"a",{"b":[null]}]'], ["[1,]"]),
    (
        {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "items": False},
        ["[]", "[1]", '[1,"a"]'],
        ['[1,"a",2]', '["a"]'],
    ),
    (
        {
            "type": "array",
            "prefixItems": [{"type": "integer"}],
            "items": {"type": "string"},
            "minItems": 2,
        },
        ['[1,"a"]', '[1,"a","b"]'],
        ["[1]", "[1,2]"],
    ),
    (
        {"type": "array", "items": [{"type": "integer"}], "additionalItems": False},
        ["[]", "[1]"],
        ["[1,2]"],
    ),
    (
        {"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 2}]},
        ["1", '"ab"'],
        ['"abc"', "1.5"],
    ),
    ({"oneOf": [{"type": "integer"}, {"type": "null"}]}, ["1", "null"], ['"x"']),
    (
        {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "anyOf": [{"required": ["a"]}, {"required": ["b"]}],
        },
        ['{"a":1}', '{"b":1}', '{"a":1,"b":2}'],
        ["{}"],
    ),
    (
        {
            "allOf": [
                {"type": "object", "properties": {"a": {"type": "integer"}}},
                {"properties": {"b": {"type": "string"}}, "required": ["b"]},
            ]
        },
        ['{"a":1,"b":"q"}', '{"b":"q"}'],
        ['{"a":1}'],
    ),
    ({"allOf": [{"type": "integer", "minimum": 0}, {"maximum": 5}]}, ["0", "5"], ["6", "-1"]),
    (
        {
            "$defs": {
                "n": {
                    "type": "object",
                    "properties": {"c": {"type": "array", "items": {"$ref": "#/$defs/n"}}},
                }
            },
            "$ref": "#/$defs/n",
        },
        ['{"c":[{"c":[]},{}]}', "{}"],
        ['{"c":[1]}'],
    ),
    (
        {
            "definitions": {"x": {"type": "integer"}},
            "type": "array",
            "items": {"$ref": "#/definitions/x"},
        },
        ["[1,2]"],
        ['["a"]'],
    ),
    (
        {"type": "object", "properties": {"v": {"type": "integer"}, "next": {"$ref": "#"}}},
        ['{"v":1,"next":{"v":2,"next":{}}}'],
        ['{"next":{"v":"x"}}'],
    ),
    (
        {
            "type": "object",
            "properties": {"a/b": {"type": "integer"}, "c": {"$ref": "#/properties/a~1b"}},
        },
        ['{"a/b":1,"c":2}'],
        ['{"c":"x"}'],
    ),
    ({}, ["1", '"x"', "null", '{"a":[1,{"b":true}]}', "[]"], ["", "{", "[1,]"]),
    (True, ["1", '{"a":1}'], ["x"]),
    (
        {"type": "string", "format": "date-time"},
        ['"2005-07-03T17:42:53.545351Z"', '"2005-07-03T17:42:53Z"', '"2005-07-03T17:42:53+05:30"'],
        [
            '"2005-07-03 17:42:53"', '"2005-13-03T17:42:53"', '"2005-07-03T24:00:00"',
            '"2005-07-03T17:42:53.545351"',
        ],
    ),
    (
        {"type": "string", "format": "date"},
        ['"2024-02-29"', '"2000-02-29"', '"1999-12-31"'],
        ['"2023-02-29"', '"1900-02-29"', '"2023-04-31"', '"2023-1-01"', '"0000-01-01"'],
    ),
    (
        {"type": "string", "format": "time"},
        ['"17:42:53Z"', '"00:00:00.5Z"', '"23:59:59-08:00"'],
        ['"17:42"', '"17:60:00"', '"17:42:53"'],
    ),
    (
        {"type": "string", "format": "email"},
        ['"a.b@example.com"', '"x+y@mail.co.uk"'],
        ['"nope@"', '"@x.com"', '"a@b"', '"a b@c.com"'],
    ),
    (
        {"type": "string", "format": "uuid"},
        ['"123e4567-e89b-12d3-a456-426614174000"'],
        ['"123e4567e89b12d3a456426614174000"', '"123"'],
    ),
    (
        {"type": "string", "format": "ipv4"},
        ['"10.0.0.255"', '"0.0.0.0"'],
        ['"256.1.1.1"', '"1.2.3"', '"01.2.3.4"'],
    ),
    (
        {"type": "string", "format": "uri"},
        ['"https://example.com/a?b=c#d"', '"urn:isbn:123"'],
        ['"example.com"', '"http://a b"'],
    ),
    (
        {"type": "string", "format": "uri-reference"},
        ['""', '"../a/b?c#d"', '"https://x.org/"', '"a/b:c"', '"%20x"'],
        ['"a b"', '"<x>"', '"://"', '"%zz"', '"a#b#c"'],
    ),
    (
        {"type": "string", "format": "json-pointer"},
        ['""', '"/a/0"', '"/a~1b/~0"'],
        ['"a"', '"/a~2"'],
    ),
    (
        {"type": "string", "format": "hostname"},
        ['"example.com"', '"a-b.c"'],
        ['"-a.com"', '"a..b"'],
    ),
]


# Texts refused although the oracle accepts them: documented approximations (key order, digit
# caps), formats (the oracle does not assert them), and lone surrogates, which Python's json module
# decodes but are not Unicode text.
APPROXIMATED = {
    '"\\ud83d"',
    '"\\ude00"',
    '{"b":"x","a":1}',
    '{"c":1,"a":1}',
    '{"b":1,"a":1}',
    '"2005-07-03 17:42:53"',
    '"17:42"',
    '"nope@"',
    '"@x.com"',
    '"a@b"',
    '"a b@c.com"',
    '"123e4567e89b12d3a456426614174000"',
    '"123"',
    '"256.1.1.1"',
    '"1.2.3"',
    '"01.2.3.4"',
    '"example.com"',
    '"http://a b"',
    '"-a.com"',
    '"a b"',
    '"<x>"',
    '"%zz"',
    '"a#b#c"',
    '"://"',
    '"a"',
    '"/a~2"',
    '"a..b"',
    '"2005-13-03T17:42:53"',
    '"2005-07-03T24:00:00"',
    '"2023-02-29"',
    '"1900-02-29"',
    '"2023-04-31"',
    '"2023-1-01"',
    '"0000-01-01"',
    '"17:60:00"',
    '"2005-07-03T17:42:53.545351"',
    '"17:42:53"',
    "1e2",
    "1234567890123456789",
    "-0",
    "1.0",
    '{"a":1,"a":2}',
}


TABLE_IDS = [json.dumps(s)[:60] for s, _, _ in TABLE]


@pytest.mark.parametrize(("schema", "good", "bad"), TABLE, ids=TABLE_IDS)
def test_schema_table(schema: Any, good: list[str], bad: list[str]) -> None:
    grammar = Grammar.from_json_schema(schema)
    for text in good:
        assert oracle_valid(schema, json.loads(text)), f"table error, invalid: {text}"
        assert matches(grammar, text), repro(schema, text, grammar)
    for text in bad:
        try:
            instance = json.loads(text, parse_constant=_no_constants)
        except ValueError:
            pass
        else:
            if text not in APPROXIMATED:
                assert not oracle_valid(schema, instance), f"table error, valid: {text}"
        assert not matches(grammar, text), repro(schema, text, grammar)
