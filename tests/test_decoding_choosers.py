"""Choosers, each alone: greedy and sampling pick from the grammar-masked logits; the copy,
and layout biases replace that choice only within their margins.

Each part runs on a :class:`DecodeState` over the real grammar engine with the scripted model's
vocabulary (``scripted_model``), at a :class:`Position` whose logits the test writes, so a bias
margin is tested just inside and just outside.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from maaza_rt import GrammarMatcher, InternalError
from maaza_rt.decoding.choosers import (
    CopyBias,
    Greedy,
    LayoutBias,
    Position,
    Sampling,
    ends_alike,
    ends_early,
)
from maaza_rt.decoding.drafters import Drafter, LabelDrafter, PromptLookupDrafter
from maaza_rt.decoding.state import DecodeState
from maaza_rt.json_scan import JsonScan
from maaza_rt.label_lookup import LabelLookup
from maaza_rt.prompt_lookup import PromptLookup
from maaza_rt.schemas import compile_schema

sys.path.insert(0, str(Path(__file__).parent))
from scripted_model import EOG, OTHER, ScriptedModel  # noqa: E402

MODEL = ScriptedModel({})


def tok(piece: str) -> int:
    """The token of a piece: a byte, or one of the scripted model's JSON pieces."""
    return MODEL.pieces.index(piece.encode())


def state_after(schema: dict, output: str) -> DecodeState:
    """A state whose output is ``output`` (the grammar accepts it)."""
    matcher = GrammarMatcher(compile_schema(schema), MODEL.vocabulary())
    state = DecodeState(matcher, MODEL.pieces, 64, track_text=True)
    for t in MODEL.tokenize(output):
        state.accept(t)
    return state


def scores(pieces: dict[str, float]) -> np.ndarray:
    """Logits of ``OTHER`` but for the pieces given."""
    out = np.full(MODEL.n_vocab, OTHER, dtype=np.float32)
    for piece, score in pieces.items():
        out[tok(piece)] = score
    return out


NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}

# ---- greedy and sampling -----------------------------------------------------------------------


def test_greedy_picks_the_best_allowed_token() -> None:
    start = state_after(NAME, "")
    # "x" cannot start the value; of the two ways to open the object the higher one wins.
    greedy = Greedy()
    assert greedy.apply(start, Position(scores({"x": 9.0, "{": 5.0, '{"': 4.0})), -1) == tok("{")
    assert greedy.apply(start, Position(scores({"x": 9.0, "{": 4.0, '{"': 5.0})), -1) == tok('{"')
    # Inside a string a letter is allowed, and the choice of the parts before is not read.
    inside = state_after(NAME, '{"name":"A')
    assert greedy.apply(inside, Position(scores({"x": 9.0, '"}': 5.0})), tok('"}')) == tok("x")


def draws(sampler: Sampling, state: DecodeState, base: np.ndarray, n: int) -> list[int]:
    """``n`` tokens sampled at one position (fresh logits each time: sampling masks them)."""
    return [sampler.apply(state, Position(base.copy()), -1) for _ in range(n)]


def test_sampling_is_reproducible_per_seed_and_reset_restarts_it() -> None:
    state = state_after(NAME, '{"name":"')
    flat = np.zeros(MODEL.n_vocab, dtype=np.float32)
    first = draws(Sampling(1.0, 1.0, seed=7), state, flat, 20)
    assert draws(Sampling(1.0, 1.0, seed=7), state, flat, 20) == first
    assert draws(Sampling(1.0, 1.0, seed=8), state, flat, 20) != first
    sampler = Sampling(1.0, 1.0, seed=7)
    assert draws(sampler, state, flat, 20) == first
    assert draws(sampler, state, flat, 20) != first  # the sequence goes on...
    sampler.reset()
    assert draws(sampler, state, flat, 20) == first  # ... until reset
    assert len(set(first)) > 5  # many tokens are allowed here, and drawn


