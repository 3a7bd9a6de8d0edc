"""JSON Schema -> grammar compiler: per-keyword tables of instances that must pass or fail (the
passing ones checked by `jsonschema` as an independent oracle), refused keywords with their
keyword and pointer, lenient mode, whitespace modes, and a property test that compares the grammar
with `jsonschema` on random schemas and instances."""

from __future__ import annotations

import json
import math
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maaza_rt import SchemaError
from maaza_rt.grammar import Grammar, GrammarMatcher, Vocabulary

BYTE_VOCAB = Vocabulary([bytes([b]) for b in range(256)] + [b""], [256])


def matches(grammar: Grammar, text: str) -> bool:
    m = GrammarMatcher(grammar, BYTE_VOCAB)
    return m.accept_bytes(text.encode("utf-8")) and m.is_complete()


def closed(schema: Any, in_all_of: bool = False) -> Any:
    """The schema with `additionalProperties: false` where it is absent from an object schema:
    the compiler's default, made explicit for the oracle. Branches of `allOf` stay open: the
    compiler merges them before applying the default."""
    if isinstance(schema, dict):
        out = {
            k: v if k in ("enum", "const") else closed(v, k == "allOf") for k, v in schema.items()
        }
        is_object = schema.get("type") == "object" or "properties" in schema
        if is_object and "additionalProperties" not in schema and not in_all_of:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [closed(s, in_all_of) for s in schema]
    return schema


