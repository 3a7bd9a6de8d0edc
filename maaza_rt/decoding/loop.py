"""The verify loop: one constrained generation over a chain of drafters and choosers.

Per position the chooser chain (:mod:`~maaza_rt.decoding.choosers`) picks a token from the
grammar-masked logits; after each committed token the drafters
(:mod:`~maaza_rt.decoding.drafters`) propose the next ones, which are fed after it in one batch
with logits at every position. Each drafted token is kept only while it is the chain's own
choice at its position, so drafting never changes the output: a chain with no bias parts gives
exactly plain constrained greedy decoding (up to llama.cpp's batch rounding), whatever the
drafters. Runs shorter than ``MIN_SPECULATIVE`` tokens are not batched: on llama.cpp's CPU
backend a batch of n > 1 tokens costs far more than one token (SmolLM2 Q8_0, 500 tokens of
context, one thread: n = 2 costs 3.0 single-token passes, 4: 4.3, 8: 5.0, 16: 6.3; two threads:
2.3, 3.2, 3.9, 5.0; bench/batch_cost.py).

Budget closing (:mod:`~maaza_rt.decoding.budget`) decides before each commit whether the token
leaves room for the shortest completion; when not, the completion is appended instead.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..label_lookup import LabelLookup
from ..prompt_lookup import PromptLookup
from .budget import BudgetCloser, Spelling
from .choosers import Chooser, ClosingBias, CopyBias, Greedy, LayoutBias, Position, Sampling
from .drafters import (
    MIN_SPECULATIVE,
    Draft,
    Drafter,
    JumpForward,
    LabelDrafter,
    PromptLookupDrafter,
)
from .state import DecodeState, Matcher

# Greedy decoding takes a token copied from the input over the model's choice when the copy's
# logit is at most this far below (see Extractor.extract); measured on the EdgeJSON validation
# split, where it fixes near-miss copies of ids, numbers and sentences (bench/RESULTS.md).
DEFAULT_COPY_BIAS = 2.0
# Biases toward a label draft (a copy of the value the text labels with the key, and the
# layout bias: a label draft's way of ending a value, or of going on with it) take this many
# times the copy bias as their margin: a value the text labels with the key, and where that
# label's line ends, are firmer evidence than a copy found by prompt lookup. EdgeJSON
# validation split, Q8_0: the layout misses it mends were 2.0-3.0 logits apart (a scale of 3
# mended no more), a UUID copied from the wrong line 2.7 (bench/RESULTS.md).
LABEL_BIAS_SCALE = 2.0
BIASES = ("copy", "layout")  # the bias parts copy_bias turns on, in chain order


class DecoderModel(Spelling, Protocol):
    """What the decoder needs of a model beyond spelling (``LlamaModel`` has it)."""

    @property
    def eog_ids(self) -> frozenset[int]: ...
    @property
    def control_tokens(self) -> frozenset[int]: ...
    @property
    def short_tokens(self) -> frozenset[int]: ...
    @property
    def closing_tokens(self) -> frozenset[int]: ...
    @property
    def piece_ids(self) -> dict[bytes, int]: ...


class Context(Protocol):
    """What the decoder needs of a context (``Session`` has it)."""

    @property
    def model(self) -> Any: ...
    @property
    def tokens(self) -> list[int]: ...
    def reserve(self, n_prompt: int, max_tokens: int) -> None: ...
    def eval_prompt(self, tokens: list[int]) -> int: ...
    def feed(self, tokens: list[int], all_logits: bool) -> None: ...
    def truncate(self, n_keep: int) -> None: ...
    def logits(self, index: int) -> np.ndarray: ...


@dataclass
class Generation:
    """Raw result of one decoding run."""

    text: str
    tokens: list[int]
    n_forced: int
    decode_ms: float
    grammar_ms: float
    budget_closed: bool = False  # the shortest completion ended the value at the budget
    n_closing: int = 0  # its tokens (0 if the value was already complete)
    n_drafted: int = 0  # output tokens proposed by drafters and confirmed by the model
    # Per output token, its probability under the constrained distribution (DecodeState.
    # token_prob; budget-closing tokens count as forced: 1); None unless asked for.
    token_probs: list[float] | None = None


@dataclass
class Chain:
    """The parts of one generation: drafters asked in order, choosers applied in order."""

    choosers: list[Chooser]
    drafters: list[Drafter] = field(default_factory=list)

    def __post_init__(self) -> None:
        # The drafter of a draft's forced part, found once rather than per batch.
        self.jump = next((d for d in self.drafters if isinstance(d, JumpForward)), None)

    @property
    def tracks_text(self) -> bool:
        """Whether a part reads the output's bytes (every part but greedy and sampling)."""
        return bool(self.drafters) or any(
            not isinstance(c, (Greedy, Sampling)) for c in self.choosers)

    def reset(self) -> None:
        for part in [*self.drafters, *self.choosers]:
            part.reset()

    def choose(self, state: DecodeState, pos: Position) -> int:
        choice = -1
        for chooser in self.choosers:
            choice = chooser.apply(state, pos, choice)
        return choice

    def draft(self, state: DecodeState, choice: int) -> Draft:
        draft = Draft()
        if not self.drafters:
            return draft
        forced = state.forced_bytes()
        for drafter in self.drafters:
            draft = drafter.propose(state, choice, forced, draft)
        return draft


