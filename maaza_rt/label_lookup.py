"""Label lookup: draft a property's value from the line of the input text that labels it.

Prompt lookup (:mod:`maaza_rt.prompt_lookup`) cannot draft the first tokens of a value, right
after its key: nothing in the output yet anchors a copy. Input text often labels its values
(``Transaction ID: 49e3...``), so when the output has just written a key, the text after that
key's label is proposed as the value, fed in the same batch as the forced key. The decoding
loop keeps each drafted token only while it is the model's own constrained choice.

With the schema's outline (:mod:`maaza_rt.schema_view`) a draft goes on through the following
labelled lines as one compact JSON text, closing and opening objects and lists as the lines
move between them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from .schema_view import Shape, _Frame, label_words, open_frames

__all__ = ["MAX_CHAIN", "MAX_ITEMS", "MAX_LABEL_VALUE", "LabelLookup", "label_words"]

MAX_LABEL_VALUE = 1024  # bytes of text after a label that a draft copies
MAX_ITEMS = 64  # list items, one per line, that a draft copies
MAX_CHAIN = 1024  # bytes of JSON a label draft holds at most

_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?")
# The end of a block of labelled lines: an empty line next, or the end of the text.
_BLOCK_END = re.compile(rb"[ \t]*(?:\r?\n[ \t]*(?:\r?\n|$)|$)")
# The next labelled line: indentation, a label of words, a colon, the value.
_NEXT_LABEL = re.compile(rb"\n[ \t]*([A-Za-z][A-Za-z0-9 _\-]{0,40}?)[ \t]*:[ \t]*")


def _line_value(text: bytes, start: int) -> int:
    """The end of a labelled value starting at ``start``: the line's end or a byte JSON escapes."""
    end = start
    limit = min(len(text), start + MAX_LABEL_VALUE)
    while end < limit and text[end] >= 0x20 and text[end] not in b'"\\':
        end += 1
    return end


