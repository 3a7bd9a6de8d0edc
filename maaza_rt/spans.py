"""Spans: where in the input text each value of an extraction was copied from.

A value's *leaves* are its scalars (strings, numbers, booleans, null) and its empty arrays and
objects, each named by its JSON pointer (RFC 6901: ``/items/0/sku``; ``~`` is written ``~0`` and
``/`` ``~1``), in document order (:func:`leaves`). The leaf scoring of :mod:`maaza_rt.metrics`
counts the same leaves.

:func:`leaf_spans` finds string and number leaves in the text under the rules of
:mod:`maaza_rt.grounding_text`: a string matches where the text, with whitespace runs collapsed
to one space, contains the string collapsed the same way (so ``"12 Main St, Springfield"``
matches ``12 Main St,\\n  Springfield``); a number matches a number the text writes with the
same value (``1240.5`` matches ``$1,240.50``). The span is in characters of the original text
and covers the whole whitespace runs it includes, so the text at a string's span, collapsed,
is the string collapsed. Where a value occurs several times, the first occurrence at or after
the end of the previous leaf's span is taken (fields are mostly written in text order), else
the first one.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from .grounding_text import collapse_whitespace, normalize_text, text_numbers


def pointer_token(key: str | int) -> str:
    """One reference token of a JSON pointer: ``~`` escaped as ``~0``, ``/`` as ``~1``."""
    return str(key).replace("~", "~0").replace("/", "~1")


def leaves(value: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    """``(pointer, leaf)`` for every leaf of a loaded JSON value, in document order: scalars,
    and arrays and objects with no members (the whole value is a leaf at ``""`` when it is
    one)."""
    if isinstance(value, dict) and value:
        for k, v in value.items():
            yield from leaves(v, f"{pointer}/{pointer_token(k)}")
    elif isinstance(value, list) and value:
        for i, v in enumerate(value):
            yield from leaves(v, f"{pointer}/{i}")
    else:
        yield pointer, value


def _number_value(leaf: Any) -> Decimal | None:
    """The exact decimal value a JSON number leaf was written as (None for other leaves)."""
    if isinstance(leaf, bool) or not isinstance(leaf, (int, float)):
        return None
    try:
        # repr gives the shortest decimal that reads back as the same float: what JSON wrote.
        value = Decimal(repr(leaf)) if isinstance(leaf, float) else Decimal(leaf)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def leaf_spans(value: Any, text: str) -> dict[str, tuple[int, int]]:
    """The ``(start, end)`` character span in ``text`` of each string and number leaf of
    ``value`` that the text contains (see the module for the matching rules), by JSON
    pointer. Leaves not found, empty strings, booleans, null and empty containers get none."""
    norm = normalize_text(text)
    numbers = text_numbers(text)
    spans: dict[str, tuple[int, int]] = {}
    after = 0  # where the previous leaf's span ends, in the original text
    for pointer, leaf in leaves(value):
        span: tuple[int, int] | None = None
        if isinstance(leaf, str):
            needle = collapse_whitespace(leaf)
            if needle:
                i = norm.text.find(needle, norm.normalized_index(after))
                if i < 0:
                    i = norm.text.find(needle)
                if i >= 0:
                    span = norm.original_span(i, i + len(needle))
        else:
            number = _number_value(leaf)
            if number is not None:
                equal = [n for n in numbers if n.value == number]
                later = [n for n in equal if n.start >= after]
                found = later[0] if later else equal[0] if equal else None
                if found is not None:
                    span = (found.start, found.end)
        if span is not None:
            spans[pointer] = span
            after = span[1]
    return spans


__all__ = ["leaf_spans", "leaves", "pointer_token"]
