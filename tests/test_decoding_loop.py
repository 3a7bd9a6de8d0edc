"""The verify loop: one generation over a chain of drafters and choosers (``generate``).

Loop tests drive the real default model with ``ChoiceMatcher`` (a pure-Python matcher over a
fixed set of strings), so they exercise llama.cpp batching, logits and KV truncation on their own.
The biases and drafters are tested exactly on scripted logits (``scripted_model``): which copy
wins, within which margin. Tests with the real model assert only what holds for any reasonable
model (valid output, the name a four-way choice must take), never which near-ties the current
model and merge meet. Each part alone is tested in test_decoding_<part>.py.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from maaza_rt import GenerationLimitError, GrammarMatcher
from maaza_rt.decoding import LABEL_BIAS_SCALE, Chain, Generation, build_chain, decode
from maaza_rt.decoding.choosers import (
    CopyBias,
    Greedy,
    LayoutBias,
    Position,
    Sampling,
)
from maaza_rt.decoding.drafters import (
    JUMP_START,
    MIN_SPECULATIVE,
    JumpForward,
    LabelDrafter,
    PromptLookupDrafter,
)
from maaza_rt.decoding.state import DecodeState
from maaza_rt.label_lookup import LabelLookup
from maaza_rt.schemas import compile_schema
from maaza_rt.session import Session

sys.path.insert(0, str(Path(__file__).parent))
from choice_matcher import CHOICES, SCHEMA, TEXTS, ChoiceMatcher, run_choices  # noqa: E402
from scripted_model import EOG, ScriptedModel, ScriptedSession, decodings, run  # noqa: E402

# llama.cpp computes a token's logits slightly differently inside a batch than alone (up to
# about 0.8 logits; docs/runtime.md, "Exactness"), so speculative and step-by-step decoding of a
# real model may part where step-by-step decoding had a near-tie, and only there. Exact identity
# is tested with scripted logits (test_drafts_never_change_the_output_without_a_bias).
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



# ---- biases and drafters with scripted logits -------------------------------------------------
# The logits come from tests/scripted_model.py: where the model's preferred output and another
# part, the gap between their scores is the gap between the model's choice and the other token,
# whatever the batching. Each test puts a copy just inside a bias margin and just outside it, so
# it tests the rule, not which near-ties one build of one model happens to meet.

TICKET = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}


@pytest.mark.parametrize("text, right", [
    ("Ticket ab7d-93f1 was opened.", "ab7d-93f1"),  # the copy comes in a fed draft
    ("Ticket ab7d\nOpened today.", "ab7d"),  # the line ends: the copy is checked step by step
])
@pytest.mark.parametrize("gap", [1.5, 2.0, 2.5])
def test_copy_bias_takes_a_copy_within_its_margin(text: str, right: str,
                                                          gap: float) -> None:
    """The model miscopies one character (``f`` for ``d``); the copy from the text wins when
    its logit is at most ``copy_bias`` below the model's choice, in every decoding mode."""
    wrong = right.replace("d", "f", 1)
    outputs = {json.dumps({"id": wrong}, separators=(",", ":")): 10.0,
               json.dumps({"id": right}, separators=(",", ":")): 10.0 - gap}
    for options in decodings(0.0):
        assert json.loads(run(outputs, text, TICKET, **options).text)["id"] == wrong, options
    for options in decodings(2.0):
        got = json.loads(run(outputs, text, TICKET, **options).text)["id"]
        assert got == (right if gap <= 2.0 else wrong), options


NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


@pytest.mark.parametrize("text, outputs, expected", [
    # The model ends the name where the text goes on: no bias carries the copy on.
    ("Contact Ada Lovelace today.",
     {'{"name":"Ada"}': 10.0, '{"name":"Ada Lovelace"}': 9.9}, "Ada"),
    # The model goes on where the copy would end the name (a quote): no bias cuts it.
    ('Call "Ada" now, or Ada Lovelace.',
     {'{"name":"Ada Lovelace"}': 10.0, '{"name":"Ada"}': 9.9}, "Ada Lovelace"),
])
def test_copy_bias_never_moves_where_a_value_ends(text: str, outputs: dict[str, float],
                                                          expected: str) -> None:
    """Where the model's choice or the copy holds ``",}]``, the model's choice stands, however
    large the bias."""
    for bias in (0.0, 2.0, 1e9):
        for options in decodings(bias):
            gen = run(outputs, text, NAME, **options)
            assert json.loads(gen.text) == {"name": expected}, (bias, options)


