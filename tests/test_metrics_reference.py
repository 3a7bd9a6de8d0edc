"""maaza_rt.metrics_reference: the pure-Python reference alone, against tables of the definitions.

The reference is the oracle the native scorer is checked against (test_metrics.py), so it is
held to the definitions on its own here: strict parsing, equality, the paper's metrics, the
fallback extraction, the format checks, schema validation and the batch layout.
"""

from __future__ import annotations

from typing import Any

import pytest

from maaza_rt.metrics_reference import (
    check_format_reference,
    compliance_reference,
    equal_reference,
    extract_json_reference,
    field_f1_reference,
    json_type,
    leaf_f1_reference,
    parse_reference,
    schema_valid_reference,
    score_pair_reference,
    score_reference,
)

# ---- strict parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "NaN",
        "[Infinity]",
        "-Infinity",
        '"\\ud800"',
        '{"\\udc00":1}',
        '{"\\ud800":1,"\\ud800":2}',  # a duplicate key is checked before the last one wins
        "[" * 514 + "]" * 514,
        '{"a":1,}',
        '{"a":1} x',
    ],
)
def test_metrics_reference_parse_rejects_what_rfc_8259_rejects(text: str) -> None:
    assert parse_reference(text) == (False, None)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("[" * 513 + "]" * 513, None),  # the deepest nesting accepted
        ('{"a":1,"a":2}', {"a": 2}),
        ('"\\ud83d\\ude00"', "\U0001f600"),
        (" 1e400 ", float("inf")),
        ("1" + "0" * 5000, 10**5000),  # past int()'s digit limit
        ("-" + "9" * 4500, -(10**4500 - 1)),
    ],
    ids=["deepest", "duplicate-key", "surrogate-pair", "infinity", "long-int", "long-negative"],
)
def test_metrics_reference_parse_accepts_strict_json(text: str, value: Any) -> None:
    ok, parsed = parse_reference(text)
    assert ok is True
    if value is not None:
        assert parsed == value and type(parsed) is type(value)


# ---- equality and JSON types ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (1, 1.0, True),
        (True, 1, False),
        (False, 0.0, False),
        (None, 0, False),
        (None, None, True),
        (2**53 + 1, float(2**53 + 1), False),
        ([1, {"a": [True]}], [1.0, {"a": [True]}], True),
        ([1, {"a": [True]}], [1, {"a": [1]}], False),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}, True),
        ({"a": 1}, {"a": 1, "b": None}, False),
        ([1, 2], [1, 2, 3], False),
        ("1", 1, False),
        ([], {}, False),
    ],
)
def test_metrics_reference_equal_table(a: Any, b: Any, equal: bool) -> None:
    assert equal_reference(a, b) is equal
    assert equal_reference(b, a) is equal


@pytest.mark.parametrize(
    ("value", "name"),
    [(None, "null"), (True, "boolean"), (0, "number"), (1.5, "number"), ("", "string"),
     ([], "array"), ({}, "object")],
)
def test_metrics_reference_json_type_names(value: Any, name: str) -> None:
    assert json_type(value) == name


# ---- the paper's metrics on loaded values --------------------------------------------------------


@pytest.mark.parametrize(
    ("pred", "exp", "f1"),
    [
        ({}, {}, 1.0),
        ({}, {"a": 1}, 0.0),
        ({"a": 1}, {}, 0.0),
        ([], {}, 0.0),
        ({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 5, "d": 4, "e": 0}, 2 / 7),  # P 1/3, R 1/4
        ({"a": True}, {"a": 1}, 0.0),
        (3, 3.0, 1.0),
        ("x", "y", 0.0),
    ],
)
def test_metrics_reference_field_f1_table(pred: Any, exp: Any, f1: float) -> None:
    assert field_f1_reference(pred, exp) == pytest.approx(f1)


@pytest.mark.parametrize(
    ("pred", "exp", "ok"),
    [
        ({"a": 1.5, "b": "x", "c": None}, {"a": 1, "b": "y"}, True),
        ({"a": True}, {"a": 1}, False),
        ({"a": [1]}, {"a": ["x"]}, True),
        ({}, {}, False),  # an empty prediction is never compliant
        ({"b": 1}, {"a": 1}, False),
        (2, 1.5, True),
        ("2", 1.5, False),
    ],
)
def test_metrics_reference_compliance_table(pred: Any, exp: Any, ok: bool) -> None:
    assert compliance_reference(pred, exp) is ok


@pytest.mark.parametrize(
    ("pred", "exp", "f1"),
    [
        ({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3}}, 0.5),
        ({"a": [1, 2, 3]}, {"a": [1, 2]}, 0.8),  # P 2/3, R 1
        ({"a": []}, {"a": {}}, 0.0),  # empty containers are different leaves
        ({"0": "x"}, ["x"], 0.0),  # key "0" is not index 0
        (5, 5.0, 1.0),
    ],
)
def test_metrics_reference_leaf_f1_table(pred: Any, exp: Any, f1: float) -> None:
    assert leaf_f1_reference(pred, exp) == pytest.approx(f1)


# ---- the paper's fallback extraction -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('\u00a0 [1, 2] \n', (True, [1, 2])),  # the stripped text first, whatever its type
        ('Result: {"a": {"b": 1}} end', (True, {"a": {"b": 1}})),
        ('x {"a": {"b": {"c": 1}}} y', (True, {"b": {"c": 1}})),  # two levels of braces only
        ('{bad} {"ok": true}', (True, {"ok": True})),
        ("no json here", (False, None)),
        ("[1, 2] and more", (False, None)),  # the pattern only finds objects
    ],
)
def test_metrics_reference_extract_json_follows_the_paper(text: str, found: tuple) -> None:
    assert extract_json_reference(text) == found


