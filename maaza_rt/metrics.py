"""EdgeJSON metrics: exact, fast scoring in the native core.

Per pair (prediction JSON text, expected JSON text, optional JSON Schema):

- ``parsed``: the prediction is strict RFC 8259 JSON (no NaN/Infinity, no lone surrogates, at
  most 513 nested containers). With ``extract_json=True`` the paper's fallback applies first.
- ``json_exact``: the parsed prediction equals the expected value with Python dict equality
  semantics (key order ignored, duplicate keys keep the last, integers of any size exact,
  ``1 == 1.0``, a float equals an int only when it is exactly that int), except that booleans
  never equal numbers (``true != 1``).
- ``field_f1``: the paper's top-level F1. Expected is an object: a non-object prediction scores
  0; two empty objects score 1; exactly one empty object scores 0; otherwise a key is a true
  positive when present in both with equal values, precision = tp / prediction keys, recall =
  tp / expected keys, F1 = 2PR / (P + R), 0 when tp = 0. Expected not an object: 1 if equal.
- ``compliance``: the paper's check. The prediction is a non-empty object holding every expected
  key with a value of the same JSON type (int and float interchangeable, booleans distinct from
  numbers, null only matches null; nested values not inspected). An empty-object prediction is
  never compliant, as in the paper (``if not predicted``). Expected not an object: same JSON type.
- ``schema_valid``: full JSON Schema validation (see ``csrc/metrics.h`` for the keywords and the
  exact format definitions); ``None`` when no schema is given.
- ``leaf_f1``: both values flattened to (path, leaf) pairs (object keys and array indices, a key
  ``"0"`` differs from index 0; leaves are scalars and empty containers), F1 over pairs present in
  both with equal leaves. Never an empty case: every value has at least one pair.

Unparseable predictions score zero everywhere (``schema_valid`` False when a schema is given) and
are counted in ``n_unparsed``. Aggregates are means over all pairs (``schema_valid`` over the pairs
that have a schema).

:mod:`maaza_rt.metrics_reference` implements every metric in plain Python (``json`` and, lazily,
``jsonschema``) and must agree exactly with the native scorer; tests check that they do.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from . import _core
from .schema_view import SchemaText

__all__ = [
    "score",
    "score_pair",
    "schema_valid",
    "extract_json",
    "check_format",
]

_PAIR_KEYS = ("parsed", "json_exact", "field_f1", "compliance", "schema_valid", "leaf_f1")


def _schema_text(schema: SchemaText) -> str:
    if isinstance(schema, str):
        return schema
    if isinstance(schema, (dict, bool)):
        return json.dumps(schema, ensure_ascii=False)
    raise TypeError(f"a schema must be a dict, a bool or JSON text, not {type(schema).__name__}")


def _index_schemas(
    schemas: SchemaText | Sequence[SchemaText | None] | None, n: int
) -> tuple[list[str], list[int]]:
    """Distinct schema texts and the per-pair index into them (-1: no schema)."""
    if schemas is None:
        return [], []
    if isinstance(schemas, (dict, str, bool)):
        return [_schema_text(schemas)], [0] * n
    if len(schemas) != n:
        raise ValueError(f"schemas has {len(schemas)} entries for {n} pairs")
    texts: list[str] = []
    by_text: dict[str, int] = {}
    by_id: dict[int, int] = {}
    index: list[int] = []
    for s in schemas:
        if s is None:
            index.append(-1)
            continue
        k = by_id.get(id(s))
        if k is None:
            text = _schema_text(s)
            k = by_text.setdefault(text, len(texts))
            if k == len(texts):
                texts.append(text)
            if not isinstance(s, str):
                by_id[id(s)] = k
        index.append(k)
    return texts, index


def _index_groups(groups: Sequence[Any] | None, n: int) -> tuple[list[Any], list[int]]:
    if groups is None:
        return [], []
    if len(groups) != n:
        raise ValueError(f"groups has {len(groups)} entries for {n} pairs")
    labels: list[Any] = []
    ids: dict[Any, int] = {}
    out: list[int] = []
    for g in groups:
        k = ids.get(g)
        if k is None:
            k = ids[g] = len(labels)
            labels.append(g)
        out.append(k)
    return labels, out


def _check_texts(name: str, values: Sequence[str]) -> Sequence[str]:
    # Item types are checked by the native call (TypeError naming the index).
    if isinstance(values, str):
        raise TypeError(f"{name} must be a list of JSON texts, not a single string")
    return values if isinstance(values, (list, tuple)) else list(values)


def score(
    predictions: Sequence[str],
    expected: Sequence[str],
    schemas: SchemaText | Sequence[SchemaText | None] | None = None,
    groups: Sequence[Any] | None = None,
    extract_json: bool = False,
    return_pairs: bool = False,
) -> dict[str, Any]:
    """Scores many prediction/expected pairs in one native call (the GIL is released).

    Args:
        predictions: prediction texts (model outputs).
        expected: expected values as JSON text.
        schemas: one schema for all pairs, or one per pair (dict, bool or JSON text; None for
            none). Each distinct schema is compiled once.
        groups: one label per pair (for example the complexity); aggregates are also reported
            per label.
        extract_json: apply the paper's fallback (first parseable ``{...}`` in free text).
        return_pairs: also return the per-pair scores as columns.

    Returns:
        ``{"overall": totals, "groups": {label: totals}}`` (plus ``"pairs": {metric: [...]}``),
        where totals hold n, n_parsed, n_unparsed, n_with_schema and the mean of each metric.

    Raises:
        JsonError: an expected text is not valid JSON (the message names its index).
        SchemaError: a schema is malformed or uses a non-local $ref or an invalid pattern.
        ValueError: the lists differ in length.
        TypeError: a prediction or expected value is not a str.
    """
    preds = _check_texts("predictions", predictions)
    exps = _check_texts("expected", expected)
    if len(preds) != len(exps):
        raise ValueError(f"{len(preds)} predictions for {len(exps)} expected values")
    texts, schema_index = _index_schemas(schemas, len(preds))
    labels, group_ids = _index_groups(groups, len(preds))
    overall, group_totals, pairs = _core.metrics_score_batch(
        preds, exps, texts, schema_index, group_ids, len(labels), extract_json, return_pairs
    )
    out: dict[str, Any] = {
        "overall": overall,
        "groups": {label: group_totals[i] for i, label in enumerate(labels)},
    }
    if return_pairs:
        out["pairs"] = pairs
    return out


def score_pair(
    prediction_json: str,
    expected_json: str,
    schema: SchemaText | None = None,
    extract_json: bool = False,
) -> dict[str, Any]:
    """Scores one pair; returns parsed, json_exact, field_f1, compliance, schema_valid, leaf_f1.

    Raises:
        JsonError: ``expected_json`` is not valid JSON.
        SchemaError: the schema is malformed or unsupported.
    """
    result = score(
        [prediction_json],
        [expected_json],
        schemas=None if schema is None else [schema],
        extract_json=extract_json,
        return_pairs=True,
    )
    return {k: result["pairs"][k][0] for k in _PAIR_KEYS}


def schema_valid(instance_json: str, schema: SchemaText) -> bool:
    """Whether JSON text validates against a schema (native validator).

    Raises:
        JsonError: the instance or schema text is not JSON.
        SchemaError: the schema is malformed or unsupported (a schema that reaches itself
            through ``$ref`` and allOf/anyOf/oneOf/not without descending into the instance
            has no terminating validation and is refused so, keyword ``$ref``).
    """
    return bool(_core.metrics_schema_valid(instance_json, _schema_text(schema)))


def extract_json(text: str) -> str | None:
    """The paper's fallback on free text: the JSON found (compact text), or None."""
    return _core.metrics_extract_json(text)


def check_format(fmt: str, value: str) -> bool:
    """The native check for a string ``format`` (unknown formats pass)."""
    return bool(_core.metrics_check_format(fmt, value))