SITE = {"type": "object", "properties": {"city": {"type": "string"}, "cite": {"type": "string"}}}


def test_copy_bias_leaves_keys_to_the_model() -> None:
    """Which property to write is the model's call: inside a key a copy from the text (``cite``
    where the model writes ``city``) does not win, however near."""
    outputs = {'{"city":"Paris"}': 10.0, '{"cite":"Paris"}': 9.9}
    for bias in (2.0, 1e9):
        for options in decodings(bias):
            assert run(outputs, "We cite Paris.", SITE, **options).text == '{"city":"Paris"}'


PAYMENT = {"type": "object", "properties": {"transaction_id": {"type": "string"}},
           "required": ["transaction_id"]}
PAYMENT_TEXT = "Order 5c1f-02 shipped.\nTransaction ID: 4a9e-77\n"


@pytest.mark.parametrize("gap, copy_bias, labelled", [
    (3.0, 2.0, True), (3.0, 1.0, False), (5.0, 2.0, False), (1.0, 0.0, False)])
def test_label_copy_takes_twice_the_margin(gap: float, copy_bias: float,
                                                   labelled: bool) -> None:
    """The model takes the id from the wrong line; the value the text labels with the key wins
    when its logit is at most ``LABEL_BIAS_SCALE`` times the copy bias lower."""
    assert LABEL_BIAS_SCALE == 2.0
    outputs = {'{"transaction_id":"5c1f-02"}': 10.0, '{"transaction_id":"4a9e-77"}': 10.0 - gap}
    gen = run(outputs, PAYMENT_TEXT, PAYMENT, copy_bias=copy_bias)
    assert json.loads(gen.text)["transaction_id"] == ("4a9e-77" if labelled else "5c1f-02")
    # Without label drafts nothing proposes the labelled value's first token.
    gen = run(outputs, PAYMENT_TEXT, PAYMENT, copy_bias=copy_bias, labels=False)
    assert json.loads(gen.text)["transaction_id"] == "5c1f-02"


NOTE = {"type": "object", "properties": {"note": {"type": "string"}}, "required": ["note"]}


@pytest.mark.parametrize("gap, copy_bias, goes_on", [
    (3.0, 2.0, True), (3.0, 1.0, False), (4.5, 2.0, False)])
def test_layout_bias_ends_a_labelled_sentence_with_its_line(
        gap: float, copy_bias: float, goes_on: bool) -> None:
    """The model closes a labelled note one sentence early; within the label margin the note
    goes on to the end of its line, and not onto the next line (which the label's value takes
    in, as an address would)."""
    outputs = {'{"note":"Call back."}': 10.0, '{"note":"Call back. Ask for Bo."}': 10.0 - gap,
               '{"note":"Call back. Ask for Bo.\\nThen lunch."}': 10.0 - gap}
    gen = run(outputs, "Note: Call back. Ask for Bo.\nThen lunch.\n", NOTE, copy_bias=copy_bias)
    assert json.loads(gen.text)["note"] == ("Call back. Ask for Bo." if goes_on else "Call back.")


ORDER = {"type": "object", "properties": {"items": {"type": "array", "items": {
    "type": "object", "properties": {"name": {"type": "string"}, "qty": {"type": "integer"}},
    "required": ["name"]}}}, "required": ["items"]}
ORDER_TEXT = "Items:\nName: Pen\nName: Ink\nQty: 3\n"


@pytest.mark.parametrize("gap, copy_bias, follows_layout", [
    (3.0, 2.0, True), (3.0, 1.0, False), (4.5, 2.0, False)])
