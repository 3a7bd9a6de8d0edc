"""Choosers: the parts that pick each output token, in a chain.

The first part of a chain picks from the grammar-masked logits (:class:`Greedy` or
:class:`Sampling`); each bias after it may replace that choice with another token the grammar
allows, from what a drafter offered at that position:

- :class:`CopyBias`: a token copied from the input (a prompt-lookup copy, a label draft's
  token) over the model's choice when its logit is within a margin and neither ends a value;
- :class:`LayoutBias`: a label draft's way of ending a value (or going on with it) over the
  model's other way, when near-tied;
- :class:`ClosingBias`: closing an object over starting another member of it (an optional
  property the text may not give), when near-tied.

A chain of the first part alone is plain constrained decoding. Each part sees a
:class:`Position`: the logits there and the token fed at it by a draft, if any (a *step* feeds
none: biases then ask their drafters for a one-token hint, so batch boundaries never decide
whether a copy is preferred).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import InternalError
from ..json_scan import JsonScan
from .drafters import Drafter, LabelDrafter, PromptLookupDrafter
from .state import DecodeState


@dataclass
class Position:
    """One output position: its logits and the draft token fed there (None at a step)."""

    logits: np.ndarray
    drafted: int | None = None
    source: Drafter | None = None  # the drafter of ``drafted``

    @property
    def step(self) -> bool:
        return self.drafted is None


class Chooser(Protocol):
    """A part of the chain: ``apply`` returns the token to write at ``pos`` given the choice of
    the parts before it (-1 for the first part); ``reset`` starts a generation."""

    def reset(self) -> None: ...
    def apply(self, state: DecodeState, pos: Position, choice: int) -> int: ...


class Greedy:
    """The grammar's allowed token with the highest logit."""

    def reset(self) -> None:
        pass

    def apply(self, state: DecodeState, pos: Position, choice: int) -> int:
        return state.select_greedy(pos.logits)