# ---- formats and schema validation ---------------------------------------------------------------

FORMAT_CASES = [
    ("date", "2000-02-29", True),
    ("date", "1900-02-29", False),
    ("date", "2023-13-01", False),
    ("date", "2023-1-01", False),
    ("time", "23:59:59.5Z", True),
    ("time", "12:00:00+23:59", True),
    ("time", "12:00:00+24:00", False),
    ("time", "12:60:00", False),
    ("date-time", "2012-02-29t18:46:41z", True),
    ("date-time", "2012-02-29 18:46:41", False),
    ("email", "first.last+tag@example.co.uk", True),
    ("email", ".a@example.com", False),
    ("email", "a@example", False),
    ("email", "a@" + "b" * 63 + ".com", True),
    ("email", "a@" + "b" * 64 + ".com", False),
    ("email", "a" * 65 + "@example.com", False),
    ("uuid", "32440F07-0AE2-43E0-AE66-3C0AC1E0A4A1", True),
    ("uuid", "32440f070ae243e0ae663c0ac1e0a4a1", False),
    ("ipv4", "0.0.0.0", True),
    ("ipv4", "256.1.1.1", False),
    ("ipv4", "1.2.3", False),
    ("uri", "urn:isbn:0451450523", True),
    ("uri", "//example.com", False),
    ("no-such-format", "", True),
]


@pytest.mark.parametrize(("fmt", "value", "ok"), FORMAT_CASES)
def test_metrics_reference_check_format_table(fmt: str, value: str, ok: bool) -> None:
    assert check_format_reference(fmt, value) is ok


DRAFT_04 = "http://json-schema.org/draft-04/schema#"


@pytest.mark.parametrize(
    ("schema", "instance", "valid"),
    [
        ({"type": "integer"}, 1.0, True),  # 2020-12 by default
        ({"$schema": DRAFT_04, "type": "integer"}, 1.0, False),
        ({"pattern": "^\\d$"}, "3", True),
        ({"pattern": "^\\d$"}, "\u0663", False),  # ECMAScript classes are ASCII
        ({"format": "date"}, "2023-02-29", False),  # the reference format checks apply
        ({"format": "date"}, 20230229, True),  # to strings only
        ({"properties": {"a": {"format": "ipv4"}}}, {"a": "1.2.3.4"}, True),
        (False, None, False),
    ],
)
def test_metrics_reference_schema_valid_dialects_patterns_formats(
    schema: Any, instance: Any, valid: bool
) -> None:
    assert schema_valid_reference(instance, schema) is valid
    assert schema_valid_reference(instance, schema) is valid  # the cached validator answers alike


# ---- pairs and batches ---------------------------------------------------------------------------


def test_metrics_reference_score_pair_unparsed_and_schema_text() -> None:
    zero = {"parsed": False, "json_exact": False, "field_f1": 0.0, "compliance": False,
            "leaf_f1": 0.0}
    assert score_pair_reference("x", "{}") == {**zero, "schema_valid": None}
    assert score_pair_reference("x", "{}", '{"type":"object"}') == {**zero, "schema_valid": False}
    s = score_pair_reference('Answer: {"a": 1}', '{"a":1.0}', '{"required":["a"]}',
                             extract_json=True)
    assert s == {"parsed": True, "json_exact": True, "field_f1": 1.0, "compliance": True,
                 "schema_valid": True, "leaf_f1": 1.0}
    with pytest.raises(ValueError):
        score_pair_reference("{}", "{oops")


def test_metrics_reference_score_layout_groups_and_schema_mix() -> None:
    out = score_reference(
        ['{"a":1}', '{"a":2}', "oops"],
        ['{"a":1}', '{"a":1}', '{"a":1}'],
        schemas=[{"properties": {"a": {"const": 1}}}, None, '{"type":"object"}'],
        groups=["s", "c", "s"],
        return_pairs=True,
    )
    assert out["pairs"] == {
        "parsed": [True, True, False],
        "json_exact": [True, False, False],
        "field_f1": [1.0, 0.0, 0.0],
        "compliance": [True, True, False],
        "schema_valid": [True, None, False],
        "leaf_f1": [1.0, 0.0, 0.0],
    }
    overall = out["overall"]
    assert (overall["n"], overall["n_parsed"], overall["n_unparsed"]) == (3, 2, 1)
    assert overall["n_with_schema"] == 2 and overall["schema_valid"] == 0.5
    assert overall["json_exact"] == pytest.approx(1 / 3)
    assert overall["compliance"] == pytest.approx(2 / 3)
    assert list(out["groups"]) == ["s", "c"]  # first-seen order
    assert out["groups"]["s"]["json_exact"] == 0.5 and out["groups"]["s"]["n"] == 2
    assert out["groups"]["c"]["schema_valid"] is None
    assert out["groups"]["c"]["compliance"] == 1.0


def test_metrics_reference_score_one_schema_for_all_pairs() -> None:
    out = score_reference(["1", '"x"', "2.5"], ["1", "1", "1"], schemas={"type": "integer"})
    assert out["groups"] == {} and "pairs" not in out
    assert out["overall"]["n_with_schema"] == 3
    assert out["overall"]["schema_valid"] == pytest.approx(1 / 3)


def test_metrics_reference_score_bad_arguments_raise() -> None:
    with pytest.raises(ValueError):
        score_reference(["{}"], ["{}", "{}"])
    with pytest.raises(ValueError):
        score_reference(["{}", "{}"], ["{}", "{oops"])