def test_layout_bias_starts_the_next_item_as_the_text_does(
        gap: float, copy_bias: float, follows_layout: bool) -> None:
    """The model gives the first item the second item's quantity; where the text's next line
    labels a name again, the label draft's way of ending the item (``"},{"``) wins over the
    model's (``","``) within the label margin."""
    merged = '{"items":[{"name":"Pen","qty":3},{"name":"Ink"}]}'
    laid_out = '{"items":[{"name":"Pen"},{"name":"Ink","qty":3}]}'
    gen = run({merged: 10.0, laid_out: 10.0 - gap}, ORDER_TEXT, ORDER, copy_bias=copy_bias)
    assert gen.text == (laid_out if follows_layout else merged)


DATED = {"type": "object", "properties": {"name": {"type": "string"}, "date": {"type": "string"}},
         "required": ["name"]}
DATED_TEXT = "Name: Ada\n\nSigned on the second.\nDate: 2024-01-02\n"



@pytest.mark.parametrize("text, schema, outputs", [
    (PAYMENT_TEXT, PAYMENT, {'{"transaction_id":"5c1f-02"}': 10.0,
                             '{"transaction_id":"4a9e-77"}': 9.0}),
    (ORDER_TEXT, ORDER, {'{"items":[{"name":"Pen","qty":3},{"name":"Ink"}]}': 10.0,
                         '{"items":[{"name":"Pen"},{"name":"Ink","qty":3}]}': 9.0}),
    (ORDER_TEXT, ORDER, {'{"items":[{"name":"Pen"},{"name":"Ink","qty":3}]}': 10.0}),
])
def test_drafts_never_change_the_output_without_a_bias(
        text: str, schema: dict, outputs: dict[str, float]) -> None:
    """Forced tokens, prompt-lookup and label drafts, right or wrong, give exactly the tokens of
    step-by-step decoding when the copy bias is 0."""
    plain = run(outputs, text, schema, jump_forward=False, prompt_lookup=False)
    assert plain.text == max(outputs, key=lambda k: outputs[k])
    assert plain.n_forced == plain.n_drafted == 0
    fast = run(outputs, text, schema, copy_bias=0.0)
    assert fast.tokens == plain.tokens
    assert fast.n_forced > 0 and fast.n_drafted > 0
    for options in decodings(0.0):
        assert run(outputs, text, schema, **options).tokens == plain.tokens, options


# ---- the chain and decode, with scripted logits ------------------------------------------------

CASES = [  # (text, schema, outputs): the model's preferred output scores highest
    (PAYMENT_TEXT, PAYMENT, {'{"transaction_id":"5c1f-02"}': 10.0,
                             '{"transaction_id":"4a9e-77"}': 9.0}),
    (PAYMENT_TEXT, PAYMENT, {'{"transaction_id":"4a9e-77"}': 10.0}),
    (ORDER_TEXT, ORDER, {'{"items":[{"name":"Pen","qty":3},{"name":"Ink"}]}': 10.0,
                         '{"items":[{"name":"Pen"},{"name":"Ink","qty":3}]}': 9.5}),
    ("Ticket ab7d-93f1 was opened.", TICKET, {'{"id":"ab7f-93f1"}': 10.0,
                                              '{"id":"ab7d-93f1"}': 9.0}),
    ("Note: Call back. Ask for Bo.\nThen lunch.\n", NOTE,
     {'{"note":"Call back."}': 10.0, '{"note":"Call back. Ask for Bo."}': 8.0}),
    (DATED_TEXT, DATED, {'{"name":"Ada"}': 10.0, '{"name":"Ada","date":"2024-01-02"}': 9.0}),
    ("We cite Paris.", SITE, {'{"city":"Paris"}': 10.0, '{"cite":"Paris"}': 9.9}),
]
CASE_IDS = ["wrong-line", "labelled", "merged-items", "miscopy", "early-close", "unwritten",
            "key"]


class RecordingSession(ScriptedSession):
    """A scripted session that records the size of every batch fed."""

    def __init__(self, model: ScriptedModel) -> None:
        super().__init__(model)
        self.sizes: list[int] = []

    def feed(self, tokens: list[int], all_logits: bool) -> None:
        self.sizes.append(len(tokens))
        super().feed(tokens, all_logits)


