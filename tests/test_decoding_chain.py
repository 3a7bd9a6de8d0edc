"""The chain and ``decode`` on scripted logits (``scripted_model``): greedy alone and with every
drafter decode alike (at a budget and when sampling too), ``build_chain`` assembles the parts the
options ask for, a chain applies its parts in order and tracks text, resets and drafts, and
``decode`` feeds only batches worth it, tells the drafters what was kept and leaves forced tokens
to the model.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from maaza_rt import GrammarMatcher
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
from maaza_rt.schemas import compile_schema

sys.path.insert(0, str(Path(__file__).parent))
from decoding_cases import (  # noqa: E402
    DATED,
    DATED_TEXT,
    NOTE,
    ORDER,
    ORDER_TEXT,
    PAYMENT,
    PAYMENT_TEXT,
    SITE,
    TICKET,
)
from scripted_model import EOG, ScriptedModel, ScriptedSession  # noqa: E402

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