def _has_tuple_items(schema: Any) -> bool:
    if isinstance(schema, dict):
        if isinstance(schema.get("items"), list):
            return True
        return any(_has_tuple_items(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_has_tuple_items(v) for v in schema)
    return False


def oracle_valid(schema: Any, instance: Any, strict_integers: bool = False) -> bool:
    """jsonschema's verdict (draft 2020-12, or draft 7 for array-form `items`). With
    ``strict_integers`` a float such as 1.0 is not an integer: the grammar's documented rule."""
    cls = (jsonschema.Draft7Validator if _has_tuple_items(schema)
           else jsonschema.Draft202012Validator)
    if strict_integers:
        checker = cls.TYPE_CHECKER.redefine(
            "integer", lambda _, v: isinstance(v, int) and not isinstance(v, bool))
        cls = jsonschema.validators.extend(cls, type_checker=checker)
    return cls(closed(schema)).is_valid(instance)


def _no_constants(name: str) -> Any:
    raise ValueError(name)


def repro(schema: Any, text: str, grammar: Grammar | None = None) -> str:
    lines = [f"Grammar.from_json_schema({json.dumps(schema)!r}) on {text!r}"]
    if grammar is not None:
        lines.append(grammar.to_gbnf())
    return "\n".join(lines)


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


# ---- property test against the oracle ------------------------------------------------------------

KEYS = ["a", "b", "id", "name", "x_y"]


def _bounds_ordered(s: dict) -> bool:
    """No lower bound above its upper bound (that is a malformed schema, tested separately)."""
    lo = s.get("minimum", s.get("exclusiveMinimum", s.get("minLength")))
    hi = s.get("maximum", s.get("maxLength"))
    if lo is None or hi is None:
        return True
    return lo < hi or (lo == hi and "exclusiveMinimum" not in s)


def _schemas(depth: int) -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.builds(
            lambda lo, hi: {"type": "integer", **lo, **hi},
            st.one_of(st.just({}), st.integers(-50, 50).map(lambda v: {"minimum": v})),
            st.one_of(st.just({}), st.integers(-20, 150).map(lambda v: {"maximum": v})),
        ).filter(_bounds_ordered),
        st.builds(
            lambda lo, hi: {"type": "number", **lo, **hi},
            st.one_of(
                st.just({}),
                st.sampled_from([0, 1.5, -2.25, 10]).map(lambda v: {"minimum": v}),
                st.sampled_from([0, 0.5]).map(lambda v: {"exclusiveMinimum": v}),
            ),
            st.one_of(
                st.just({}), st.sampled_from([100, 2.5, 0, -0.25]).map(lambda v: {"maximum": v})
            ),
        ).filter(_bounds_ordered),
        st.builds(
            lambda lo, hi: {"type": "string", **lo, **hi},
            st.one_of(st.just({}), st.integers(0, 3).map(lambda v: {"minLength": v})),
            st.one_of(st.just({}), st.integers(0, 5).map(lambda v: {"maxLength": v})),
        ).filter(_bounds_ordered),
        st.sampled_from(
            [
                {"type": "string", "pattern": p}
                for p in ["^[a-c]+$", "^\\d{2,3}$", "ab", "^(x|yz)*$"]
            ]
        ),
        st.sampled_from(
            [{"type": "boolean"}, {"type": "null"}, {}, True, {"type": ["string", "null"]}]
        ),
        st.lists(
            st.sampled_from(["a", "b", 1, 2.5, None, True, [1], {"k": "v"}]),
            min_size=1,
            max_size=3,
            unique_by=json.dumps,
        ).map(lambda v: {"enum": v}),
        st.sampled_from(["q", 3, [1, "x"], {"z": None}]).map(lambda v: {"const": v}),
    )
    if depth == 0:
        return scalars
    sub = _schemas(depth - 1)

    @st.composite
    def objects(draw: st.DrawFn) -> dict:
        keys = draw(st.lists(st.sampled_from(KEYS), max_size=3, unique=True))
        s: dict[str, Any] = {"type": "object", "properties": {k: draw(sub) for k in keys}}
        if keys:
            s["required"] = draw(st.lists(st.sampled_from(keys), unique=True))
        ap = draw(st.sampled_from(["absent", "true", "false", "schema"]))
        if ap == "true":
            s["additionalProperties"] = True
        elif ap == "false":
            s["additionalProperties"] = False
        elif ap == "schema":
            s["additionalProperties"] = draw(sub)
        return s

    @st.composite
    def arrays(draw: st.DrawFn) -> dict:
        s: dict[str, Any] = {"type": "array"}
        if draw(st.booleans()):
            s["prefixItems"] = draw(st.lists(sub, min_size=1, max_size=2))
            if draw(st.booleans()):
                s["items"] = draw(st.one_of(st.just(False), sub))
        elif draw(st.booleans()):
            s["items"] = draw(sub)
        if draw(st.booleans()):
            s["minItems"] = draw(st.integers(0, 2))
        if draw(st.booleans()):
            s["maxItems"] = draw(st.integers(s.get("minItems", 0), 3))
        return s

    return st.one_of(
        scalars,
        objects(),
        arrays(),
        st.lists(sub, min_size=1, max_size=3).map(lambda b: {"anyOf": b}),
    )


SCHEMAS = _schemas(2)


