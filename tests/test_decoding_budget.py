"""Budget closing, alone: when the closer is active, which tokens fit, and the completion it
appends; the tokens that spell a completion.

The closer runs on a :class:`DecodeState` over the real grammar engine with the scripted model's
vocabulary and tokenizer (``scripted_model``); the verify loop that asks it is tested in
test_decoding_loop.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from maaza_rt import GrammarMatcher, InternalError
from maaza_rt.decoding.budget import BudgetCloser, closing_tokens
from maaza_rt.decoding.state import DecodeState
from maaza_rt.schemas import compile_schema

sys.path.insert(0, str(Path(__file__).parent))
from scripted_model import ScriptedModel  # noqa: E402

MODEL = ScriptedModel({})
NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
SHORTEST = b'{"name":""}'  # the shortest value: 11 bytes, 7 of the model's tokens
OPEN = '{"name":"'  # 6 tokens


def tok(piece: str) -> int:
    """The token of a piece: a byte, or one of the scripted model's JSON pieces."""
    return MODEL.pieces.index(piece.encode())


def state_after(output: str, max_tokens: int, schema: dict = NAME) -> DecodeState:
    """A state whose output is ``output`` (the grammar accepts it)."""
    matcher = GrammarMatcher(compile_schema(schema), MODEL.vocabulary())
    state = DecodeState(matcher, MODEL.pieces, max_tokens, track_text=True)
    for t in MODEL.tokenize(output):
        state.accept(t)
    return state


def test_budget_inactive_when_the_shortest_value_does_not_fit() -> None:
    assert len(MODEL.tokenize(SHORTEST)) == 7
    for max_tokens, active in ((5, False), (6, False), (7, True), (11, True), (100, True)):
        # Active by bytes from 11 tokens on, by the completion's 7 tokens from 7 on.
        closer = BudgetCloser(MODEL, state_after("", max_tokens))
        assert closer.active == active, max_tokens
    state = state_after("", 6)
    inactive = BudgetCloser(MODEL, state)
    for t in MODEL.tokenize('{"name'):
        assert inactive.fits(t)
        state.accept(t)
    assert inactive.fits(tok("x"))  # whatever the room: the budget ends with an error instead


def test_budget_fits_false_near_the_limit() -> None:
    # After the open string, 1 token is left for a letter and 1 for the closing '"}' ...
    state = state_after(OPEN, len(MODEL.tokenize(OPEN)) + 2)
    closer = BudgetCloser(MODEL, state)
    assert closer.active and closer.fits(tok("A")) and closer.fits(tok('"}'))
    # ... and with 1 token left only the closing token fits.
    state = state_after(OPEN, len(MODEL.tokenize(OPEN)) + 1)
    closer = BudgetCloser(MODEL, state)
    assert not closer.fits(tok("A")) and closer.fits(tok('"}'))
    assert not closer.fits(tok('"'))  # then '}' would need one more
    # Far from the limit the completion is not even tokenized: its bytes fit.
    roomy = BudgetCloser(MODEL, state_after(OPEN, 64))
    assert roomy.fits(tok("A")) and roomy.state.completion_after(tok("A"), 57) == (2, None)


def test_budget_close_appends_the_shortest_completion() -> None:
    state = state_after('{"name":"Ada', 12)
    closer = BudgetCloser(MODEL, state)
    assert not closer.closed and closer.n_closing == 0
    n = len(state.out)
    closer.close()
    assert closer.closed and closer.n_closing == 1
    assert state.out[n:] == [tok('"}')] and state.output_text() == '{"name":"Ada"}'
    assert state.is_complete() and state.finished()
    # From the start the whole shortest value is appended, as the model would spell it.
    state = state_after("", 7)
    closer = BudgetCloser(MODEL, state)
    closer.close()
    assert state.text == SHORTEST and closer.n_closing == 7 and state.room == 0


def test_budget_close_raises_when_the_completion_cannot_be_spelled() -> None:
    state = state_after('{"name":"Ada', len(MODEL.tokenize('{"name":"Ada')))  # no room left
    closer = BudgetCloser(MODEL, state)
    with pytest.raises(InternalError, match="cannot spell the shortest completion"):
        closer.close()
    assert not closer.closed


