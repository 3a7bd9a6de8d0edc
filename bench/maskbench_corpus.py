"""MaskBench's corpus and its instances: loading, selection, key order and serialisation.

A MaskBench file is ``{"schema": ..., "tests": [{"valid": bool, "data": ...}]}``. Instances are
read keeping the source text of every number (:class:`RawNumber`), their object keys reordered to
the order of the schema's ``properties`` (:func:`reorder_keys`, through local ``$ref``, ``allOf``
and the best-covering ``anyOf``/``oneOf`` alternative) and written in one whitespace mode
(:func:`serialize`), so every engine of ``bench/maskbench.py`` sees the same text. Pure Python, no
engine: the XGrammar worker imports it under an interpreter without maaza-rt.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any


class RawNumber(str):
    """A JSON number kept as its source text, so serialisation writes it back unchanged."""


def load_json_keep_numbers(text: str) -> Any:
    """Parses JSON keeping object key order and the source text of every number."""
    return json.loads(text, parse_float=RawNumber, parse_int=RawNumber)


def list_corpus(corpus: Path) -> list[Path]:
    """Every ``*.json`` file of the corpus directory, in sorted order."""
    return sorted(p for p in corpus.glob("*.json") if p.is_file())


def select_files(
    files: list[Path], limit: int | None, sample: int | None, seed: int
) -> list[Path]:
    """The first ``limit`` files, or ``sample`` files drawn with ``seed`` (returned sorted)."""
    if sample is not None:
        if sample >= len(files):
            return list(files)
        rng = random.Random(seed)
        return sorted(rng.sample(files, sample))
    if limit is not None:
        return files[:limit]
    return list(files)


def resolve_pointer(root: Any, ref: str) -> Any:
    """Resolves a local ``#/a/b`` reference inside ``root``; None when it does not resolve."""
    # Imported here: xgrammar workers run without maaza_rt.
    from maaza_rt.schema_view import resolve_ref_or_none

    return resolve_ref_or_none(root, ref)


def _deref(schema: Any, root: Any) -> Any:
    for _ in range(32):
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            target = resolve_pointer(root, schema["$ref"])
            if target is None:
                return schema
            if len(schema) > 1:  # siblings of $ref apply too: merge them over the target
                merged = dict(target) if isinstance(target, dict) else {}
                for k, v in schema.items():
                    if k == "properties" and isinstance(merged.get(k), dict):
                        # the target's properties come first, then the schema's own
                        merged[k] = {**merged[k], **v} if isinstance(v, dict) else merged[k]
                    elif k != "$ref":
                        merged[k] = v
                return merged
            schema = target
        else:
            return schema
    return schema


def _property_order(schema: Any, root: Any, keys: list[str], depth: int) -> list[tuple[str, Any]]:
    """(property name, subschema) pairs in schema order, through $ref, allOf and anyOf/oneOf."""
    schema = _deref(schema, root)
    if not isinstance(schema, dict) or depth > 16:
        return []
    out: list[tuple[str, Any]] = []
    props = schema.get("properties")
    if isinstance(props, dict):
        out.extend(props.items())
    for sub in schema.get("allOf", []) if isinstance(schema.get("allOf"), list) else []:
        out.extend(_property_order(sub, root, keys, depth + 1))
    for kw in ("anyOf", "oneOf"):
        alts = schema.get(kw)
        if isinstance(alts, list) and alts:
            best: list[tuple[str, Any]] = []
            best_score = -1
            for alt in alts:
                order = _property_order(alt, root, keys, depth + 1)
                score = len({name for name, _ in order} & set(keys))
                if score > best_score:
                    best, best_score = order, score
            out.extend(best)
    seen: set[str] = set()
    unique = []
    for name, sub in out:
        if name not in seen:
            seen.add(name)
            unique.append((name, sub))
    return unique


def _value_schema_for_key(schema: Any, root: Any, key: str, order: dict[str, Any]) -> Any:
    if key in order:
        return order[key]
    schema = _deref(schema, root)
    if isinstance(schema, dict) and isinstance(schema.get("additionalProperties"), dict):
        return schema["additionalProperties"]
    return None


def _array_item_schemas(schema: Any, root: Any, n: int, depth: int) -> list[Any]:
    schema = _deref(schema, root)
    if not isinstance(schema, dict) or depth > 16:
        return [None] * n
    for kw in ("anyOf", "oneOf"):
        alts = schema.get(kw)
        if isinstance(alts, list):
            for alt in alts:
                alt_d = _deref(alt, root)
                if isinstance(alt_d, dict) and ("items" in alt_d or "prefixItems" in alt_d):
                    return _array_item_schemas(alt_d, root, n, depth + 1)
    prefix = schema.get("prefixItems")
    items = schema.get("items")
    if isinstance(items, list):  # draft 4-7 tuple form
        prefix, items = items, schema.get("additionalItems")
    prefix = prefix if isinstance(prefix, list) else []
    return [prefix[i] if i < len(prefix) else items for i in range(n)]


def reorder_keys(value: Any, schema: Any, root: Any = None, depth: int = 0) -> Any:
    """Returns ``value`` with object keys in the order of the schema's ``properties``.

    Keys the schema lists come first, in schema order; the others follow in their original order.
    The value itself (keys, values, array order) is unchanged.
    """
    if root is None:
        root = schema
    if depth > 64:
        return value
    if isinstance(value, dict):
        keys = list(value.keys())
        order = dict(_property_order(schema, root, keys, 0))
        listed = [k for k in order if k in value]
        rest = [k for k in keys if k not in order]
        out = {}
        for k in listed + rest:
            sub = _value_schema_for_key(schema, root, k, order)
            out[k] = reorder_keys(value[k], sub, root, depth + 1)
        return out
    if isinstance(value, list):
        subs = _array_item_schemas(schema, root, len(value), 0)
        return [reorder_keys(v, s, root, depth + 1) for v, s in zip(value, subs)]
    return value


def serialize(value: Any, whitespace: str) -> str:
    """Writes a JSON value in one whitespace mode: ``python`` (", ", ": ") or ``compact``."""
    if whitespace == "python":
        item_sep, key_sep = ", ", ": "
    elif whitespace == "compact":
        item_sep, key_sep = ",", ":"
    else:
        raise ValueError(f"unknown whitespace mode {whitespace!r} (python or compact)")
    parts: list[str] = []

    def emit(v: Any) -> None:
        if isinstance(v, RawNumber):
            parts.append(str(v))
        elif v is None:
            parts.append("null")
        elif v is True:
            parts.append("true")
        elif v is False:
            parts.append("false")
        elif isinstance(v, str):
            parts.append(json.dumps(v, ensure_ascii=False))
        elif isinstance(v, (int, float)):
            parts.append(json.dumps(v))
        elif isinstance(v, dict):
            parts.append("{")
            for i, (k, item) in enumerate(v.items()):
                if i:
                    parts.append(item_sep)
                parts.append(json.dumps(k, ensure_ascii=False))
                parts.append(key_sep)
                emit(item)
            parts.append("}")
        elif isinstance(v, list):
            parts.append("[")
            for i, item in enumerate(v):
                if i:
                    parts.append(item_sep)
                emit(item)
            parts.append("]")
        else:
            raise TypeError(f"not a JSON value: {type(v).__name__}")

    emit(value)
    return "".join(parts)


def to_plain(value: Any) -> Any:
    """Turns RawNumber leaves back into int/float (for comparing with ``json.loads``)."""
    if isinstance(value, RawNumber):
        return json.loads(str(value))
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value
