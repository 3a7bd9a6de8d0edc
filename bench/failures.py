"""What goes wrong in an output on an unseen schema: failure kinds per JSON pointer.

Over a parsed output; a string leaf (found by walking nested objects and arrays, named by its
JSON pointer) that equals the expected value at the same pointer is never a failure, and one leaf
may count under several kinds:

    description_values  a string equal (whitespace-normalized, case-insensitive) to a
                        description anywhere in the schema (its own property's or any other),
                        in full or as the prompt shortens it
    type_name_values    a string equal (same folding) to a JSON type name, also written as the
                        prompt renders types: "string[]", "string(date)", "number|null"
    ungrounded_strings  a string that does not occur in the text (whitespace-normalized,
                        case-insensitive substring); values an enum or const allows are exempt
                        from all three string kinds
    absent_strings      a string leaf of a kind grounding covers (``grounding_kind``) that is
                        not a substring of the text with whitespace runs as one space (case
                        counts): what ``extract(grounded=True)`` rules out; right values count
    absent_numbers      a number leaf grounding covers that is none of the text's numbers
                        (``maaza_rt.grounding_text.text_numbers``), where the text writes some
                        number its schema allows (else nothing can be grounded)
    extra_fields        top-level properties output but absent from expected
    missing_fields      top-level properties expected but absent from the output
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from maaza_rt.grounding_text import collapse_whitespace, text_numbers
from maaza_rt.prompt import _short as prompt_description  # as the prompt shows it
from maaza_rt.schema_view import resolve_ref_or_none
from train.sources import normalize_space

FAILURES = ("description_values", "type_name_values", "ungrounded_strings", "absent_strings",
            "absent_numbers", "extra_fields", "missing_fields")
# A JSON type name, as the prompt's schema rendering writes types: with a format, as an array
# ("string(date)", "string[]") or as a union ("number|null").
_TYPE = r"(?:string|number|integer|boolean|object|array|null)(?:\([\w-]+\))?(?:\[\])*"
TYPE_NAME = re.compile(rf"{_TYPE}(?:\s*\|\s*{_TYPE})*")
# Formats whose values the text usually writes otherwise: not grounded.
REWRITTEN_FORMATS = frozenset({"date", "time", "date-time", "duration"})


def _pointer(parent: str, key: str | int) -> str:
    return f"{parent}/{str(key).replace('~', '~0').replace('/', '~1')}"


def _fold(text: str) -> str:
    return normalize_space(text).lower()


def schema_descriptions(schema: Any) -> set[str]:
    """Every non-empty ``description`` in a schema (nested properties, items, branches and
    definitions included), whitespace-normalized and lower-cased, also as the prompt shortens a
    long one (with and without its ``...``)."""
    found: set[str] = set()
    stack = [schema]
    while stack:
        s = stack.pop()
        if isinstance(s, list):
            stack += s
        elif isinstance(s, dict):
            text = s.get("description")
            if isinstance(text, str) and text.strip():
                short = _fold(prompt_description(text))
                found.update((_fold(text), short, short.removesuffix("...").rstrip()))
            for key in ("properties", "$defs", "definitions", "patternProperties"):
                if isinstance(s.get(key), dict):
                    stack += s[key].values()
            stack += [s.get(k) for k in ("items", "additionalProperties", "contains", "not",
                                          "if", "then", "else", "anyOf", "oneOf", "allOf",
                                          "prefixItems")]
    return found


def _expand(schema: Any, root: Any, depth: int = 0) -> list[dict[str, Any]]:
    """``schema`` with local ``$ref`` resolved and anyOf/oneOf/allOf branches listed."""
    if not isinstance(schema, dict) or depth > 32:
        return []
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        target = resolve_ref_or_none(root, ref)
        return [schema, *_expand(target, root, depth + 1)]
    out = [schema]
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key) or []:
            out += _expand(branch, root, depth + 1)
    return out


def _child(schemas: list[dict[str, Any]], key: str | int, root: Any) -> list[dict[str, Any]]:
    """The subschemas a value at ``key`` (a property name or an array index) may match."""
    out: list[dict[str, Any]] = []
    for s in schemas:
        if isinstance(key, str):
            sub = (s.get("properties") or {}).get(key, s.get("additionalProperties"))
        else:
            prefix = s.get("prefixItems") or []
            sub = prefix[key] if key < len(prefix) else s.get("items")
        out += _expand(sub, root)
    return out


def _string_leaves(value: Any, schemas: list[dict[str, Any]], root: Any,
                   pointer: str = "") -> Iterator[tuple[str, str, bool]]:
    """``(pointer, string, allowed by an enum or const)`` for every string leaf of ``value``."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _string_leaves(v, _child(schemas, k, root), root, _pointer(pointer, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _string_leaves(v, _child(schemas, i, root), root, _pointer(pointer, i))
    elif isinstance(value, str):
        allowed = any(value in (s.get("enum") or []) or ("const" in s and s["const"] == value)
                      for s in schemas)
        yield pointer, value, allowed


