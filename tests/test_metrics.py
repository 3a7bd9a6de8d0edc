"""maaza_rt.metrics: the native scorer against tables, the pure-Python reference and jsonschema.

The reference alone (maaza_rt.metrics_reference) is tested in test_metrics_reference.py.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import MASKBENCH
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maaza_rt import metrics
from maaza_rt.errors import JsonError, SchemaError
from maaza_rt.metrics_reference import (
    equal_reference,
    extract_json_reference,
    schema_valid_reference,
    score_pair_reference,
    score_reference,
)

KEYS = ("parsed", "json_exact", "field_f1", "compliance", "schema_valid", "leaf_f1")


def assert_agree(pred: str, exp: str, schema: Any = None, extract: bool = False) -> dict:
    native = metrics.score_pair(pred, exp, schema, extract_json=extract)
    ref = score_pair_reference(pred, exp, schema, extract_json=extract)
    assert native == ref, f"prediction={pred!r}\nexpected={exp!r}\nschema={schema!r}"
    return native


# ---- equality and the paper's metrics: tables --------------------------------------------------

EQUAL_CASES = [
    ('{"a":1,"b":2}', '{"b":2,"a":1}', True),
    ("1", "1.0", True),
    ("1", "1e0", True),
    ("-0", "0", True),
    ("-0.0", "0", True),
    ("true", "1", False),
    ("false", "0", False),
    ("null", "0", False),
    ("[true]", "[1]", False),
    ('{"a":1,"a":2}', '{"a":2}', True),
    ('{"a":1,"a":2}', '{"a":1}', False),
    ("100000000000000000000", "1e20", True),  # 1e20 is exactly 10**20
    ("1000000000000000000000000000000", "1e30", False),  # 1e30 is not exactly 10**30
    ("9007199254740993", "9007199254740992.0", False),
    ("9007199254740992", "9007199254740992.0", True),
    ("123456789012345678901234567890", "123456789012345678901234567890", True),
    ("123456789012345678901234567890", "123456789012345678901234567891", False),
    ("-123456789012345678901234567890", "123456789012345678901234567890", False),
    ("1e400", "1e401", True),  # both +inf as floats
    ("1" + "0" * 400, "1e400", False),  # an int never equals inf
    ("0.1", "0.10000000000000001", True),
    ('"\\u00e9"', '"\u00e9"', True),
    ('"\\ud83d\\ude00"', '"\U0001f600"', True),
    ('"a"', '"A"', False),
    ("[]", "{}", False),
    ("[1,2]", "[2,1]", False),
]


@pytest.mark.parametrize(("a", "b", "equal"), EQUAL_CASES)
def test_metrics_json_exact_table(a: str, b: str, equal: bool) -> None:
    assert assert_agree(a, b)["json_exact"] is equal
    assert assert_agree(b, a)["json_exact"] is equal


def test_metrics_field_f1_counts_equal_top_level_values() -> None:
    s = assert_agree('{"a":1,"b":2,"c":3}', '{"a":1,"b":5,"d":4,"e":0}')
    # tp = 1 (a), precision 1/3, recall 1/4
    p, r = 1 / 3, 1 / 4
    assert s["field_f1"] == 2 * (p * r) / (p + r)
    assert s["json_exact"] is False


@pytest.mark.parametrize(
    ("pred", "exp", "f1"),
    [
        ("{}", "{}", 1.0),
        ("{}", '{"a":1}', 0.0),
        ('{"a":1}', "{}", 0.0),
        ("[]", '{"a":1}', 0.0),
        ("[]", "{}", 0.0),  # a non-object prediction scores 0 even against {}
        ('{"a":{"b":1}}', '{"a":{"b":1.0}}', 1.0),
        ('{"a":{"b":1}}', '{"a":{"b":2}}', 0.0),
        ("3", "3.0", 1.0),  # expected not an object: equality
        ("3", "4", 0.0),
    ],
)
def test_metrics_field_f1_conventions(pred: str, exp: str, f1: float) -> None:
    assert assert_agree(pred, exp)["field_f1"] == f1


@pytest.mark.parametrize(
    ("pred", "exp", "ok"),
    [
        ('{"a":1.5,"b":"x"}', '{"a":1,"b":"y"}', True),  # values may differ, types must not
        ('{"a":1,"b":"x","c":null}', '{"a":1,"b":"y"}', True),  # extra keys allowed
        ('{"a":true}', '{"a":1}', False),  # bool is not a number
        ('{"a":null}', '{"a":"x"}', False),
        ('{"a":"x"}', '{"a":null}', False),
        ('{"a":[1]}', '{"a":["x"]}', True),  # nested values not inspected
        ('{"b":1}', '{"a":1}', False),
        ("{}", "{}", False),  # an empty prediction is never compliant (paper)
        ("[1]", '{"a":1}', False),
        ("2", "1.5", True),
        ('"2"', "1.5", False),
    ],
)
def test_metrics_compliance_table(pred: str, exp: str, ok: bool) -> None:
    assert assert_agree(pred, exp)["compliance"] is ok


@pytest.mark.parametrize(
    ("pred", "exp", "f1"),
    [
        ('{"a":{"b":1,"c":2}}', '{"a":{"b":1,"c":3}}', 0.5),
        ('{"a":[1,2,3]}', '{"a":[1,2]}', 2 * (2 / 3 * 1.0) / (2 / 3 + 1.0)),
        ('{"a":[]}', '{"a":[]}', 1.0),
        ('{"a":[]}', '{"a":{}}', 0.0),  # empty containers are leaves and differ
        ('{"a":{}}', '{"a":{"b":1}}', 0.0),
        ('{"0":"x"}', '["x"]', 0.0),  # key "0" is not index 0
        ("5", "5", 1.0),
        ('{"a":{"b":true}}', '{"a":{"b":1}}', 0.0),
    ],
)
def test_metrics_leaf_f1_table(pred: str, exp: str, f1: float) -> None:
    assert assert_agree(pred, exp)["leaf_f1"] == f1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        '{"a":1,}',
        "NaN",
        "[Infinity]",
        '"\\ud800"',
        '{"\\udc00":1}',
        "'a'",
        '{"a":1} x',
        "[" * 514 + "]" * 514,
        "\ufeff{}",
    ],
)
def test_metrics_unparseable_prediction_scores_zero(text: str) -> None:
    s = assert_agree(text, '{"a":1}', {"type": "object"})
    assert s == {
        "parsed": False,
        "json_exact": False,
        "field_f1": 0.0,
        "compliance": False,
        "schema_valid": False,
        "leaf_f1": 0.0,
    }


def test_metrics_nesting_limit_matches_reference() -> None:
    deep_ok = "[" * 513 + "]" * 513
    assert assert_agree(deep_ok, deep_ok)["json_exact"] is True


# ---- EdgeJSON: every expected output against itself and mutations --------------------------------


def _mutations(value: dict, rng: random.Random) -> list[str]:
    """Dumped variants of an expected object: changed leaf, missing key, extra key, type change,
    truncated text, reordered keys, int/float swaps and a duplicate key."""
    out = []
    keys = list(value)
    k = rng.choice(keys)

    changed = copy.deepcopy(value)
    v = changed[k]
    if isinstance(v, bool):
        changed[k] = not v
    elif isinstance(v, (int, float)):
        changed[k] = v + 1
    elif isinstance(v, str):
        changed[k] = v + "x"
    elif isinstance(v, list):
        changed[k] = v[:-1]
    elif isinstance(v, dict) and v:
        inner = rng.choice(list(v))
        changed[k] = {**v, inner: None}
    else:
        changed[k] = "changed"
    out.append(json.dumps(changed))

    missing = {kk: vv for kk, vv in value.items() if kk != k}
    out.append(json.dumps(missing))
    out.append(json.dumps({**value, "extra_key": [1, "two", None]}))

    typed = copy.deepcopy(value)
    v = typed[k]
    typed[k] = 1 if isinstance(v, bool) else str(v) if not isinstance(v, str) else 7
    out.append(json.dumps(typed))

    text = json.dumps(value)
    out.append(text[: rng.randrange(1, len(text))])
    out.append(json.dumps(dict(reversed(list(value.items()))), ensure_ascii=False, indent=1))

    floats = json.loads(
        json.dumps(value), parse_int=lambda s: float(s) if rng.random() < 0.5 else int(s)
    )
    out.append(json.dumps(floats))
    out.append(json.dumps(value)[:-1] + ', "' + k + '": ' + json.dumps(value[k]) + "}")
    out.append("Here is the JSON:\n" + json.dumps(value) + "\nDone.")
    return out


def test_metrics_edgejson_expected_scores_perfect(
    edgejson_rows: list[dict], edgejson_schemas: dict[str, dict]
) -> None:
    for row in edgejson_rows:
        text = json.dumps(row["expected_output"], ensure_ascii=False)
        schema = edgejson_schemas[row["schema_id"]]
        s = assert_agree(text, text, schema)
        assert s == {
            "parsed": True,
            "json_exact": True,
            "field_f1": 1.0,
            "compliance": True,
            "schema_valid": True,
            "leaf_f1": 1.0,
        }, row["id"]


def test_metrics_edgejson_mutations_agree_with_reference(
    edgejson_rows: list[dict], edgejson_schemas: dict[str, dict]
) -> None:
    rng = random.Random(0)
    preds, exps, schemas, groups = [], [], [], []
    for row in edgejson_rows:
        exp = json.dumps(row["expected_output"])
        for pred in _mutations(row["expected_output"], rng):
            preds.append(pred)
            exps.append(exp)
            schemas.append(edgejson_schemas[row["schema_id"]])
            groups.append(row.get("complexity", "medium"))
    for extract in (False, True):
        native = metrics.score(preds, exps, schemas, groups, extract, return_pairs=True)
        ref = score_reference(preds, exps, schemas, groups, extract, return_pairs=True)
        for key in KEYS:
            cols = zip(native["pairs"][key], ref["pairs"][key])
            bad = [i for i, (a, b) in enumerate(cols) if a != b]
            assert not bad, (key, [(preds[i], exps[i]) for i in bad[:3]])
        assert native == ref
    # The mutations really change the scores.
    overall = native["overall"]
    assert 0.0 < overall["json_exact"] < 1.0
    assert 0.0 < overall["schema_valid"] < 1.0
    assert overall["n_unparsed"] > 0


# ---- hypothesis: random pairs -----------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([0, 1, -1, 1.0, -0.0, 0.0, 2**53, 2**53 + 1, float(2**53), 1e20, 10**20]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(["", "é", "\U0001f600", '"', "\\", "\n\t", "\x00", "\u2028"]),
)
_values = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=4), children, max_size=4),
    ),
    max_leaves=20,
)


def _perturb(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        out = {k: _perturb(v, rng) for k, v in value.items()}
        if out and rng.random() < 0.2:
            out.pop(rng.choice(list(out)))
        if rng.random() < 0.1:
            out["new"] = 1
        return out
    if isinstance(value, list):
        return [_perturb(v, rng) for v in value]
    r = rng.random()
    if r < 0.1 and isinstance(value, bool):
        return int(value)
    if r < 0.2 and isinstance(value, int) and not isinstance(value, bool):
        return float(value) if abs(value) < 2**60 else value + 1
    if r < 0.25:
        return "x"
    return value


def _dump(value: Any, rng: random.Random) -> str:
    return json.dumps(
        value,
        ensure_ascii=rng.random() < 0.5,
        indent=rng.choice([None, 2]),
        sort_keys=rng.random() < 0.3,
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_values, st.integers(0, 2**32 - 1))
def test_metrics_random_pairs_agree_with_reference(value: Any, seed: int) -> None:
    rng = random.Random(seed)
    other = _perturb(value, rng)
    exp = _dump(value, rng)
    assert_agree(_dump(value, rng), exp)
    assert_agree(_dump(other, rng), exp)
    assert_agree(exp, _dump(other, rng))


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 600))
def test_metrics_deep_nesting_agrees(depth: int) -> None:
    text = '{"a":' * depth + "1" + "}" * depth
    assert_agree(text, '{"a":{"a":1}}')
    assert_agree("[" * depth + "]" * depth, '{"a":1}')
    if depth <= 512:  # an expected value must parse
        assert assert_agree(text, text)["json_exact"] is True


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='{}[]":,a1 \n\u00a0x', max_size=40))
def test_metrics_extract_json_agrees_with_reference(text: str) -> None:
    ok, value = extract_json_reference(text)
    native = metrics.extract_json(text)
    assert (native is not None) == ok
    if ok:
        assert equal_reference(json.loads(native), value)


def test_metrics_extract_json_follows_the_paper() -> None:
    assert metrics.extract_json('\u00a0 {"a": 1} \u3000') == '{"a":1}'
    assert metrics.extract_json('Result: {"a": {"b": 1}} end') == '{"a":{"b":1}}'
    # Three levels of braces are beyond the paper's pattern: the inner two levels are found.
    assert metrics.extract_json('x {"a": {"b": {"c": 1}}} y') == '{"b":{"c":1}}'
    assert metrics.extract_json("no json here") is None
    assert metrics.extract_json('{bad} {"ok": true}') == '{"ok":true}'
    s = assert_agree('Answer: {"a": 1}', '{"a":1}', extract=True)
    assert s["json_exact"] is True
    assert assert_agree('Answer: {"a": 1}', '{"a":1}')["parsed"] is False


# ---- schema validation -------------------------------------------------------------------------

SCHEMA_CASES: list[tuple[dict, Any, bool]] = [
    ({"type": "integer"}, 1, True),
    ({"type": "integer"}, 1.0, True),
    ({"type": "integer"}, 1.5, False),
    ({"type": "integer"}, True, False),
    ({"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"}, 1.0, False),
    ({"$schema": "http://json-schema.org/draft-04/schema#", "minimum": 2,
      "exclusiveMinimum": True}, 2, False),
    ({"type": "number"}, False, False),
    ({"type": ["string", "null"]}, None, True),
    ({"type": ["string", "null"]}, 3, False),
    ({"properties": {"a": {"type": "string"}}, "required": ["a"]}, {"a": "x"}, True),
    ({"properties": {"a": {"type": "string"}}, "required": ["a"]}, {"b": "x"}, False),
    ({"properties": {"a": {}}, "additionalProperties": False}, {"a": 1, "b": 2}, False),
    ({"additionalProperties": {"type": "integer"}}, {"a": 1, "b": 2}, True),
    ({"patternProperties": {"^x": {"type": "integer"}}, "additionalProperties": False},
     {"x1": 1}, True),
    ({"patternProperties": {"^x": {"type": "integer"}}, "additionalProperties": False},
     {"y1": 1}, False),
    ({"items": {"type": "integer"}}, [1, 2, "3"], False),
    ({"prefixItems": [{"type": "string"}], "items": {"type": "integer"}}, ["a", 1], True),
    ({"prefixItems": [{"type": "string"}], "items": {"type": "integer"}}, ["a", "b"], False),
    ({"$schema": "http://json-schema.org/draft-07/schema#", "items": [{"type": "string"}],
      "additionalItems": False}, ["a", 1], False),
    ({"minItems": 2, "maxItems": 3}, [1], False),
    ({"minItems": 2, "maxItems": 3}, [1, 2, 3], True),
    ({"uniqueItems": True}, [1, 1.0], False),
    ({"uniqueItems": True}, [1, True], True),
    ({"uniqueItems": True}, [{"a": 1}, {"a": 2}], True),
    ({"enum": ["a", 1]}, 1.0, True),
    ({"enum": ["a", 1]}, True, False),
    ({"const": {"a": [1]}}, {"a": [1.0]}, True),
    ({"anyOf": [{"type": "string"}, {"minimum": 3}]}, 2, False),
    ({"oneOf": [{"type": "integer"}, {"minimum": 3}]}, 5, False),
    ({"oneOf": [{"type": "integer"}, {"minimum": 3}]}, 4.5, True),
    ({"allOf": [{"minimum": 1}, {"maximum": 2}]}, 3, False),
    ({"not": {"type": "null"}}, None, False),
    ({"$defs": {"p": {"type": "integer"}}, "properties": {"a": {"$ref": "#/$defs/p"}}},
     {"a": "x"}, False),
    ({"definitions": {"p": {"type": "integer"}}, "items": {"$ref": "#/definitions/p"}}, [1], True),
    ({"properties": {"next": {"$ref": "#"}}, "type": "object", "required": ["v"]},
     {"v": 1, "next": {"v": 2, "next": {}}}, False),
    ({"$schema": "http://json-schema.org/draft-07/schema#",
      "definitions": {"s": {"type": "string"}}, "$ref": "#/definitions/s", "minLength": 5},
     "abc", True),  # draft-07: siblings of $ref are ignored
    ({"definitions": {"s": {"type": "string"}}, "$ref": "#/definitions/s", "minLength": 5},
     "abc", False),  # 2020-12: they apply
    ({"minLength": 2, "maxLength": 3}, "\U0001f600\U0001f600", True),  # code points
    ({"maxLength": 1}, "é", True),
    ({"pattern": "^[+]?[0-9\\-\\s()]+$"}, "+1 (555) 010-9999", True),
    ({"pattern": "^[+]?[0-9\\-\\s()]+$"}, "555-CALL", False),
    ({"pattern": "b"}, "abc", True),  # search semantics
    ({"minimum": 0, "exclusiveMaximum": 10}, 10, False),
    ({"exclusiveMinimum": 0}, 0.0, False),
    ({"maximum": 10**30}, 10**30, True),
    ({"maximum": 10**30}, 10**30 + 1, False),
    ({"minimum": 1.5}, 1, False),
    ({"multipleOf": 0.25}, 0.75, True),
    ({"multipleOf": 0.01}, 0.07, False),  # float division, as jsonschema: 7.000000000000001
    ({"multipleOf": 3}, 9.0, True),
    ({"multipleOf": 3}, 10**25, False),
    ({"multipleOf": 3}, 3 * 10**25, True),
    ({"minProperties": 1}, {}, False),
    ({"maxProperties": 1}, {"a": 1, "b": 2}, False),
    ({"format": "date-time"}, "2012-02-29T18:46:41.361024", True),
    ({"format": "date-time"}, "2013-02-29T18:46:41", False),
    ({"format": "date-time"}, "2012-02-29T18:46:41+02:00", True),
    ({"format": "date"}, "2000-02-29", True),
    ({"format": "date"}, "1900-02-29", False),
    ({"format": "email"}, "ada@example.com", True),
    ({"format": "email"}, "ada@localhost", False),
    ({"format": "email"}, "a..b@example.com", False),
    ({"format": "uuid"}, "32440f07-0ae2-43e0-ae66-3c0ac1e0a4a1", True),
    ({"format": "ipv4"}, "192.168.01.1", False),
    ({"format": "ipv4"}, "192.168.1.255", True),
    ({"format": "uri"}, "https://example.com/a?b=c%20d", True),
    ({"format": "uri"}, "example.com/a b", False),
    ({"format": "time"}, "24:00:00", False),
    ({"format": "unknown-format"}, "anything", True),
    ({"format": "email"}, 5, True),  # formats only apply to strings
    (True, {"anything": 1}, True),
    (False, 1, False),
    ({"properties": {"a": False}}, {"a": 1}, False),
]


@pytest.mark.parametrize(("schema", "instance", "valid"), SCHEMA_CASES)
def test_metrics_schema_valid_table(schema: Any, instance: Any, valid: bool) -> None:
    text = json.dumps(instance)
    assert metrics.schema_valid(text, schema) is valid
    assert schema_valid_reference(instance, schema) is valid


def test_metrics_schema_valid_uses_jsonschema_as_oracle(edgejson_schemas: dict[str, dict]) -> None:
    # Plain jsonschema (no format checks) must agree wherever formats are not involved.
    schema = edgejson_schemas["contact_info"]
    for instance, valid in [
        ({"name": "A", "email": "a@b.co", "phone": "+1 555"}, True),
        ({"name": "A", "email": "a@b.co", "phone": "call me"}, False),
        ({"name": "A", "email": "a@b.co"}, False),
        ({"name": "A", "email": "a@b.co", "phone": "1", "x": 1}, False),
    ]:
        assert jsonschema.Draft7Validator(schema).is_valid(instance) is valid
        assert metrics.schema_valid(json.dumps(instance), schema) is valid


@pytest.mark.parametrize(
    ("schema", "keyword"),
    [
        ({"$ref": "http://example.com/s.json"}, "$ref"),
        ({"$ref": "#/definitions/missing"}, "$ref"),
        ({"pattern": "(unclosed"}, "pattern"),
        ({"type": "decimal"}, "type"),
        ({"minLength": "3"}, "minLength"),
        ({"properties": {"a": 3}}, ""),
    ],
)
def test_metrics_bad_schema_raises_schema_error(schema: dict, keyword: str) -> None:
    with pytest.raises(SchemaError) as info:
        metrics.score_pair("{}", "{}", schema)
    assert info.value.keyword == keyword


def test_metrics_bad_expected_raises_json_error_with_index() -> None:
    with pytest.raises(JsonError, match=r"expected\[1\]"):
        metrics.score(["{}", "{}"], ["{}", "{oops"])


def test_metrics_bad_arguments_raise() -> None:
    with pytest.raises(ValueError):
        metrics.score(["{}"], ["{}", "{}"])
    with pytest.raises(TypeError):
        metrics.score([{"a": 1}], ["{}"])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        metrics.score(["{}"], ["{}"], groups=["a", "b"])


def test_metrics_ref_cycle_is_invalid_not_a_crash() -> None:
    assert metrics.schema_valid("1", {"$ref": "#"}) is False


def test_metrics_groups_and_schema_mix() -> None:
    out = metrics.score(
        ['{"a":1}', '{"a":2}', "oops"],
        ['{"a":1}', '{"a":1}', '{"a":1}'],
        schemas=[{"properties": {"a": {"const": 1}}}, None, '{"type":"object"}'],
        groups=["s", "c", "s"],
    )
    assert out["overall"]["n_with_schema"] == 2
    assert out["overall"]["schema_valid"] == 0.5
    assert out["overall"]["n_unparsed"] == 1
    assert out["groups"]["s"]["json_exact"] == 0.5
    assert out["groups"]["c"]["schema_valid"] is None
    assert out["groups"]["c"]["field_f1"] == 0.0


# ---- MaskBench corpus: native validator against jsonschema with the reference formats ------------

_SUPPORTED = {
    "type", "properties", "patternProperties", "additionalProperties", "required", "items",
    "prefixItems", "additionalItems", "minItems", "maxItems", "uniqueItems", "enum", "const",
    "anyOf", "oneOf", "allOf", "not", "$ref", "$defs", "definitions", "minLength", "maxLength",
    "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "multipleOf", "minProperties", "maxProperties", "title", "description", "default",
    "examples", "$schema", "$comment", "readOnly", "writeOnly", "deprecated",
}
_NAME_MAPS = {"properties", "patternProperties", "$defs", "definitions"}


def _only_supported(schema: Any) -> bool:
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, dict):
        return False
    for k, v in schema.items():
        if k not in _SUPPORTED:
            return False
        if k in _NAME_MAPS:
            if not isinstance(v, dict) or not all(_only_supported(s) for s in v.values()):
                return False
        elif k in ("items", "additionalItems", "additionalProperties", "not"):
            subs = v if isinstance(v, list) else [v]
            if not all(_only_supported(s) for s in subs):
                return False
        elif k in ("anyOf", "oneOf", "allOf", "prefixItems"):
            if not isinstance(v, list) or not all(_only_supported(s) for s in v):
                return False
        elif k in ("pattern",) or (k == "$ref" and not str(v).startswith("#")):
            if k == "$ref":
                return False
    return True


@pytest.mark.slow
def test_metrics_maskbench_validator_agrees_with_jsonschema() -> None:
    files = sorted(MASKBENCH.glob("*.json"))[::10]
    checked = 0
    for path in files:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        schema = data["schema"]
        if not _only_supported(schema):
            continue
        for test in data.get("tests", []):
            text = json.dumps(test["data"])
            try:
                native = metrics.schema_valid(text, schema)
            except SchemaError:
                break  # a pattern std::regex does not accept: refused, as documented
            ref = schema_valid_reference(test["data"], schema)
            assert native is ref, f"{path.name}: {text[:200]}"
            checked += 1
    assert checked > 200


@pytest.mark.parametrize("n_keys", [5, 63, 64, 65, 300])
def test_metrics_large_objects_with_duplicates_agree(n_keys: int) -> None:
    rng = random.Random(n_keys)
    keys = [f"k{rng.randrange(n_keys)}" for _ in range(n_keys)]  # with duplicates
    members = [f'"{k}": {i}' for i, k in enumerate(keys)]
    pred = "{" + ", ".join(members) + "}"
    last = {k: i for i, k in enumerate(keys)}
    exp = json.dumps(dict(sorted(last.items(), key=lambda kv: rng.random())))
    assert assert_agree(pred, exp)["json_exact"] is True
    rng.shuffle(members)
    assert_agree("{" + ", ".join(members) + "}", exp)


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.decimals(min_value=-(10**12), max_value=10**12, places=4).map(str),
        st.decimals(min_value=-1, max_value=1, places=8).map(str),
        st.integers(-(2**53), 2**53).map(str),
    )
)
def test_metrics_number_spellings_compare_by_value(x: Any) -> None:
    # Short decimals and integers take the parser's fast paths; the exponent spelling of the
    # same double goes through strtod. Both must give the same value.
    text = x if isinstance(x, str) else repr(x)
    if "E" in text or "e" in text:
        return
    value = float(text)
    other = format(value, ".17e")
    assert metrics.score_pair(text, other)["json_exact"] is True
    assert_agree(text, other)


# ---- batches: repeated expected values, escapes ------------------------------------------------


def test_metrics_batch_with_repeated_expected_agrees_with_reference() -> None:
    # The native scorer parses each distinct expected text once and scores its pairs together;
    # per-pair results must land at their own index and the sums must follow pair order.
    rng = random.Random(7)
    values: list[Any] = [
        {"name": "Ada", "tags": ["x", "y"], "n": 1},
        {"name": "Grace", "age": 85.5, "ok": True, "nested": {"a": [1, {"b": None}]}},
        [1, "two", {"three": 3}],
        {},
        "text",
    ]
    schemas = [
        {"type": "object", "required": ["name"]},
        {"type": "object", "properties": {"age": {"type": "number", "minimum": 0}}},
        {"type": "array", "items": {"type": ["integer", "string", "object"]}},
        {"type": "object", "maxProperties": 0},
        {"type": "string", "enum": ["text", "other"]},
    ]
    preds, exps, pair_schemas, groups = [], [], [], []
    for i in range(600):
        k = rng.randrange(len(values))
        value = values[k]
        r = rng.random()
        if r < 0.4:
            pred = _dump(value, rng)
        elif r < 0.8:
            pred = _dump(_perturb(value, rng), rng)
        elif r < 0.9:
            text = json.dumps(value)
            pred = text[: rng.randrange(len(text) + 1)]
        else:
            pred = "Answer: " + json.dumps(value) + " done"
        preds.append(pred)
        exps.append(_dump(value, rng))  # many spellings of each expected value
        pair_schemas.append(None if i % 7 == 0 else schemas[k])
        groups.append(("even", "odd")[i % 2] if k else "first")
    for extract in (False, True):
        native = metrics.score(preds, exps, pair_schemas, groups, extract, return_pairs=True)
        ref = score_reference(preds, exps, pair_schemas, groups, extract, True)
        assert native == ref


def test_metrics_first_bad_expected_in_pair_order_is_reported() -> None:
    exps = ['{"a":1}', '{"a":1}', "[1,", '{"a":1}', "{oops", "[1,"]
    with pytest.raises(JsonError, match=r"expected\[2\]"):
        metrics.score(["{}"] * len(exps), exps)


ESCAPE_CASES = [
    ('{"\\u0061":1,"a":2}', '{"a":2}'),
    ('{"a\\"b":"x\\ny","\\u00e9":"\\ud83d\\ude00"}', '{"\u00e9":"\U0001f600","a\\"b":"x\\ny"}'),
    ('["\\/","\\\\","\\b\\f\\r\\t"]', '["/","\\\\","\\b\\f\\r\\t"]'),
    ('{"k":"plain","k":"\\u006b"}', '{"k":"k"}'),
    ('{"\\u00e9":1,"\u00e9":2,"e":3}', '{"e":3,"\u00e9":2}'),
]


@pytest.mark.parametrize(("pred", "exp"), ESCAPE_CASES)
def test_metrics_escaped_keys_and_strings_agree(pred: str, exp: str) -> None:
    assert assert_agree(pred, exp)["json_exact"] is True
    assert assert_agree(exp, pred)["json_exact"] is True


def test_metrics_many_escaped_members_agree() -> None:
    # Every key and value needs decoding: the decoded text of the whole document is held at once.
    members = {f"k\u00e9{i}\n": f"v\u00e8{i}\t\U0001f600" for i in range(300)}
    pred = json.dumps(members, ensure_ascii=True)
    exp = json.dumps(dict(reversed(list(members.items()))), ensure_ascii=False)
    assert assert_agree(pred, exp)["json_exact"] is True
    changed = dict(members, **{"k\u00e90\n": "other"})
    s = assert_agree(json.dumps(changed, ensure_ascii=True), exp)
    assert s["json_exact"] is False and s["leaf_f1"] < 1.0


def test_metrics_extract_json_keeps_escaped_text() -> None:
    found = metrics.extract_json('see {"\\u00e9": "a\\"b", "k": [1, 2.50]} here')
    assert found == '{"\u00e9":"a\\"b","k":[1,2.50]}'
