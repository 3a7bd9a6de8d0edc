"""The EdgeJSON data set: rows, schemas, the complexity label and the held-out validation split.

A row is one JSON object per line of ``train.jsonl`` with at least ``id``, ``schema_id``,
``prompt`` and ``expected_output``; ``complexity`` (simple/medium/complex) is missing on the rows
of three schemas, which the paper counts as medium. Schemas live in ``<dir>/<schema_id>.json``.

The validation split is what training must never see and what the benchmark reports on by
default. It is deterministic and stratified by schema: for each schema_id, the row ids are sorted,
shuffled with ``random.Random(f"{seed}/{schema_id}")`` and the first ``max(1, round(fraction *
n))`` rows (at most ``n - 1``) go to validation; a schema with a single row keeps it for training.
Seeding per schema keeps each schema's split unchanged when rows of other schemas change.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Union

PathLike = Union[str, Path]

REQUIRED_FIELDS = ("id", "schema_id", "prompt", "expected_output")
COMPLEXITIES = ("simple", "medium", "complex")

__all__ = ["COMPLEXITIES", "complexity", "load_rows", "load_schemas", "validation_split"]


def load_rows(path: PathLike, required: Sequence[str] = REQUIRED_FIELDS) -> list[dict[str, Any]]:
    """Reads an EdgeJSON JSONL file (blank lines skipped); ``required`` names the fields every
    row must have (another row shape, such as the training mixture's, passes its own).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: a line is not a JSON object or lacks a required field (names file and line),
            or two rows share an id.
    """
    path = Path(path)
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{lineno}: not valid JSON ({e.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{lineno}: a row must be a JSON object")
            missing = [k for k in required if k not in row]
            if missing:
                raise ValueError(f"{path}:{lineno}: missing field(s) {', '.join(missing)}")
            if row["id"] in seen:
                raise ValueError(f"{path}:{lineno}: duplicate id {row['id']!r}")
            seen.add(row["id"])
            rows.append(row)
    return rows


def load_schemas(directory: PathLike) -> dict[str, Any]:
    """Reads every ``<schema_id>.json`` in a directory, by schema_id (sorted).

    Raises:
        FileNotFoundError: the directory does not exist.
        ValueError: a file is not valid JSON (names the file), or there is no schema at all.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"schema directory not found: {directory}")
    schemas: dict[str, Any] = {}
    for p in sorted(directory.glob("*.json")):
        try:
            schemas[p.stem] = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ValueError(f"{p}: not valid JSON ({e.msg} at line {e.lineno})") from None
    if not schemas:
        raise ValueError(f"no *.json schemas in {directory}")
    return schemas


def complexity(row: dict[str, Any]) -> str:
    """The row's complexity label; a missing (or null) label counts as "medium", as in the paper."""
    value = row.get("complexity")
    return value if isinstance(value, str) and value else "medium"


def validation_split(
    rows: Sequence[dict[str, Any]], fraction: float = 0.2, seed: int = 0
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Splits rows into (train_rows, val_rows), stratified by schema_id (see module docstring).

    Both lists keep the input order.

    Raises:
        ValueError: ``fraction`` is not strictly between 0 and 1.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be between 0 and 1 (exclusive), got {fraction}")
    by_schema: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_schema.setdefault(str(row["schema_id"]), []).append(i)
    val_index: set[int] = set()
    for schema_id in sorted(by_schema):
        indices = sorted(by_schema[schema_id], key=lambda i: str(rows[i]["id"]))
        n = len(indices)
        if n < 2:
            continue
        k = min(n - 1, max(1, round(fraction * n)))
        random.Random(f"{seed}/{schema_id}").shuffle(indices)
        val_index.update(indices[:k])
    train = [r for i, r in enumerate(rows) if i not in val_index]
    val = [r for i, r in enumerate(rows) if i in val_index]
    return train, val
