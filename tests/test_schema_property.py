"""JSON Schema -> grammar compiler against `jsonschema` on random input: random schemas with
instances derived from them (the grammar accepts only valid values and refuses valid ones only
where documented), random oneOf schemas (sound), and random junk (a typed error or a grammar,
never a crash)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maaza_rt import SchemaError
from maaza_rt.grammar import Grammar, GrammarMatcher

sys.path.insert(0, str(Path(__file__).parent))
from schema_oracle import BYTE_VOCAB, matches, oracle_valid, repro  # noqa: E402

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


# ---- random input: a typed error or a grammar ----------------------------------------------------

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
