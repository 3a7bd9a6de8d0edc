"""Drafters, each alone: what each proposes in which situation, and how feedback adapts it.

Each drafter runs on a :class:`DecodeState` over the real grammar engine with the scripted
model's vocabulary and tokenizer (``scripted_model``: bytes and a few JSON punctuation pieces).
The verify loop that checks the drafts is tested in test_decoding_loop.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from maaza_rt import GrammarMatcher
from maaza_rt.decoding.drafters import (
    DRAFT_START,
    JUMP_START,
    LABEL_START,
    MAX_DRAFT,
    MAX_JUMP,
    MIN_SPECULATIVE,
    Draft,
    JumpForward,
    LabelDrafter,
    PromptLookupDrafter,
    forced_tokens,
)
from maaza_rt.decoding.state import DecodeState
from maaza_rt.prompt_lookup import PromptLookup
from maaza_rt.schemas import compile_schema

sys.path.insert(0, str(Path(__file__).parent))
from scripted_model import ScriptedModel  # noqa: E402

MODEL = ScriptedModel({})


def tok(piece: str) -> int:
    """The token of a piece: a byte, or one of the scripted model's JSON pieces."""
    return MODEL.pieces.index(piece.encode())


def spell(tokens: list[int]) -> bytes:
    return b"".join(MODEL.pieces[t] for t in tokens)


def state_after(schema: dict, output: str, max_tokens: int = 64) -> DecodeState:
    """A state whose output is ``output`` (the grammar accepts it)."""
    matcher = GrammarMatcher(compile_schema(schema), MODEL.vocabulary())
    state = DecodeState(matcher, MODEL.pieces, max_tokens, track_text=True)
    for t in MODEL.tokenize(output):
        state.accept(t)
    return state


PAYMENT = {"type": "object", "properties": {"transaction_id": {"type": "string"}},
           "required": ["transaction_id"]}
PAYMENT_TEXT = "Order 5c1f-02 shipped.\nTransaction ID: 4a9e-77\n"
FORCED_KEY = b'transaction_id":"'  # what the grammar forces after '{"'

# ---- jump-forward ------------------------------------------------------------------------------


def test_jump_forward_proposes_the_forced_tokens_within_cap_and_room() -> None:
    state = state_after(PAYMENT, '{"')
    forced = state.forced_bytes()
    assert forced == FORCED_KEY
    jump = JumpForward(MODEL)
    assert jump.cap == JUMP_START
    draft = jump.propose(state, tok('{"'), forced, Draft())
    every = MODEL.tokenize(FORCED_KEY)
    assert draft.forced == every[:JUMP_START] and not draft.drafted and draft.source is None
    jump.cap = MAX_JUMP
    assert spell(jump.propose(state, tok('{"'), forced, Draft()).forced) == FORCED_KEY
    tight = state_after(PAYMENT, '{"', max_tokens=6)  # room for 5 more tokens
    assert jump.propose(tight, tok('{"'), forced, Draft()).forced == every[:5]


def test_jump_forward_without_forced_bytes_keeps_the_draft() -> None:
    state = state_after(PAYMENT, '{"transaction_id":"4a')
    assert state.forced_bytes() == b""
    before = Draft([], [tok("9")], None)
    assert JumpForward(MODEL).propose(state, tok("a"), b"", before) is before


def test_forced_tokens_split_as_the_model_would_after_the_last_token() -> None:
    # '{"' then 'name":"': tokenized together, '{"' comes back first, so the rest is used.
    assert forced_tokens(MODEL, tok('{"'), b'name":"', 64) == MODEL.tokenize('name":"')
    assert forced_tokens(MODEL, tok('{"'), b'name":"', 2) == [tok("n"), tok("a")]
    # '"' then '}' would be one token '"}', which does not reproduce the committed '"': the
    # forced bytes are tokenized alone.
    assert forced_tokens(MODEL, tok('"'), b"}", 8) == [tok("}")]

    class Garbling:
        pieces = MODEL.pieces
        byte_tokens = MODEL.byte_tokens

        def tokenize(self, text: bytes, add_special: bool, parse_special: bool = False
                     ) -> list[int]:
            return [tok("x")] * len(text)

    # A split that does not spell the forced bytes is not offered.
    assert forced_tokens(Garbling(), tok('{"'), b'name":"', 8) == []  # type: ignore[arg-type]


