"""Calibration maps: the leaf features, the logistic map, reading and writing maps, and the map
the default model ships with."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from maaza_rt.calibration import (
    FEATURES,
    CalibrationMap,
    leaf_features,
    load_calibration,
    model_calibration,
)
from maaza_rt.errors import ModelError
from maaza_rt.models import MODELS


def _named(vec: list[float]) -> dict[str, float]:
    return dict(zip(FEATURES, vec))


def test_leaf_features_by_hand() -> None:
    value = {"name": "Ada", "age": 36, "ok": True, "note": None, "tags": ["x", ""], "0": {}}
    probability = {"/name": 0.5, "/age": 0.9, "/ok": 0.99, "/note": 0.2, "/tags/0": 0.8,
                   "/tags/1": 0.1, "/0": 0.7, "/missing": 0.5}
    feats = leaf_features(value, probability, {"/name", "/age"}, closed={"/name", "/nowhere"})
    assert set(feats) == set(probability) - {"/missing"}
    name = _named(feats["/name"])
    assert name["logit"] == pytest.approx(0.0)
    assert (name["string"], name["number"], name["spanned"], name["in_list"]) == (1, 0, 1, 0)
    assert name["log_length"] == pytest.approx(math.log1p(3))
    assert name["closed"] == 1 and name["log_leaves"] == pytest.approx(math.log1p(7))
    assert _named(feats["/age"])["closed"] == 0
    assert _named(feats["/age"])["number"] == 1 and _named(feats["/ok"])["boolean"] == 1
    assert _named(feats["/ok"])["number"] == 0  # a boolean is not a number here
    assert _named(feats["/note"])["null"] == 1 and _named(feats["/note"])["spanned"] == 0
    second = _named(feats["/tags/1"])
    assert second["in_list"] == 1 and second["log_index"] == pytest.approx(math.log1p(1))
    assert second["empty"] == 1 and _named(feats["/tags/0"])["empty"] == 0
    # "/0" is a property named "0", not a list index; {} is an empty leaf.
    zero = _named(feats["/0"])
    assert zero["in_list"] == 0 and zero["empty"] == 1 and zero["string"] == 0
    logits = [_named(f)["logit"] for f in feats.values()]
    assert name["row_logit"] == pytest.approx(sum(logits) / len(logits))


def test_logits_are_clipped() -> None:
    feats = leaf_features({"a": "x", "b": "y"}, {"/a": 1.0, "/b": 0.0}, set(), set())
    assert _named(feats["/a"])["logit"] == 12.0 and _named(feats["/b"])["logit"] == -12.0


def _map(weights: dict[str, float], bias: float = 0.0) -> CalibrationMap:
    return CalibrationMap("m", FEATURES, tuple(weights.get(f, 0.0) for f in FEATURES), bias)


def test_the_map_is_a_logistic_function_of_the_features() -> None:
    m = _map({"logit": 1.0}, bias=0.0)
    # With only the logit weighted 1 and no bias, the map returns the probability itself.
    for p in (0.01, 0.3, 0.5, 0.97):
        out = m.apply({"a": "x"}, {"/a": p}, set(), set())
        assert out["/a"] == pytest.approx(p)
    m = _map({"spanned": 2.0, "closed": -3.0}, bias=-1.0)
    spanned = m.apply({"a": "x"}, {"/a": 0.5}, {"/a"}, ())["/a"]
    assert spanned == pytest.approx(1 / (1 + math.exp(-1.0)))
    closed = m.apply({"a": "x"}, {"/a": 0.5}, {"/a"}, {"/a"})["/a"]
    assert closed == pytest.approx(1 / (1 + math.exp(2.0)))
    # Extreme weights neither overflow nor reach 0 or 1.
    assert 0.0 < _map({"logit": 80.0}).probability([-12.0] + [0.0] * 12) < 1e-12
    assert 1 - 1e-12 < _map({"logit": 80.0}).probability([12.0] + [0.0] * 12) < 1.0


def test_maps_round_trip_and_refuse_other_features(tmp_path: Path) -> None:
    m = _map({"logit": 0.5, "in_list": -1.25}, bias=0.75)
    path = tmp_path / "map.json"
    path.write_text(json.dumps(m.to_json()), encoding="utf-8")
    assert load_calibration(path) == m
    bad = m.to_json() | {"features": ["logit"], "weights": [1.0]}
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(ModelError, match="not this version"):
        load_calibration(path)
    with pytest.raises(ValueError, match="weights"):
        CalibrationMap("m", FEATURES, (1.0,), 0.0)
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(ModelError, match="not a calibration map"):
        load_calibration(path)
    with pytest.raises(ModelError, match="cannot load"):
        load_calibration(tmp_path / "missing.json")


def test_the_default_model_family_ships_a_map_and_the_base_models_do_not() -> None:
    for name in ("maaza-mlm-135m", "maaza-mlm-135m-q8_0", "maaza-mlm-135m-q4_k_m",
                 "maaza-mlm-135m-bf16", "maaza-mlm-135m-lora"):
        m = model_calibration(MODELS[name])
        assert m is not None and m.model == "maaza-mlm-135m"
        # More probable leaves are more often right: the probability's weight is positive.
        assert m.weights[FEATURES.index("logit")] > 0
    assert model_calibration(MODELS["smollm2-135m-instruct"]) is None
    assert model_calibration(None) is None
