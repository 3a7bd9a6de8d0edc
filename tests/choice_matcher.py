"""A pure-Python stand-in for GrammarMatcher whose language is a fixed set of byte strings.

Tests of the decoding loop and the session use it to drive a real model without the grammar
engine: it has the same methods and semantics (greedy selection over allowed tokens, forced
bytes, completion). ``CHOICES`` are four contacts such a matcher allows, ``TEXTS`` inputs to
extract them from, and :func:`run_choices` one generation of the real model over them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from maaza_rt.decoding import Generation, generate

if TYPE_CHECKING:
    from maaza_rt.session import Session


class ChoiceMatcher:
    """Allows exactly the strings in ``choices``, then an end-of-generation token."""

    def __init__(self, pieces: list[bytes], eos_ids: Iterable[int], choices: Iterable[str]):
        self.pieces = pieces
        self.eos_ids = sorted(set(eos_ids))
        self.choices = [c.encode("utf-8") for c in choices]
        joined = b"\x00".join(self.choices)
        self.candidates = [t for t, p in enumerate(pieces) if p and p in joined]
        self.done = b""

    def reset(self) -> None:
        self.done = b""

    def _token_ok(self, token: int) -> bool:
        text = self.done + self.pieces[token]
        return bool(self.pieces[token]) and any(c.startswith(text) for c in self.choices)

    def allowed(self) -> list[int]:
        ids = [t for t in self.candidates if self._token_ok(t)]
        if self.is_complete():
            ids += self.eos_ids
        return ids

    def select_greedy(self, logits: np.ndarray) -> int:
        ids = np.asarray(self.allowed(), dtype=np.int64)
        if ids.size == 0:
            return -1
        return int(ids[int(np.argmax(logits[ids]))])

    def mask_logits(self, logits: np.ndarray) -> None:
        keep = np.zeros(logits.shape[0], dtype=bool)
        keep[self.allowed()] = True
        logits[~keep] = -np.inf

    def accept_token(self, token: int) -> bool:
        if token in self.eos_ids:
            return self.is_complete()
        if not self._token_ok(token):
            return False
        self.done += self.pieces[token]
        return True

    def forced_bytes(self) -> bytes:
        rest = [c[len(self.done):] for c in self.choices if c.startswith(self.done)]
        if not rest or any(not r for r in rest):
            return b""
        n = 0
        while n < min(len(r) for r in rest) and len({r[n] for r in rest}) == 1:
            n += 1
        return rest[0][: min(n, 256)]

    def is_complete(self) -> bool:
        return self.done in self.choices

    def _rests(self, done: bytes) -> list[bytes]:
        return [c[len(done):] for c in self.choices if c.startswith(done)]

    def completion_distance(self) -> int:
        return min((len(r) for r in self._rests(self.done)), default=-1)

    def completion_distance_after(self, token: int) -> int:
        if token in self.eos_ids:
            return 0 if self.is_complete() else -1
        if not self._token_ok(token):
            return -1
        return min(len(r) for r in self._rests(self.done + self.pieces[token]))

    def shortest_completion(self) -> bytes:
        return min(self._rests(self.done), key=len)

    def shortest_completion_after(self, token: int) -> bytes:
        if token in self.eos_ids:
            return b""
        return min(self._rests(self.done + self.pieces[token]), key=len)

    def is_terminated(self) -> bool:
        return self.is_complete() and not any(
            len(c) > len(self.done) and c.startswith(self.done) for c in self.choices)


CHOICES = [
    '{"name":"Ada Lovelace","email":"ada@example.com","phone":"+44 20 7946 0000"}',
    '{"name":"Charles Babbage","email":"charles@example.com","phone":"+44 20 7946 0001"}',
    '{"name":"Ada Byron","email":"ada@byron.org","phone":"+44 20 7946 0000"}',
    '{"name":"Grace Hopper","email":"grace@navy.mil"}',
]
SCHEMA = {"type": "object", "properties": {"name": {"type": "string"},
                                           "email": {"type": "string"},
                                           "phone": {"type": "string"}},
          "required": ["name", "email"]}
TEXTS = [
    "Reach Ada Lovelace at ada@example.com or +44 20 7946 0000.",
    "Charles Babbage (charles@example.com, tel +44 20 7946 0001) called.",
    "Grace Hopper, grace@navy.mil",
    "",
]


def run_choices(session: Session, text: str, **kw: object) -> tuple[Generation, int]:
    """One generation of ``session``'s model for ``text`` (prompted with ``SCHEMA``) over a
    ``ChoiceMatcher`` of ``CHOICES`` (or the ``matcher`` given), with 100 tokens unless
    ``max_tokens`` says otherwise; other options go to ``generate``. Returns the generation and
    the number of prompt tokens reused from the cache."""
    model = session.model
    tokens = model.prompt_tokens(model.build_prompt(text, SCHEMA))
    matcher = kw.pop("matcher", None) or ChoiceMatcher(model.pieces, model.eog_ids, CHOICES)
    gen, reused, _ = generate(session, matcher, tokens,  # type: ignore[arg-type]
                              **{"max_tokens": 100, **kw})  # type: ignore[arg-type]
    return gen, reused