ChainFor = Callable[[ScriptedModel, list[int]], Chain]  # (model, prompt tokens) -> chain


def decode_scripted(text: str, schema: dict, model: ScriptedModel, chain_for: ChainFor,
                    max_tokens: int = 200) -> tuple[Generation, Chain, RecordingSession]:
    """``decode`` over ``model`` after the prompt of ``text``, with the chain ``chain_for``
    builds; returns the generation, the chain and the session (its batches recorded)."""
    session = RecordingSession(model)
    prompt = model.tokenize("Extract JSON.\n" + text + "\n")
    session.eval_prompt(prompt)
    chain = chain_for(model, prompt)
    matcher = GrammarMatcher(compile_schema(schema), model.vocabulary())
    gen = decode(session, matcher, chain, max_tokens=max_tokens,  # type: ignore[arg-type]
                 eog=model.eog_ids)
    return gen, chain, session


def decode_case(text: str, schema: dict, outputs: dict[str, float], chain_for: ChainFor,
                max_tokens: int = 200) -> Generation:
    """The generation of ``decode_scripted`` over a scripted model of ``outputs``."""
    return decode_scripted(text, schema, ScriptedModel(outputs), chain_for, max_tokens)[0]


def plain_chain(model: ScriptedModel, prompt: list[int]) -> Chain:
    return Chain([Greedy()])


def built(text: str, schema: dict, **options: object) -> ChainFor:
    """``build_chain(**options)`` with label drafts from ``text``."""
    def build(model: ScriptedModel, prompt: list[int]) -> Chain:
        return build_chain(model, prompt, labels=model.label_lookup(text, schema),  # type: ignore[arg-type]
                           **options)  # type: ignore[arg-type]
    return build


def all_drafters(text: str, schema: dict) -> ChainFor:
    """The chain of ``build_chain(copy_bias=0)``: greedy and every drafter."""
    def build(model: ScriptedModel, prompt: list[int]) -> Chain:
        chain = built(text, schema, copy_bias=0)(model, prompt)
        assert [type(c) for c in chain.choosers] == [Greedy]
        assert [type(d) for d in chain.drafters] == [JumpForward, LabelDrafter,
                                                     PromptLookupDrafter]
        return chain
    return build


def test_chain_of_greedy_alone_and_with_every_drafter_decode_alike() -> None:
    """The identity property: drafters only propose, so with no bias in the chain the output is
    token for token plain constrained greedy decoding, whatever the drafts."""
    n_forced = n_drafted = 0
    for (text, schema, outputs), name in zip(CASES, CASE_IDS):
        plain = decode_case(text, schema, outputs, plain_chain)
        assert plain.text == max(outputs, key=lambda k: outputs[k]), name
        assert plain.n_forced == plain.n_drafted == 0
        fast = decode_case(text, schema, outputs, all_drafters(text, schema))
        assert fast.tokens == plain.tokens, name
        n_forced += fast.n_forced
        n_drafted += fast.n_drafted
    assert n_forced > 0 and n_drafted > 0  # the drafts were fed, and kept where right


def test_chain_identity_holds_at_a_budget_and_when_sampling() -> None:
    text, schema, outputs = CASES[4]
    for max_tokens in (7, 9, 12, 16):  # the value takes 17 tokens, the shortest one 7
        plain = decode_case(text, schema, outputs, plain_chain, max_tokens)
        fast = decode_case(text, schema, outputs, all_drafters(text, schema), max_tokens)
        assert plain.budget_closed and fast.budget_closed, max_tokens
        assert fast.tokens == plain.tokens and len(fast.tokens) <= max_tokens
    # Sampling draws once per committed position either way, so a seed gives the same output.
    texts = set()
    for seed in range(6):
        def sampled(model: ScriptedModel, prompt: list[int], seed: int = seed) -> Chain:
            return Chain([Sampling(4.0, 1.0, seed)])

        plain = decode_case(text, schema, outputs, sampled)
        fast, chain, _ = decode_scripted(text, schema, ScriptedModel(outputs),
                                         built(text, schema, temperature=4.0, seed=seed))
        assert len(chain.drafters) == 3 and [type(c) for c in chain.choosers] == [Sampling]
        assert fast.tokens == plain.tokens and fast.n_forced + fast.n_drafted > 0, seed
        texts.add(plain.text)
    assert len(texts) > 1  # the seeds chose differently: sampling was tested, not greedy