def test_jump_forward_feedback_cuts_to_the_kept_part_and_doubles_after_a_whole_run() -> None:
    jump = JumpForward(MODEL)
    jump.feedback(JUMP_START, 5, tok("x"))
    assert jump.cap == 5  # the kept length
    jump.feedback(5, 1, tok("x"))
    assert jump.cap == MIN_SPECULATIVE  # never below a batch worth feeding
    jump.feedback(MIN_SPECULATIVE, MIN_SPECULATIVE, None)
    assert jump.cap == 2 * MIN_SPECULATIVE
    jump.feedback(2, 2, None)
    assert jump.cap == 2 * MIN_SPECULATIVE  # fewer offered than the cap: no evidence to grow
    for _ in range(8):
        jump.feedback(jump.cap, jump.cap, None)
    assert jump.cap == MAX_JUMP
    jump.reset()
    assert jump.cap == JUMP_START


# ---- prompt lookup -----------------------------------------------------------------------------

TICKET = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}
SITE = {"type": "object", "properties": {"city": {"type": "string"}, "cite": {"type": "string"}}}
TICKET_PROMPT = MODEL.tokenize("Extract JSON.\nTicket ab7d-93f1 was opened.\nBye.\n")


def prompt_lookup(prompt: list[int] = TICKET_PROMPT) -> PromptLookupDrafter:
    return PromptLookupDrafter(PromptLookup(prompt, MODEL.control_tokens, MODEL.short_tokens))


def test_prompt_lookup_drafts_a_copy_in_a_value() -> None:
    state = state_after(TICKET, '{"id":"ab7')
    drafter = prompt_lookup()
    assert drafter.cap == DRAFT_START
    draft = drafter.propose(state, tok("7"), b"", Draft())
    assert spell(draft.drafted) == b"d-93f1 w"[:DRAFT_START] and draft.source is drafter
    assert not draft.forced
    drafter.cap = MAX_DRAFT
    # A copy stops at the end of the line.
    assert spell(drafter.propose(state, tok("7"), b"", Draft()).drafted) == b"d-93f1 was opened."
    tight = state_after(TICKET, '{"id":"ab7', max_tokens=len(MODEL.tokenize('{"id":"ab7')) + 2)
    assert spell(drafter.propose(tight, tok("7"), b"", Draft()).drafted) == b"d-"
    assert drafter.hint(state) == tok("d")
    assert drafter.hint(state_after(TICKET, '{"id":"zq')) is None


def test_prompt_lookup_does_not_draft_after_a_draft_or_in_a_key() -> None:
    state = state_after(TICKET, '{"id":"ab7')
    drafter = prompt_lookup()
    forced = Draft([tok("d")])
    assert drafter.propose(state, tok("7"), b"d", forced) is forced
    # In a key the text has a copy ("cite"), but which property to write is the model's call.
    in_key = state_after(SITE, '{"cit')
    drafter = prompt_lookup(MODEL.tokenize("Extract JSON.\nWe cite Paris.\n"))
    assert drafter.lookup.propose(in_key.out, 8) == MODEL.tokenize("e Paris.")
    assert drafter.propose(in_key, tok("t"), b"", Draft()).empty()