def test_sampling_stays_in_the_grammar() -> None:
    state = state_after(NAME, '{"name":"Ad')
    # The disallowed tokens have the highest logits; none is ever drawn.
    base = np.full(MODEL.n_vocab, 10.0, dtype=np.float32)
    allowed = [t for t in range(MODEL.n_vocab) if state.allows(t)]
    base[allowed] = 0.0
    assert 0 < len(allowed) < MODEL.n_vocab - 10
    picked = draws(Sampling(2.0, 1.0, seed=1), state, base, 200)
    assert set(picked) <= set(allowed) and len(set(picked)) > 10
    # With nothing allowed, sampling fails loudly.
    done = state_after(NAME, '{"name":"A"}')
    done.accept(EOG)
    with pytest.raises(InternalError, match="allows no token"):
        Sampling(1.0, 1.0, seed=1).apply(done, Position(base.copy()), -1)


def test_sampling_top_p_trims_the_tail() -> None:
    state = state_after(NAME, '{"name":"')
    near = scores({"a": 2.0, "b": 1.9})  # p(a) ~ 0.52, p(b) ~ 0.48, the rest ~ 0
    both = draws(Sampling(1.0, 1.0, seed=3), state, near, 40)
    assert set(both) == {tok("a"), tok("b")}
    assert set(draws(Sampling(1.0, 0.5, seed=3), state, near, 40)) == {tok("a")}
    assert set(draws(Sampling(1.0, 0.99, seed=3), state, near, 40)) == {tok("a"), tok("b")}


def test_sampling_needs_a_temperature() -> None:
    with pytest.raises(ValueError, match="temperature"):
        Sampling(0.0, 1.0, seed=1)


# ---- ends_alike and ends_early -----------------------------------------------------------------


def scan_of(output: bytes) -> JsonScan:
    scan = JsonScan()
    scan.feed(output)
    return scan


IN = scan_of(b'{"name":"Ada')  # the output is inside a string
OUT = scan_of(b'{"n":12')  # ... after a number


def test_layout_bias_compares_only_tokens_that_end_the_value() -> None:
    # In a string only the closing quote ends it: a comma there is text.
    assert ends_alike(b'","', b'"},{"', IN)
    assert not ends_alike(b'",', b",", IN) and not ends_alike(b",", b'"}', IN)
    # After a number (or a closed value) a comma or a bracket does.
    assert ends_alike(b',"', b"},{", OUT) and ends_alike(b"}]", b",", OUT)
    assert not ends_alike(b"5", b",", OUT) and not ends_alike(b'"', b",", OUT)
    # The same text first, then the ending: still alike; other text first: not.
    assert ends_alike(b'.",', b'."', IN) and ends_alike(b"5,", b"5}", OUT)
    assert not ends_alike(b'.",', b'!"', IN) and not ends_alike(b'a"', b'"', IN)
    assert not ends_alike(b'\\",', b'"', IN)  # an escaped quote ends nothing


def test_goes_on_bias_compares_a_closing_quote_with_more_of_the_string() -> None:
    assert ends_early(b'.",', b".", IN) and ends_early(b'"', b" Including", IN)
    assert not ends_early(b'.",', b".", OUT)  # not in a string
    assert not ends_early(b'\\"', b"x", IN)  # an escaped quote is text
    assert not ends_early(b'"', b'"}', IN) and not ends_early(b'"', b"\\n", IN)
    assert not ends_early(b" a", b" b", IN)  # the choice does not close the string


# ---- the copy bias -----------------------------------------------------------------------------

TICKET = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}
SITE = {"type": "object", "properties": {"city": {"type": "string"}, "cite": {"type": "string"}}}
TICKET_PROMPT = MODEL.tokenize("Extract JSON.\nTicket ab7d-93f1 was opened.\n")
MARGIN, LABEL_MARGIN = 2.0, 4.0
JUST_OUT = 1 / 64  # beyond a margin by this much (exact in float32)


def copy_bias(prompt: list[int] = TICKET_PROMPT) -> CopyBias:
    """A copy bias over a prompt-lookup drafter of ``prompt`` and a label drafter (whose
    lookup the copy bias never reads: it only tells the drafters' tokens apart)."""
    lookup = PromptLookupDrafter(PromptLookup(prompt, MODEL.control_tokens, MODEL.short_tokens))
    labels = LabelDrafter(LabelLookup(b"", MODEL.tokenize))
    return CopyBias(MARGIN, LABEL_MARGIN, MODEL.closing_tokens, lookup, labels)