def test_closing_tokens_use_the_models_split_or_single_bytes() -> None:
    # The split the model makes after the last token: '"}' as one token.
    assert closing_tokens(MODEL, tok("a"), b'"}', 1) == [tok('"}')]
    assert closing_tokens(MODEL, None, SHORTEST, 7) == MODEL.tokenize(SHORTEST)
    # Over the budget, and no shorter spelling: None.
    assert closing_tokens(MODEL, None, SHORTEST, 6) is None
    # After '"' the split of '"' + '}' would not reproduce it: '}' alone.
    assert closing_tokens(MODEL, tok('"'), b"}", 1) == [tok("}")]

    class Merging(ScriptedModel):
        """Spells a completion as one token the vocabulary does not hold as its bytes."""

        def tokenize(self, text: str | bytes, add_special: bool = False,
                     parse_special: bool = False) -> list[int]:
            return [tok("x")]

    merging = Merging({})
    # The split does not spell the bytes: single-byte tokens do, within the budget.
    assert closing_tokens(merging, None, b'"}', 2) == [tok('"'), tok("}")]
    assert closing_tokens(merging, None, b'"}', 1) is None


def test_closing_tokens_split_the_completion_with_the_last_token() -> None:
    class Table:
        """A tokenizer whose split of a completion depends on the byte before it, as a BPE's
        does: after ``\xc3`` (half of ``é``), ``\xa9"}`` is one token."""

        pieces = [b"\xc3", b"\xa9", b'"', b"}", b'\xa9"}']
        byte_tokens = {p[0]: i for i, p in enumerate(pieces) if len(p) == 1}
        splits = {b'\xc3\xa9"}': [0, 4], b'\xa9"}': [1, 2, 3]}

        def tokenize(self, text: bytes, add_special: bool, parse_special: bool = False
                     ) -> list[int]:
            return self.splits[text]

    table = Table()
    assert closing_tokens(table, 0, b'\xa9"}', 1) == [4]  # type: ignore[arg-type]
    assert closing_tokens(table, None, b'\xa9"}', 3) == [1, 2, 3]  # type: ignore[arg-type]
    assert closing_tokens(table, None, b'\xa9"}', 1) is None  # type: ignore[arg-type]


def test_budget_close_raises_when_the_completion_does_not_complete() -> None:
    class NeverComplete(GrammarMatcher):
        def is_complete(self) -> bool:
            return False

    matcher = NeverComplete(compile_schema(NAME), MODEL.vocabulary())
    state = DecodeState(matcher, MODEL.pieces, 12, track_text=True)
    closer = BudgetCloser(MODEL, state)
    with pytest.raises(InternalError, match="did not complete the value"):
        closer.close()


def test_closing_tokens_spell_the_completion() -> None:
    class Model:
        pieces = [b"a", b"b", b"ab", b'"', b"}", b'"}', b"\xc3", b"\xa9"]
        byte_tokens = {p[0]: i for i, p in enumerate(pieces) if len(p) == 1}

        def tokenize(self, text: bytes, add_special: bool, parse_special: bool) -> list[int]:
            # Longest match first, like a merge-everything tokenizer.
            out, i = [], 0
            while i < len(text):
                best = max((j for j, p in enumerate(self.pieces) if text.startswith(p, i)),
                           key=lambda j: len(self.pieces[j]))
                out.append(best)
                i += len(self.pieces[best])
            return out

    model = Model()
    assert closing_tokens(model, None, b'ab"}', 4) == [2, 5]  # type: ignore[arg-type]
    assert closing_tokens(model, 0, b'b"}', 4) == [1, 5]  # type: ignore[arg-type]
    # Too many tokens for the budget, and no shorter spelling: None.
    assert closing_tokens(model, None, b"abab", 1) is None  # type: ignore[arg-type]
    # After a token that ends inside a character, the split of its piece + completion is used.
    assert closing_tokens(model, 6, b'\xa9"}', 3) == [7, 5]  # type: ignore[arg-type]

    class Broken(Model):
        def tokenize(self, text: bytes, add_special: bool, parse_special: bool) -> list[int]:
            return []  # a split that does not reproduce the bytes

    broken = Broken()
    assert closing_tokens(broken, None, b'a"}', 3) == [0, 3, 4]  # type: ignore[arg-type]
    assert closing_tokens(broken, None, b'a"}', 2) is None  # type: ignore[arg-type]