class Sampling:
    """A token sampled from the grammar-masked logits at ``temperature``, within the nucleus
    ``top_p``; seeded per generation."""

    def __init__(self, temperature: float, top_p: float, seed: int | None) -> None:
        if temperature <= 0.0:
            raise ValueError("sampling needs a temperature above 0")
        self.temperature = temperature
        self.top_p = top_p
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def reset(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def apply(self, state: DecodeState, pos: Position, choice: int) -> int:
        logits = pos.logits
        state.mask_logits(logits)
        finite = np.isfinite(logits)
        if not finite.any():
            raise InternalError("the grammar allows no token")
        scaled = np.where(finite, logits / self.temperature, -np.inf)
        probs = np.exp(scaled - scaled.max())
        probs /= probs.sum()
        if self.top_p < 1.0:
            order = np.argsort(-probs)
            keep = np.cumsum(probs[order]) - probs[order] < self.top_p
            trimmed = np.zeros_like(probs)
            trimmed[order[keep]] = probs[order[keep]]
            probs = trimmed / trimmed.sum()
        return int(self.rng.choice(len(probs), p=probs))


def ends_alike(choice: bytes, drafted: bytes, scan: JsonScan) -> bool:
    """Whether two tokens, written after the output ``scan`` has read, both end the value being
    written, after the same text, each its own way: inside a string both close it (``.",`` and
    ``."``: the same text, then the quote); elsewhere both hold ``,``, ``}`` or ``]`` after the
    same text (``5,`` and ``5}``). A comma inside a string is text, not an ending."""
    i, j = scan.ending(choice), scan.ending(drafted)
    return i >= 0 and i == j and choice[:i] == drafted[:i]


def ends_early(choice: bytes, drafted: bytes, scan: JsonScan) -> bool:
    """Whether, inside a string, ``choice`` closes it where ``drafted`` writes more of it on
    the same line (no quote, no escape)."""
    if not scan.in_string or b'"' in drafted or b"\\" in drafted:
        return False
    return scan.ending(choice) >= 0


class CopyBias:
    """A copied token over the model's choice when its logit is at most ``margin`` lower, the
    grammar allows it and neither token can end a string or number (``value_enders``: tokens
    holding ``",}]``), so the model alone decides where a value ends.

    Copies come from the prompt-lookup drafter (outside keys, at ``margin``) and from the label
    drafter (``label_margin``, inside keys too: a drafted key is the property the text's next
    labelled line names). Forced tokens are never biased."""

    def __init__(self, margin: float, label_margin: float, value_enders: frozenset[int],
                 lookup: PromptLookupDrafter | None, labels: LabelDrafter | None) -> None:
        self.margin = margin
        self.label_margin = label_margin
        self.value_enders = value_enders
        self.lookup = lookup
        self.labels = labels

    def reset(self) -> None:
        pass

    def prefer(self, state: DecodeState, logits: np.ndarray, choice: int, copy: int,
               margin: float, keys: bool) -> int:
        """``copy`` over ``choice`` when the bias holds (see the class)."""
        if (copy != choice and copy not in self.value_enders
                and choice not in self.value_enders
                and logits[copy] >= logits[choice] - margin
                and (keys or not state.scan.in_key) and state.allows(copy)):
            return copy
        return choice

    def apply(self, state: DecodeState, pos: Position, choice: int) -> int:
        if pos.drafted is not None:
            if pos.source is not None and pos.source is self.lookup:
                return self.prefer(state, pos.logits, choice, pos.drafted, self.margin, False)
            if pos.source is not None and pos.source is self.labels:
                return self.prefer(state, pos.logits, choice, pos.drafted, self.label_margin,
                                   True)
            return choice
        if self.lookup is None:
            return choice
        hint = self.lookup.hint(state)
        if hint is None:
            return choice
        chosen = self.prefer(state, pos.logits, choice, hint, self.margin, False)
        if chosen == hint:
            self.lookup.hint_taken()
        return chosen


class LayoutBias:
    """Where a label draft ends a value one way (``"},{"``: the next list item, as the text's
    next line labels a property the item has) and the model's choice ends it another (``","``:
    one more property), or where the draft goes on with a string that the model's choice
    closes (the labelled line goes on), the draft's way when within ``margin``. At a step the
    draft is the label drafter's pending token."""

    def __init__(self, margin: float, labels: LabelDrafter) -> None:
        self.margin = margin
        self.labels = labels

    def reset(self) -> None:
        pass

    def apply(self, state: DecodeState, pos: Position, choice: int) -> int:
        if pos.drafted is not None:
            if pos.source is not self.labels:
                return choice
            drafted: int | None = pos.drafted
        else:
            drafted = self.labels.labels.pending()
        if drafted is None or drafted == choice:
            return choice
        pieces, scan = state.pieces, state.scan
        if ((ends_alike(pieces[choice], pieces[drafted], scan)
                or (ends_early(pieces[choice], pieces[drafted], scan) and not scan.in_key))
                and pos.logits[drafted] >= pos.logits[choice] - self.margin
                and state.allows(drafted)):
            return drafted
        return choice


class ClosingBias:
    """Where the model's choice begins another member of an object (``,"`` after a value, or a
    key's quote after ``{``) and the grammar allows closing the object there instead, the
    closing token (the same text, then ``}``) when its logit is at most ``margin`` lower.

    The grammar allows ``}`` only once every required property is written, so the bias only
    ever leaves out optional properties: the ones a small model tends to fill from its prior
    when the text does not give them. Where the vocabulary has no token for the text then
    ``}``, the text alone (a ``"`` for ``",``) is the alternative, and the bias meets the
    choice again at the next token. Drafts, forced tokens and sampling are treated alike: the
    bias reads the logits at the position only.
    """

    def __init__(self, margin: float, piece_ids: Mapping[bytes, int]) -> None:
        self.margin = margin
        self.piece_ids = piece_ids

    def reset(self) -> None:
        pass

    def apply(self, state: DecodeState, pos: Position, choice: int) -> int:
        piece = state.pieces[choice]
        cut = state.scan.member_start(piece)
        if cut < 0:
            return choice
        head = piece[:cut]
        floor = pos.logits[choice] - self.margin
        for text in (head + b"}", head):
            alt = self.piece_ids.get(text) if text else None
            if alt is None or alt == choice:
                continue
            if pos.logits[alt] >= floor and state.allows(alt):
                return alt
        return choice
