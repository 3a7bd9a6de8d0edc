"""What the GrammarMatcher tests share: a small byte-level vocabulary (every byte, some multi-byte
tokens, an empty control token, EOS), the mask a matcher fills as a set of token ids, brute-force
acceptance, a JSON-like grammar, and random regular expressions as (GBNF, Python regex) pairs."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import strategies as st

from maaza_rt.grammar import GrammarMatcher, Vocabulary

# A small vocabulary: every single byte, some multi-byte tokens, an empty control token, EOS.
EXTRA = [
    b'{"',
    b'":',
    b'",',
    b'"}',
    b" the",
    b" a",
    b"ab",
    b"abc",
    b"\xc3",
    b"\xa9",
    b"\xc3\xa9",
    b"\xe2\x82",
    b"\xac",
    b"12",
    b"123",
    b"1.",
    b"true",
    b"null",
    b'"a"',
    b"\n\n",
    b"  ",
]


TOKENS = [bytes([b]) for b in range(256)] + EXTRA + [b"", b""]


CONTROL_ID = len(TOKENS) - 2


EOS_ID = len(TOKENS) - 1


VOCAB = Vocabulary(TOKENS, [EOS_ID])


def tid(piece: bytes) -> int:
    return TOKENS.index(piece)


def mask_of(m: GrammarMatcher, vocab: Vocabulary) -> set[int]:
    bits = np.zeros((vocab.n_vocab + 31) // 32, dtype=np.uint32)
    m.fill_mask(bits)
    flat = np.unpackbits(bits.view(np.uint8), bitorder="little")[: vocab.n_vocab]
    return set(np.flatnonzero(flat).tolist())


def brute_force_allowed(m: GrammarMatcher, vocab: Vocabulary, ids: list[int]) -> set[int]:
    return {i for i in ids if m._handle.can_accept_token(i)}


JSONISH = r"""
root ::= value
value ::= object | array | string | number | "true" | "false" | "null"
object ::= "{" ( member ( "," member )* )? "}"
member ::= string ":" value
array ::= "[" ( value ( "," value )* )? "]"
string ::= "\"" char* "\""
char ::= [^"\\\x00-\x1F] | "\\" ["\\/bfnrt] | "\\u" [0-9a-fA-F]{4}
number ::= "-"? ( "0" | [1-9] [0-9]{0,15} ) ( "." [0-9]{1,15} )?
"""


ALPHABET = "abc"


@st.composite
def regular_exprs(draw: st.DrawFn, depth: int = 0) -> tuple[str, str]:
    """A random regular expression as (GBNF fragment, Python regex)."""
    kinds = ["lit", "class"] if depth >= 3 else ["lit", "class", "seq", "alt", "rep"]
    kind = draw(st.sampled_from(kinds))
    if kind == "lit":
        s = draw(st.text(ALPHABET + "é", min_size=1, max_size=3))
        return '"' + s + '"', re.escape(s)
    if kind == "class":
        chars = draw(st.sets(st.sampled_from(ALPHABET + "é"), min_size=1, max_size=3))
        neg = draw(st.booleans()) and len(chars) < 4
        body = "".join(sorted(chars))
        return ("[^" if neg else "[") + body + "]", ("[^" if neg else "[") + body + "]"
    if kind == "seq":
        parts = [draw(regular_exprs(depth + 1)) for _ in range(draw(st.integers(2, 3)))]
        return "(" + " ".join(p[0] for p in parts) + ")", "(?:" + "".join(p[1] for p in parts) + ")"
    if kind == "alt":
        parts = [draw(regular_exprs(depth + 1)) for _ in range(draw(st.integers(2, 3)))]
        return "(" + " | ".join(p[0] for p in parts) + ")", "(?:" + "|".join(
            p[1] for p in parts
        ) + ")"
    inner = draw(regular_exprs(depth + 1))
    op = draw(st.sampled_from(["*", "+", "?", "{2}", "{1,3}", "{0,2}", "{2,}"]))
    return "(" + inner[0] + ")" + op, "(?:" + inner[1] + ")" + op