def biased(bias: CopyBias, state: DecodeState, choice: str, copy: str, gap: float,
           source: Drafter | None) -> str:
    """The copy bias's token where the model chose ``choice`` and ``source`` drafted ``copy``,
    ``gap`` lower."""
    pos = Position(scores({choice: 10.0, copy: 10.0 - gap}), tok(copy), source)
    return MODEL.pieces[bias.apply(state, pos, tok(choice))].decode()


@pytest.mark.parametrize("gap, wins", [(0.0, True), (1.5, True), (MARGIN, True),
                                       (MARGIN + JUST_OUT, False), (3.0, False)])
def test_copy_bias_prefers_a_copy_within_its_margin(gap: float, wins: bool) -> None:
    state = state_after(TICKET, '{"id":"ab7')
    bias = copy_bias()
    assert biased(bias, state, "f", "d", gap, bias.lookup) == ("d" if wins else "f")


def test_copy_bias_never_where_a_token_can_end_the_value() -> None:
    state = state_after(TICKET, '{"id":"ab7')
    bias = copy_bias()
    bias.margin = bias.label_margin = 1e9
    for source in (bias.lookup, bias.labels):
        # The model ends the value where the copy goes on, or goes on where the copy ends it.
        assert biased(bias, state, '"}', "d", 0.5, source) == '"}'
        for ender in ('"}', '"', '","'):
            assert biased(bias, state, "f", ender, 0.0, source) == "f"
        assert biased(bias, state, "f", "d", 5.0, source) == "d"  # the margin alone allows it


def test_copy_bias_leaves_keys_to_the_model_but_not_to_a_label_draft() -> None:
    in_key = state_after(SITE, '{"cit')
    bias = copy_bias()
    assert biased(bias, in_key, "y", "e", 0.1, bias.lookup) == "y"
    assert biased(bias, in_key, "y", "e", LABEL_MARGIN, bias.labels) == "e"
    assert biased(bias, in_key, "y", "e", LABEL_MARGIN + JUST_OUT, bias.labels) == "y"
    assert biased(bias, in_key, "y", "x", 0.1, bias.labels) == "y"  # no such key
    # Outside a key a label draft has the label margin too; a prompt-lookup copy has its own.
    value = state_after(TICKET, '{"id":"ab7')
    assert biased(bias, value, "f", "d", 3.0, bias.labels) == "d"
    assert biased(bias, value, "f", "d", 3.0, bias.lookup) == "f"


def test_copy_bias_leaves_forced_tokens_alone() -> None:
    state = state_after(TICKET, '{"id":"ab7')
    bias = copy_bias()
    assert biased(bias, state, "f", "d", 0.0, None) == "f"
    other = PromptLookupDrafter(PromptLookup(TICKET_PROMPT))  # not the bias's drafter
    assert biased(bias, state, "f", "d", 0.0, other) == "f"


@pytest.mark.parametrize("gap, wins", [(MARGIN, True), (MARGIN + JUST_OUT, False)])
def test_copy_bias_at_a_step_uses_the_lookup_hint(gap: float, wins: bool) -> None:
    state = state_after(TICKET, '{"id":"ab7')
    bias = copy_bias()
    lookup = bias.lookup
    assert lookup is not None and lookup.hint(state) == tok("d")
    assert lookup.lookup.cursor == 0
    step = Position(scores({"f": 10.0, "d": 10.0 - gap}))
    assert step.step
    assert bias.apply(state, step, tok("f")) == tok("d" if wins else "f")
    # A hint taken moves the lookup's cursor past the copied token; one not taken does not.
    after_d = TICKET_PROMPT.index(tok("7")) + 2
    assert lookup.lookup.cursor == (after_d if wins else 0)


def test_copy_bias_at_a_step_without_a_hint_keeps_the_choice() -> None:
    unmatched = state_after(TICKET, '{"id":"zq')  # nowhere in the prompt
    bias = copy_bias()
    assert bias.lookup is not None and bias.lookup.hint(unmatched) is None
    step = Position(scores({"f": 10.0, "d": 10.0}))
    assert bias.apply(unmatched, step, tok("f")) == tok("f")
    no_lookup = CopyBias(MARGIN, LABEL_MARGIN, MODEL.closing_tokens, None, None)
    state = state_after(TICKET, '{"id":"ab7')
    assert no_lookup.apply(state, step, tok("f")) == tok("f")


