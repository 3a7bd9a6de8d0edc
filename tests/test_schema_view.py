"""Schema view: the `$ref` resolver, label words, property kinds, schema shapes and the frames an
output leaves open."""

from __future__ import annotations

from typing import Any

import pytest

from maaza_rt import SchemaError
from maaza_rt.grammar import Grammar, GrammarMatcher, Vocabulary
from maaza_rt.prompt import completion_text, render_schema
from maaza_rt.schema_view import (
    label_words,
    open_frames,
    property_kinds,
    resolve_ref,
    resolve_ref_or_none,
    schema_shape,
)

ORDER = {"type": "object", "properties": {
    "order_id": {"type": "string"},
    "items": {"type": "array", "items": {"$ref": "#/definitions/item"}},
    "total": {"type": "number"},
    "address": {"type": "object", "properties": {
        "street": {"type": "string"}, "zip_code": {"type": "string"}}},
    "tags": {"type": "array", "items": {"type": "string"}},
    "status": {"type": "string"}},
    "definitions": {"item": {"type": "object", "properties": {
        "name": {"type": "string"}, "qty": {"type": "integer"}}}}}


def test_label_words_split_property_names() -> None:
    assert label_words("transaction_id") == "transaction id"
    assert label_words("transactionId") == "transaction id"
    assert label_words("merchant-name") == "merchant name"
    assert label_words("amount") == "amount"


def test_property_kinds_names_every_property() -> None:
    schema = {"type": "object", "properties": {
        "invoiceNumber": {"type": "string"},
        "line_items": {"type": "array", "items": {"type": "object", "properties": {
            "unit_price": {"type": "number"}, "quantity": {"type": "integer"}}}},
        "paid": {"type": "boolean"}}}
    assert property_kinds(schema) == {
        "invoice number": ("invoiceNumber", "string"), "line items": ("line_items", "other"),
        "unit price": ("unit_price", "number"), "quantity": ("quantity", "number"),
        "paid": ("paid", "other")}
    assert property_kinds(True) == {}


def test_schema_shape_reads_nesting_kinds_and_refs() -> None:
    shape = schema_shape(ORDER)
    assert shape.kind == "object" and list(shape.props) == [
        "order_id", "items", "total", "address", "tags", "status"]
    assert shape.words["order id"] == "order_id"
    item = shape.props["items"].item
    assert shape.props["items"].kind == "array" and item is not None and item.kind == "object"
    assert [item.props[k].kind for k in ("name", "qty")] == ["string", "number"]  # via $ref
    assert shape.props["tags"].item is not None and shape.props["tags"].item.kind == "string"
    assert schema_shape({"anyOf": [{"properties": {"a": {"type": "string"}}},
                                   {"properties": {"b": {"type": "number"}}}]}).words == {
        "a": "a", "b": "b"}
    assert schema_shape(True).kind == "other"
    recursive = {"type": "object", "properties": {"child": {"$ref": "#"}}}
    assert schema_shape(recursive).props["child"].kind == "object"  # bounded, no recursion error


def test_open_frames_tracks_open_objects_arrays_and_keys() -> None:
    shape = schema_shape(ORDER)
    frames = open_frames(b'{"order_id":"A1","items":[{"name":"P\\"en","qty":2', shape)
    assert frames is not None
    assert [f.shape.kind for f in frames] == ["object", "array", "object"]
    assert frames[0].seen == {"order_id", "items"} and frames[2].seen == {"name", "qty"}
    assert frames[2].shape is shape.props["items"].item
    frames = open_frames(b'{"order_id":"A1","items":[{"name":"P"}],"address":{"st', shape)
    assert frames is not None and [f.shape for f in frames] == [shape, shape.props["address"]]
    assert open_frames(b'{"a":1}}', shape) is None  # closes more than it opened
    assert open_frames(b'{"items":{', shape) is None  # an object where the schema has a list


# ---- $ref -------------------------------------------------------------------------------------

DEFS: dict[str, Any] = {
    "$defs": {"text": {"type": "string"}, "a/b": {"type": "integer"}, "m~n": {"type": "boolean"},
              "~1": {"const": "tilde one"}, "a b": {"type": "null"}},
    "definitions": {"text": {"const": "old"}},
    "anyOf": [{"const": 1}, {"const": 2}],
}


