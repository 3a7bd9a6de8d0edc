"""Calibrated confidence: the probability that a leaf's value is right.

The constrained probability of a leaf's tokens (:mod:`maaza_rt.confidence`) says how sure the
model was of what it wrote; on schemas unlike its training data a small model is often sure and
wrong. A calibration map turns it into an estimate of the probability that the value is correct:
a logistic model over the leaf's probability and what the extraction shows around it (the
leaf's type, whether its value was found in the text, its index in a list, how long it is,
whether budget closing wrote it, how sure the model was of the row's other leaves). It is fitted
per model on labelled rows the model was not trained on (``train/fit_calibration.py``) and ships
beside the model's adapter; models without a map keep the probability as their confidence
(``Extraction.calibrated`` is False).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ModelError
from .models import ModelSpec, weights_dir
from .spans import leaves

# The features, in the order of a map's weights.
FEATURES = (
    "logit",          # log(p / (1 - p)) of the leaf's constrained probability, clipped
    "string",         # the leaf is a string (else number, boolean, null or an empty container)
    "number",
    "boolean",
    "null",
    "empty",          # "", [] or {}
    "spanned",        # the value was found in the text (it has a span)
    "in_list",        # the pointer passes through an array
    "log_index",      # log(1 + the largest array index on the pointer)
    "log_length",     # log(1 + the characters of a string value)
    "closed",         # budget closing wrote the leaf or cut it short
    "row_logit",      # the mean clipped logit over the row's leaves
    "row_min_logit",  # the smallest clipped logit over the row's leaves
    "row_spanned",    # the fraction of the row's leaves that have a span
    "row_in_list",    # the fraction of the row's leaves that sit in a list
    "log_leaves",     # log(1 + the leaves of the row)
)
_CLIP = 12.0
_INDEX = re.compile(r"/(0|[1-9][0-9]*)(?=/|$)")


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1.0 - 1e-9)
    return max(-_CLIP, min(_CLIP, math.log(p / (1.0 - p))))


def _list_indices(pointer: str, value: Any) -> list[int]:
    """The array indices along ``pointer`` into ``value`` (keys that look like numbers are
    indices only where the container is a list)."""
    out = []
    node = value
    for token in pointer.split("/")[1:]:
        key = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and _INDEX.fullmatch("/" + token):
            out.append(int(token))
            node = node[int(token)] if int(token) < len(node) else None
        elif isinstance(node, dict):
            node = node.get(key)
        else:
            node = None
    return out


def leaf_features(value: Any, probability: Mapping[str, float],
                  spanned: Collection[str], closed: Collection[str]) -> dict[str, list[float]]:
    """The feature vector (in :data:`FEATURES` order) of each leaf of ``value`` that has a
    probability, by JSON pointer; ``spanned`` and ``closed`` are the pointers of the leaves with
    a span and of those budget closing wrote (``Extraction.spans``, ``Extraction.closed``)."""
    values = dict(leaves(value))
    pointers = [p for p in probability if p in values]
    logits = {p: _logit(float(probability[p])) for p in pointers}
    n = len(pointers)
    row_logit = sum(logits.values()) / n if n else 0.0
    row_min_logit = min(logits.values()) if n else 0.0
    spans = set(spanned)
    ends = set(closed)
    row_spanned = sum(p in spans for p in pointers) / n if n else 0.0
    indices_of = {p: _list_indices(p, value) for p in pointers}
    row_in_list = sum(bool(i) for i in indices_of.values()) / n if n else 0.0
    log_leaves = math.log1p(n)
    out = {}
    for p in pointers:
        v = values[p]
        indices = indices_of[p]
        is_bool = isinstance(v, bool)
        out[p] = [
            logits[p],
            float(isinstance(v, str)),
            float(isinstance(v, (int, float)) and not is_bool),
            float(is_bool),
            float(v is None),
            float(v == "" or v == [] or v == {}),
            float(p in spans),
            float(bool(indices)),
            math.log1p(max(indices)) if indices else 0.0,
            math.log1p(len(v)) if isinstance(v, str) else 0.0,
            float(p in ends),
            row_logit,
            row_min_logit,
            row_spanned,
            row_in_list,
            log_leaves,
        ]
    return out


@dataclass(frozen=True)
class CalibrationMap:
    """A logistic map from a leaf's features to the probability that its value is right.

    Attributes:
        model: the model it was fitted for (informational).
        features: the feature names, :data:`FEATURES` when written by this version.
        weights: one weight per feature.
        bias: the intercept.
        fitted_on: what it was fitted on (rows, sources, command).
    """

    model: str
    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    fitted_on: str = ""

    def __post_init__(self) -> None:
        if self.features != FEATURES:
            raise ValueError(f"calibration features {list(self.features)} are not this "
                             f"version's {list(FEATURES)}")
        if len(self.weights) != len(self.features):
            raise ValueError(f"{len(self.weights)} weights for {len(self.features)} features")

    def probability(self, features: Sequence[float]) -> float:
        """The calibrated probability for one feature vector, strictly between 0 and 1."""
        z = self.bias + sum(w * x for w, x in zip(self.weights, features))
        z = max(-30.0, min(30.0, z))
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    def apply(self, value: Any, probability: Mapping[str, float], spanned: Collection[str],
              closed: Collection[str]) -> dict[str, float]:
        """The calibrated confidence of each leaf that has a probability, by JSON pointer
        (``spanned``, ``closed``: see :func:`leaf_features`)."""
        feats = leaf_features(value, probability, spanned, closed)
        return {p: self.probability(f) for p, f in feats.items()}

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "features": list(self.features),
                "weights": list(self.weights), "bias": self.bias, "fitted_on": self.fitted_on}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CalibrationMap:
        """Reads a map written by :meth:`to_json`.

        Raises:
            ValueError: the data is not a map of this version.
        """
        try:
            return cls(model=str(data["model"]), features=tuple(data["features"]),
                       weights=tuple(float(w) for w in data["weights"]),
                       bias=float(data["bias"]), fitted_on=str(data.get("fitted_on", "")))
        except (KeyError, TypeError) as e:
            raise ValueError(f"not a calibration map: {e}") from e


def load_calibration(path: str | Path) -> CalibrationMap:
    """Loads a calibration map file.

    Raises:
        ModelError: the file is missing or is not a calibration map of this version.
    """
    try:
        with open(path, encoding="utf-8") as f:
            return CalibrationMap.from_json(json.load(f))
    except (OSError, ValueError) as e:
        raise ModelError(f"cannot load the calibration map {path}: {e}") from e


def model_calibration(spec: ModelSpec | None) -> CalibrationMap | None:
    """The calibration map a registry model ships with (``ModelSpec.calibration``, a file in
    ``maaza_rt/weights/``), or None.

    Raises:
        ModelError: the model names a map that cannot be loaded.
    """
    if spec is None or spec.calibration is None:
        return None
    return load_calibration(weights_dir() / spec.calibration)


__all__ = ["FEATURES", "CalibrationMap", "leaf_features", "load_calibration", "model_calibration"]
