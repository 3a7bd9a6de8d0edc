"""Field dropout: training variants that lack an optional field, in the text and in the target.

A model fine-tuned on few rows learns how often each optional field is present, not only where
the text gives it: it writes ``"priority":"normal"`` into a notification whose text has no
priority, because most training notifications have one. A dropout variant of a row removes one
optional top-level field from both sides, the line of the text that gives it and the property of
the expected object, so the same schema is seen with and without the field, and only the text
tells which.

A field can be dropped when

- the schema does not require it and its value is a string, number or boolean;
- exactly one line of the text holds the value as the text writes it (a string verbatim, a
  number as JSON writes it, a boolean as ``true``/``false`` or ``True``/``False``), delimited
  (not inside a longer word or number);
- that line is short beside the value (at most :data:`MAX_LABEL_WORDS` words besides it: a
  ``Label: value`` line, not a sentence of prose) and holds no other value of the row.

Rows written as prose rarely pass these checks and keep no variant.
"""

from __future__ import annotations

import random
import re
from typing import Any

MAX_LABEL_WORDS = 5
VARIANT_MARK = "~without~"  # a variant's id: the source row's id, this, the dropped key

__all__ = ["MAX_LABEL_WORDS", "VARIANT_MARK", "droppable_fields", "drop_field", "field_dropout",
           "is_variant"]


def _renderings(value: Any) -> list[str]:
    if isinstance(value, bool):
        return ["true", "True"] if value else ["false", "False"]
    if isinstance(value, (int, float)):
        return [repr(value) if isinstance(value, float) else str(value)]
    if isinstance(value, str):
        return [value] if value.strip() else []
    return []


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)]
    return [value]


def _finds(line: str, text: str) -> bool:
    """Whether ``text`` occurs in ``line`` not inside a longer word or number."""
    pattern = r"(?<![\w.])" + re.escape(text) + r"(?![\w]|\.\d)"
    return re.search(pattern, line) is not None


def _value_line(lines: list[str], value: Any) -> int | None:
    """The index of the only line that gives ``value``, or None."""
    hits = {i for text in _renderings(value) for i, line in enumerate(lines) if _finds(line, text)}
    return hits.pop() if len(hits) == 1 else None


def droppable_fields(row: dict[str, Any], schema: Any) -> dict[str, int]:
    """The optional top-level fields of ``row`` that can be dropped, with their text line index
    (rules in the module docstring)."""
    expected = row.get("expected_output")
    if not isinstance(expected, dict) or not isinstance(schema, dict):
        return {}
    required = set(schema.get("required") or ())
    lines = str(row.get("prompt", "")).split("\n")
    out: dict[str, int] = {}
    for key, value in expected.items():
        if key in required or isinstance(value, (dict, list)) or value is None:
            continue
        index = _value_line(lines, value)
        if index is None:
            continue
        line = lines[index]
        rest = line
        for text in _renderings(value):
            rest = rest.replace(text, " ")
        if len(rest.split()) > MAX_LABEL_WORDS:
            continue
        others = [v for k, v in expected.items() if k != key for v in _leaves(v)]
        if any(_finds(line, t) for v in others for t in _renderings(v)):
            continue
        out[key] = index
    return out


def drop_field(row: dict[str, Any], key: str, line_index: int) -> dict[str, Any]:
    """A copy of ``row`` without the text line ``line_index`` and the property ``key``; its id
    gains ``~without~<key>``."""
    lines = str(row["prompt"]).split("\n")
    del lines[line_index]
    expected = {k: v for k, v in row["expected_output"].items() if k != key}
    return {**row, "id": f"{row.get('id', '')}{VARIANT_MARK}{key}", "prompt": "\n".join(lines),
            "expected_output": expected}


def is_variant(row: dict[str, Any]) -> bool:
    """Whether ``row`` is a field dropout variant (made by :func:`drop_field`)."""
    return VARIANT_MARK in str(row.get("id", ""))


def field_dropout(rows: list[dict[str, Any]], schemas: dict[str, Any], per_row: int,
                  seed: int) -> list[dict[str, Any]]:
    """Up to ``per_row`` dropout variants of each row, one dropped field each, the fields chosen
    at random (the same for the same seed and rows). Returns only the variants.

    Raises:
        ValueError: ``per_row`` is negative.
        KeyError: a row names a schema that is not in ``schemas``.
    """
    if per_row < 0:
        raise ValueError(f"per_row must be >= 0, not {per_row}")
    rng = random.Random(seed)
    out = []
    for row in rows:
        fields = sorted(droppable_fields(row, schemas[row["schema_id"]]).items())
        for key, index in rng.sample(fields, min(per_row, len(fields))):
            out.append(drop_field(row, key, index))
    return out
