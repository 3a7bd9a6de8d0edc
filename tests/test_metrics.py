"""maaza_rt.metrics: the native scorer against tables and the pure-Python reference: equality and
the paper's metrics, every EdgeJSON expected output and its mutations, JSON extraction from text,
and escaped keys and strings.

Random, large and batched inputs are tested in test_metrics_random.py, schema validation in
test_metrics_schema.py, the reference alone (maaza_rt.metrics_reference) in
test_metrics_reference.py.
"""

from __future__ import annotations

import copy
import json
import random
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maaza_rt import metrics
from maaza_rt.metrics_reference import (
    equal_reference,
    extract_json_reference,
    score_reference,
)

sys.path.insert(0, str(Path(__file__).parent))
from metrics_oracle import assert_agree  # noqa: E402

KEYS = ("parsed", "json_exact", "field_f1", "compliance", "schema_valid", "leaf_f1")


# ---- equality and the paper's metrics: tables ----------------------------------------------------

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


# ---- extracting JSON from text -------------------------------------------------------------------

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


# ---- escapes -------------------------------------------------------------------------------------

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