@st.composite
def derived_instance(draw: st.DrawFn, schema: Any, depth: int = 0) -> Any:
    """A value built from the schema (often valid), with occasional random noise."""
    noise = st.sampled_from([0, -1, 2.5, "s", None, True, [], {}, [1, "a"], {"a": 1}])
    if depth > 4 or draw(st.integers(0, 9)) == 0:
        return draw(noise)
    if schema is True or schema == {}:
        return draw(st.sampled_from([1, "x", None, [1, {"a": []}], {"q": "r"}]))
    if "enum" in schema:
        return draw(st.sampled_from(schema["enum"]))
    if "const" in schema:
        return schema["const"]
    if "anyOf" in schema:
        return draw(derived_instance(draw(st.sampled_from(schema["anyOf"])), depth + 1))
    t = schema.get("type")
    if t == "integer":
        lo, hi = schema.get("minimum", -100), schema.get("maximum", 200)
        return draw(st.integers(min(lo, hi) - 2, max(lo, hi) + 2))
    if t == "number":
        lo = schema.get("minimum", schema.get("exclusiveMinimum", -5))
        hi = schema.get("maximum", 105)
        return draw(
            st.one_of(
                st.sampled_from([lo, hi, float(lo), float(hi)]),
                st.floats(min(lo, hi) - 1, max(lo, hi) + 1).map(lambda x: round(x, 3)),
                st.integers(-3, 3),
            )
        )
    if t == "string":
        if "pattern" in schema:
            return draw(st.sampled_from(["abc", "12", "123", "xyzx", "", "a", "b", 'x"ab', "yzx"]))
        return draw(st.text(st.sampled_from('ab"\\\né€😀 /\x01'), max_size=6))
    if t == ["string", "null"]:
        return draw(st.sampled_from(["x", None]))
    if t == "boolean":
        return draw(st.booleans())
    if t == "null":
        return None
    if t == "array":
        prefix = schema.get("prefixItems", [])
        n = draw(st.integers(0, 4))
        items = schema.get("items", True)
        return [
            draw(
                derived_instance(
                    prefix[i] if i < len(prefix) else (True if items is False else items), depth + 1
                )
            )
            for i in range(n)
        ]
    if t == "object":
        out = {}
        for k, sub in schema.get("properties", {}).items():
            if k in schema.get("required", []) or draw(st.booleans()):
                out[k] = draw(derived_instance(sub, depth + 1))
        if draw(st.integers(0, 3)) == 0:
            ap = schema.get("additionalProperties", True)
            out[draw(st.sampled_from(["zz", "a", "extra"]))] = draw(
                derived_instance(ap if isinstance(ap, dict) else True, depth + 1)
            )
        return out
    return None


