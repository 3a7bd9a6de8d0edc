"""Text layouts of the generator: one set of facts written as prose, an email, a chat message, a
support ticket, an OCR-like receipt, a table, a bullet list, key-value lines, or a mix.

The generator hands a layout a list of :class:`Piece`\\ s (one per fact the text states: fields of
the schema and distractors alike) and a :class:`Doc` (title, subject, opening and closing words).
A layout writes into an :class:`Out`, which keeps *value* segments apart from the words around
them, so light noise (doubled spaces, a typo, lowercase chat) never touches a value.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Callable

__all__ = ["Piece", "Doc", "Out", "LAYOUTS", "render"]


@dataclass
class Piece:
    """One fact of the text.

    Attributes:
        label: how key-value lines and tables name it ("Invoice #").
        surface: the value as tables and key-value lines write it.
        spoken: the value as prose writes it.
        clause: a prose clause; ``{v}`` marks the value; a clause without ``{v}`` states the value
            by itself ("it is still unpaid") and is kept verbatim.
        items: list items (arrays of strings) or row texts (arrays of objects).
        columns, cells: column labels and cell surfaces (arrays of objects).
    """

    label: str
    surface: str
    spoken: str
    clause: str
    items: list[str] | None = None
    columns: list[str] | None = None
    cells: list[list[str]] | None = None


@dataclass
class Doc:
    """What surrounds the facts: a title, an email subject, opening and closing sentences, and
    the writer's name for a sign-off ("" when none may be named)."""

    title: str
    subject: str
    opener: str
    closer: str
    writer: str = ""


_CHAT_WORDS = {"please": "pls", "thanks": "thx", "you": "u", "are": "r", "about": "abt",
               "because": "bc", "tomorrow": "tmrw", "message": "msg", "number": "no.",
               "before": "b4", "with": "w/"}


@dataclass
class Out:
    """Text under construction: ``(text, kind)`` segments; kind ``t`` is words around values,
    ``v`` a value (kept verbatim), ``w`` words that state a value ("it is still unpaid": never
    misspelled, lowercased in chat)."""

    parts: list[tuple[str, str]] = field(default_factory=list)

    def t(self, text: str) -> None:
        """Appends words around values (noise may touch them)."""
        self.parts.append((text, "t"))

    def v(self, text: str) -> None:
        """Appends a value (kept verbatim)."""
        self.parts.append((text, "v"))

    def clause(self, piece: Piece, capital: bool = False) -> None:
        """Appends ``piece``'s clause with its spoken value."""
        if "{v}" not in piece.clause:
            text = piece.clause[:1].upper() + piece.clause[1:] if capital else piece.clause
            self.parts.append((text, "w"))
            return
        before, _, after = piece.clause.partition("{v}")
        self.t(before[:1].upper() + before[1:] if capital else before)
        self.v(piece.spoken)
        self.t(after)

    def render(self, rng: random.Random, noise: bool = False, chat: bool = False) -> str:
        """The text; ``noise`` adds doubled spaces and one typo, ``chat`` lowercases words and
        abbreviates a few; values are never changed."""
        parts = list(self.parts)
        if chat:
            parts = [(p if k == "v" else _chatify(p, rng) if k == "t" else p.lower(), k)
                     for p, k in parts]
        if noise:
            parts = _noisy(parts, rng)
        text = "".join(p for p, _ in parts)
        lines = [line.rstrip() for line in text.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _chatify(text: str, rng: random.Random) -> str:
    text = text.lower()
    return re.sub(r"[a-z]+", lambda m: _CHAT_WORDS.get(m.group(0), m.group(0))
                  if rng.random() < 0.7 else m.group(0), text)


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 2)
    if rng.random() < 0.5:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + word[i + 1:]


def _noisy(parts: list[tuple[str, str]], rng: random.Random) -> list[tuple[str, str]]:
    out = []
    for text, kind in parts:
        if kind == "t" and rng.random() < 0.25:
            text = re.sub(r" ", lambda m: "  " if rng.random() < 0.15 else " ", text)
        out.append((text, kind))
    words = [(i, m) for i, (text, kind) in enumerate(out) if kind == "t"
             for m in re.finditer(r"[A-Za-z]{5,}", text)]
    if words:
        i, m = rng.choice(words)
        text = out[i][0]
        out[i] = (text[:m.start()] + _typo(m.group(0), rng) + text[m.end():], "t")
    return out


# ---- building blocks ----------------------------------------------------------------------------