def build_chain(model: DecoderModel, prompt_tokens: list[int], *, temperature: float = 0.0,
                top_p: float = 1.0, seed: int | None = None, jump_forward: bool = True,
                prompt_lookup: bool = True, copy_bias: float = 0.0,
                labels: LabelLookup | None = None, biases: Collection[str] = BIASES,
                absent_bias: float = 0.0) -> Chain:
    """The chain for the options of :func:`generate`: greedy (or sampling), the closing bias
    where ``absent_bias`` > 0, then those of the
    copy and layout biases named in ``biases`` where ``copy_bias`` > 0 (greedy with prompt
    lookup only; layout needs label drafts); the jump-forward, label and
    prompt-lookup drafters as enabled (labels need both).

    Raises:
        ValueError: an unknown bias name.
    """
    unknown = set(biases) - set(BIASES)
    if unknown:
        raise ValueError(f"unknown bias {sorted(unknown)[0]!r}; choose from {', '.join(BIASES)}")
    base: Chooser = Greedy() if temperature <= 0.0 else Sampling(temperature, top_p, seed)
    drafters: list[Drafter] = []
    jump = JumpForward(model) if jump_forward else None
    lookup = (PromptLookupDrafter(PromptLookup(prompt_tokens, model.control_tokens,
                                               model.short_tokens))
              if prompt_lookup else None)
    label = LabelDrafter(labels) if labels is not None and jump and lookup else None
    drafters = [d for d in (jump, label, lookup) if d is not None]
    choosers: list[Chooser] = [base]
    if absent_bias > 0.0:
        choosers.append(ClosingBias(absent_bias, model.piece_ids))
    if copy_bias > 0.0 and temperature <= 0.0 and lookup is not None:
        label_margin = LABEL_BIAS_SCALE * copy_bias
        if "copy" in biases:
            choosers.append(CopyBias(copy_bias, label_margin, model.closing_tokens, lookup,
                                     label))
        if label is not None and "layout" in biases:
            choosers.append(LayoutBias(label_margin, label))
    return Chain(choosers, drafters)


def decode(session: Context, matcher: Matcher, chain: Chain, *, max_tokens: int,
           eog: frozenset[int], token_probs: bool = False) -> Generation:
    """Runs the verify loop after a prompt the session has just evaluated.

    Generation ends at a token in ``eog``, when the grammar is terminated (no forward pass is
    spent on it), or after ``max_tokens`` tokens if the value is complete then. With
    ``token_probs`` the generation records each output token's probability under the
    constrained distribution at its position (before any bias; ``DecodeState.token_prob``).

    Raises:
        GenerationLimitError: ``max_tokens`` tokens were generated and the value is incomplete.
        InternalError: the grammar allowed no token, or llama.cpp failed.
    """
    model = session.model
    state = DecodeState(matcher, model.pieces, max_tokens, track_text=chain.tracks_text)
    budget = BudgetCloser(model, state)
    chain.reset()
    n_forced = n_drafted = 0
    decode_ns = 0
    probs: list[float] | None = [] if token_probs else None
    pos = Position(session.logits(-1))
    choice = chain.choose(state, pos)
    p_choice = state.token_prob(pos.logits, choice) if probs is not None else 1.0
    while choice not in eog:
        if not budget.fits(choice):
            budget.close()
            break
        state.accept(choice)
        if probs is not None:
            probs.append(p_choice)
        if state.finished():
            break
        draft = chain.draft(state, choice)
        speculative = draft.tokens
        if len(speculative) < MIN_SPECULATIVE:
            speculative, draft = [], Draft()
        n_jump = len(draft.forced)
        base = len(session.tokens)
        t = time.perf_counter_ns()
        session.feed([choice, *speculative], bool(speculative))
        decode_ns += time.perf_counter_ns() - t
        instead = -1  # the chain's choice where it parted from the draft
        stop = False
        for i, f in enumerate(speculative):
            is_forced = i < n_jump
            pos = Position(session.logits(i), f, None if is_forced else draft.source)
            c = chain.choose(state, pos)
            if probs is not None:
                p_choice = 1.0 if is_forced and c == f else state.token_prob(pos.logits, c)
            if c != f:
                session.truncate(base + 1 + i)
                instead = c
                _feedback(chain, draft, i, c)
                break
            if not budget.fits(f):  # as step-by-step decoding would decide at this token
                session.truncate(base + 1 + i)
                budget.close()
                stop = True
                break
            state.accept(f)
            if probs is not None:
                probs.append(p_choice)
            if is_forced:
                n_forced += 1
            else:
                n_drafted += 1
            if state.finished():
                session.truncate(base + 2 + i)
                stop = True
                break
        if stop:
            break
        if instead < 0:
            _feedback(chain, draft, len(speculative), None)
            pos = Position(session.logits(len(speculative)))
            choice = chain.choose(state, pos)
            if probs is not None:
                p_choice = state.token_prob(pos.logits, choice)
        else:
            choice = instead
    if probs is not None:
        # Budget closing appended the grammar's shortest completion: tokens the decoder forced.
        probs += [1.0] * (len(state.out) - len(probs))
    gen = Generation(state.output_text(), state.out, n_forced, decode_ns / 1e6,
                     state.grammar_ns / 1e6, budget.closed, budget.n_closing, n_drafted, probs)
    return gen


