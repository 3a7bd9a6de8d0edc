"""Text normalization for grounded values: whitespace runs and the numbers a text writes.

A grounded value is one copied from the input text. Two rules decide what counts as a copy, and
both the grammar engine (which allows only such values) and the span finder
(:mod:`maaza_rt.spans`, which locates them afterwards) read them from here:

- **Whitespace.** A run of whitespace in the text (a line break inside an address, a tab in a
  table) may be written as one space. :func:`normalize_text` collapses every maximal run of
  :data:`WHITESPACE` characters into one U+0020 and remembers, for each character of the result,
  which characters of the original it stands for, so a match found in the normalized text maps
  back to offsets in the original (:meth:`NormalizedText.original_span`).
- **Numbers.** A number value must be one the text writes, read after normalization: thousands
  separators, currency signs and units are not part of it (``$1,240.50`` is 1240.50).
  :func:`text_numbers` finds them with their offsets; :func:`json_number_forms` lists the JSON
  literals that write one (``1240.5`` and ``1240.50``); :func:`text_number_literals` lists them
  all for a text, which is what the grammar engine takes as the allowed values.

Offsets are in characters (Python string indices) of the original text. Pure Python.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from decimal import Decimal

# C0 controls and space, then the Unicode space separators and line/paragraph separators.
WHITESPACE: frozenset[str] = frozenset(
    [chr(c) for c in range(0x21)]
    + ["\u0085", "\u00a0", "\u1680"]
    + [chr(c) for c in range(0x2000, 0x200B)]
    + ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000"])

_WHITESPACE_RUN = re.compile(
    "[" + "".join(re.escape(c) for c in sorted(WHITESPACE)) + "]+")

# A number as a text writes it: digits with thousands separators (a comma and exactly three
# digits, repeated) and a fraction, or a bare fraction (".5"). The optional sign is checked
# separately (it counts only after a character that is not a letter or digit).
_NUMBER = re.compile(r"[-+\u2212]?(?:[0-9]+(?:,[0-9]{3}(?![0-9]))*(?:\.[0-9]+)?|\.[0-9]+)")
_SIGNS = "-+\u2212"
# A number literal as RFC 8259 writes it, without an exponent.
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
_JSON_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")


@dataclass(frozen=True)
class NormalizedText:
    """A text with each whitespace run collapsed to one space, and where each character of it
    came from.

    Attributes:
        original: the text as given.
        text: the normalized text.
        starts: for each character of ``text``, the offset in ``original`` where what it stands
            for begins.
        ends: likewise, where it ends (a collapsed space stands for its whole run).
    """

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original_span(self, i: int, j: int) -> tuple[int, int]:
        """The span ``[start, end)`` of ``original`` that the normalized ``text[i:j]`` stands
        for. An empty span maps to an empty span at the corresponding original offset.

        Raises:
            IndexError: ``i`` and ``j`` are not ``0 <= i <= j <= len(text)``.
        """
        if not 0 <= i <= j <= len(self.text):
            raise IndexError(f"no span [{i}, {j}) in a normalized text of {len(self.text)} "
                             "characters")
        if i == j:
            at = self.starts[i] if i < len(self.text) else len(self.original)
            return at, at
        return self.starts[i], self.ends[j - 1]

    def normalized_index(self, offset: int) -> int:
        """The first normalized character whose original start is at or after ``offset`` (the
        length of ``text`` when none is)."""
        return bisect_left(self.starts, offset)


def collapse_whitespace(text: str) -> str:
    """``text`` with each maximal run of :data:`WHITESPACE` characters replaced by one space
    (the ``text`` of :func:`normalize_text`, without the offsets)."""
    return _WHITESPACE_RUN.sub(" ", text)


def normalize_text(text: str) -> NormalizedText:
    """Collapses each maximal run of :data:`WHITESPACE` characters in ``text`` into one U+0020
    and records the original offsets of every character of the result."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for m in _WHITESPACE_RUN.finditer(text):
        for k in range(pos, m.start()):
            out.append(text[k])
            starts.append(k)
            ends.append(k + 1)
        out.append(" ")
        starts.append(m.start())
        ends.append(m.end())
        pos = m.end()
    for k in range(pos, len(text)):
        out.append(text[k])
        starts.append(k)
        ends.append(k + 1)
    return NormalizedText(text, "".join(out), tuple(starts), tuple(ends))