def _kv_line(out: Out, piece: Piece, sep: str, rng: random.Random, prefix: str = "") -> None:
    out.t(f"{prefix}{piece.label}{sep}")
    if piece.cells is not None and piece.items:
        if rng.random() < 0.5:
            for item in piece.items:
                out.t(f"\n{prefix}  - ")
                out.v(item)
        else:
            out.v("; ".join(piece.items))
    elif piece.items is not None and piece.items and prefix and rng.random() < 0.4:
        for item in piece.items:
            out.t(f"\n  {prefix.strip() or '-'} ")
            out.v(item)
    else:
        out.v(piece.surface)
    out.t("\n")


def _kv_block(out: Out, pieces: list[Piece], rng: random.Random) -> None:
    style = rng.randrange(5)
    width = max((len(p.label) for p in pieces), default=0) + 2
    for piece in pieces:
        if style == 0:
            _kv_line(out, piece, ": ", rng)
        elif style == 1:
            _kv_line(out, piece, " = ", rng)
        elif style == 2:
            _kv_line(out, piece, " - ", rng)
        elif style == 3:
            _kv_line(out, piece, " " + "." * max(2, width - len(piece.label)) + " ", rng)
        else:
            _kv_line(out, replace_label(piece, piece.label.upper()), ": ", rng)


def replace_label(piece: Piece, label: str) -> Piece:
    """``piece`` with another label."""
    return Piece(label, piece.surface, piece.spoken, piece.clause, piece.items, piece.columns,
                 piece.cells)


def _sentences(out: Out, pieces: list[Piece], rng: random.Random) -> None:
    i = 0
    while i < len(pieces):
        n = rng.choice((1, 2, 2, 3, 3))
        group = pieces[i:i + n]
        i += n
        for j, piece in enumerate(group):
            if j == 0:
                if piece.clause.startswith("{v}") and rng.random() < 0.6:
                    out.t(rng.choice(("Also, ", "Note: ", "FYI, ", "Just so you know, ")))
                    out.clause(piece)
                else:
                    out.clause(piece, capital=True)
            else:
                out.t(rng.choice((", ", ", ", "; ")) if j < len(group) - 1 else
                      rng.choice((" and ", ", and ", "; also ", ", plus ")))
                out.clause(piece)
        out.t(rng.choice((". ", ". ", ". ", ". ", ".\n", "! ")))


def _rows_table(out: Out, piece: Piece, rng: random.Random) -> None:
    assert piece.columns is not None and piece.cells is not None
    if not piece.cells:
        out.t(f"{piece.label}: ")
        out.v("none")
        out.t("\n")
        return
    out.t(f"{piece.label}:\n| " + " | ".join(piece.columns) + " |\n|"
          + "|".join("---" for _ in piece.columns) + "|\n")
    for row in piece.cells:
        out.t("| ")
        for k, cell in enumerate(row):
            out.v(cell)
            out.t(" | " if k < len(row) - 1 else " |\n")


# ---- layouts ------------------------------------------------------------------------------------


def prose(pieces: list[Piece], doc: Doc, rng: random.Random, out: Out) -> None:
    """Flowing prose: values mid-sentence, several facts per sentence."""
    if rng.random() < 0.7:
        out.t(doc.opener + " ")
    _sentences(out, pieces, rng)
    if rng.random() < 0.6:
        out.t(doc.closer)


def email(pieces: list[Piece], doc: Doc, rng: random.Random, out: Out) -> None:
    """Subject, greeting, prose body, sign-off."""
    out.t(f"Subject: {doc.subject}\n\n")
    out.t(rng.choice(("Hi,", "Hello,", "Dear team,", "Hi there,", "Good morning,")) + "\n\n")
    out.t(doc.opener + " ")
    _sentences(out, pieces, rng)
    out.t("\n" + doc.closer + "\n\n" + rng.choice(("Best", "Thanks", "Regards", "Cheers",
                                                   "Kind regards")) + ",\n")
    if doc.writer:
        out.v(doc.writer)


def chat(pieces: list[Piece], doc: Doc, rng: random.Random, out: Out) -> None:
    """An informal chat message (lowercased and abbreviated when rendered)."""
    out.t(rng.choice(("hey! ", "hi all, ", "yo ", "quick one: ", "hey team - ", "")))
    _sentences(out, pieces, rng)
    out.t(rng.choice(("thx", "cheers", ":)", "lmk", "ty!", "")))
    if doc.writer:
        out.t(rng.choice(("\n- ", "\n", " - ")))
        out.v(doc.writer)


def ticket(pieces: list[Piece], doc: Doc, rng: random.Random, out: Out) -> None:
    """A helpdesk form: a header of fields, then a description in prose."""
    k = rng.randint(1, max(1, min(4, len(pieces) - 1)))
    out.t(f"{doc.title}\n{'=' * len(doc.title)}\n")
    for piece in pieces[:k]:
        if rng.random() < 0.5:
            _kv_line(out, replace_label(piece, f"[{piece.label}]"), " ", rng)
        else:
            _kv_line(out, piece, ": ", rng)
    rest = pieces[k:]
    if rest:
        out.t(rng.choice(("\nDescription:\n", "\nDetails:\n", "\nMessage:\n", "\n")))
        _sentences(out, rest, rng)


