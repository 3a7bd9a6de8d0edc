"""JSON Schema -> grammar compiler on keywords that combine: properties merged from $ref and allOf
(key order, prefixItems, consts) and keywords whose meaning depends on the draft."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from maaza_rt import SchemaError
from maaza_rt.grammar import Grammar

sys.path.insert(0, str(Path(__file__).parent))
from schema_oracle import matches  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


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


def test_schema_const_merge_compares_numbers_exactly() -> None:
    """Two consts equal as doubles but not as numbers admit nothing (0.1 is not
    0.10000000000000001)."""
    # JSON text: Python's json would print both numbers as 0.1.
    schema = '{"properties": {"a": {"allOf": [{"const": 0.1}, {"const": 0.10000000000000001}]}}}'
    grammar = Grammar.from_json_schema(schema)
    assert matches(grammar, "{}")
    assert not matches(grammar, '{"a":0.1}')
    assert not matches(grammar, '{"a":0.10000000000000001}')


def test_schema_draft7_ignores_prefix_items() -> None:
    """Before 2020-12 `prefixItems` is not a keyword: `items` applies to every element."""
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "array",
              "prefixItems": [{"type": "integer"}], "items": {"type": "string"}}
    grammar = Grammar.from_json_schema(schema)
    assert not matches(grammar, "[1]")
    assert matches(grammar, '["a"]')


def test_schema_draft4_integer_enum_excludes_float_spelling() -> None:
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer",
              "enum": [1.0, 2]}
    grammar = Grammar.from_json_schema(draft4)
    assert not matches(grammar, "1.0") and matches(grammar, "2")
    grammar = Grammar.from_json_schema({"type": "integer", "enum": [1.0, 1.5]})
    assert matches(grammar, "1.0") and not matches(grammar, "1.5")


def test_schema_recursive_reference_beside_siblings_is_refused_not_expanded() -> None:
    # `$ref: "#"` with sibling keywords inside anyOf: each merge of the reference with its
    # siblings holds the anyOf again, so merging never ends (it once grew past gigabytes, and a
    # variant with oneOf ran for minutes). The compiler refuses it at once with a SchemaError
    # naming the keyword.
    schema = {"anyOf": [{"type": "string"}, {"$ref": "#", "items": [{"$ref": "#/items"}]},
                        {"type": "number"}]}
    with pytest.raises(SchemaError, match="merged again inside its own merge") as info:
        Grammar.from_json_schema(json.dumps(schema))
    assert info.value.keyword == "$ref"
    # The fuzzer's input with oneOf (fuzz/regressions/schema/slow-recursive-ref-beside-one-of).
    text = (REPO / "fuzz" / "regressions" / "schema" /
            "slow-recursive-ref-beside-one-of").read_bytes()[1:].decode()
    with pytest.raises(SchemaError, match="merged again inside its own merge"):
        Grammar.from_json_schema(text)
    # A recursive reference the merge memo closes still compiles: a list of itself.
    tree = {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#"}}},
            "required": ["kids"], "additionalProperties": False}
    assert matches(Grammar.from_json_schema(json.dumps(tree)), '{"kids":[{"kids":[]}]}')


def test_schema_repeated_keys_mean_their_last_value() -> None:
    # A JSON object that repeats a key means its last value (as Python's json reads it): a
    # repeated property is one property, and the grammar never writes a key twice.
    text = ('{"type":"object","properties":{"a":{"type":"integer"},"a":{"type":"string"}},'
            '"required":["a"],"additionalProperties":false}')
    g = Grammar.from_json_schema(text)
    assert matches(g, '{"a":"x"}')
    assert not matches(g, '{"a":1}') and not matches(g, '{"a":"x","a":"y"}')
    # The fuzzer's input: "items" repeated, the last one unsatisfiable, so never written.
    fuzzed = (REPO / "fuzz" / "regressions" / "schema" /
              "repeated-property-keys").read_bytes()[1:].decode()
    g = Grammar.from_json_schema(fuzzed)
    assert matches(g, '{"b":1,"\\\\":0,"x y":0}')
    assert not matches(g, '{"items":{},"b":1,"\\\\":0,"x y":0}')


@pytest.mark.parametrize(("schema", "accepted", "refused"), [
    # A draft-4 flag beside a number: the number is tighter, so the merge is x > 10.
    ({"allOf": [{"minimum": 5, "exclusiveMinimum": True}, {"exclusiveMinimum": 10}]},
     ["11", "10.5"], ["10", "7"]),
    # The flag's bound is tighter: x >= 12 implies x > 10.
    ({"allOf": [{"minimum": 12}, {"exclusiveMinimum": 10}]}, ["12"], ["11"]),
    ({"allOf": [{"exclusiveMaximum": 3}, {"maximum": 5, "exclusiveMaximum": False}]},
     ["2.5"], ["3", "4"]),
    # Two flags: exclusive if either is.
    ({"allOf": [{"minimum": 5, "exclusiveMinimum": False}, {"exclusiveMinimum": True}]},
     ["6"], ["5"]),
])
def test_schema_merges_exclusive_bounds_of_either_form(schema: dict, accepted: list[str],
                                                      refused: list[str]) -> None:
    """allOf of a draft-4 boolean exclusiveMinimum/Maximum and a numeric one (the fuzzer's
    witnesses merge so under draft 4): one bound that implies both, never a SchemaError."""
    grammar = Grammar.from_json_schema(schema)
    for text in accepted:
        assert matches(grammar, text), text
    for text in refused:
        assert not matches(grammar, text), text
