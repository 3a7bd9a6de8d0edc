"""The rows a run trains on (EdgeJSON's training split, its variants and repeats, or a
mixture file) and their training examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .augment import field_dropout
from .config import ConfigError, TrainConfig, parse_repeat
from .data import Example, GGUFTokenizer, edgejson_examples, mixture_examples

__all__ = ["config_rows", "mixture_rows", "run_examples", "train_rows"]

def train_rows(data: Path, val_fraction: float, seed: int) -> list[dict[str, Any]]:
    """EdgeJSON training rows: ``train.jsonl`` minus the validation split.

    Raises:
        ConfigError: the data directory lacks train.jsonl.
    """
    path = data / "train.jsonl"
    if not path.is_file():
        raise ConfigError(f"{data}: no train.jsonl (set --data to the EdgeJSON directory)")
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if val_fraction == 0:
        return rows
    from maaza_rt.edgejson import validation_split

    train_part, _ = validation_split(rows, fraction=val_fraction, seed=seed)
    return list(train_part)


def config_rows(cfg: TrainConfig, schemas: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The rows a run trains on: ``cfg.data``'s training rows without the validation split of
    ``cfg.split_seed`` (never ``cfg.seed``), the first ``cfg.limit`` of them when set, then their
    ``cfg.field_dropout`` variants (chosen with ``cfg.seed``; they need ``schemas``). Rows of a
    complexity named in ``cfg.repeat`` appear that many times (variants once)."""
    from maaza_rt.edgejson import complexity

    rows = train_rows(Path(cfg.data), cfg.val_fraction, cfg.split_seed)
    rows = rows[: cfg.limit] if cfg.limit else rows
    variants: list[dict[str, Any]] = []
    if cfg.field_dropout:
        if schemas is None:
            raise ConfigError("field_dropout needs the schemas")
        variants = field_dropout(rows, schemas, cfg.field_dropout, cfg.seed)
    copies = parse_repeat(cfg.repeat)
    repeated = [r for r in rows for _ in range(copies.get(complexity(r), 1))]
    return repeated + variants


def mixture_rows(path: Path, limit: int = 0) -> list[dict[str, Any]]:
    """The rows of a mixture's ``train.jsonl`` (the first ``limit`` when set).

    Raises:
        ConfigError: the file is missing, or a line is not a mixture row (``train.sources``).
    """
    from .sources import load_rows

    try:
        rows = load_rows(path)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such mixture file (python -m train.mixture writes "
                          f"one)") from None
    except ValueError as e:
        raise ConfigError(str(e)) from None
    return rows[:limit] if limit else rows


def run_examples(cfg: TrainConfig,
                 tok: GGUFTokenizer) -> tuple[list[dict[str, Any]], list[Example]]:
    """The rows ``cfg`` names (``cfg.mixture``, else ``cfg.data``'s EdgeJSON rows) and their
    examples, tokenized with ``tok``; examples longer than ``cfg.max_len`` are kept (the caller
    drops them and counts).

    Raises:
        ConfigError: missing data, or a bad mixture file.
        KeyError: an EdgeJSON row names a schema that is not in the data's ``schemas/``.
    """
    if cfg.mixture:
        rows = mixture_rows(Path(cfg.mixture), cfg.limit)
        return rows, mixture_examples(rows, tok)
    data = Path(cfg.data)
    schemas = {p.stem: json.loads(p.read_text(encoding="utf-8"))
               for p in sorted((data / "schemas").glob("*.json"))}
    rows = config_rows(cfg, schemas)
    return rows, edgejson_examples(rows, schemas, tok)