def receipt(pieces: list[Piece], doc: Doc, rng: random.Random, out: Out) -> None:
    """OCR-like receipt lines: uppercase labels, ragged columns, rows of items."""
    out.t(" " * rng.randint(0, 8) + doc.title.upper() + "\n")
    out.t(rng.choice(("-" * rng.randint(16, 30), "*" * rng.randint(10, 24), "")) + "\n")
    for piece in pieces:
        if piece.cells is not None:
            out.t(piece.label.upper() + ("\n" if piece.cells else "  "))
            if not piece.cells:
                out.v("NONE")
                out.t("\n")
            for row in piece.cells:
                for k, cell in enumerate(row):
                    out.v(cell)
                    out.t(" " * rng.randint(2, 9) if k < len(row) - 1 else "\n")
            continue
        out.t(piece.label.upper() + ("" if piece.label.endswith(":") else
                                     rng.choice((":", "", " :"))) + " " * rng.randint(1, 12))
        out.v(piece.surface)
        out.t("\n")
    if rng.random() < 0.6:
        out.t(rng.choice(("THANK YOU", "*** CUSTOMER COPY ***", "PLEASE COME AGAIN")))


def table(pieces: list[Piece], doc: Doc, rng: random.Random, out: Out) -> None:
    """A markdown table of label/value rows (or one row under label headers), item tables."""
    scalars = [p for p in pieces if p.cells is None]
    nested = [p for p in pieces if p.cells is not None]
    if rng.random() < 0.5:
        out.t(doc.title + "\n\n")
    if scalars and len(scalars) <= 5 and rng.random() < 0.4:
        out.t("| " + " | ".join(p.label for p in scalars) + " |\n|"
              + "|".join("---" for _ in scalars) + "|\n| ")
        for k, p in enumerate(scalars):
            out.v(p.surface)
            out.t(" | " if k < len(scalars) - 1 else " |\n")
    elif scalars:
        head = rng.choice((("Field", "Value"), ("Item", "Detail"), ("Key", "Value")))
        out.t(f"| {head[0]} | {head[1]} |\n|---|---|\n")
        for p in scalars:
            out.t(f"| {p.label} | ")
            out.v(p.surface)
            out.t(" |\n")
    for p in nested:
        out.t("\n")
        _rows_table(out, p, rng)


def bullets(pieces: list[Piece], doc: Doc, rng: random.Random, out: Out) -> None:
    """A bullet list of labelled facts."""
    mark = rng.choice(("- ", "* ", "• "))
    if rng.random() < 0.6:
        out.t(doc.title + ":\n" if rng.random() < 0.5 else doc.opener + "\n")
    for piece in pieces:
        _kv_line(out, piece, rng.choice((": ", ": ", " - ", " — ")), rng, prefix=mark)


def key_values(pieces: list[Piece], doc: Doc, rng: random.Random, out: Out) -> None:
    """``Label: value`` lines in one of several separators, sometimes with dotted leaders."""
    if rng.random() < 0.5:
        out.t(doc.title + "\n")
    _kv_block(out, pieces, rng)


def mixed(pieces: list[Piece], doc: Doc, rng: random.Random, out: Out) -> None:
    """A header of key-value lines, then prose."""
    k = rng.randint(1, max(1, min(3, len(pieces) - 1)))
    _kv_block(out, pieces[:k], rng)
    out.t("\n")
    if rng.random() < 0.5:
        out.t(doc.opener + " ")
    _sentences(out, pieces[k:], rng)
    if rng.random() < 0.4:
        out.t(doc.closer)


LAYOUTS: dict[str, Callable[[list[Piece], Doc, random.Random, Out], None]] = {
    "prose": prose, "email": email, "chat": chat, "ticket": ticket, "receipt": receipt,
    "table": table, "bullets": bullets, "kv": key_values, "mixed": mixed}
PROSE_LAYOUTS = frozenset({"prose", "email", "chat", "mixed", "ticket"})


def render(layout: str, pieces: list[Piece], doc: Doc, rng: random.Random,
           noise: bool = False) -> str:
    """``pieces`` written in ``layout`` (a key of :data:`LAYOUTS`).

    Raises:
        KeyError: an unknown layout.
    """
    out = Out()
    LAYOUTS[layout](pieces, doc, rng, out)
    return out.render(rng, noise=noise, chat=layout == "chat")
