"""JSON scanning: where a JSON output written so far stands, read from its bytes.

The decoding loop and its drafts need to know little about the output they extend: whether it
ends inside a string, and whether that string is an object key (:class:`JsonScan`, fed the
bytes as they come), and which property name it has just finished (:func:`finished_key`).
These read raw bytes of a JSON prefix, with no schema and no parser state; the grammar matcher
is what keeps the output valid.
"""

from __future__ import annotations

import re

# A key that the output has just finished: ``"key":`` or ``"key":"``, at the end of the output.
_KEY_END = re.compile(rb'"((?:[^"\\]|\\.){1,64})":\[?"?\Z')


class JsonScan:
    """Where a JSON output ends, read as its bytes come (:meth:`feed`): inside a string or not,
    and whether that string is an object key (``"key`` after ``{`` or ``,`` in an object; in a
    list, ``,"`` opens a string item)."""

    __slots__ = ("in_string", "in_key", "_escaped", "_expect_key", "_stack")

    def __init__(self) -> None:
        self.in_string = False
        self.in_key = False
        self._escaped = False
        self._expect_key = False  # the next string opened is a key
        self._stack = bytearray()  # the open containers: ``{`` or ``[``

    def feed(self, data: bytes) -> None:
        for b in data:
            if self.in_string:
                if self._escaped:
                    self._escaped = False
                elif b == 0x5C:
                    self._escaped = True
                elif b == 0x22:
                    self.in_string = self.in_key = False
            elif b == 0x22:
                self.in_string, self.in_key, self._expect_key = True, self._expect_key, False
            elif b == 0x7B or b == 0x5B:
                self._stack.append(b)
                self._expect_key = b == 0x7B
            elif b == 0x7D or b == 0x5D:
                if self._stack:
                    self._stack.pop()
                self._expect_key = False
            elif b == 0x2C:
                self._expect_key = bool(self._stack) and self._stack[-1] == 0x7B
            elif b == 0x3A:
                self._expect_key = False

    def ending(self, piece: bytes) -> int:
        """Where in ``piece``, written next, the value being written ends (-1: it does not):
        in a string its first unescaped quote (an escape left open by the output counts),
        elsewhere its first ``,``, ``}`` or ``]``."""
        if not self.in_string:
            return next((k for k, b in enumerate(piece) if b in b",}]"), -1)
        escaped = self._escaped
        for k, b in enumerate(piece):
            if escaped:
                escaped = False
            elif b == 0x5C:
                escaped = True
            elif b == 0x22:
                return k
        return -1


    def member_start(self, piece: bytes) -> int:
        """Where in ``piece``, written next, a new member of an object begins (-1: nowhere): a
        ``,`` in an object outside strings, or the quote that opens a key after ``{``. The
        first such place counts; the scan itself does not move."""
        if b"," not in piece and b'"' not in piece:
            return -1
        probe = JsonScan()
        probe.in_string, probe.in_key = self.in_string, self.in_key
        probe._escaped, probe._expect_key = self._escaped, self._expect_key
        probe._stack = bytearray(self._stack)
        for k, b in enumerate(piece):
            if not probe.in_string:
                if b == 0x2C and probe._stack and probe._stack[-1] == 0x7B:
                    return k
                if b == 0x22 and probe._expect_key:
                    return k
            probe.feed(piece[k:k + 1])
        return -1


def finished_key(output_tail: bytes) -> str | None:
    """The property name the output ends on (it ends with ``"name":`` or ``"name":"``)."""
    m = _KEY_END.search(output_tail)
    if m is None:
        return None
    try:
        return m.group(1).decode("utf-8")
    except UnicodeDecodeError:
        return None
