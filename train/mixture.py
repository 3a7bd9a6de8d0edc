"""The training mixture: rows from every source, checked, deduplicated, sampled for schema
diversity, and an out-of-distribution dev set split by schema.

Usage:
    python -m train.mixture --out runs/mixture [--train generator=1500,bfcl=400,...]
        [--dev generator=60,bfcl=60,...] [--seed 0] [--corpora ../shared/corpora]
        [--edgejson ../shared/edgejson] [--tokenizer MODEL.gguf] [--max-tokens 1024]

Sources (``train/sources``): the staged corpora (``bfcl``, ``sgd``, ``crossner``, ``wnut17``,
``e2e``), the generator of examples for arbitrary schemas (``generator``), and EdgeJSON's training
rows (``edgejson``, minus the benchmark's validation split). Each row must

- validate against its schema (``jsonschema``, draft 2020-12, with format checks),
- compile with the grammar engine (the runtime could not constrain it otherwise),
- hold no value that is a JSON type name (``"string"``) or the description of a property,
- fit ``--max-tokens`` (prompt and target, with ``--tokenizer``);

rows that fail are counted per reason and dropped, and so are duplicates (same schema, text and
target). The sample is spread over schemas: rows are taken one per schema in turn (a seeded
order), so a source with thousands of schemas gives a few rows to many schemas rather than many
rows to a few.

Dev rows come from the sources' dev splits. For the sources split by schema (``SCHEMA_SPLIT``) no
dev schema id occurs in training (checked); the others are split by text (``e2e`` by restaurant,
``wnut17`` by the corpus' own split; their schemas repeat) and the manifest says so. EdgeJSON's
validation split is ``bench/edgejson.py``'s business and never part of this dev set.

Writes ``train.jsonl``, ``dev.jsonl`` and ``manifest.json`` (per source: rows available, dropped
per reason, taken, schemas, prompt and target tokens) to ``--out``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

DEFAULT_TRAIN = {"generator": 1500, "bfcl": 400, "sgd": 400, "crossner": 150, "wnut17": 150,
                 "e2e": 80, "edgejson": 320}
DEFAULT_DEV = {"generator": 60, "bfcl": 60, "sgd": 60, "crossner": 40, "wnut17": 40, "e2e": 30}
SCHEMA_SPLIT = ("bfcl", "sgd", "crossner", "generator")  # dev schemas never trained on
TYPE_NAMES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})

__all__ = ["DEFAULT_DEV", "DEFAULT_TRAIN", "SCHEMA_SPLIT", "build", "check_row", "dedupe",
           "load_source", "parse_counts", "spread_sample"]


class MixtureError(ValueError):
    """A bad count specification, an unknown source, or dev schemas that leak into training."""


def parse_counts(text: str, defaults: dict[str, int]) -> dict[str, int]:
    """``"generator=1500,bfcl=400"`` over ``defaults`` (a source set to 0 is left out).

    Raises:
        MixtureError: an unknown source or a count that is not an integer >= 0.
    """
    counts = dict(defaults)
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, value = item.partition("=")
        if not sep or name.strip() not in DEFAULT_TRAIN:
            raise MixtureError(f"expected source=count with a source of "
                               f"{', '.join(DEFAULT_TRAIN)}, got {item!r}")
        try:
            count = int(value)
        except ValueError:
            count = -1
        if count < 0:
            raise MixtureError(f"count of {name.strip()!r} must be an integer >= 0, got {value!r}")
        counts[name.strip()] = count
    return {k: v for k, v in counts.items() if v > 0}


def load_source(name: str, split: str, *, corpora: Path, edgejson: Path, seed: int,
                n: int) -> list[dict[str, Any]]:
    """All rows of one source's split (the generator makes ``4 * n`` to sample from).

    Raises:
        MixtureError: an unknown source.
    """
    from train.sources import bfcl, crossner, e2e, generator, sgd, wnut17
    from train.sources import edgejson as edgejson_source

    corpus: dict[str, Callable[[Path, str], list[dict[str, Any]]]] = {
        "bfcl": bfcl.rows, "sgd": sgd.rows, "crossner": crossner.rows, "wnut17": wnut17.rows,
        "e2e": e2e.rows}
    if name in corpus:
        return corpus[name](corpora / name, split)
    if name == "edgejson":
        return edgejson_source.rows(edgejson, split)
    if name == "generator":
        return generator.rows(4 * n, seed, split)
    raise MixtureError(f"unknown source {name!r}")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _descriptions(node: Any) -> set[str]:
    """Every ``description`` in a schema, lowercased and stripped."""
    found: set[str] = set()
    if isinstance(node, dict):
        desc = node.get("description")
        if isinstance(desc, str) and desc.strip():
            found.add(desc.strip().lower())
        for child in node.values():
            found |= _descriptions(child)
    elif isinstance(node, list):
        for child in node:
            found |= _descriptions(child)
    return found


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for child in value.values():
            yield from _strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from _strings(child)


class RowChecker:
    """Checks a row against the rules of the module docstring; keeps compiled grammars by
    schema so that a schema shared by many rows compiles once."""

    def __init__(self) -> None:
        self._compiled: dict[str, str | None] = {}

    def grammar_error(self, schema: Any) -> str | None:
        from maaza_rt.errors import MaazaError
        from maaza_rt.grammar import Grammar

        key = _canonical(schema)
        if key not in self._compiled:
            try:
                Grammar.from_json_schema(schema)
                self._compiled[key] = None
            except (MaazaError, ValueError, TypeError) as e:
                self._compiled[key] = type(e).__name__
        return self._compiled[key]

    def __call__(self, row: dict[str, Any]) -> str | None:
        """The reason to drop ``row``, or None to keep it."""
        return check_row(row, self.grammar_error)


def check_row(row: dict[str, Any],
              grammar_error: Callable[[Any], str | None] | None = None) -> str | None:
    """The reason to drop ``row`` (``"invalid"``, ``"grammar"``, ``"type_name_value"``,
    ``"description_value"``), or None when it passes."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(
        row["schema"], format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    if not validator.is_valid(row["expected"]):
        return "invalid"
    if grammar_error is not None and grammar_error(row["schema"]) is not None:
        return "grammar"
    values = [s.strip().lower() for s in _strings(row["expected"])]
    if any(v in TYPE_NAMES for v in values):
        return "type_name_value"
    descriptions = _descriptions(row["schema"])
    if any(v and v in descriptions for v in values):
        return "description_value"
    return None