def test_build_chain_parts_for_the_options() -> None:
    model = ScriptedModel({})
    prompt = model.tokenize("Extract JSON.\n" + DATED_TEXT)
    labels = model.label_lookup(DATED_TEXT, DATED)

    def parts(**options: object) -> tuple[list[type], list[type]]:
        chain = build_chain(model, prompt, **options)  # type: ignore[arg-type]
        return [type(c) for c in chain.choosers], [type(d) for d in chain.drafters]

    every = [JumpForward, LabelDrafter, PromptLookupDrafter]
    assert parts(copy_bias=2.0, labels=labels) == (
        [Greedy, CopyBias, LayoutBias], every)
    assert parts(copy_bias=2.0) == ([Greedy, CopyBias], [JumpForward, PromptLookupDrafter])
    assert parts(copy_bias=2.0, labels=labels, temperature=0.5) == ([Sampling], every)
    # Labels need both jump-forward and prompt lookup; the copy bias needs prompt lookup.
    assert parts(copy_bias=2.0, labels=labels, jump_forward=False) == (
        [Greedy, CopyBias], [PromptLookupDrafter])
    assert parts(copy_bias=2.0, labels=labels, prompt_lookup=False) == ([Greedy], [JumpForward])
    assert parts(jump_forward=False, prompt_lookup=False) == ([Greedy], [])
    chain = build_chain(model, prompt, copy_bias=2.0, labels=labels)  # type: ignore[arg-type]
    copy, layout = chain.choosers[1], chain.choosers[2]
    assert isinstance(copy, CopyBias) and isinstance(layout, LayoutBias)
    assert (copy.margin, copy.label_margin, layout.margin) == (2.0, 2.0 * LABEL_BIAS_SCALE,
                                                               2.0 * LABEL_BIAS_SCALE)
    assert copy.lookup is chain.drafters[2] and copy.labels is chain.drafters[1]


def test_chain_choose_applies_every_part_in_order() -> None:
    """Each part of a chain gets its say, in order: the copy bias replaces greedy's choice, and
    a part after it sees the copy bias's choice."""
    model = ScriptedModel({})
    prompt = model.tokenize("Extract JSON.\nTicket ab7d-93f1 was opened.\n")
    chain = build_chain(model, prompt, copy_bias=2.0)  # type: ignore[arg-type]
    state = DecodeState(GrammarMatcher(compile_schema(TICKET), model.vocabulary()),
                        model.pieces, 64, track_text=chain.tracks_text)
    for t in model.tokenize('{"id":"ab7'):
        state.accept(t)
    logits = np.full(model.n_vocab, -30.0, dtype=np.float32)
    logits[ord("f")], logits[ord("d")] = 10.0, 8.5
    assert Chain([Greedy()]).choose(state, Position(logits.copy())) == ord("f")
    assert chain.choose(state, Position(logits.copy())) == ord("d")  # the prompt's copy

    class Last:
        """A part that always writes the same token."""

        def reset(self) -> None:
            pass

        def apply(self, state: DecodeState, pos: Position, choice: int) -> int:
            assert choice == ord("d")  # it sees the choice of the parts before it
            return ord("z")

    assert Chain([*chain.choosers, Last()]).choose(state, Position(logits.copy())) == ord("z")