def test_prompt_lookup_feedback_adapts_the_cap_and_advances_the_copy() -> None:
    state = state_after(TICKET, '{"id":"ab7')
    drafter = prompt_lookup()
    drafter.propose(state, tok("7"), b"", Draft())
    at = TICKET_PROMPT.index(tok("d"))
    drafter.feedback(DRAFT_START, 3, tok("x"))
    assert drafter.lookup.cursor == at + 3  # later copies go on after the kept part
    assert drafter.cap == 3 + 1  # one past the kept part
    drafter.feedback(4, 0, tok("x"))
    assert drafter.cap == MIN_SPECULATIVE and drafter.lookup.cursor == at + 3
    for _ in range(6):
        drafter.feedback(drafter.cap, drafter.cap, None)
    assert drafter.cap == MAX_DRAFT
    drafter.reset()
    assert drafter.cap == DRAFT_START


def test_prompt_lookup_hint_taken_advances_the_copy() -> None:
    state = state_after(TICKET, '{"id":"ab7')
    drafter = prompt_lookup()
    assert drafter.hint(state) == tok("d") and drafter.lookup.cursor == 0
    drafter.hint_taken()
    assert drafter.lookup.cursor == TICKET_PROMPT.index(tok("d")) + 1


# ---- label drafts ------------------------------------------------------------------------------


def label_drafter(text: str = PAYMENT_TEXT, schema: dict = PAYMENT) -> LabelDrafter:
    return LabelDrafter(MODEL.label_lookup(text, schema))


def jump_draft(state: DecodeState, cap: int = MAX_JUMP) -> Draft:
    jump = JumpForward(MODEL)
    jump.cap = cap
    return jump.propose(state, state.out[-1], state.forced_bytes(), Draft())


def test_label_drafter_drafts_the_labelled_value_after_a_forced_key() -> None:
    state = state_after(PAYMENT, '{"')
    jumped = jump_draft(state)
    drafter = label_drafter()
    assert drafter.cap == LABEL_START
    draft = drafter.propose(state, tok('{"'), FORCED_KEY, jumped)
    assert draft.forced == jumped.forced and draft.source is drafter
    assert spell(draft.drafted) == b'4a9e-77"}'  # the labelled line, not the first id
    # A jump-forward draft cut short does not spell the key: no value is drafted after it.
    short = jump_draft(state, cap=4)
    assert label_drafter().propose(state, tok('{"'), FORCED_KEY, short) is short


def test_label_drafter_drafts_the_value_after_a_key_written_by_the_model() -> None:
    state = state_after(PAYMENT, '{"transaction_id":"')
    drafter = label_drafter()
    draft = drafter.propose(state, tok('":"'), b"", Draft())
    assert spell(draft.drafted) == b'4a9e-77"}' and draft.source is drafter
    drafter.cap = 3
    assert drafter.propose(state, tok('":"'), b"", Draft()).drafted == MODEL.tokenize("4a9")


CONTACT = {"type": "object", "properties": {"name": {"type": "string"},
                                            "email": {"type": "string"}}}
CONTACT_TEXT = "Contact\nEmail: ada@x.org\n"


def test_label_drafter_drafts_the_next_labelled_key_in_a_key_just_opened() -> None:
    state = state_after(CONTACT, '{"')
    assert state.forced_bytes() == b""  # either property may come
    drafter = label_drafter(CONTACT_TEXT, CONTACT)
    draft = drafter.propose(state, tok('{"'), b"", Draft())
    assert spell(draft.drafted) == b'email":"ada@x.org"}' and draft.source is drafter
    # Not after a draft of another part, and not in a key already begun.
    other = Draft([], [tok("n")], None)
    assert label_drafter(CONTACT_TEXT, CONTACT).propose(state, tok('{"'), b"", other) is other
    begun = state_after(CONTACT, '{"na')
    assert label_drafter(CONTACT_TEXT, CONTACT).propose(begun, tok("a"), b"", Draft()).empty()


def test_label_drafter_drafts_nothing_inside_a_value() -> None:
    state = state_after(PAYMENT, '{"transaction_id":"4a')
    assert label_drafter().propose(state, tok("a"), b"", Draft()).empty()