def _outside_caps(v: Any) -> bool:
    """Values the grammar refuses by its documented digit caps and exponent rule."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return False
    if isinstance(v, int):
        return abs(v) >= 10**18
    if isinstance(v, float):
        return not math.isfinite(v) or "e" in repr(v) or abs(v) >= 1e18
    if isinstance(v, list):
        return any(_outside_caps(x) for x in v)
    return any(_outside_caps(x) for x in v.values())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), schema=SCHEMAS, whitespace=st.sampled_from(["compact", "python"]))
def test_schema_property_matches_oracle(data: st.DataObject, schema: Any, whitespace: str) -> None:
    try:
        grammar = Grammar.from_json_schema(schema, whitespace=whitespace)
    except SchemaError:
        # Only an unsatisfiable root may be refused by this strategy's keywords.
        assert not any(oracle_valid(schema, v) for v in [None, True, 0, 1.5, "", "a", [], {}])
        return
    instances = [data.draw(derived_instance(schema)) for _ in range(3)]
    instances.append(
        data.draw(
            st.recursive(
                st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=4),
                lambda c: (
                    st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(KEYS), c, max_size=3)
                ),
                max_leaves=6,
            )
        )
    )
    sep = (", ", ": ") if whitespace == "python" else (",", ":")
    for i, v in enumerate(instances):
        text = json.dumps(v, ensure_ascii=False, separators=sep)
        valid = oracle_valid(schema, v)
        accepted = matches(grammar, text)
        if accepted:
            assert valid, "grammar accepts an invalid value: " + repro(schema, text, grammar)
        elif i < 3 and not _outside_caps(v):
            # Derived instances list object keys in `properties` order: the canonical form. An
            # integer-valued float such as 0.0 is valid only as a `number` (documented).
            assert not oracle_valid(schema, v, strict_integers=True), (
                "grammar refuses a valid value: " + repro(schema, text, grammar))


ONE_OF_SCHEMAS = st.lists(_schemas(1), min_size=2, max_size=3).flatmap(
    lambda branches: st.sampled_from([
        {"oneOf": branches},
        {"type": "object", "properties": {k: {"type": "integer"} for k in KEYS},
         "oneOf": branches},
        {"allOf": [{"oneOf": branches}, {"oneOf": branches[::-1]}]},
    ]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), schema=ONE_OF_SCHEMAS)
def test_schema_property_one_of_sound(data: st.DataObject, schema: Any) -> None:
    """Random oneOf schemas: whatever the grammar accepts matches exactly one branch (or the
    compiler refuses the schema with a SchemaError)."""
    try:
        # The specification's additionalProperties default, so that jsonschema is the oracle as is.
        grammar = Grammar.from_json_schema(schema, additional_properties=True)
    except SchemaError:
        return
    validator = jsonschema.Draft202012Validator(schema)
    branches = schema["oneOf"] if "oneOf" in schema else schema["allOf"][0]["oneOf"]
    instances = [data.draw(derived_instance(b)) for b in branches for _ in range(2)]
    instances += [0, 3, -1, 2.5, "a", None, True, [], {}, [1], {"a": 1}]
    for v in instances:
        text = json.dumps(v, ensure_ascii=False, separators=(",", ":"))
        if matches(grammar, text):
            assert validator.is_valid(v), "grammar accepts an invalid value: " + repro(
                schema, text, grammar)


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


@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        (
            {"type": "string", "pattern": "^[a-z]+$", "maxLength": 3},
            ["a", "abc"],
            ["", "abcd", "ab1"],
        ),
        (
            {"type": "string", "pattern": "^a+b$", "minLength": 3},
            ["aab", "aaaab"],
            ["ab", "b"],
        ),
        (
            {"type": "string", "pattern": "^([\\w/-]|[\\w-][\\w/-]*[\\w-])$", "maxLength": 4},
            ["a", "/", "ab", "a/b", "ab-c"],
            ["abcde", "/a", "a/"],
        ),
        (
            {"type": "string", "format": "date", "minLength": 10, "maxLength": 10},
            ["2024-01-31"],
            ["2024-1-31"],
        ),
        (
            {"type": "string", "format": "uuid", "maxLength": 40},
            ["123e4567-e89b-12d3-a456-426614174000"],
            ["123e4567"],
        ),
    ],
)
def test_schema_pattern_with_length(schema: Any, good: list[str], bad: list[str]) -> None:
    grammar = Grammar.from_json_schema(schema)
    for value in good:
        assert oracle_valid(schema, value), value
        assert matches(grammar, json.dumps(value)), repro(schema, value, grammar)
    for value in bad:
        assert not matches(grammar, json.dumps(value)), repro(schema, value, grammar)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "format": "date", "maxLength": 9},
        {"type": "string", "pattern": "^x{2}$", "minLength": 3},
    ],
)
def test_schema_pattern_with_length_unsatisfiable(schema: Any) -> None:
    with pytest.raises(SchemaError):
        Grammar.from_json_schema(schema)


def test_schema_pattern_with_length_lenient() -> None:
    schema = {"type": "string", "pattern": "^a+b+$", "minLength": 2, "maxLength": 3}
    with pytest.raises(SchemaError) as info:
        Grammar.from_json_schema(schema)
    assert info.value.keyword == "maxLength"
    grammar = Grammar.from_json_schema(schema, lenient=True)
    assert grammar.ignored == ["maxLength at #"]
    assert matches(grammar, '"ab"')


KEYWORDS = [
    "type", "properties", "required", "additionalProperties", "items", "prefixItems",
    "additionalItems", "minItems", "maxItems", "enum", "const", "anyOf", "oneOf", "allOf", "$ref",
    "minLength", "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "multipleOf", "$defs", "not", "title", "x-any",
]  # fmt: skip

JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(
        [
            "string",
            "object",
            "integer",
            "#",
            "#/$defs/a",
            "#/properties",
            "^a+$",
            "(",
            "date",
            "a",
            "",
            "array",
            "null",
            "number",
            "uuid",
        ]
    ),  # fmt: skip
    lambda c: (
        st.lists(c, max_size=4)
        | st.dictionaries(st.sampled_from(KEYWORDS + ["a", "b"]), c, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(schema=JUNK, lenient=st.booleans(), whitespace=st.sampled_from(["compact", "flexible"]))
def test_schema_random_input_typed_error_or_grammar(
    schema: Any, lenient: bool, whitespace: str
) -> None:
    try:
        grammar = Grammar.from_json_schema(
            json.dumps(schema), lenient=lenient, whitespace=whitespace
        )
    except SchemaError as e:
        assert isinstance(e.keyword, str) and isinstance(e.pointer, str)
        assert e.pointer == "" or e.pointer.startswith("/")
        return
    m = GrammarMatcher(grammar, BYTE_VOCAB)
    m.accept_bytes(b'{"a":1}')
    assert isinstance(grammar.to_gbnf(), str)


@pytest.mark.parametrize(
    ("schema", "options", "good", "bad"),
    [
        (
            {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}, "c": {}},
                "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
            },
            {},
            ['{"a":1}', '{"b":1}', '{"a":1,"c":2}'],
            ['{"a":1,"b":2}', "{}", '{"c":1}'],
        ),
        (
            {"oneOf": [{"required": ["x"]}, {"required": ["y", "z"]}]},
            {"additional_properties": True},
            ['{"x":1}', '{"y":1,"z":2}', '{"x":1,"y":2}'],
            ['{"x":1,"y":1,"z":2}', '{"y":1}', "1", '"s"'],
        ),
        (
            {
                "properties": {"a": {}, "b": {}},
                "oneOf": [{"required": ["a"]}, {"required": ["a", "b"]}],
            },
            {},
            ['{"a":1}'],
            ['{"a":1,"b":2}', '{"b":2}'],
        ),
    ],
)
def test_schema_one_of_required_branches_exclusive(
    schema: Any, options: dict, good: list[str], bad: list[str]
) -> None:
    grammar = Grammar.from_json_schema(schema, **options)
    oracle = schema if options.get("additional_properties") else closed(schema)
    for text in good:
        assert jsonschema.Draft202012Validator(oracle).is_valid(json.loads(text)), text
        assert matches(grammar, text), repro(schema, text, grammar)
    for text in bad:
        assert not jsonschema.Draft202012Validator(oracle).is_valid(json.loads(text)), text
        assert not matches(grammar, text), repro(schema, text, grammar)


def test_schema_merged_key_order() -> None:
    # A schema extending a $ref target: the target's properties come first, then its own, then
    # allOf branches in order.
    schema = {
        "$defs": {"base": {"type": "object", "properties": {"id": {"type": "string"}}}},
        "$ref": "#/$defs/base",
        "properties": {"name": {"type": "string"}},
        "allOf": [{"properties": {"tag": {"type": "string"}}}],
    }
    grammar = Grammar.from_json_schema(schema)
    assert matches(grammar, '{"id":"1","name":"n","tag":"t"}')
    assert not matches(grammar, '{"name":"n","id":"1"}')


@pytest.mark.parametrize("fmt", ["date-time", "time"])
def test_schema_time_offset_required_unless_optional_timezone(fmt: str) -> None:
    """RFC 3339 requires a time offset; `optional_timezone=True` is the explicit departure."""
    schema = {"type": "string", "format": fmt}
    prefix = "2005-07-03T" if fmt == "date-time" else ""
    strict = Grammar.from_json_schema(schema)
    optional = Grammar.from_json_schema(schema, optional_timezone=True)
    assert not matches(strict, f'"{prefix}17:42:53.545351"')
    assert not matches(strict, f'"{prefix}12:00:00"')
    assert matches(optional, f'"{prefix}17:42:53.545351"')
    for value in (f'"{prefix}17:42:53Z"', f'"{prefix}17:42:53.5+02:00"'):
        assert matches(strict, value)
        assert matches(optional, value)


def test_email_format_generates_only_addresses_the_metrics_accept() -> None:
    """The grammar's email is a subset of the scorer's (metrics.h): bounded local part and
    domain, no empty atom, so a runaway generation cannot write a 4 KB domain."""
    from maaza_rt.metrics_reference import check_format_reference

    grammar = Grammar.from_json_schema({"type": "string", "format": "email"})
    label = "a" * 63
    accepted = [
        "a@b.co", "first.last@mail.example.org", "x_y%z+1-2@a-b.c-d.e.f.g.h",
        "a" * 64 + "@b.co",
        "a" * 31 + "." + "b" * 31 + "@b.co",
        "a.b.c.d.e.f@x.y",
        f"a@{label}.{label}.{label}",  # 191 characters
        "a@" + ".".join(["b" * 62] * 4),  # 251
        "a@" + ".".join(["b" * 41] * 6),  # 251
    ]
    refused = [
        "a" * 65 + "@b.co",  # local part over 64
        ".a@b.co", "a.@b.co", "a..b@b.co",  # empty atoms
        "a@b", "a@-b.co", "a@b-.co", "a@" + "b" * 64 + ".co",  # one label, bad or long labels
        "a@" + ".".join(["b" * 63] * 4),  # 255 characters of domain
        "a@" + ".".join(["b"] * 7),  # seven labels: beyond the grammar's subset
        "a@" + ".".join(["b" * 500] * 8),
    ]
    for text in accepted:
        assert check_format_reference("email", text), text
        assert matches(grammar, json.dumps(text)), text
    for text in refused:
        assert not matches(grammar, json.dumps(text)), text
    # what the grammar refuses beyond the scorer's rules is a documented approximation
    assert check_format_reference("email", "a@" + ".".join(["b"] * 7))


# ---- soundness: every accepted instance validates (regressions of accepted invalid values) ------


@pytest.mark.parametrize(
    ("schema", "accepted", "refused"),
    [
        # 3 matches both branches; integers below 2 and non-numbers match one.
        ({"oneOf": [{"type": "integer"}, {"minimum": 2}]}, ["1", "-5", '"x"', "null"],
         ["3", "2"]),
        # `true` matches everything: only values failing the other branch remain.
        ({"oneOf": [True, {"type": "integer"}]}, ['"x"', "[]"], ["3"]),
        ({"oneOf": [False, {"type": "integer"}]}, ["3"], ['"x"']),
        # A base schema with overlapping branches: 3 satisfies both bounds.
        ({"type": "integer", "oneOf": [{"minimum": 2}, {"maximum": 5}]}, ["1", "7"], ["3", "5"]),
        # Strings of at most 5 characters match both branches.
        ({"oneOf": [{"type": "string"}, {"type": "string", "maxLength": 5}]}, ['"abcdef"'],
         ['"abc"']),
        # enum values shared by two branches are dropped.
        ({"oneOf": [{"enum": [1, 2, 3]}, {"enum": [3, 4]}]}, ["1", "2", "4"], ["3"]),
        # Keys required by one branch only: the other branch's keys must be absent.
        ({"type": "object", "properties": {"a": {}, "b": {}},
          "oneOf": [{"required": ["a"]}, {"required": ["b"]}]}, ['{"a":1}', '{"b":1}'],
         ['{"a":1,"b":1}', "{}"]),
        # additionalProperties false in each branch: {} matches both.
        ({"type": "object", "oneOf": [
            {"properties": {"next": {"type": "string"}}, "additionalProperties": False},
            {"properties": {"previous": {"type": "string"}}, "additionalProperties": False}]},
         ['{"next":"a"}', '{"previous":"b"}'], ["{}"]),
        # A discriminator that is not required: without it, both branches match.
        ({"type": "object", "properties": {"kind": {"enum": ["a", "b"]}, "url": {"type": "string"}},
          "required": ["url"],
          "oneOf": [{"properties": {"kind": {"enum": ["a"]}}},
                    {"properties": {"kind": {"enum": ["b"]}}}]},
         ['{"kind":"a","url":"u"}', '{"kind":"b","url":"u"}'], ['{"url":"u"}']),
        # anyOf and oneOf side by side: the oneOf stays exclusive.
        ({"anyOf": [{"type": "integer"}, {"type": "string"}],
          "oneOf": [{"minimum": 0}, {"maximum": 10}]}, ["-1", "11"], ["5", '"s"']),
        # allOf of a oneOf with anyOf branches (merged, never read as anyOf).
        ({"allOf": [{"anyOf": [{"type": "integer"}]},
                    {"oneOf": [{"minimum": 0}, {"maximum": 10}]}]},
         ["-1", "11"], ["5"]),
    ],
)
def test_schema_one_of_accepts_only_values_matching_one_branch(
    schema: Any, accepted: list[str], refused: list[str]
) -> None:
    grammar = Grammar.from_json_schema(schema, additional_properties=True)
    validator = jsonschema.Draft202012Validator(schema)
    for text in accepted:
        assert validator.is_valid(json.loads(text)), f"table error: {text}"
        assert matches(grammar, text), repro(schema, text, grammar)
    for text in refused:
        assert not matches(grammar, text), repro(schema, text, grammar)


@pytest.mark.parametrize(
    "schema",
    [
        {"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
        {"oneOf": [{"const": "a"}, {"const": "b"}, {"enum": [1, 2]}]},
        {"oneOf": [
            {"type": "object", "required": ["kind"],
             "properties": {"kind": {"const": "cat"}, "meow": {"type": "boolean"}}},
            {"type": "object", "required": ["kind"],
             "properties": {"kind": {"const": "dog"}, "bark": {"type": "boolean"}}}]},
        {"type": "integer", "oneOf": [{"maximum": 0}, {"minimum": 1}]},
        {"type": "array", "oneOf": [{"maxItems": 1}, {"minItems": 2}]},
    ],
)
def test_schema_one_of_disjoint_branches_exact(schema: Any) -> None:
    """Provably disjoint branches compile to their plain union: the same grammar as anyOf."""
    as_any_of = {("anyOf" if k == "oneOf" else k): v for k, v in schema.items()}
    assert Grammar.from_json_schema(schema).to_gbnf() == Grammar.from_json_schema(
        as_any_of).to_gbnf().replace("anyOf", "oneOf")


@pytest.mark.parametrize(
    ("schema", "pointer"),
    [
        ({"oneOf": [{"type": "integer"}, {"type": "number"}]}, ""),
        ({"oneOf": [True, True]}, ""),
        ({"properties": {"id": {"oneOf": [{"type": "string", "pattern": "^[a-f]{4}$"},
                                          {"type": "string"}]}}}, "/properties/id"),
    ],
)
def test_schema_one_of_unenforceable_refused(schema: Any, pointer: str) -> None:
    with pytest.raises(SchemaError) as e:
        Grammar.from_json_schema(schema)
    assert (e.value.keyword, e.value.pointer) == ("oneOf", pointer)
    grammar = Grammar.from_json_schema(schema, lenient=True)
    assert grammar.ignored == [f"oneOf at {pointer or '#'}"]


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ('"example.com"', True),
        ('"a-b.c"', True),
        ('"xn--4gbwdl.xn--wgbh1c"', False),  # A-labels: Punycode is not checked, so left out
        ('"xn--bcher-kva.example"', False),
        ('"ab--cd.com"', False),  # "--" in the 3rd and 4th positions (RFC 5891)
        ('"a--b.com"', True),
        ('"' + ".".join(["a" * 62] * 4) + '"', True),  # 251 characters
        ('"' + ".".join(["a" * 63] * 4) + '"', False),  # 255 characters
        ('"' + ".".join(["a" * 63] * 3 + ["a" * 61]) + '"', False),  # 253: valid, narrowed
        ('"' + ".".join(["a"] * 127) + '"', False),  # 253 characters in 127 labels: narrowed
        ('"' + ".".join(["abcdefghij"] * 23) + '"', False),  # 252 characters: narrowed
    ],
)
def test_schema_hostname_bounded_and_without_a_labels(text: str, ok: bool) -> None:
    schema = {"type": "string", "format": "hostname"}
    assert matches(Grammar.from_json_schema(schema), text) == ok, text
    if len(text) - 2 > 253 or "--" in text[3:5]:
        assert not ok


@pytest.mark.parametrize(
    ("fmt", "text", "ok"),
    [
        ("uri", '"http://u:p@h:80/a?b#c"', True),
        ("uri", '"http://h:/x"', True),  # an empty port is allowed
        ("uri", '"http://h:8a/x"', False),  # a port is digits
        ("uri", '"http://a@b@c/"', False),  # one '@' in the authority
        ("uri", '"http://[::1]/"', False),  # IP-literal hosts are left out
        ("uri", '"foo:"', True),
        ("uri", '"mailto:a@b.c"', True),
        ("uri-reference", '"//h:8a"', False),
        ("uri-reference", '"//a@b@c"', False),
        ("uri-reference", '"//u@h:80/p"', True),
        ("uri-reference", '"a:b@c@d"', True),  # a URI whose path holds '@' (no authority)
        ("uri-reference", '"../a@b"', True),
    ],
)
def test_schema_uri_authority_structure(fmt: str, text: str, ok: bool) -> None:
    grammar = Grammar.from_json_schema({"type": "string", "format": fmt})
    assert matches(grammar, text) == ok, text


def test_schema_prefix_items_in_all_of_keeps_outer_items() -> None:
    """`items` of one conjunct applies to every element, including another conjunct's
    prefixItems positions."""
    schema = {"type": "array", "items": {"type": "string"},
              "allOf": [{"prefixItems": [{"type": "integer"}]}]}
    grammar = Grammar.from_json_schema(schema)
    assert matches(grammar, "[]")
    for text in ("[1]", '["a"]', '[1,"a"]'):
        assert not matches(grammar, text), text
    schema = {"allOf": [{"prefixItems": [{"type": "integer"}, {"type": "string"}]},
                        {"prefixItems": [{"minimum": 0}], "items": {"maxLength": 2}}]}
    grammar = Grammar.from_json_schema(schema)
    assert matches(grammar, '[1,"ab"]')
    for text in ('[-1,"ab"]', '[1,"abc"]', '[1,"ab","xyz"]'):
        assert not matches(grammar, text), text
    assert matches(grammar, '[1,"ab","xy"]')


def test_schema_draft7_ignores_prefix_items() -> None:
    """Before 2020-12 `prefixItems` is not a keyword: `items` applies to every element."""
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "array",
              "prefixItems": [{"type": "integer"}], "items": {"type": "string"}}
    grammar = Grammar.from_json_schema(schema)
    assert not matches(grammar, "[1]")
    assert matches(grammar, '["a"]')


def test_schema_ref_inside_embedded_resource_refused() -> None:
    schema = {"$defs": {"inner": {"$id": "https://example.com/inner",
                                  "$defs": {"x": {"type": "integer"}},
                                  "$ref": "#/$defs/x"},
                        "x": {"type": "string"}},
              "$ref": "#/$defs/inner"}
    with pytest.raises(SchemaError) as e:
        Grammar.from_json_schema(schema)
    assert (e.value.keyword, e.value.pointer) == ("$ref", "/$defs/inner")


def test_schema_const_merge_compares_numbers_exactly() -> None:
    """Two consts equal as doubles but not as numbers admit nothing (0.1 is not
    0.10000000000000001)."""
    # JSON text: Python's json would print both numbers as 0.1.
    schema = '{"properties": {"a": {"allOf": [{"const": 0.1}, {"const": 0.10000000000000001}]}}}'
    grammar = Grammar.from_json_schema(schema)
    assert matches(grammar, "{}")
    assert not matches(grammar, '{"a":0.1}')
    assert not matches(grammar, '{"a":0.10000000000000001}')


def test_schema_draft4_integer_enum_excludes_float_spelling() -> None:
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer",
              "enum": [1.0, 2]}
    grammar = Grammar.from_json_schema(draft4)
    assert not matches(grammar, "1.0") and matches(grammar, "2")
    grammar = Grammar.from_json_schema({"type": "integer", "enum": [1.0, 1.5]})
    assert matches(grammar, "1.0") and not matches(grammar, "1.5")
