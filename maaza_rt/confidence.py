"""Confidence: the probability of each value of an extraction under the constrained model.

The decoder can record, for every output token, its probability under the *constrained
distribution* at its position: the softmax (temperature 1) of the model's logits over the
tokens the grammar allows there, taken before the copy and layout biases; a token whose bytes
the grammar forces (keys, ``":``, closing brackets: the only continuation) has probability 1,
and so do the tokens budget closing appends (``DecodeState.token_prob``,
``Generation.token_probs``).

A leaf's confidence combines the tokens that decide it. A leaf (see :func:`maaza_rt.spans.leaves`)
occupies a byte range of the output's JSON text: a string with its quotes, a number or literal,
an empty ``[]`` or ``{}``. Its confidence is the product of the probabilities of every token
that overlaps that range, and for a number, ``true``, ``false`` or ``null`` also of the token
holding the first byte after it, which decides where the value ends (``4`` then ``2,`` writes
42, not 4). A token shared by two leaves (``","`` closes one string and opens the next key)
counts in both. The product is the probability that greedy decoding's constrained model puts on
writing exactly these tokens, given the output before them, so it reads as "how sure the model
was of this value, given what it had written before it".
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

from .spans import pointer_token

_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_LITERALS = (b"true", b"false", b"null")
_SPACE = b" \t\n\r"


class _Ranges:
    """A recursive reader of a JSON text that records each leaf's byte range."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.ranges: dict[str, tuple[int, int, bool]] = {}  # pointer: start, end, ends open

    def space(self, i: int) -> int:
        data = self.data
        while i < len(data) and data[i] in _SPACE:
            i += 1
        return i

    def expect(self, i: int, byte: bytes) -> int:
        if self.data[i:i + 1] != byte:
            raise ValueError(f"expected {byte.decode()!r} at byte {i} of the JSON text")
        return i + 1

    def string(self, i: int) -> int:
        """The end of the string that starts at ``i`` (after its closing quote)."""
        data = self.data
        i = self.expect(i, b'"')
        while i < len(data):
            b = data[i]
            if b == 0x5C:
                i += 2
            elif b == 0x22:
                return i + 1
            else:
                i += 1
        raise ValueError("unterminated string in the JSON text")

    def value(self, i: int, pointer: str) -> int:
        """Reads the value at ``i`` (no leading whitespace) and returns where it ends."""
        data = self.data
        head = data[i:i + 1]
        if head == b'"':
            end = self.string(i)
            self.ranges[pointer] = (i, end, False)
            return end
        if head in (b"{", b"["):
            closing = b"}" if head == b"{" else b"]"
            j = self.space(i + 1)
            if data[j:j + 1] == closing:
                self.ranges[pointer] = (i, j + 1, False)
                return j + 1
            index = 0
            while True:
                if head == b"{":
                    key_end = self.string(j)
                    key = json.loads(data[j:key_end].decode("utf-8"))
                    child = f"{pointer}/{pointer_token(key)}"
                    j = self.space(self.expect(self.space(key_end), b":"))
                else:
                    child = f"{pointer}/{index}"
                    index += 1
                j = self.space(self.value(j, child))
                if data[j:j + 1] == closing:
                    return j + 1
                j = self.space(self.expect(j, b","))
        for literal in _LITERALS:
            if data.startswith(literal, i):
                self.ranges[pointer] = (i, i + len(literal), True)
                return i + len(literal)
        m = _NUMBER.match(data, i)
        if m is None:
            raise ValueError(f"no JSON value at byte {i} of the JSON text")
        self.ranges[pointer] = (i, m.end(), True)
        return m.end()


def leaf_byte_ranges(json_text: str | bytes) -> dict[str, tuple[int, int, bool]]:
    """For each leaf of a JSON text, by JSON pointer: the byte range ``[start, end)`` of its
    JSON text in the UTF-8 encoding (a string's quotes included), and whether the value ends
    only where the next byte says (numbers and literals).

    Raises:
        ValueError: the text is not one JSON value.
    """
    data = json_text.encode("utf-8") if isinstance(json_text, str) else json_text
    reader = _Ranges(data)
    end = reader.space(reader.value(reader.space(0), ""))
    if end != len(data):
        raise ValueError(f"extra data at byte {end} of the JSON text")
    return reader.ranges


def token_offsets(tokens: Sequence[int], pieces: Sequence[bytes]) -> list[int]:
    """The byte offset where each token starts in the concatenation of their pieces."""
    return [0, *accumulate(len(pieces[t]) for t in tokens)][:len(tokens)]


def leaf_confidence(output_text: str | bytes, token_byte_offsets: Sequence[int],
                    token_probs: Sequence[float]) -> dict[str, float]:
    """The confidence of each leaf of the JSON ``output_text``, by JSON pointer: the product of
    the probabilities of the tokens that overlap the leaf's JSON text, and for numbers and
    literals of the token holding the byte after it (see the module).

    ``token_byte_offsets[i]`` is where token ``i`` starts in the UTF-8 bytes of
    ``output_text`` (nondecreasing); a token ends where the next one starts, the last one at the
    end of the text. ``token_probs[i]`` is its probability.

    Raises:
        ValueError: the text is not one JSON value, or the offsets and probabilities do not
            describe its tokens.
    """
    data = output_text.encode("utf-8") if isinstance(output_text, str) else output_text
    n = len(token_byte_offsets)
    if len(token_probs) != n:
        raise ValueError(f"{n} token offsets but {len(token_probs)} probabilities")
    if any(b < a for a, b in zip(token_byte_offsets, token_byte_offsets[1:])) or (
            n and not 0 <= token_byte_offsets[0] <= token_byte_offsets[-1] <= len(data)):
        raise ValueError("token offsets must be nondecreasing and within the text")
    ends = [*token_byte_offsets[1:], len(data)]
    confidence = {}
    for pointer, (start, end, open_end) in leaf_byte_ranges(data).items():
        if open_end and end < len(data):
            end += 1  # the token holding the first byte after the value decides its end
        p = 1.0
        # tokens overlap [start, end) when they start before ``end`` and end after ``start``
        for k in range(bisect_right(ends, start), n):
            if token_byte_offsets[k] >= end:
                break
            if ends[k] > token_byte_offsets[k]:  # an empty token holds no byte
                p *= token_probs[k]
        confidence[pointer] = p
    return confidence


__all__ = ["leaf_byte_ranges", "leaf_confidence", "token_offsets"]
