"""The verify loop: one generation over a chain of drafters and choosers (``generate``).

Loop tests drive the real default model with ``ChoiceMatcher`` (a pure-Python matcher over a
fixed set of strings), so they exercise llama.cpp batching, logits and KV truncation on their own.
The biases and drafters are tested exactly on scripted logits (``scripted_model``): which copy
wins, within which margin (test_decoding_biases.py; the chain and ``decode`` in
test_decoding_chain.py). Tests with the real model assert only what holds for any reasonable
model (valid output, the name a four-way choice must take), never which near-ties the current
model and merge meet. Each part alone is tested in test_decoding_<part>.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from maaza_rt import GenerationLimitError
from maaza_rt.decoding import Generation
from maaza_rt.label_lookup import LabelLookup
from maaza_rt.session import Session

sys.path.insert(0, str(Path(__file__).parent))
from choice_matcher import CHOICES, SCHEMA, TEXTS, ChoiceMatcher, run_choices  # noqa: E402

# llama.cpp computes a token's logits slightly differently inside a batch than alone (up to
# about 0.8 logits; docs/runtime.md, "Exactness"), so speculative and step-by-step decoding of a
# real model may part where step-by-step decoding had a near-tie, and only there. Exact identity
# is tested with scripted logits (test_decoding_biases.py,
# test_drafts_never_change_the_output_without_a_bias).
TIE_MARGIN = 1.0


class MarginMatcher(ChoiceMatcher):
    """A ChoiceMatcher that records, for every greedy choice, the gap between the best and the
    second-best allowed logit."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.margins: list[float] = []

    def select_greedy(self, logits: np.ndarray) -> int:
        top = np.sort(logits[np.asarray(self.allowed(), dtype=np.int64)])[-2:]
        self.margins.append(float(top[1] - top[0]) if top.size == 2 else float("inf"))
        return super().select_greedy(logits)


def _stepwise(session: Session, text: str) -> tuple[Generation, list[float]]:
    """Plain step-by-step decoding of ``text`` and the margin of each of its choices."""
    model = session.model
    matcher = MarginMatcher(model.pieces, model.eog_ids, CHOICES)
    plain, _ = run_choices(session, text, jump_forward=False, prompt_lookup=False, matcher=matcher)
    return plain, matcher.margins


def _same_up_to_a_near_tie(fast: Generation, plain: Generation,
                           margins: list[float]) -> bool:
    """The same tokens, or the same up to a choice where step-by-step decoding had a
    near-tie."""
    if fast.tokens == plain.tokens:
        return True
    i = 0
    while i < min(len(fast.tokens), len(plain.tokens)) and fast.tokens[i] == plain.tokens[i]:
        i += 1
    return i < len(margins) and margins[i] < TIE_MARGIN


@pytest.mark.model
def test_jump_forward_and_lookup_output_identical_to_stepwise(
        session: Session) -> None:
    n_forced = n_drafted = 0
    for text in TEXTS:
        plain, margins = _stepwise(session, text)
        assert plain.text in CHOICES
        assert plain.n_forced == plain.n_drafted == 0
        for jump, lookup in ((True, False), (False, True), (True, True)):
            fast, _ = run_choices(session, text, jump_forward=jump, prompt_lookup=lookup)
            assert fast.text in CHOICES
            assert _same_up_to_a_near_tie(fast, plain, margins), (text, jump, lookup, margins)
            assert jump or fast.n_forced == 0
            assert lookup or fast.n_drafted == 0
            n_forced += fast.n_forced
            n_drafted += fast.n_drafted
    # Both kinds of speculation happened.
    assert n_forced > 0 and n_drafted > 0


LABELLED = "Contact\nName: Ada Byron\nEmail: ada@byron.org\nPhone: +44 20 7946 0000\n"


@pytest.mark.model
def test_label_drafts_output_identical_to_stepwise(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    kept: list[int] = []
    accepted = LabelLookup.accepted

    def count(self: LabelLookup, n: int) -> None:
        kept.append(n)
        accepted(self, n)

    monkeypatch.setattr(LabelLookup, "accepted", count)
    plain, margins = _stepwise(session, LABELLED)
    assert plain.text in CHOICES
    fast, _ = run_choices(session, LABELLED, labels=session.model.label_lookup(LABELLED, SCHEMA))
    assert _same_up_to_a_near_tie(fast, plain, margins), margins
    assert sum(kept) > 0  # values were drafted from their labels and kept
    n_calls = len(kept)
    without, _ = run_choices(session, LABELLED)  # no source text: no label drafts
    assert _same_up_to_a_near_tie(without, plain, margins) and len(kept) == n_calls


@pytest.mark.model
def test_greedy_follows_the_text(session: Session) -> None:
    gen, _ = run_choices(session, TEXTS[1])
    assert json.loads(gen.text)["name"] == "Charles Babbage"


@pytest.mark.model
def test_generation_limit_carries_partial_text(session: Session) -> None:
    for jump in (False, True):
        with pytest.raises(GenerationLimitError) as info:
            run_choices(session, TEXTS[0], max_tokens=5, jump_forward=jump, prompt_lookup=jump)
        assert info.value.n_tokens == 5
        assert any(c.startswith(info.value.partial_text) for c in CHOICES)
        assert info.value.partial_text.startswith("{")


@pytest.mark.model
def test_sampling_is_seeded_and_stays_in_grammar(session: Session) -> None:
    a, _ = run_choices(session, TEXTS[2], temperature=1.5, seed=7)
    b, _ = run_choices(session, TEXTS[2], temperature=1.5, seed=7, jump_forward=False,
                       prompt_lookup=False)
    assert a.text in CHOICES and a.text == b.text
    c, _ = run_choices(session, TEXTS[2], temperature=0.8, top_p=0.5, seed=1)
    assert c.text in CHOICES
