"""maaza_rt.metrics: the native scorer against the pure-Python reference on random values and
spellings (hypothesis), deep nesting, large objects with duplicate keys, and batches that repeat
expected values."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maaza_rt import metrics
from maaza_rt.errors import JsonError
from maaza_rt.metrics_reference import (
    score_reference,
)

sys.path.insert(0, str(Path(__file__).parent))
from metrics_oracle import assert_agree  # noqa: E402

# ---- hypothesis: random pairs --------------------------------------------------------------------

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


# ---- large objects and number spellings ----------------------------------------------------------

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


# ---- batches: repeated expected values -----------------------------------------------------------

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
