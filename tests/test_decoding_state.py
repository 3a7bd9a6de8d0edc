"""DecodeState: what one generation has written, and its timed calls on the grammar matcher.

The state runs over the real grammar engine with the scripted model's vocabulary (every byte, an
end-of-generation token, a few JSON punctuation pieces; ``scripted_model``).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from maaza_rt import GenerationLimitError, GrammarMatcher, InternalError
from maaza_rt.decoding.state import DecodeState
from maaza_rt.schemas import compile_schema

sys.path.insert(0, str(Path(__file__).parent))
from scripted_model import EOG, ScriptedModel  # noqa: E402

NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
MODEL = ScriptedModel({})


def tok(piece: bytes) -> int:
    return MODEL.pieces.index(piece)


def new_state(schema: object = NAME, max_tokens: int = 32, track_text: bool = True
              ) -> DecodeState:
    matcher = GrammarMatcher(compile_schema(schema), MODEL.vocabulary())
    return DecodeState(matcher, MODEL.pieces, max_tokens, track_text=track_text)


def write(state: DecodeState, text: str) -> list[int]:
    tokens = MODEL.tokenize(text)
    for t in tokens:
        state.accept(t)
    return tokens


def test_state_accept_extends_out_text_and_scan() -> None:
    state = new_state(max_tokens=20)
    assert state.out == [] and state.text == b"" and not state.scan.in_string
    tokens = write(state, '{"name":"Ad')
    assert tokens[0] == tok(b'{"') and tok(b'":"') in tokens  # pieces, not bytes alone
    assert state.out == tokens
    assert state.text == b'{"name":"Ad' and state.output_bytes() == b'{"name":"Ad'
    assert state.output_text() == '{"name":"Ad' and state.tail(3) == b'"Ad'
    assert state.scan.in_string and not state.scan.in_key
    assert state.room == 20 - len(tokens)
    write(state, '"}')
    assert state.text == b'{"name":"Ad"}' and not state.scan.in_string
    assert state.is_complete()


def test_state_in_a_key_and_untracked_text() -> None:
    state = new_state()
    write(state, '{"na')
    assert state.scan.in_string and state.scan.in_key
    plain = new_state(track_text=False)
    write(plain, '{"na')
    # Without text tracking the tokens still count; the bytes are not kept.
    assert plain.out == state.out and plain.output_text() == '{"na'
    assert plain.text is None and plain.output_bytes() is None and plain.tail() == b""
    assert not plain.scan.in_string


def test_state_rejects_a_token_the_grammar_does_not_allow() -> None:
    state = new_state()
    write(state, '{"')
    before = (list(state.out), bytes(state.text or b""))
    assert not state.allows(ord("x")) and state.allows(ord("n"))
    with pytest.raises(InternalError, match="rejected token 120"):
        state.accept(ord("x"))
    assert (state.out, bytes(state.text or b"")) == before  # nothing was written
    state.accept(ord("n"))
    assert state.text == b'{"n'


def test_state_finished_raises_with_the_partial_text_at_the_budget() -> None:
    state = new_state(max_tokens=3)
    state.accept(tok(b'{"'))
    state.accept(ord("n"))
    assert not state.finished()
    state.accept(ord("a"))
    with pytest.raises(GenerationLimitError) as info:
        state.finished()
    assert info.value.partial_text == '{"na' and info.value.n_tokens == 3
    assert "max_tokens=3" in str(info.value)


def test_state_finished_at_a_complete_value_or_a_terminated_grammar() -> None:
    number = new_state({"type": "integer"}, max_tokens=2)
    number.accept(ord("1"))
    assert not number.finished()  # complete, but more digits may follow and there is room
    number.accept(ord("2"))
    assert number.finished()  # the budget is spent with a complete value
    state = new_state(max_tokens=32)
    write(state, '{"name":"A"}')
    assert state.room > 0 and state.finished()  # the grammar is terminated


def test_state_grammar_calls() -> None:
    state = new_state()
    assert state.forced_bytes() == b'{"name":"'
    assert state.completion_distance() == len(b'{"name":""}')
    assert state.shortest_completion() == b'{"name":""}'
    write(state, '{"name":"A')
    assert state.forced_bytes() == b""
    # After a closing token nothing is left; after a letter the quote and brace are, returned
    # as bytes only when they are over the room given.
    assert state.completion_after(tok(b'"}'), 0) == (0, None)
    assert state.completion_after(ord("b"), 2) == (2, None)
    assert state.completion_after(ord("b"), 1) == (2, b'"}')
    logits = np.zeros(MODEL.n_vocab, dtype=np.float32)
    logits[ord("x")] = 5.0
    logits[tok(b'"}')] = 3.0
    assert state.select_greedy(logits) == ord("x")  # in a string a letter is allowed
    masked = logits.copy()
    state.mask_logits(masked)
    assert np.isfinite(masked[ord("x")]) and not np.isfinite(masked[EOG])


def test_state_select_greedy_raises_where_nothing_is_allowed() -> None:
    state = new_state()
    write(state, '{"name":"A"}')
    state.accept(EOG)
    with pytest.raises(InternalError, match="allows no token"):
        state.select_greedy(np.zeros(MODEL.n_vocab, dtype=np.float32))


def test_state_grammar_time_grows_with_every_call() -> None:
    state = new_state()
    assert state.grammar_ns == 0
    logits = np.zeros(MODEL.n_vocab, dtype=np.float32)
    calls = [lambda: state.forced_bytes(), lambda: state.completion_distance(),
             lambda: state.allows(tok(b'{"')), lambda: state.select_greedy(logits),
             lambda: state.mask_logits(logits.copy()), lambda: state.shortest_completion(),
             lambda: state.completion_after(tok(b'{"'), 0), lambda: state.accept(tok(b'{"'))]
    for call in calls:
        before = state.grammar_ns
        call()
        assert state.grammar_ns > before, call


def test_state_token_prob_is_the_softmax_over_allowed_tokens() -> None:
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}, "n": {"type": "integer"}},
              "required": ["ok", "n"]}
    state = new_state(schema)
    logits = np.random.default_rng(7).normal(0.0, 3.0, MODEL.n_vocab).astype(np.float32)
    original = logits.copy()
    # forced bytes: every token inside them is certain, whatever its logit
    assert state.token_prob(logits, tok(b'{"')) == 1.0
    assert state.token_prob(logits, ord("{")) == 1.0
    write(state, '{"ok":')
    allowed = [t for t in range(MODEL.n_vocab) if state.allows(t)]
    assert ord("t") in allowed and ord("f") in allowed and ord("x") not in allowed
    total = sum(math.exp(float(logits[t])) for t in allowed)
    for t in allowed:
        assert state.token_prob(logits, t) == pytest.approx(math.exp(float(logits[t])) / total,
                                                            rel=1e-6)
    assert sum(state.token_prob(logits, t) for t in allowed) == pytest.approx(1.0)
    assert np.array_equal(logits, original)  # the logits are read, not masked
    with pytest.raises(InternalError, match="not allowed"):
        state.token_prob(logits, ord("x"))
    write(state, "true")
    assert state.token_prob(logits, tok(b',"')) == 1.0  # "n" is required: ,"n": is forced