# ---- the layout bias ---------------------------------------------------------------------------

ORDER = {"type": "object", "properties": {"items": {"type": "array", "items": {
    "type": "object", "properties": {"name": {"type": "string"}, "qty": {"type": "integer"}},
    "required": ["name"]}}}, "required": ["items"]}
NOTES = {"type": "object", "properties": {"note": {"type": "string"},
                                          "notes": {"type": "string"}}}
NOTE_TEXT = b"Note: Call back. Ask.\n"


def layout_bias(text: bytes = NOTE_TEXT) -> LayoutBias:
    return LayoutBias(LABEL_MARGIN, LabelDrafter(LabelLookup(text, MODEL.tokenize)))


def laid_out(bias: LayoutBias, state: DecodeState, choice: str, drafted: str, gap: float,
             source: Drafter | None) -> str:
    """The layout bias's token where the model chose ``choice`` and ``source`` drafted
    ``drafted``, ``gap`` lower."""
    pos = Position(scores({choice: 10.0, drafted: 10.0 - gap}), tok(drafted), source)
    return MODEL.pieces[bias.apply(state, pos, tok(choice))].decode()


@pytest.mark.parametrize("gap, wins", [(3.0, True), (LABEL_MARGIN, True),
                                       (LABEL_MARGIN + JUST_OUT, False)])
def test_layout_bias_ends_a_value_the_label_drafts_way(gap: float, wins: bool) -> None:
    """The model ends an item's name to write another property (``","``); the label draft ends
    the item (``"},{"``): the same text, then each its own ending."""
    state = state_after(ORDER, '{"items":[{"name":"Pen')
    bias = layout_bias()
    assert laid_out(bias, state, '","', '"},{"', gap, bias.labels) == ('"},{"' if wins else '","')


@pytest.mark.parametrize("gap, wins", [(3.0, True), (LABEL_MARGIN + JUST_OUT, False)])
def test_layout_bias_goes_on_with_a_string_the_model_closes(gap: float, wins: bool) -> None:
    state = state_after(NOTES, '{"note":"Call back.')
    bias = layout_bias()
    assert laid_out(bias, state, '"}', " ", gap, bias.labels) == (" " if wins else '"}')


def test_layout_bias_leaves_keys_and_other_tokens() -> None:
    bias = layout_bias()
    # Inside a key, closing it early is not the layout's to mend.
    in_key = state_after(NOTES, '{"note')
    assert laid_out(bias, in_key, '":"', "s", 0.0, bias.labels) == '":"'
    # Neither token ends the value: nothing to compare.
    value = state_after(NOTES, '{"note":"Call')
    assert laid_out(bias, value, "x", " ", 0.0, bias.labels) == "x"
    # The draft's ending is not one the grammar allows here (a list item in no list).
    assert laid_out(bias, value, '"}', '"},{"', 0.0, bias.labels) == '"}'


def test_layout_bias_ignores_lookup_drafts_and_forced_tokens() -> None:
    state = state_after(ORDER, '{"items":[{"name":"Pen')
    bias = layout_bias()
    lookup = PromptLookupDrafter(PromptLookup([]))
    sources: list[Drafter | None] = [lookup, None]
    for source in sources:
        assert laid_out(bias, state, '","', '"},{"', 0.0, source) == '","'


@pytest.mark.parametrize("gap, wins", [(3.0, True), (LABEL_MARGIN + JUST_OUT, False)])
def test_layout_bias_at_a_step_uses_the_pending_label_token(gap: float, wins: bool) -> None:
    bias = layout_bias()
    labels = bias.labels.labels
    assert labels.propose("note", 10, True) == MODEL.tokenize("Call back.")
    labels.accepted(10)  # the offer was kept whole: the draft goes on with " "
    assert labels.pending() == tok(" ")
    state = state_after(NOTES, '{"note":"Call back.')
    step = Position(scores({'"}': 10.0, " ": 10.0 - gap}))
    assert bias.apply(state, step, tok('"}')) == tok(" " if wins else '"}')
    labels.drop()  # no pending token: the model's choice stands
    step = Position(scores({'"}': 10.0, " ": 10.0 - gap}))
    assert bias.apply(state, step, tok('"}')) == tok('"}')
