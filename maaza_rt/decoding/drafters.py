"""Drafters: parts that guess the next output tokens, for the verify loop to check in one batch.

After each committed token the verify loop asks its drafters in order for a :class:`Draft`; each
sees what the ones before it proposed and may keep, extend or replace it. The loop feeds the
draft in one batch and keeps each token only while it is the chooser chain's own choice, then
tells each drafter how much of its part was kept (:meth:`Drafter.feedback`): a drafter adapts
how much it offers and where it copies from next.

- :class:`JumpForward`: the bytes the grammar forces (keys, separators, closing brackets),
  tokenized as the model would write them.
- :class:`LabelDrafter`: after a key, the value the input text labels with it
  (``Amount: 138.42`` for ``amount``) and the labelled fields after it; inside a key, the key
  the text's next labelled line names (:class:`~maaza_rt.label_lookup.LabelLookup`).
- :class:`PromptLookupDrafter`: where nothing is forced, tokens copied from the prompt after
  the output's last tokens (:class:`~maaza_rt.prompt_lookup.PromptLookup`).

Caps on the tokens offered per batch start small and adapt per generation, so batch shapes
(which change llama.cpp's rounding) depend on this generation only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ..json_scan import finished_key
from ..label_lookup import LabelLookup
from ..prompt_lookup import PromptLookup
from .budget import Spelling
from .state import DecodeState

MIN_SPECULATIVE = 3  # fewest speculative tokens worth a batch (see loop.py)
MAX_JUMP = 64  # cap on forced tokens fed in one batch
JUMP_START = 8  # forced tokens fed at the first jump of a generation
DRAFT_START = 8  # prompt-lookup draft tokens fed at the first draft of a generation
LABEL_START = 16  # label-draft tokens fed at the first label draft of a generation
MAX_DRAFT = 32  # cap on draft tokens fed in one batch


@dataclass
class Draft:
    """Speculative tokens after a committed one: the grammar's forced tokens, then a drafter's.

    ``source`` is the drafter of ``drafted`` (None when nothing is drafted)."""

    forced: list[int] = field(default_factory=list)
    drafted: list[int] = field(default_factory=list)
    source: Drafter | None = None

    @property
    def tokens(self) -> list[int]:
        return self.forced + self.drafted

    def empty(self) -> bool:
        return not self.forced and not self.drafted


class Drafter(Protocol):
    """A part that proposes tokens. ``reset`` starts a generation; ``propose`` returns the draft
    after ``choice`` (given ``forced``, the grammar's forced bytes, and the draft so far);
    ``feedback`` says how many of the tokens it offered were kept, and the token chosen instead
    of the next one (None when all were kept)."""

    def reset(self) -> None: ...
    def propose(self, state: DecodeState, choice: int, forced: bytes, draft: Draft) -> Draft: ...
    def feedback(self, n_offered: int, n_kept: int, instead: int | None) -> None: ...


def forced_tokens(model: Spelling, last: int, forced: bytes, budget: int) -> list[int]:
    """Tokens for the grammar's forced bytes after committed token ``last`` (maybe empty).

    Tokenizes ``piece(last) + forced`` so the split is one the model saw in training, and uses
    it only if ``last`` is reproduced (else the forced bytes alone are tokenized: ``last`` is
    already committed). Keeps the tokens only if they detokenize to exactly ``forced``. A final
    token that a longer one could extend (``":`` before ``":"``) is kept too: every token is
    checked against the model's own choice by the verify loop, so this only decides how much
    work is speculative.
    """
    pieces = model.pieces
    head = pieces[last]
    tokens = model.tokenize(head + forced, False, False) if head else []
    if tokens and tokens[0] == last:
        tokens = tokens[1:]
    else:
        tokens = model.tokenize(forced, False, False)
    if b"".join(pieces[t] for t in tokens) != forced:
        return []
    return tokens[:budget]


class JumpForward:
    """Drafts the grammar's forced bytes. Its cap halves to the kept length on a mismatch (the
    rest of the batch is wasted work) and doubles after a fully kept run."""

    def __init__(self, model: Spelling) -> None:
        self.model = model
        self.cap = JUMP_START

    def reset(self) -> None:
        self.cap = JUMP_START

    def propose(self, state: DecodeState, choice: int, forced: bytes, draft: Draft) -> Draft:
        if not forced:
            return draft
        return Draft(forced_tokens(self.model, choice, forced, min(state.room, self.cap)))

    def feedback(self, n_offered: int, n_kept: int, instead: int | None) -> None:
        if instead is not None:
            self.cap = max(MIN_SPECULATIVE, n_kept)
        elif n_offered >= self.cap:
            self.cap = min(2 * self.cap, MAX_JUMP)


class _Copying:
    """A drafter whose cap grows after fully kept drafts and shrinks to one past the kept part
    after a mismatch."""

    cap: int
    start: int

    def reset(self) -> None:
        self.cap = self.start

    def _adapt(self, n_offered: int, n_kept: int, instead: int | None) -> None:
        if instead is not None:
            self.cap = max(MIN_SPECULATIVE, n_kept + 1)
        elif n_offered >= self.cap:
            self.cap = min(2 * self.cap, MAX_DRAFT)


class PromptLookupDrafter(_Copying):
    """Drafts a copy from the prompt where nothing is forced and the output is not in a key
    (which properties to write is the model's call). Its :meth:`hint` is the one-token copy
    the copy bias compares with the model's choice at a step that feeds no draft."""

    start = DRAFT_START

    def __init__(self, lookup: PromptLookup) -> None:
        self.lookup = lookup
        self.cap = self.start

    def propose(self, state: DecodeState, choice: int, forced: bytes, draft: Draft) -> Draft:
        if not draft.empty() or state.scan.in_key:
            return draft
        return Draft([], self.lookup.propose(state.out, min(state.room, self.cap)), self)

    def hint(self, state: DecodeState) -> int | None:
        """The prompt token that would follow the output, or None."""
        tokens = self.lookup.propose(state.out, 1)
        return tokens[0] if tokens else None

    def hint_taken(self) -> None:
        """The hint was chosen: later copies go on from after it."""
        self.lookup.accepted(1)

    def feedback(self, n_offered: int, n_kept: int, instead: int | None) -> None:
        self.lookup.accepted(n_kept)
        self._adapt(n_offered, n_kept, instead)


class LabelDrafter(_Copying):
    """Drafts what the input text labels: the rest of a label draft longer than its batch
    while the output follows it; after a key (the forced bytes spelled by the jump-forward
    draft), the labelled value and the fields after it; inside a key just opened with nothing
    forced, the key the text's next labelled line names."""

    start = LABEL_START

    def __init__(self, labels: LabelLookup) -> None:
        self.labels = labels
        self.cap = self.start

    def propose(self, state: DecodeState, choice: int, forced: bytes, draft: Draft) -> Draft:
        labels = self.labels
        pieces = state.pieces
        pending = labels.pending()
        if pending is not None:
            if pending == choice and labels.rest_starts_with(forced):
                # the draft spells the forced bytes (as the model writes them)
                return Draft([], labels.propose_rest(min(state.room, self.cap)), self)
            labels.drop()
        tail = state.tail()
        if not forced or b"".join(pieces[t] for t in draft.forced) == forced:
            key = finished_key(tail + forced)
            if key is not None:
                output = state.output_bytes()
                drafted = labels.propose(key, min(state.room - len(draft.forced), self.cap),
                                         (tail + forced).endswith(b'"'),
                                         output + forced if output is not None else None)
                draft = Draft(draft.forced, drafted, self)
        if draft.empty() and state.scan.in_key and tail[-2:] in (b'{"', b',"'):
            return Draft([], labels.propose_key(min(state.room, self.cap), state.output_bytes()),
                         self)
        return draft

    def feedback(self, n_offered: int, n_kept: int, instead: int | None) -> None:
        self.labels.accepted(n_kept)
        self._adapt(n_offered, n_kept, instead)
        if instead is not None:
            # The model may spell the draft's next bytes another way: the draft then goes on
            # after its token.
            self.labels.respell(instead)