@dataclass(frozen=True)
class TextNumber:
    """A number written in a text.

    Attributes:
        value: its value (exact).
        start: offset of its first character (the sign, if it has one).
        end: offset after its last digit.
        written: the text at ``[start, end)``, separators included (``"1,240.50"``).
    """

    value: Decimal
    start: int
    end: int
    written: str


def _digits(written: str) -> tuple[str, str, str]:
    """The sign (``""`` or ``"-"``), integer digits and fraction digits of a written number,
    separators dropped (the integer part may be empty: ``".5"``)."""
    sign = "-" if written[:1] in ("-", "\u2212") else ""
    body = written.lstrip(_SIGNS).replace(",", "")
    whole, _, frac = body.partition(".")
    return sign, whole, frac


def text_numbers(text: str) -> list[TextNumber]:
    """Every number written in ``text``, in order.

    A number is ASCII digits with optional thousands separators (``,`` then exactly three
    digits, repeated) and an optional fraction (``.`` and digits), or a bare fraction (``.5``).
    A leading ``-``, ``+`` or U+2212 is its sign only when the character before it is not a
    letter or digit (``INV-2291`` is 2291, ``2024-07-01`` is 2024, 7 and 1, ``-3 C`` is -3).
    Currency signs and units are not part of a number; there are no exponents.
    """
    found: list[TextNumber] = []
    for m in _NUMBER.finditer(text):
        start = m.start()
        if text[start] in _SIGNS and start > 0 and text[start - 1].isalnum():
            start += 1  # a hyphen inside a word or a date, not a sign
        written = text[start:m.end()]
        sign, whole, frac = _digits(written)
        value = Decimal(f"{sign}{whole or '0'}.{frac}" if frac else f"{sign}{whole}")
        found.append(TextNumber(value, start, m.end(), written))
    return found


def canonical_number(value: Decimal) -> str:
    """The shortest plain decimal literal of ``value``: no exponent, no trailing fraction
    zeros, no leading zeros, ``0`` for zero (``1240.5``, ``2``, ``-3``, ``0.05``)."""
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    text = format(value.copy_abs(), "f")  # both exact: no rounding to the context precision
    whole, _, frac = text.partition(".")
    whole = whole.lstrip("0") or "0"
    frac = frac.rstrip("0")
    return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"


def json_number_forms(n: TextNumber, integer_only: bool) -> list[str]:
    """The JSON literals that write the number ``n``, without duplicates: its canonical form
    (:func:`canonical_number`), then its written digits without separators where they are a
    valid RFC 8259 literal (``1240.50``; not ``02`` nor ``.5``).

    With ``integer_only`` only integral values have forms, and only integer literals
    (``3.0`` gives ``3``; ``2.5`` gives none).
    """
    if integer_only and n.value != n.value.to_integral_value():
        return []
    forms = [canonical_number(n.value)]
    sign, whole, frac = _digits(n.written)
    written = f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"
    valid = _JSON_INTEGER if integer_only else _JSON_NUMBER
    if valid.fullmatch(written) and written not in forms:
        forms.append(written)
    return forms


def text_number_literals(text: str, integer_only: bool) -> list[str]:
    """Every JSON literal of every number in ``text`` (:func:`json_number_forms`), each once,
    in order of first appearance."""
    seen: dict[str, None] = {}
    for n in text_numbers(text):
        seen.update(dict.fromkeys(json_number_forms(n, integer_only)))
    return list(seen)


__all__ = ["WHITESPACE", "NormalizedText", "TextNumber", "canonical_number",
           "collapse_whitespace", "json_number_forms", "normalize_text", "text_number_literals",
           "text_numbers"]
