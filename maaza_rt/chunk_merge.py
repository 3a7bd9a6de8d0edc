"""Merging the values extracted from the chunks of one long text into one value.

The chunks are in text order, and so are their results. The merge walks the values together:

- objects merge property by property (a property one chunk leaves out comes from the others);
- arrays concatenate in text order; an item equal to one that an earlier chunk gave is
  dropped (chunks overlap, so the same line is often read twice), while repeats within one
  chunk stay (the model saw them as separate items);
- anything else (a string, a number, a boolean, or values of different kinds) comes from one
  chunk: the one whose confidence for that JSON pointer is highest, where chunk results carry
  a ``confidence`` table; else the first chunk that gives it. Either way the evidence in the
  chunk's own text comes first (ignoring case and runs of whitespace): a value that the text
  labels with the property's name (``Site: Kestrel Quarry`` for ``site``) beats a string found
  anywhere in it, which beats one not found: values are copied from the text, and a chunk that
  does not hold a fact is where a small model writes a placeholder (``"string"``) or a guess,
  often a phrase of that chunk;
- an empty value (``null``, ``""``, ``[]``, ``{}``) gives way to a non-empty one.

Per-leaf ``confidence`` (JSON pointer -> probability) and ``spans`` (JSON pointer -> character
offsets ``(start, end)`` in the chunk) are optional on each result; where present they are
carried over to the merged value's pointers, and spans are moved by the chunk's start so that
they index the whole text. Validity against the schema is checked by the caller
(:func:`maaza_rt.chunking.merge_checked`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable

from .schema_view import label_words

Span = tuple[int, int]


@dataclass(frozen=True)
class ChunkResult:
    """What one chunk gave.

    Attributes:
        value: the value extracted from the chunk (plain JSON: dicts, lists, scalars).
        start: the chunk's character offset in the whole text.
        confidence: JSON pointer (into ``value``) -> confidence, or None when unknown.
        spans: JSON pointer -> ``(start, end)`` character offsets in the chunk, or None.
        text: the chunk's text, or None (then no string counts as found in it).
    """

    value: Any
    start: int = 0
    confidence: Mapping[str, float] | None = None
    spans: Mapping[str, Span] | None = None
    text: str | None = None


@dataclass(frozen=True)
class Merged:
    """The merged value, with confidence and spans on its own pointers (None where no chunk
    result had them; spans index the whole text)."""

    value: Any
    confidence: dict[str, float] | None = None
    spans: dict[str, Span] | None = None


def pointer_token(key: str) -> str:
    """A property name as one JSON pointer token (RFC 6901: ``~`` -> ``~0``, ``/`` -> ``~1``)."""
    return key.replace("~", "~0").replace("/", "~1")


def is_empty(value: Any) -> bool:
    """Whether ``value`` says nothing: null, an empty string, array or object."""
    return value is None or (isinstance(value, (str, list, dict)) and len(value) == 0)


def _normal(text: str) -> str:
    return " ".join(text.casefold().split())


def count_leaves(value: Any) -> int:
    """The non-empty scalars in ``value``."""
    if isinstance(value, dict):
        return sum(count_leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_leaves(v) for v in value)
    return 0 if is_empty(value) else 1


# A value at a place of the merge: (chunk index, the value, its JSON pointer in that chunk).
_Candidate = tuple[int, Any, str]


class _Merger:
    """Merges once; records where each whole subtree of the result came from."""

    def __init__(self, results: Sequence[ChunkResult]) -> None:
        self.results = results
        self._texts = [None if r.text is None else _normal(r.text) for r in results]
        # (pointer in the merged value, chunk index, pointer in that chunk's value)
        self.sources: list[tuple[str, int, str]] = []

    def merge(self, pointer: str, candidates: list[_Candidate]) -> Any:
        present = [c for c in candidates if not is_empty(c[1])]
        if not present:
            chunk, value, at = candidates[0]
            self.sources.append((pointer, chunk, at))
            return value
        if all(isinstance(value, dict) for _, value, _ in present):
            return self._merge_objects(pointer, present)
        if all(isinstance(value, list) for _, value, _ in present):
            return self._concat(pointer, present)
        return self._choose(pointer, present)

    def _merge_objects(self, pointer: str, present: list[_Candidate]) -> dict[str, Any]:
        keys: dict[str, None] = {}
        for _, value, _ in present:
            keys.update(dict.fromkeys(value))
        merged: dict[str, Any] = {}
        for key in keys:
            token = "/" + pointer_token(key)
            merged[key] = self.merge(pointer + token, [(chunk, value[key], at + token)
                                                       for chunk, value, at in present
                                                       if key in value])
        return merged

    def _concat(self, pointer: str, present: list[_Candidate]) -> list[Any]:
        items: list[Any] = []
        first_chunk: dict[str, int] = {}  # an item's canonical text -> the chunk that gave it
        for chunk, value, at in present:
            for j, item in enumerate(value):
                key = json.dumps(item, sort_keys=True, ensure_ascii=False)
                if first_chunk.setdefault(key, chunk) != chunk:
                    continue  # an earlier chunk gave it (the overlap read twice)
                self.sources.append((f"{pointer}/{len(items)}", chunk, f"{at}/{j}"))
                items.append(item)
        return items

    def _evidence(self, candidate: _Candidate, key: str) -> int:
        """2: the chunk's text labels the value with ``key``; 1: a string found in the text (or
        a value of another type); 0: a string not found, or no text to look in."""
        text = self._texts[candidate[0]]
        value = candidate[1]
        if text is None:
            return 0
        shown = _normal(value if isinstance(value, str) else json.dumps(value))
        words = label_words(key)
        if words and shown and re.search(
                r"(?<![a-z0-9])" + re.escape(words).replace(r"\ ", r"[ _\-]?")
                + r" ?: ?" + re.escape(shown) + r"(?![a-z0-9])", text):
            return 2
        return 1 if not isinstance(value, str) or shown in text else 0

    def _choose(self, pointer: str, present: list[_Candidate]) -> Any:
        key = pointer.rpartition("/")[2].replace("~1", "/").replace("~0", "~") if pointer else ""
        evidence = [self._evidence(c, key) for c in present]
        present = [c for c, e in zip(present, evidence) if e == max(evidence)]
        best = present[0]
        best_score: float | None = None
        for candidate in present:
            table = self.results[candidate[0]].confidence
            score = table.get(candidate[2]) if table else None
            if score is not None and (best_score is None or score > best_score):
                best, best_score = candidate, score
        self.sources.append((pointer, best[0], best[2]))
        return best[1]

    def remap(self, attr: str, move: Callable[[Any, int], Any]) -> dict[str, Any] | None:
        """The ``attr`` tables of the chunk results on the merged value's pointers."""
        if all(getattr(r, attr) is None for r in self.results):
            return None
        out: dict[str, Any] = {}
        for merged_at, chunk, at in self.sources:
            result = self.results[chunk]
            table = getattr(result, attr)
            for key, item in (table or {}).items():
                if key == at or key.startswith(at + "/"):
                    out[merged_at + key[len(at):]] = move(item, result.start)
        return out


def _keep(item: Any, _start: int) -> Any:
    return item


def _shift(span: Any, start: int) -> Span:
    return (int(span[0]) + start, int(span[1]) + start)


def merge_results(results: Sequence[ChunkResult]) -> Merged:
    """Merges the results of a text's chunks, given in text order (module docstring).

    Raises:
        ValueError: ``results`` is empty.
    """
    if not results:
        raise ValueError("no chunk results to merge")
    merger = _Merger(results)
    value = merger.merge("", [(i, r.value, "") for i, r in enumerate(results)])
    return Merged(value, merger.remap("confidence", _keep), merger.remap("spans", _shift))


__all__ = ["ChunkResult", "Merged", "count_leaves", "is_empty", "merge_results", "pointer_token"]