def failures(output: Any, expected: Any, schema: dict[str, Any], text: str
             ) -> dict[str, list[str]]:
    """The JSON pointers of each failure kind (``FAILURES``) in one parsed output.

    A string leaf equal to the expected leaf at its pointer is right, whatever it looks like;
    enum and const values are choices the schema offers, not generated strings.
    """
    found: dict[str, list[str]] = {kind: [] for kind in FAILURES}
    right = {p: v for p, v, _ in _string_leaves(expected, [], schema)}
    descriptions = schema_descriptions(schema)
    hay = _fold(text)
    for pointer, value, allowed in _string_leaves(output, _expand(schema, schema), schema):
        if allowed or right.get(pointer) == value:
            continue
        folded = _fold(value)
        if folded in descriptions:
            found["description_values"].append(pointer)
        if TYPE_NAME.fullmatch(folded):
            found["type_name_values"].append(pointer)
        if folded not in hay:
            found["ungrounded_strings"].append(pointer)
    found.update(absent_values(output, schema, text))
    out_keys = list(output) if isinstance(output, dict) else []
    exp_keys = list(expected) if isinstance(expected, dict) else []
    found["extra_fields"] = [_pointer("", k) for k in out_keys if k not in exp_keys]
    found["missing_fields"] = [_pointer("", k) for k in exp_keys if k not in out_keys]
    return found


def _leaves(value: Any, schemas: list[dict[str, Any]], root: Any, pointer: str = ""
            ) -> Iterator[tuple[str, Any, list[dict[str, Any]]]]:
    """``(pointer, value, subschemas it may match)`` for every scalar leaf of ``value``."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, _child(schemas, k, root), root, _pointer(pointer, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, _child(schemas, i, root), root, _pointer(pointer, i))
    else:
        yield pointer, value, schemas


def grounding_kind(schemas: list[dict[str, Any]], value: Any) -> str | None:
    """``"string"`` or ``"number"`` when grounding covers a leaf with this value under these
    subschemas (the compiler's rule, read off the schema: a subschema types it; no enum or
    const; a string without pattern, maxLength, minLength above 1 or a date/time format; no
    ``x-maaza-grounded: false``), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if any("enum" in s or "const" in s or s.get("x-maaza-grounded") is False for s in schemas):
        return None
    # Only a value some subschema types (an untyped one allows any value, not grounded).
    wanted = {"string"} if isinstance(value, str) else {"number", "integer"}
    typed = [s.get("type") for s in schemas]
    if not any(t in wanted or (isinstance(t, list) and wanted & set(t)) for t in typed):
        return None
    if isinstance(value, str):
        for s in schemas:
            if "pattern" in s or "maxLength" in s or s.get("minLength", 0) > 1:
                return None
            if s.get("format") in REWRITTEN_FORMATS:
                return None
        return "string"
    if isinstance(value, (int, float)):
        return "number"
    return None


def _number_fits(n: Decimal, schemas: list[dict[str, Any]]) -> bool:
    """Whether a number the text writes is one the leaf's schema allows (type and bounds)."""
    for s in schemas:
        if s.get("type") == "integer" and n != n.to_integral_value():
            return False
        for key, ok in (("minimum", lambda b: n >= b), ("maximum", lambda b: n <= b),
                        ("exclusiveMinimum", lambda b: n > b),
                        ("exclusiveMaximum", lambda b: n < b)):
            bound = s.get(key)
            if isinstance(bound, (int, float)) and not isinstance(bound, bool):
                if not ok(Decimal(str(bound))):
                    return False
    return True


def absent_values(output: Any, schema: dict[str, Any], text: str) -> dict[str, list[str]]:
    """The pointers of the leaves grounding covers that the text does not hold:
    ``{"absent_strings": [...], "absent_numbers": [...]}``."""
    hay = collapse_whitespace(text)
    numbers = [n.value for n in text_numbers(text)]
    found: dict[str, list[str]] = {"absent_strings": [], "absent_numbers": []}
    for pointer, value, schemas in _leaves(output, _expand(schema, schema), schema):
        kind = grounding_kind(schemas, value)
        if kind == "string" and collapse_whitespace(value) not in hay:
            found["absent_strings"].append(pointer)
        elif kind == "number":
            fitting = [n for n in numbers if _number_fits(n, schemas)]
            if fitting and Decimal(str(value)) not in fitting:
                found["absent_numbers"].append(pointer)
    return found