def test_chain_tracks_text_resets_and_drafts() -> None:
    model = ScriptedModel({})
    prompt = model.tokenize("Extract JSON.\n" + PAYMENT_TEXT)
    assert not Chain([Greedy()]).tracks_text
    assert not Chain([Sampling(1.0, 1.0, 1)]).tracks_text
    jump = JumpForward(model)  # type: ignore[arg-type]
    assert Chain([Greedy()], [jump]).tracks_text
    copy = build_chain(model, prompt, copy_bias=1.0).choosers[1]  # type: ignore[arg-type]
    assert isinstance(copy, CopyBias) and Chain([Greedy(), copy]).tracks_text
    # reset restarts every part.
    sampling = Sampling(1.0, 1.0, 1)
    chain = Chain([sampling], [jump])
    first = sampling.rng.random()
    jump.cap = 40
    chain.reset()
    assert sampling.rng.random() == first and jump.cap == JUMP_START
    # Drafters are asked in order, each seeing the draft so far; none: no grammar call.
    state = DecodeState(GrammarMatcher(compile_schema(PAYMENT), model.vocabulary()),
                        model.pieces, 64, track_text=True)
    for t in model.tokenize('{"'):
        state.accept(t)
    jump.cap = 64
    labels = LabelDrafter(model.label_lookup(PAYMENT_TEXT, PAYMENT))
    draft = Chain([Greedy()], [jump, labels]).draft(state, state.out[-1])
    assert b"".join(model.pieces[t] for t in draft.tokens) == b'transaction_id":"4a9e-77"}'
    assert draft.source is labels
    ns = state.grammar_ns
    assert Chain([Greedy()]).draft(state, state.out[-1]).empty() and state.grammar_ns == ns


def test_decode_feeds_only_batches_worth_it() -> None:
    """A draft shorter than MIN_SPECULATIVE tokens is not fed: a step feeds the chosen token
    alone."""
    sizes: list[int] = []
    for text, schema, outputs in CASES:
        _, _, session = decode_scripted(text, schema, ScriptedModel(outputs),
                                        all_drafters(text, schema))
        sizes += session.sizes
    assert all(n == 1 or n >= 1 + MIN_SPECULATIVE for n in sizes), sizes
    assert 1 in sizes and max(sizes) > 1 + MIN_SPECULATIVE


def test_decode_tells_the_drafters_what_was_kept() -> None:
    text, schema, outputs = CASES[1]
    gen, chain, session = decode_scripted(text, schema, ScriptedModel(outputs),
                                          all_drafters(text, schema))
    jump = chain.drafters[0]
    assert isinstance(jump, JumpForward)
    # The first batch, the step and JUMP_START tokens of the forced key, was kept whole (the
    # next batch ends the value): the cap doubled.
    assert session.sizes[0] == 1 + JUMP_START and len(session.sizes) == 2
    assert jump.cap == 2 * JUMP_START
    text, schema, outputs = CASES[2]  # two list items, each labelled
    gen, chain, _ = decode_scripted(text, schema, ScriptedModel(outputs),
                                    all_drafters(text, schema))
    label = chain.drafters[1]
    assert isinstance(label, LabelDrafter)
    # The label lookup's cursor is past the last labelled value the output took (qty 3, which
    # the model wrote into the first item).
    assert label.labels.cursor == text.index("Qty: 3") + len("Qty: 3")
    assert gen.n_forced > 0 and gen.n_drafted > 0


class ByteSpeller(ScriptedModel):
    """A scripted model that spells every piece byte by byte: each multi-byte piece (``":"``,
    ``"}``...) scores half a logit below its first byte."""

    def logits_after(self, output: bytes) -> np.ndarray:
        logits = super().logits_after(output)
        logits[EOG + 1:] -= 0.5
        return logits


def test_decode_leaves_forced_tokens_to_the_model() -> None:
    """Forced tokens (the grammar's own bytes, as the tokenizer spells them) are no drafter's
    copy: where the model spells them another way, no bias takes the tokenizer's spelling."""
    text, schema = PAYMENT_TEXT, PAYMENT
    model = ByteSpeller({'{"transaction_id":"4a9e-77"}': 10.0})
    gen, _, _ = decode_scripted(text, schema, model, built(text, schema, copy_bias=2.0))
    assert gen.text == '{"transaction_id":"4a9e-77"}' and gen.n_forced > 0
    key_end = [model.pieces.index(b'"'), model.pieces.index(b":"), model.pieces.index(b'"')]
    start = gen.tokens.index(model.pieces.index(b"d")) + 1  # the key's last letter
    assert gen.tokens[start:start + 3] == key_end, gen.tokens