def dedupe(rows: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Rows without repeats of the same (schema, text, expected), first kept; and the count
    dropped. Ids must be unique too: a repeated id is dropped as a duplicate."""
    seen: set[str] = set()
    ids: set[str] = set()
    out = []
    for row in rows:
        key = hashlib.sha256("\x00".join((_canonical(row["schema"]), row["text"],
                                          _canonical(row["expected"]))).encode()).hexdigest()
        if key in seen or row["id"] in ids:
            continue
        seen.add(key)
        ids.add(row["id"])
        out.append(row)
    return out, len(rows) - len(out)


def spread_sample(rows: Sequence[dict[str, Any]], n: int, seed: int) -> list[dict[str, Any]]:
    """Up to ``n`` rows, one per schema in turn: schemas in a seeded order, each schema's rows
    shuffled, rounds until ``n`` are taken. The result keeps that round order."""
    rng = random.Random(seed)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row["schema_id"]].append(row)
    order = sorted(groups)
    rng.shuffle(order)
    for key in order:
        rng.shuffle(groups[key])
    out: list[dict[str, Any]] = []
    depth = 0
    while len(out) < n and any(len(groups[k]) > depth for k in order):
        for key in order:
            if depth < len(groups[key]) and len(out) < n:
                out.append(groups[key][depth])
        depth += 1
    return out


def _token_counter(tokenizer: str | None) -> Callable[[dict[str, Any]], tuple[int, int]] | None:
    if tokenizer is None:
        return None
    from train.data import GGUFTokenizer, PromptEncoder

    encoder = PromptEncoder(GGUFTokenizer(tokenizer))

    def count(row: dict[str, Any]) -> tuple[int, int]:
        example = encoder.example(row["text"], row["schema"], row["expected"])
        return len(example.input_ids) - example.n_target, example.n_target

    return count


def _take(name: str, split: str, n: int, *, corpora: Path, edgejson: Path, seed: int,
          checker: RowChecker, count: Callable[[dict[str, Any]], tuple[int, int]] | None,
          max_tokens: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    available = load_source(name, split, corpora=corpora, edgejson=edgejson, seed=seed, n=n)
    stats: dict[str, Any] = {"available": len(available), "dropped": defaultdict(int)}
    kept = []
    for row in available:
        reason = checker(row)
        if reason is not None:
            stats["dropped"][reason] += 1
            continue
        kept.append(row)
    kept, stats["dropped"]["duplicate"] = dedupe(kept)
    chosen: list[dict[str, Any]] = []
    prompt_tokens = target_tokens = 0
    for row in spread_sample(kept, len(kept), seed):
        if len(chosen) >= n:
            break
        if count is not None:
            p, t = count(row)
            if p + t > max_tokens:
                stats["dropped"]["too_long"] += 1
                continue
            prompt_tokens, target_tokens = prompt_tokens + p, target_tokens + t
        chosen.append(row)
    stats.update(taken=len(chosen), schemas=len({r["schema_id"] for r in chosen}))
    if count is not None:
        stats.update(prompt_tokens=prompt_tokens, target_tokens=target_tokens)
    stats["dropped"] = dict(stats["dropped"])
    return chosen, stats


def build(train_counts: dict[str, int], dev_counts: dict[str, int], *, corpora: Path,
          edgejson: Path, seed: int = 0, tokenizer: str | None = None,
          max_tokens: int = 1024) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                           dict[str, Any]]:
    """The training rows (shuffled), the dev rows (by source) and the manifest.

    Raises:
        MixtureError: a dev schema of a source split by schema is in the training rows.
    """
    checker = RowChecker()
    count = _token_counter(tokenizer)
    manifest: dict[str, Any] = {"seed": seed, "max_tokens": max_tokens, "tokenizer": tokenizer,
                                "schema_split": list(SCHEMA_SPLIT), "train": {}, "dev": {}}
    train: list[dict[str, Any]] = []
    for name, n in train_counts.items():
        rows, manifest["train"][name] = _take(name, "train", n, corpora=corpora,
                                              edgejson=edgejson, seed=seed, checker=checker,
                                              count=count, max_tokens=max_tokens)
        train.extend(rows)
    dev: list[dict[str, Any]] = []
    for name, n in dev_counts.items():
        rows, manifest["dev"][name] = _take(name, "dev", n, corpora=corpora, edgejson=edgejson,
                                            seed=seed + 1, checker=checker, count=count,
                                            max_tokens=max_tokens)
        dev.extend(rows)
    trained = {r["schema_id"] for r in train}
    leaked = sorted({r["schema_id"] for r in dev if r["source"] in SCHEMA_SPLIT} & trained)
    if leaked:
        raise MixtureError(f"dev schemas in the training rows: {', '.join(leaked[:5])}")
    random.Random(seed).shuffle(train)
    for part in ("train", "dev"):
        stats = manifest[part].values()
        manifest[f"{part}_rows"] = sum(s["taken"] for s in stats)
        if count is not None:
            manifest[f"{part}_tokens"] = sum(s["prompt_tokens"] + s["target_tokens"]
                                             for s in stats)
    return train, dev, manifest


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.mixture", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/mixture")
    parser.add_argument("--train", default="", help="source=count,... over the defaults")
    parser.add_argument("--dev", default="", help="source=count,... over the defaults")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpora", default=str(SHARED / "corpora"))
    parser.add_argument("--edgejson", default=str(SHARED / "edgejson"))
    parser.add_argument("--tokenizer", default="",
                        help="GGUF whose tokenizer counts tokens (default: SmolLM2; 'none' skips)")
    parser.add_argument("--max-tokens", type=int, default=1024)
    args = parser.parse_args(argv)
    try:
        train_counts = parse_counts(args.train, DEFAULT_TRAIN)
        dev_counts = parse_counts(args.dev, DEFAULT_DEV)
        tokenizer: str | None = args.tokenizer
        if not tokenizer:
            from train.base_model import smollm2_gguf

            tokenizer = str(smollm2_gguf())
        elif tokenizer == "none":
            tokenizer = None
        train, dev, manifest = build(train_counts, dev_counts, corpora=Path(args.corpora),
                                     edgejson=Path(args.edgejson), seed=args.seed,
                                     tokenizer=tokenizer, max_tokens=args.max_tokens)
    except (MixtureError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _write_jsonl(out / "train.jsonl", train)
    _write_jsonl(out / "dev.jsonl", dev)
    manifest["config"] = {"train": train_counts, "dev": dev_counts}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: manifest[k] for k in manifest if k.endswith(("_rows", "_tokens"))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