@pytest.mark.parametrize("ref, target", [
    ("#", DEFS),
    ("#/$defs/text", {"type": "string"}),
    ("#/definitions/text", {"const": "old"}),  # the draft-07 name, a node of its own
    ("#/$defs/a~1b", {"type": "integer"}),  # ~1 is "/"
    ("#/$defs/m~0n", {"type": "boolean"}),  # ~0 is "~"
    ("#/$defs/~01", {"const": "tilde one"}),  # ~0 first would make "/": "~1" it is
    ("#/$defs/a%20b", {"type": "null"}),  # a URI fragment: percent-decoded
    ("#/anyOf/1", {"const": 2}),  # an array index
])
def test_resolve_ref_follows_local_pointers(ref: str, target: Any) -> None:
    assert resolve_ref(DEFS, ref) == target
    assert resolve_ref_or_none(DEFS, ref) == target


@pytest.mark.parametrize("ref, missing", [
    ("#/$defs/missing", "missing"),
    ("#/definitions/a~1b", "a/b"),  # in $defs, not in definitions
    ("#/$defs/text/properties", "properties"),
    ("#/anyOf/2", "2"),  # past the end
    ("#/", ""),  # the key "" (there is none), not the root
])
def test_resolve_ref_raises_a_schema_error_naming_the_pointer(ref: str, missing: str) -> None:
    with pytest.raises(SchemaError) as e:
        resolve_ref(DEFS, ref, holder="/properties/x")
    assert (e.value.keyword, e.value.pointer) == ("$ref", "/properties/x")
    assert f"reference '{ref}' does not resolve" in str(e.value)
    assert f"has no '{missing}'" in str(e.value)
    assert resolve_ref_or_none(DEFS, ref) is None


@pytest.mark.parametrize("ref", ["https://example.com/s.json", "s.json#/$defs/text", "#defs", ""])
def test_resolve_ref_refuses_references_that_are_not_local(ref: str) -> None:
    with pytest.raises(SchemaError, match="only local JSON-pointer references") as e:
        resolve_ref(DEFS, ref)
    assert e.value.keyword == "$ref" and e.value.pointer == ""
    assert resolve_ref_or_none(DEFS, ref) is None


BYTE_VOCAB = Vocabulary([bytes([b]) for b in range(256)] + [b""], [256])
# Each node a reference may name holds its own constant, so a grammar tells which node it took.
NAMED = {"$defs": {"text": {"const": "text"}, "a/b": {"const": "a/b"}, "m~n": {"const": "m~n"},
                   "~1": {"const": "~1"}, "a b": {"const": "a b"},
                   "list": [{"const": "list 0"}, {"const": "list 1"}]},
         "definitions": {"text": {"const": "definitions"}}}
CONSTS = ["text", "a/b", "m~n", "~1", "a b", "list 0", "list 1", "definitions"]


@pytest.mark.parametrize("ref", [
    "#/$defs/text", "#/definitions/text", "#/$defs/a~1b", "#/$defs/m~0n", "#/$defs/~01",
    "#/$defs/a%20b", "#/$defs/list/1", "#/$defs/missing", "#/definitions/a~1b",
    "#/$defs/list/2", "#/", "#defs",
])
def test_resolve_ref_reads_a_pointer_as_the_grammar_compiler_does(ref: str) -> None:
    # What the prompt and the drafts read is the node the grammar enforces; where the resolver
    # finds none, the compiler rejects the schema.
    schema = {**NAMED, "$ref": ref}
    target = resolve_ref_or_none(NAMED, ref)
    if target is None:
        with pytest.raises(SchemaError) as e:
            Grammar.from_json_schema(schema)
        assert e.value.keyword == "$ref"
        return
    grammar = Grammar.from_json_schema(schema)
    accepted = []
    for const in CONSTS:
        m = GrammarMatcher(grammar, BYTE_VOCAB)
        if m.accept_bytes(f'"{const}"'.encode()) and m.is_complete():
            accepted.append(const)
    assert accepted == [target["const"]]


def test_readers_pass_over_a_reference_that_does_not_resolve() -> None:
    schema = {"type": "object", "properties": {"a": {"$ref": "#/$defs/gone"},
                                               "b": {"type": "string"}}}
    assert schema_shape(schema).props["a"].kind == "other"
    assert render_schema(schema) == "{\n a?: gone\n b?: string\n}"  # named, not expanded
    assert completion_text({"b": "x", "a": [1]}, schema) == '{"a":[1],"b":"x"}'


def test_readers_end_on_a_cycle_of_references() -> None:
    schema = {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
              "type": "object", "properties": {"x": {"$ref": "#/$defs/a"}}}
    assert schema_shape(schema).props["x"].kind == "other"
    assert render_schema(schema) == "{\n x?: a\n}"
    assert completion_text({"x": 1}, schema) == '{"x":1}'