def _feedback(chain: Chain, draft: Draft, n_kept: int, instead: int | None) -> None:
    """Tells the drafters of ``draft`` how much of it was kept (``n_kept`` tokens, then
    ``instead`` chosen, or all kept when ``instead`` is None)."""
    n_jump = len(draft.forced)
    if n_jump and chain.jump is not None:
        chain.jump.feedback(n_jump, min(n_kept, n_jump), instead if n_kept < n_jump else None)
    if draft.drafted and draft.source is not None and n_kept >= n_jump:
        draft.source.feedback(len(draft.drafted), n_kept - n_jump, instead)


def generate(session: Context, matcher: Matcher, prompt_tokens: list[int], *, max_tokens: int,
             stop_ids: frozenset[int] = frozenset(), temperature: float = 0.0, top_p: float = 1.0,
             seed: int | None = None, jump_forward: bool = True, prompt_lookup: bool = True,
             copy_bias: float = 0.0, labels: LabelLookup | None = None,
             biases: Collection[str] = BIASES, absent_bias: float = 0.0,
             token_probs: bool = False) -> tuple[Generation, int, float]:
    """Evaluates ``prompt_tokens`` (reusing the session's cached prefix) and runs one
    constrained generation with the chain :func:`build_chain` makes for these options.

    Generation ends at an end-of-generation token (the model's, or one in ``stop_ids``), when
    the grammar is terminated, or after ``max_tokens`` tokens if the value is complete then.
    Returns the generation, the number of prompt tokens reused from the cache, and the prompt
    evaluation time in ms.

    ``copy_bias`` (greedy with prompt lookup only) enables the biases of
    :mod:`~maaza_rt.decoding.choosers` named in ``biases``: the copy bias at that margin (label
    copies at ``LABEL_BIAS_SCALE`` times it) and the layout bias at ``LABEL_BIAS_SCALE`` times
    it (docs/runtime.md). ``absent_bias`` > 0 closes an object rather than start another
    optional member of it when the closing token is within that margin (``ClosingBias``). With
    ``copy_bias`` and ``absent_bias`` 0 the output is plain constrained decoding whatever the
    drafters.
    ``token_probs`` records each output token's constrained probability
    (``Generation.token_probs``; see :func:`decode`).

    Raises:
        InputTooLongError: the prompt and ``max_tokens`` do not fit the context.
        GenerationLimitError: ``max_tokens`` tokens were generated and the value is incomplete
            (only possible when even the shortest complete value exceeds ``max_tokens``).
        InternalError: the grammar allowed no token, or llama.cpp failed.
    """
    model = session.model
    session.reserve(len(prompt_tokens), max_tokens)
    t0 = time.perf_counter_ns()
    n_reused = session.eval_prompt(prompt_tokens)
    prompt_ms = (time.perf_counter_ns() - t0) / 1e6
    chain = build_chain(model, prompt_tokens, temperature=temperature, top_p=top_p, seed=seed,
                        jump_forward=jump_forward, prompt_lookup=prompt_lookup,
                        copy_bias=copy_bias, labels=labels, biases=biases,
                        absent_bias=absent_bias)
    gen = decode(session, matcher, chain, max_tokens=max_tokens, eog=model.eog_ids | stop_ids,
                 token_probs=token_probs)
    return gen, n_reused, prompt_ms