class LabelLookup:
    """Proposes a property's value from the line of the text that labels it with the key.

    For key ``transaction_id`` it looks in the text for ``Transaction ID:`` (the key's words,
    any case, at the start of a word, then a colon) and proposes what follows on that line, up
    to a byte a JSON string would escape. Labels are taken in the text's order: the first one
    at or after the end of the last accepted value, none when there is no such label (the
    labels before it gave values the output took already; drafting them again, with the label
    margin, fed lists that repeat their items).

    With ``kinds`` (:func:`property_kinds`), the proposal goes on through the following lines
    while each is labelled with a string or number property: ``Quantity: 72`` after a
    description proposes ``","quantity":72``, and so on, as one compact JSON text (the draft).
    A batch takes at most ``n`` tokens of it; when it kept them all, :meth:`pending` is the next
    draft token and :meth:`propose_rest` offers more. ``pieces`` (token id -> bytes) lets the
    lookup tell which labelled values the kept tokens covered; without it a token is one byte.
    With ``shape`` (:func:`schema_shape` of an object schema) and the output passed to
    :meth:`propose` / :meth:`propose_key`, the chain follows the schema's nesting: it closes
    and opens objects and lists of objects as the labelled lines move between them.
    """

    def __init__(self, text: bytes, tokenize: Callable[[bytes], list[int]],
                 kinds: dict[str, tuple[str, str]] | None = None,
                 pieces: Sequence[bytes] | None = None,
                 shape: Shape | None = None) -> None:
        self.text = text
        self.shape = shape if shape is not None and shape.kind == "object" else None
        self.lower = text.lower()
        self.tokenize = tokenize
        self.kinds = kinds or {}
        # Another known property labelled later on a value's line (``Name: Ada; city: Paris``)
        # ends the value there.
        self._inline = re.compile(rb"[;,|][ \t]*(?<![a-z0-9])(?:" + b"|".join(
            re.escape(w.encode("utf-8")).replace(rb"\ ", rb"[ _\-]?")
            for w in sorted(self.kinds, key=len, reverse=True) if w) + rb")[ \t]*:"
        ) if any(self.kinds) else None
        self.pieces = pieces
        self.cursor = 0
        self._patterns: dict[str, re.Pattern[bytes] | None] = {}
        self._draft: list[int] = []  # the tokens of the current draft
        self._values: list[tuple[int, int]] = []  # (draft bytes before a value, its text end)
        self._offer_start = 0  # the draft index where the last offer began
        self._offer_end = 0  # ... and ended
        self._kept = 0  # draft tokens kept so far
        self._resumable = False  # the output follows the draft up to _kept: it may go on

    def _pattern(self, key: str) -> re.Pattern[bytes] | None:
        if key not in self._patterns:
            words = label_words(key).encode("utf-8")
            self._patterns[key] = (re.compile(rb"(?<![a-z0-9])" + re.escape(words).replace(
                rb"\ ", rb"[ _\-]?") + rb"[ \t]*:[ \t]*") if words else None)
        return self._patterns[key]

    def _value(self, start: int, kind: str) -> tuple[bytes, int] | None:
        """The JSON text of a ``kind`` value labelled at ``start`` (a string without its quotes)
        and where it ends in the text: at the end of its line, or where the line labels another
        known property (``Name: Ada; city: Paris``). A string goes on over the lines after its
        own while each is neither empty nor labelled (``993 Hayes Mills\\nNew Susanville,
        WV``: an address)."""
        text = self.text
        end = _line_value(text, start)
        inline = self._inline.search(self.lower, start, end) if self._inline else None
        if inline is not None:
            end = inline.start()
        raw = text[start:end].rstrip()
        if kind == "number":
            m = _NUMBER.match(raw)
            return (m.group(0), end) if m and m.end() == len(raw) else None
        if not raw:
            return None
        value = bytearray(raw)
        while (inline is None and end < len(text) and text[end] == 0x0A
               and len(value) < MAX_LABEL_VALUE):
            line_end = _line_value(text, end + 1)
            line = text[end + 1:line_end].rstrip()
            if not line.strip() or _NEXT_LABEL.match(text, end) or (
                    line_end < len(text) and text[line_end] != 0x0A):
                break
            value += b"\\n" + line
            end = line_end
        return bytes(value), end

    def _items(self, pos: int, indent: int, kind: str) -> tuple[list[bytes], int]:
        """The items of a list laid out one per line after a label line ending at ``pos``
        (each line indented deeper than ``indent``, not labelled, JSON-safe; numbers only
        where ``kind`` is ``number``) and where the last one ends."""
        text = self.text
        items: list[bytes] = []
        while pos < len(text) and text[pos] == 0x0A and len(items) < MAX_ITEMS:
            first = pos + 1
            while first < len(text) and text[first] in b" \t":
                first += 1
            end = _line_value(text, first)
            item = text[first:end].rstrip()
            if (first - pos - 1 <= indent or not item or _NEXT_LABEL.match(text, pos)
                    or (end < len(text) and text[end] != 0x0A)
                    or (kind == "number" and _NUMBER.fullmatch(item) is None)):
                break
            items.append(item)
            pos = end
        return items, pos

    @staticmethod
    def _list_json(items: list[bytes], kind: str) -> bytes:
        """The items as the inside of a JSON list, from just after its ``[``, with its ``]``."""
        if kind == "number":
            return b",".join(items) + b"]"
        return b'"' + b'","'.join(items) + b'"]'

    def _offer(self, draft: bytearray, n: int) -> list[int]:
        self._draft = self.tokenize(bytes(draft))
        self._offer_start, self._kept, self._resumable = 0, 0, False
        self._offer_end = min(n, len(self._draft))
        return self._draft[:self._offer_end]

    def _frames(self, output: bytes | None) -> list[_Frame] | None:
        if self.shape is None or output is None:
            return None
        return open_frames(output, self.shape) or None

    def propose(self, key: str, n: int, in_string: bool = True,
                output: bytes | None = None) -> list[int]:
        """Up to ``n`` tokens of the value that the text labels with ``key``, or [].

        ``in_string``: the output has opened the value's string (it ends with ``"key":"``).
        ``output``: the output so far (with ``shape``, the chain follows the schema's nesting).
        """
        pattern = self._pattern(key) if n > 0 else None
        if pattern is None:
            return []
        m = pattern.search(self.lower, self.cursor)
        if m is None:
            return []
        start = m.end()
        end = _line_value(self.text, start)
        frames = self._frames(output) if output is not None and output.rstrip(b'"').endswith(
            b"[") else None
        if frames and frames[-1].shape.kind == "array" and end == start:
            # A list just opened (``"tags":[`` or ``"tags":["``): its items, one per line.
            item = frames[-1].shape.item
            kind = item.kind if item is not None else "other"
            indent = m.start() - (self.text.rfind(b"\n", 0, m.start()) + 1)
            items, end = self._items(end, indent, kind) if kind in ("string", "number") else (
                [], end)
            if not items or (kind == "number" and in_string):
                return []
            draft = bytearray(self._list_json(items, kind)[1 if in_string else 0:])
            self._values = [(0, end)]
            frames.pop()
            self._chain_framed(draft, end, False, frames)
            return self._offer(draft, n)
        if end == start:
            return []
        draft = bytearray(self.text[start:end])
        self._values = [(0, end)]
        if self.kinds:
            current = self._value(start, "string" if in_string else "number")
            if current is not None:
                draft = bytearray(current[0])
                end = current[1]
                self._values = [(0, end)]
                frames = self._frames(output)
                if frames is not None:
                    self._chain_framed(draft, end, in_string, frames)
                else:
                    self._chain(draft, end, in_string, key)
        return self._offer(draft, n)

    def propose_key(self, n: int, output: bytes | None = None) -> list[int]:
        """Up to ``n`` tokens for an output that has just opened a key (``{"`` or ``,"``): the
        next labelled line after the last accepted value, when it labels a known string or
        number property, as ``name":value`` and the fields chained after it; or []. With
        ``output`` and ``shape`` the property must belong to the object the key is in, and a
        line that labels an object (or a list of objects) opens it."""
        if n <= 0 or not self.kinds:
            return []
        m = _NEXT_LABEL.search(self.text, max(self.cursor - 1, 0))
        if m is None:
            return []
        frames = self._frames(output)
        if frames is not None:
            draft = bytearray()
            self._values = []
            self._chain_framed(draft, m.start(), False, frames, key_sep=b"")
            return self._offer(draft, n) if draft else []
        found = self.kinds.get(label_words(m.group(1).decode("utf-8", "replace")))
        if found is None or found[1] == "other":
            return []
        name, kind = found
        found_value = self._value(m.end(), kind)
        if found_value is None:
            return []
        value, end = found_value
        draft = bytearray(name.encode("utf-8") + (b'":"' if kind == "string" else b'":'))
        self._values = [(len(draft), end)]
        draft += value
        self._chain(draft, end, kind == "string", name)
        return self._offer(draft, n)

    def _chain(self, draft: bytearray, pos: int, in_string: bool, first: str = "") -> None:
        """Appends to ``draft`` the fields labelled on the lines after ``pos``, while known.

        A property that comes again (``first`` is the draft's own) starts the next object of a
        list: ``},{"`` instead of ``,"``."""
        seen = {first} if first else set()
        while len(draft) < MAX_CHAIN:
            m = _NEXT_LABEL.match(self.text, pos)
            if m is None:
                return
            found = self.kinds.get(label_words(m.group(1).decode("utf-8", "replace")))
            if found is None or found[1] == "other":
                return
            name, kind = found
            found_value = self._value(m.end(), kind)
            if found_value is None:
                return
            value, pos = found_value
            draft += b'"' if in_string else b""
            draft += b'},{"' if name in seen else b',"'
            seen = {name} if name in seen else seen | {name}
            draft += name.encode("utf-8") + (b'":"' if kind == "string" else b'":')
            self._values.append((len(draft), pos))
            draft += value
            in_string = kind == "string"

    def _chain_framed(self, draft: bytearray, pos: int, in_string: bool, frames: list[_Frame],
                      key_sep: bytes | None = None) -> None:
        """Appends to ``draft`` the fields labelled on the lines after ``pos``, following the
        schema's nesting (``frames``: the output's open objects and arrays, changed here).

        A line that labels a property of an enclosing object first closes what is open inside
        it (``"},"status":``); a property that comes again in a list item starts the next item
        (``},{"``); a line that labels an object or a list of objects and holds nothing after
        its colon opens it (``,"shipping_address":{"``) for the lines that follow. ``key_sep``
        (not None): the draft continues inside a key just opened, written with this prefix;
        its property must belong to the innermost object."""
        while len(draft) < MAX_CHAIN:
            m = _NEXT_LABEL.match(self.text, pos)
            if m is None:
                if key_sep is None and _BLOCK_END.match(self.text, pos):
                    # The labelled block ends (an empty line, or the text does): so does the
                    # output, unless the model finds more in the text.
                    draft += (b'"' if in_string else b"") + b"".join(
                        b"}" if f.shape.kind == "object" else b"]" for f in reversed(frames))
                return
            words = label_words(m.group(1).decode("utf-8", "replace"))
            k = len(frames) - 1
            while k >= 0 and not (frames[k].shape.kind == "object"
                                  and words in frames[k].shape.words):
                k -= 1
            if k < 0 or (key_sep is not None and k != len(frames) - 1):
                return
            frame = frames[k]
            name = frame.shape.words[words]
            prop = frame.shape.props[name]
            closers = b"".join(b"}" if f.shape.kind == "object" else b"]"
                               for f in reversed(frames[k + 1:]))
            if name in frame.seen:
                if key_sep is not None or k == 0 or frames[k - 1].shape.kind != "array":
                    return
                sep = closers + b'},{"'
                frame = frames[k] = _Frame(frame.shape)
            else:
                sep = key_sep if key_sep is not None else closers + b',"'
            end = _line_value(self.text, m.end())
            head = (b'"' if in_string else b"") + sep + name.encode("utf-8")
            if prop.kind in ("string", "number"):
                found_value = self._value(m.end(), prop.kind)
                if found_value is None:
                    return
                value, end = found_value
                draft += head + (b'":"' if prop.kind == "string" else b'":')
                self._values.append((len(draft), end))
                draft += value
                in_string = prop.kind == "string"
                new_frames: list[_Frame] = []
            elif end == m.end() and prop.kind == "object":
                draft += head + b'":{'
                new_frames = [_Frame(prop)]
            elif (end == m.end() and prop.kind == "array" and prop.item is not None
                  and prop.item.kind == "object"):
                draft += head + b'":[{'
                new_frames = [_Frame(prop), _Frame(prop.item)]
            elif (end == m.end() and prop.kind == "array" and prop.item is not None
                  and prop.item.kind in ("string", "number")):
                items, end = self._items(end, m.start(1) - m.start() - 1, prop.item.kind)
                if not items:
                    return
                draft += head + b'":['
                self._values.append((len(draft), end))
                draft += self._list_json(items, prop.item.kind)
                in_string = False
                new_frames = []
            else:
                return
            del frames[k + 1:]
            frame.seen.add(name)
            frame.key = name
            pos = end
            if new_frames:
                self._values.append((len(draft) - 1, end))  # keeping the opener passes the line
                frames.extend(new_frames)
                in_string, key_sep = False, b'"'
            else:
                key_sep = None

    def pending(self) -> int | None:
        """The next draft token, when the output follows the draft and the draft goes on: the
        last offer was kept whole, or :meth:`respell` took the model's token into it."""
        if self._resumable and self._kept < len(self._draft):
            return self._draft[self._kept]
        return None

    def propose_rest(self, n: int) -> list[int]:
        """After the output took :meth:`pending` as its own choice: up to ``n`` more tokens of
        the draft, or []."""
        if self.pending() is None:
            return []
        self._kept += 1
        self._offer_start = self._kept
        self._offer_end = min(self._kept + n, len(self._draft))
        self._resumable = False
        return self._draft[self._offer_start:self._offer_end]

    def drop(self) -> None:
        """Forgets the draft (the output went another way)."""
        self._draft, self._offer_start, self._offer_end, self._kept = [], 0, 0, 0
        self._resumable = False

    def accepted(self, n_accepted: int) -> None:
        """Records that the first ``n_accepted`` tokens of the last offer were kept."""
        self._kept = self._offer_start + n_accepted
        self._resumable = n_accepted > 0 and self._kept == self._offer_end
        if self._kept > 0:
            self._advance(self._kept_bytes())

    def respell(self, token: int) -> bool:
        """After :meth:`accepted` recorded that the output took ``token`` where the draft had
        another token: when ``token`` spells the draft's next bytes another way (``la`` where
        the draft has ``l`` ``aur``), the draft goes on with it (:meth:`pending` is ``token``)
        and the rest of its bytes are tokenized anew. Returns whether it goes on."""
        if self.pieces is None or self._kept >= len(self._draft):
            return False
        piece = self.pieces[token]
        rest = b"".join(self.pieces[t] for t in self._draft[self._kept:])
        if not piece or len(piece) >= len(rest) or not rest.startswith(piece):
            return False
        self._draft = self._draft[:self._kept] + [token] + self.tokenize(rest[len(piece):])
        self._resumable = True
        self._advance(self._kept_bytes() + len(piece))
        return True

    def _kept_bytes(self) -> int:
        kept = self._draft[:self._kept]
        return (len(b"".join(self.pieces[t] for t in kept)) if self.pieces is not None
                else len(kept))

    def _advance(self, n_bytes: int) -> None:
        """Moves the cursor past the line of the last labelled value that the first
        ``n_bytes`` of the draft began."""
        begun = [text_end for before, text_end in self._values if before < n_bytes]
        if begun:
            self.cursor = begun[-1]

    def rest_starts_with(self, data: bytes) -> bool:
        """Whether the draft after :meth:`pending` spells ``data`` first."""
        spelled = bytearray()
        for t in self._draft[self._kept + 1:]:
            if len(spelled) >= len(data):
                break
            spelled += self.pieces[t] if self.pieces is not None else bytes([t])
        return bytes(spelled[:len(data)]) == data