def test_label_drafter_goes_on_with_a_draft_longer_than_its_batch() -> None:
    drafter = label_drafter()
    drafter.cap = 3
    state = state_after(PAYMENT, '{"transaction_id":"')
    first = drafter.propose(state, tok('":"'), b"", Draft())
    assert first.drafted == MODEL.tokenize("4a9")
    drafter.feedback(3, 3, None)  # all kept: the draft goes on with its next token
    assert drafter.labels.pending() == tok("e") and drafter.cap == 6
    # The model chose that token itself: the rest of the draft follows, capped.
    followed = state_after(PAYMENT, '{"transaction_id":"4a9e')
    drafter.cap = 2
    rest = drafter.propose(followed, tok("e"), b"", Draft())
    assert rest.source is drafter and spell(rest.drafted) == b"-7"
    drafter.feedback(2, 2, None)
    followed = state_after(PAYMENT, '{"transaction_id":"4a9e-77')
    rest = drafter.propose(followed, tok("7"), b"", Draft())
    assert spell(rest.drafted) == b'"}'  # the draft's last token, within the doubled cap
    # Where the grammar forces bytes after the pending token, the rest of the draft, which
    # spells them, is offered in their place.
    drafter = label_drafter(CONTACT_TEXT, CONTACT)
    drafter.cap = 2
    drafter.propose(state_after(CONTACT, '{"'), tok('{"'), b"", Draft())
    drafter.feedback(2, 2, None)
    assert drafter.labels.pending() == tok("a") and drafter.cap == 4
    key = state_after(CONTACT, '{"ema')
    assert key.forced_bytes() == b'il":"'
    rest = drafter.propose(key, tok("a"), b'il":"', Draft())
    assert rest.source is drafter and rest.drafted == MODEL.tokenize('il":"a')
    # The model chose another token: the draft is dropped, and nothing else applies here.
    drafter = label_drafter()
    drafter.cap = 3
    drafter.propose(state, tok('":"'), b"", Draft())
    drafter.feedback(3, 3, None)
    parted = state_after(PAYMENT, '{"transaction_id":"4a9f')
    assert drafter.propose(parted, tok("f"), b"", Draft()).empty()
    assert drafter.labels.pending() is None


def test_label_drafter_feedback_adapts_the_cap_advances_and_respells() -> None:
    drafter = label_drafter()
    state = state_after(PAYMENT, '{"transaction_id":"')
    draft = drafter.propose(state, tok('":"'), b"", Draft())
    assert drafter.labels.cursor == 0
    n = len(draft.drafted)
    # The model wrote the value, then '"' where the draft has '"}': the same bytes spelled
    # another way, so the draft goes on after the model's token.
    drafter.feedback(n, n - 1, tok('"'))
    assert drafter.cap == max(MIN_SPECULATIVE, n)
    assert drafter.labels.cursor == PAYMENT_TEXT.index("4a9e-77") + len("4a9e-77")
    assert drafter.labels.pending() == tok('"')
    drafter = label_drafter()
    drafter.propose(state, tok('":"'), b"", Draft())
    drafter.feedback(n, 0, tok("5"))  # nothing kept: the labelled line is still ahead
    assert drafter.labels.cursor == 0 and drafter.labels.pending() is None
    drafter.cap = LABEL_START
    drafter.feedback(LABEL_START, LABEL_START, None)
    assert drafter.cap == min(2 * LABEL_START, MAX_DRAFT)
    drafter.reset()
    assert drafter.cap == LABEL_START


@pytest.mark.parametrize("cap", [1, 2, 5])
def test_label_drafter_respects_room(cap: int) -> None:
    base = len(MODEL.tokenize('{"transaction_id":"'))
    state = state_after(PAYMENT, '{"transaction_id":"', max_tokens=base + cap)
    draft = label_drafter().propose(state, tok('":"'), b"", Draft())
    assert draft.drafted == MODEL.tokenize("4a9e-77")[:cap]
