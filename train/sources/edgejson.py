"""EdgeJSON rows as mixture rows.

``train`` is ``train.jsonl`` minus the benchmark's validation split
(``maaza_rt.edgejson.validation_split(rows, 0.2, seed 0)``, which ``bench/edgejson.py`` scores);
``dev`` is that validation split. EdgeJSON's 25 schemas appear on both sides, so its dev rows
measure unseen texts on seen schemas, not unseen schemas; the mixture keeps them out of its
out-of-distribution dev set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from maaza_rt import edgejson

from . import check_split, make_row

SOURCE = "edgejson"
VAL_FRACTION = 0.2
SPLIT_SEED = 0

__all__ = ["SOURCE", "rows"]


def rows(root: Path, split: str) -> list[dict[str, Any]]:
    """EdgeJSON rows of ``split`` (``root`` holds ``train.jsonl`` and ``schemas/``).

    Raises:
        ValueError: an unknown split, or a row names a schema that is not in ``root/schemas``.
        FileNotFoundError: ``root`` lacks the files.
    """
    check_split(split)
    root = Path(root)
    all_rows = edgejson.load_rows(root / "train.jsonl")
    schemas = edgejson.load_schemas(root / "schemas")
    train, val = edgejson.validation_split(all_rows, VAL_FRACTION, SPLIT_SEED)
    out = []
    for row in train if split == "train" else val:
        schema_id = row["schema_id"]
        if schema_id not in schemas:
            raise ValueError(f"{row['id']}: no schema {schema_id!r} in {root / 'schemas'}")
        mixed = make_row(SOURCE, row["id"], schema_id, schemas[schema_id], row["prompt"],
                         row["expected_output"])
        mixed["complexity"] = edgejson.complexity(row)
        out.append(mixed)
    return out
