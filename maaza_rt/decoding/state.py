"""What one generation has written so far, and the grammar engine's calls on it.

A :class:`DecodeState` is made per generation. It holds the output tokens, their bytes and where
those bytes end in the JSON being written (:class:`~maaza_rt.json_scan.JsonScan`: in a key, in a
string...), and wraps every call on the grammar matcher so that their time is counted in one
place (``grammar_ns``). The drafters and choosers of the decoder read it; only the verify loop
(:mod:`maaza_rt.decoding.loop`) commits tokens to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, TypeVar

import numpy as np

from ..errors import GenerationLimitError, InternalError
from ..json_scan import JsonScan

T = TypeVar("T")


class Matcher(Protocol):
    """What the decoder needs from a grammar matcher (``maaza_rt.GrammarMatcher``)."""

    def accept_token(self, token_id: int) -> bool: ...
    def can_accept_token(self, token_id: int) -> bool: ...
    def forced_bytes(self) -> bytes: ...
    def is_complete(self) -> bool: ...
    def is_terminated(self) -> bool: ...
    def completion_distance(self) -> int: ...
    def completion_distance_after(self, token_id: int) -> int: ...
    def shortest_completion(self) -> bytes: ...
    def shortest_completion_after(self, token_id: int) -> bytes: ...
    def mask_logits(self, logits: np.ndarray) -> None: ...
    def select_greedy(self, logits: np.ndarray) -> int: ...


class DecodeState:
    """The output of one generation, its grammar matcher and the time spent in the grammar.

    ``text`` (the output's bytes) and ``scan`` are kept only when ``track_text`` is set: drafters
    and biases that copy from the input read them; plain decoding does not need them.
    """

    def __init__(self, matcher: Matcher, pieces: list[bytes], max_tokens: int, *,
                 track_text: bool) -> None:
        self.matcher = matcher
        self.pieces = pieces
        self.max_tokens = max_tokens
        self.out: list[int] = []
        self.text: bytearray | None = bytearray() if track_text else None
        self.scan = JsonScan()
        self.grammar_ns = 0
        self._scratch: np.ndarray | None = None  # token_prob's masked copy of the logits

    # ---- reading the output -----------------------------------------------------------------

    @property
    def room(self) -> int:
        """Tokens left in the budget."""
        return self.max_tokens - len(self.out)

    def tail(self, n: int = 80) -> bytes:
        """The last ``n`` bytes of the output (empty when text is not tracked)."""
        return bytes(self.text[-n:]) if self.text is not None else b""

    def output_bytes(self) -> bytes | None:
        """The output's bytes, or None when text is not tracked."""
        return bytes(self.text) if self.text is not None else None

    def output_text(self) -> str:
        """The output decoded as UTF-8 (invalid bytes replaced)."""
        return b"".join(self.pieces[t] for t in self.out).decode("utf-8", "replace")

    # ---- grammar calls, timed ---------------------------------------------------------------

    def _timed(self, call: Callable[..., T], *args: object) -> T:
        """``call(*args)``, its time added to ``grammar_ns``."""
        t = time.perf_counter_ns()
        try:
            return call(*args)
        finally:
            self.grammar_ns += time.perf_counter_ns() - t

    def select_greedy(self, logits: np.ndarray) -> int:
        """The grammar's allowed token with the highest logit.

        Raises:
            InternalError: the grammar allows no token.
        """
        token = self._timed(self.matcher.select_greedy, logits)
        if token < 0:
            raise InternalError("the grammar allows no token")
        return token

    def mask_logits(self, logits: np.ndarray) -> None:
        """Sets the logits of tokens the grammar does not allow to -inf, in place."""
        self._timed(self.matcher.mask_logits, logits)

    def allows(self, token: int) -> bool:
        """Whether the grammar allows ``token`` next."""
        return self._timed(self.matcher.can_accept_token, token)

    def forced_bytes(self) -> bytes:
        """The bytes the grammar forces next (maybe empty)."""
        return self._timed(self.matcher.forced_bytes)

    def completion_distance(self) -> int:
        """Bytes of the grammar's shortest completion from here (-1 if none)."""
        return self._timed(self.matcher.completion_distance)

    def completion_after(self, token: int, room: int) -> tuple[int, bytes | None]:
        """The shortest completion's length in bytes after ``token``, and its bytes when that
        length is over ``room`` (the caller then counts its tokens), else None."""
        distance = self._timed(self.matcher.completion_distance_after, token)
        completion = (self._timed(self.matcher.shortest_completion_after, token)
                      if distance > room >= 0 else None)
        return distance, completion

    def shortest_completion(self) -> bytes:
        """The bytes of the grammar's shortest completion from here."""
        return self._timed(self.matcher.shortest_completion)

    def is_complete(self) -> bool:
        """Whether the output so far is a complete value."""
        return self.matcher.is_complete()

    def token_prob(self, logits: np.ndarray, token: int) -> float:
        """The probability of writing ``token`` next under the constrained distribution: the
        softmax of ``logits`` (temperature 1) over the tokens the grammar allows here. A token
        whose bytes the grammar forces (they are all a prefix of :meth:`forced_bytes`: the
        only continuation) has probability 1. ``logits`` is not modified.

        Raises:
            InternalError: the grammar does not allow ``token``.
        """
        piece = self.pieces[token]
        if piece and self.forced_bytes().startswith(piece):
            return 1.0
        if self._scratch is None or self._scratch.shape != logits.shape:
            self._scratch = np.empty_like(logits, dtype=np.float32)
        scratch = self._scratch
        np.copyto(scratch, logits)
        self.mask_logits(scratch)
        if not scratch[token] > -np.inf:
            raise InternalError(f"token {token} is not allowed here")
        allowed = scratch[scratch > -np.inf]  # numpy work on the allowed logits only
        top = float(allowed.max())
        allowed -= top
        np.exp(allowed, out=allowed)
        return float(np.exp(float(logits[token]) - top) / allowed.sum(dtype=np.float64))

    # ---- committing -------------------------------------------------------------------------

    def accept(self, token: int) -> None:
        """Commits ``token``: the grammar advances and the output grows.

        Raises:
            InternalError: the grammar rejects a token it allowed.
        """
        if not self._timed(self.matcher.accept_token, token):
            raise InternalError(f"the grammar rejected token {token} it had allowed")
        self.out.append(token)
        if self.text is not None:
            piece = self.pieces[token]
            self.text.extend(piece)
            self.scan.feed(piece)

    def finished(self) -> bool:
        """Whether generation ends here: the grammar is terminated, or the budget is spent
        with a complete value.

        Raises:
            GenerationLimitError: the budget is spent and the value is incomplete.
        """
        if self.matcher.is_terminated():
            return True
        if len(self.out) >= self.max_tokens:
            if self.matcher.is_complete():
                return True
            partial = self.output_text()
            raise GenerationLimitError(
                f"generation stopped at max_tokens={self.max_tokens} before the JSON value was "
                f"complete ({len(partial)} characters so far)", partial_text=partial,
                n_tokens=len(self.out))
        return False
