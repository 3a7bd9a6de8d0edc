"""Budget closing: the output is complete and valid at ``max_tokens`` rather than cut off.

When the grammar's shortest complete value fits in the budget, a token is committed only if
the shortest completion after it still fits (its length in bytes bounds its tokens; near the
limit it is tokenized to count exactly). When it would not, the shortest completion is appended
instead (no forward pass) and generation ends with a complete value. The decision depends only
on the tokens so far, so drafting does not change it.
"""

from __future__ import annotations

from typing import Protocol

from ..errors import InternalError
from .state import DecodeState


class Spelling(Protocol):
    """The model's tokenizer, as budget closing and jump-forward use it."""

    @property
    def pieces(self) -> list[bytes]: ...
    @property
    def byte_tokens(self) -> dict[int, int]: ...
    def tokenize(self, text: str | bytes, add_special: bool,
                 parse_special: bool = ...) -> list[int]: ...


def closing_tokens(model: Spelling, last: int | None, completion: bytes,
                   budget: int) -> list[int] | None:
    """Tokens spelling ``completion`` after committed token ``last``, at most ``budget`` of them.

    Tokenizes ``piece(last) + completion`` so the split is one the model saw in training, and
    uses it only if ``last`` is reproduced (else ``completion`` alone is tokenized), else
    single-byte tokens; None if neither spells it within the budget.
    """
    pieces = model.pieces
    head = pieces[last] if last is not None else b""
    tokens = model.tokenize(head + completion, False, False) if head else []
    if tokens and tokens[0] == last:
        tokens = tokens[1:]
    else:
        tokens = model.tokenize(completion, False, False)
    if b"".join(pieces[t] for t in tokens) == completion and len(tokens) <= budget:
        return tokens
    single = model.byte_tokens
    if len(completion) <= budget and all(b in single for b in completion):
        return [single[b] for b in completion]
    return None


class BudgetCloser:
    """Decides whether a token fits the budget and closes the value when it does not.

    Active only when the shortest complete value fits ``max_tokens`` at the start; otherwise
    every token fits and the budget ends generation with :class:`GenerationLimitError`.
    """

    def __init__(self, model: Spelling, state: DecodeState) -> None:
        self.model = model
        self.state = state
        self.closed = False
        self.n_closing = 0
        distance = state.completion_distance()
        self.active = 0 <= distance <= state.max_tokens or (
            distance > 0 and closing_tokens(model, None, state.shortest_completion(),
                                            state.max_tokens) is not None)

    def fits(self, token: int) -> bool:
        """Whether committing ``token`` leaves room for the shortest completion after it."""
        if not self.active:
            return True
        room = self.state.room - 1
        distance, completion = self.state.completion_after(token, room)
        if 0 <= distance <= room:
            return True
        return completion is not None and closing_tokens(self.model, token, completion,
                                                         room) is not None

    def close(self) -> None:
        """Appends the shortest completion (it fits: :meth:`fits` said the last token did).

        Raises:
            InternalError: the vocabulary cannot spell it, or it does not complete the value.
        """
        state = self.state
        completion = state.shortest_completion()
        budget = state.room
        tokens = closing_tokens(self.model, state.out[-1] if state.out else None, completion,
                                budget)
        if tokens is None:
            raise InternalError(f"the vocabulary cannot spell the shortest completion "
                                f"{completion[:40]!r} in {budget} tokens")
        for token in tokens:
            state.accept(token)
        self.n_closing = len(tokens)
        self.closed = True
        if not state.is_complete():
            raise InternalError("the shortest completion did not complete the value")
