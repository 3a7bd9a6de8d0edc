"""JSON Schema -> grammar compiler on oneOf: branches are exclusive, every accepted instance
matches exactly one branch (regressions of accepted invalid values), disjoint branches compile to
a plain union, and branches it cannot keep apart are refused."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from maaza_rt import SchemaError
from maaza_rt.grammar import Grammar

sys.path.insert(0, str(Path(__file__).parent))
from schema_oracle import closed, matches, repro  # noqa: E402


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


def test_schema_one_of_proofs_through_recursive_references() -> None:
    """The disjointness proofs follow `$ref`s into recursive schemas within their work bound:
    a tree or a leaf name are told apart by type however deep the tree's definition recurses,
    and the branches compile exactly (a tree matches one branch only)."""
    schema = {
        "$defs": {"tree": {"type": "object", "required": ["kids"], "additionalProperties": False,
                           "properties": {"kids": {"type": "array",
                                                   "items": {"$ref": "#/$defs/tree"}}}}},
        "oneOf": [{"type": "string"}, {"$ref": "#/$defs/tree"}],
    }
    grammar = Grammar.from_json_schema(schema)
    for text in ('"leaf"', '{"kids":[]}', '{"kids":[{"kids":[]}]}'):
        assert matches(grammar, text)
        jsonschema.validate(json.loads(text), schema)
    assert not matches(grammar, "1") and not matches(grammar, '{"kids":["x"]}')


def test_schema_one_of_over_its_own_root_is_refused_promptly() -> None:
    """The fuzzer's input (fuzz/regressions/schema/slow-one-of-proof-through-self-reference):
    a `oneOf` beside `$ref: "#"`, whose branches the proofs unfolded through the root again at
    every level (14 s under the sanitizers; each conjunct visited now counts against the
    proofs' step budget). Its pattern-only branches may share any non-string value, so it is
    refused on `oneOf`."""
    text = (Path(__file__).resolve().parent.parent / "fuzz" / "regressions" / "schema" /
            "slow-one-of-proof-through-self-reference").read_bytes()[1:].decode()
    with pytest.raises(SchemaError, match="no value could be shown to match only one branch"):
        Grammar.from_json_schema(text)


def test_schema_one_of_proofs_share_one_budget_per_schema() -> None:
    """The fuzzer's input (fuzz/regressions/schema/slow-one-of-proofs-across-merged-copies):
    the merges of a `oneOf` beside `$ref: "#"` make many copies of it, each proved afresh with a
    budget of its own (0.67 s in a release build, 11 s under the sanitizers). The proofs of one
    compilation now share a budget (SchemaRelations::kMaxSharedSteps); past it nothing more is
    proven, so the oneOf is refused."""
    text = (Path(__file__).resolve().parent.parent / "fuzz" / "regressions" / "schema" /
            "slow-one-of-proofs-across-merged-copies").read_bytes()[1:].decode()
    with pytest.raises(SchemaError) as e:
        Grammar.from_json_schema(text)
    assert e.value.keyword == "oneOf"


@pytest.mark.parametrize(
    ("schema", "validator", "accepted", "refused"),
    [
        # Draft 4: exclusiveMinimum is a boolean flag; a number there bounds nothing, so the
        # first branch matches every value and 3 matches both. The compiler still applies the
        # number (a narrowing), but its proofs must not.
        ({"$schema": "http://json-schema.org/draft-04/schema#",
          "oneOf": [{"exclusiveMinimum": 10}, {"type": "integer", "maximum": 5}]},
         jsonschema.Draft4Validator, ["11", "10.5"], ["3", "-1"]),
        # Draft 2020-12: exclusiveMinimum is a number; a boolean there is no flag, so the first
        # branch holds 5 and 5 matches both (6 matches one, but no witness can say "not 5", so
        # the first branch keeps its non-numbers only: sound, not complete).
        ({"oneOf": [{"minimum": 5, "exclusiveMinimum": True}, {"const": 5}]},
         jsonschema.Draft202012Validator, ['"x"', "null"], ["5"]),
        # Each draft's own form proves the branches apart as before.
        ({"$schema": "http://json-schema.org/draft-04/schema#",
          "oneOf": [{"minimum": 5, "exclusiveMinimum": True}, {"enum": [5]}]},
         jsonschema.Draft4Validator, ["6", "5"], ["4"]),
        ({"oneOf": [{"exclusiveMinimum": 5}, {"const": 5}]},
         jsonschema.Draft202012Validator, ["6", "5"], ["4"]),
    ],
)
def test_schema_one_of_reads_exclusive_bounds_as_the_draft_does(
    schema: Any, validator: Any, accepted: list[str], refused: list[str]
) -> None:
    """The fuzzer's input
    (fuzz/regressions/schema/oracle-draft-04-numeric-exclusive-bound-in-one-of): under draft 4,
    `oneOf: [{exclusiveMinimum: 4294967296, exclusiveMaximum: 0}, ..., true]` was proved to
    hold one value-free branch, so `0` was accepted though it matches two."""
    grammar = Grammar.from_json_schema(schema, additional_properties=True)
    for text in accepted:
        assert validator(schema).is_valid(json.loads(text)), f"table error: {text}"
        assert matches(grammar, text), repro(schema, text, grammar)
    for text in refused:
        assert not matches(grammar, text), repro(schema, text, grammar)
    text = (Path(__file__).resolve().parent.parent / "fuzz" / "regressions" / "schema" /
            "oracle-draft-04-numeric-exclusive-bound-in-one-of").read_bytes()[1:].decode()
    with pytest.raises(SchemaError):
        Grammar.from_json_schema(text)
