"""GrammarMatcher: token-level behaviour (multi-byte characters, tokens spanning elements, EOS,
rejections, control tokens), forced bytes, reset, numpy buffer checks, and masked logits and
greedy selection.

Masks against brute force and Python's `re` are tested in test_matcher_masks.py, shortest
completions in test_matcher_completion.py."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from maaza_rt.grammar import Grammar, GrammarMatcher

sys.path.insert(0, str(Path(__file__).parent))
from matcher_vocab import (  # noqa: E402
    CONTROL_ID,
    EOS_ID,
    JSONISH,
    TOKENS,
    VOCAB,
    mask_of,
    tid,
)


def test_matcher_multibyte_utf8_split_across_tokens() -> None:
    g = Grammar.from_gbnf("root ::= [é€]+")
    m = GrammarMatcher(g, VOCAB)
    assert m.accept_token(tid(b"\xc3"))
    assert not m.is_complete()
    assert not m.accept_token(tid(b"\xac")), "é's second byte is \\xa9, not \\xac"
    assert m.accept_token(tid(b"\xa9"))
    assert m.is_complete()
    assert m.accept_token(tid(b"\xe2\x82"))
    assert m.accept_token(tid(b"\xac"))
    assert m.accept_token(tid(b"\xc3\xa9"))
    assert m.is_complete()
    # Inside a character, only continuation bytes that lead to a member are in the mask.
    m2 = GrammarMatcher(g, VOCAB)
    assert m2.accept_token(tid(b"\xc3"))
    allowed = mask_of(m2, VOCAB)
    assert allowed == {i for i, t in enumerate(TOKENS) if t == b"\xa9"}, "duplicates included"


def test_matcher_token_spanning_elements() -> None:
    g = Grammar.from_gbnf(JSONISH)
    m = GrammarMatcher(g, VOCAB)
    for piece in [b'{"', b"a", b'":', b"123", b",", b'"a"', b":", b"true", b"}"]:
        assert m.accept_token(tid(piece)), piece
    assert m.is_complete()
    assert m.accept_token(EOS_ID)
    assert m.is_terminated()


def test_matcher_leading_space_tokens() -> None:
    g = Grammar.from_gbnf('root ::= "say" (" " [a-z]+)+')
    m = GrammarMatcher(g, VOCAB)
    assert m.accept_bytes(b"say")
    allowed = mask_of(m, VOCAB)
    assert tid(b" the") in allowed and tid(b" a") in allowed and tid(b" ") in allowed
    assert tid(b"  ") not in allowed and tid(b"a") not in allowed
    assert m.accept_token(tid(b" the"))
    assert m.accept_token(tid(b" a"))
    assert m.is_complete()


def test_matcher_eos_only_when_complete() -> None:
    g = Grammar.from_gbnf('root ::= "ab" "c"?')
    m = GrammarMatcher(g, VOCAB)
    assert EOS_ID not in mask_of(m, VOCAB)
    assert not m.accept_token(EOS_ID)
    assert m.accept_token(tid(b"ab"))
    assert m.is_complete() and not m.is_terminated()
    assert EOS_ID in mask_of(m, VOCAB)
    assert m.accept_token(EOS_ID)
    assert m.is_terminated()
    assert mask_of(m, VOCAB) == set()
    assert not m.accept_token(tid(b"c"))
    assert not m.accept_token(EOS_ID)


def test_matcher_terminated_when_nothing_can_follow() -> None:
    m = GrammarMatcher(Grammar.from_gbnf('root ::= "ab"'), VOCAB)
    assert m.accept_token(tid(b"ab"))
    assert m.is_complete() and m.is_terminated()
    assert mask_of(m, VOCAB) == {EOS_ID}


def test_matcher_rejection_leaves_state_unchanged() -> None:
    g = Grammar.from_gbnf(JSONISH)
    m = GrammarMatcher(g, VOCAB)
    assert m.accept_bytes(b'{"a":[1,')
    before = mask_of(m, VOCAB)
    assert not m.accept_token(tid(b"}"))
    assert not m.accept_token(tid(b"]"))
    assert not m.accept_token(tid(b","))
    assert not m.accept_token(CONTROL_ID)
    assert not m.accept_token(VOCAB.n_vocab)
    assert not m.accept_token(-1)
    assert not m.accept_bytes(b"2]]")
    assert mask_of(m, VOCAB) == before
    assert m.accept_bytes(b"2]}")
    assert m.is_complete()


def test_matcher_control_tokens_never_allowed() -> None:
    m = GrammarMatcher(Grammar.from_gbnf("root ::= [^a]*"), VOCAB)
    allowed = mask_of(m, VOCAB)
    assert CONTROL_ID not in allowed
    assert not m.accept_token(CONTROL_ID)


def test_matcher_forced_bytes() -> None:
    g = Grammar.from_gbnf('root ::= "{\\"name\\":" ("1" | "2") "}"')
    m = GrammarMatcher(g, VOCAB)
    assert m.forced_bytes() == b'{"name":'
    assert m.forced_bytes() == b'{"name":', "forced_bytes must not change the state"
    assert m.accept_bytes(b'{"name":2')
    assert m.forced_bytes() == b"}"
    assert m.accept_bytes(b"}")
    assert m.forced_bytes() == b""


def test_matcher_forced_bytes_multibyte_and_cap() -> None:
    m = GrammarMatcher(Grammar.from_gbnf('root ::= "é" "x"{300} "y"?'), VOCAB)
    forced = m.forced_bytes()
    assert forced == ("é" + "x" * 254).encode()
    assert len(forced) == 256
    m2 = GrammarMatcher(Grammar.from_gbnf('root ::= "ab" "c"?'), VOCAB)
    assert m2.forced_bytes() == b"ab"


def test_matcher_reset() -> None:
    m = GrammarMatcher(Grammar.from_gbnf('root ::= "ab"'), VOCAB)
    assert m.accept_bytes(b"ab") and m.accept_token(EOS_ID)
    m.reset()
    assert not m.is_complete() and not m.is_terminated()
    assert m.accept_bytes(b"a")


def test_matcher_memo_after_reset_and_rejections() -> None:
    g = Grammar.from_gbnf(JSONISH)
    m = GrammarMatcher(g, VOCAB)
    seen = []
    for piece in [b"[", b"1", b",", b'"a"', b"]"]:
        seen.append(mask_of(m, VOCAB))
        assert not m.accept_token(tid(b"}"))
        assert m.accept_bytes(piece)
    m.reset()
    for k, piece in enumerate([b"[", b"1", b",", b'"a"', b"]"]):
        assert mask_of(m, VOCAB) == seen[k]
        assert m.accept_bytes(piece)
    assert m.is_complete()


def test_matcher_numpy_buffer_checks() -> None:
    m = GrammarMatcher(Grammar.from_gbnf('root ::= "a"'), VOCAB)
    n_words = (VOCAB.n_vocab + 31) // 32
    with pytest.raises(TypeError):
        m.fill_mask(np.zeros(n_words, dtype=np.int64))
    with pytest.raises(ValueError):
        m.fill_mask(np.zeros(n_words - 1, dtype=np.uint32))
    with pytest.raises(ValueError):
        m.fill_mask(np.zeros((n_words, 2), dtype=np.uint32))
    with pytest.raises(ValueError):
        m.fill_mask(np.zeros(2 * n_words, dtype=np.uint32)[::2])
    ro = np.zeros(n_words, dtype=np.uint32)
    ro.flags.writeable = False
    with pytest.raises(ValueError):
        m.fill_mask(ro)
    with pytest.raises(TypeError):
        m.mask_logits(np.zeros(VOCAB.n_vocab, dtype=np.float64))
    with pytest.raises(ValueError):
        m.select_greedy(np.zeros(VOCAB.n_vocab - 1, dtype=np.float32))


def test_matcher_mask_logits_and_select_greedy() -> None:
    m = GrammarMatcher(Grammar.from_gbnf('root ::= "a" | "b"'), VOCAB)
    logits = np.arange(VOCAB.n_vocab + 5, dtype=np.float32)
    logits[ord("a")] = 1e6  # the raw argmax is allowed
    assert m.select_greedy(logits) == ord("a")
    logits[ord("a")] = -5.0
    assert m.select_greedy(logits) == ord("b"), "best allowed token, not the raw argmax"
    m.mask_logits(logits)
    finite = set(np.flatnonzero(np.isfinite(logits)).tolist())
    assert finite == {ord("a"), ord("b")}
    assert m.accept_token(ord("b"))
    assert m.select_greedy(np.zeros(VOCAB.n_vocab, dtype=np.float32)) == EOS_ID
    assert m.accept_token(EOS_ID)
    assert m.select_greedy(np.zeros(VOCAB.n_vocab, dtype=np.float32)) == -1


def test_matcher_select_greedy_equals_masked_argmax() -> None:
    g = Grammar.from_gbnf(JSONISH)
    m = GrammarMatcher(g, VOCAB)
    rng = np.random.default_rng(5)
    for step in range(40):
        logits = rng.standard_normal(VOCAB.n_vocab + 3).astype(np.float32)
        if step % 3 == 0:
            logits[rng.integers(0, VOCAB.n_vocab)] = 100.0  # a raw argmax, maybe not allowed
        masked = logits.copy()
        m.mask_logits(masked)
        expected = int(np.argmax(masked[: VOCAB.n_vocab]))
        assert np.isneginf(masked[VOCAB.n_vocab :]).all()
        choice = m.select_greedy(logits)
        assert choice == expected, (step, choice, expected)
        if choice == EOS_ID:
            break
        assert m.accept_token(choice)
