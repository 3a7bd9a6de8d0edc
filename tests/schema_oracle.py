"""The oracle of the schema compiler's tests: a byte-level vocabulary, whether a grammar matches a
text, and `jsonschema`'s verdict on an instance under the compiler's defaults.

``closed`` makes the compiler's ``additionalProperties: false`` default explicit for the oracle;
``oracle_valid`` picks the draft the schema is written in; ``repro`` is the one-line reproduction
(and the grammar) a failing test prints.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema

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


def repro(schema: Any, text: str, grammar: Grammar | None = None) -> str:
    lines = [f"Grammar.from_json_schema({json.dumps(schema)!r}) on {text!r}"]
    if grammar is not None:
        lines.append(grammar.to_gbnf())
    return "\n".join(lines)
