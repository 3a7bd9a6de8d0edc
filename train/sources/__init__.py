"""Training and dev rows from many sources, in one shape.

Every source of the training mixture (a converter of a staged public corpus, or the generator of
examples for arbitrary schemas) yields *mixture rows*: plain dicts with

- ``id``: unique across the whole mixture, ``"<source>/<unique part>"``;
- ``source``: the source's name (``bfcl``, ``sgd``, ``crossner``, ``wnut17``, ``e2e``,
  ``generator``, ``edgejson``);
- ``schema_id``: ``"<source>/<schema name>"``; rows that share a schema share this id, and dev
  sets are split by it (a dev schema is never trained on);
- ``schema``: the JSON Schema (a dict, draft 2020-12, no remote ``$ref``);
- ``text``: the input text, as a user would pass it to ``maaza_rt.extract``;
- ``expected``: the value the extraction must return; valid against ``schema``.

A converter module exposes ``rows(root, split) -> list[dict]`` where ``root`` is the corpus
folder (``../shared/corpora/<name>``) and ``split`` is ``"train"`` or ``"dev"``; it is
deterministic (no unseeded randomness) and never reads the network.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

SPLITS = ("train", "dev")
ROW_FIELDS = ("id", "source", "schema_id", "schema", "text", "expected")

__all__ = ["ROW_FIELDS", "SPLITS", "make_row", "normalize_space", "in_text", "check_split",
           "load_rows"]


def make_row(source: str, key: str, schema_name: str, schema: dict[str, Any], text: str,
             expected: Any) -> dict[str, Any]:
    """A mixture row with ``id = source/key`` and ``schema_id = source/schema_name``."""
    return {"id": f"{source}/{key}", "source": source, "schema_id": f"{source}/{schema_name}",
            "schema": schema, "text": text, "expected": expected}


def normalize_space(text: str) -> str:
    """``text`` with every run of whitespace as one space, stripped."""
    return " ".join(text.split())


def in_text(value: str, text: str) -> bool:
    """Whether ``value`` occurs in ``text``, case-insensitively, after whitespace normalization,
    and not inside a longer word (``"cat"`` is not in ``"concatenate"``)."""
    needle = normalize_space(value).lower()
    if not needle:
        return False
    hay = normalize_space(text).lower()
    pattern = (r"(?<!\w)" if needle[0].isalnum() else "") + re.escape(needle) + (
        r"(?!\w)" if needle[-1].isalnum() else "")
    return re.search(pattern, hay) is not None


def check_split(split: str) -> None:
    """Raises ValueError unless ``split`` is one of :data:`SPLITS`."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")


def load_rows(path: str | Path) -> list[dict[str, Any]]:
    """Mixture rows from a JSONL file (``train.mixture`` writes them; blank lines skipped), in
    file order.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a line is not JSON, lacks a field of the row contract or repeats an id (the
            message names file and line), or a row's schema is not an object.
    """
    from maaza_rt.edgejson import load_rows as load_jsonl_rows

    rows = load_jsonl_rows(path, ROW_FIELDS)
    for row in rows:
        if not isinstance(row["schema"], dict):
            raise ValueError(f"{path}: row {row['id']!r}: the schema must be an object")
    return rows
