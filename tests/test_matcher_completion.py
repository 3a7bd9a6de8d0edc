"""GrammarMatcher's shortest completion and completion distance: on fixed grammars, partial
characters, schema keywords, after a token without changing the state, and on random grammars
against Python's `re`."""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maaza_rt import InternalError
from maaza_rt.grammar import Grammar, GrammarMatcher

sys.path.insert(0, str(Path(__file__).parent))
from matcher_vocab import (  # noqa: E402
    ALPHABET,
    CONTROL_ID,
    EOS_ID,
    JSONISH,
    TOKENS,
    VOCAB,
    mask_of,
    regular_exprs,
    tid,
)


def test_matcher_shortest_completion_follows_the_grammar() -> None:
    g = Grammar.from_gbnf('root ::= "ab" ("xyz" | "c" [0-9]{2,}) "."?')
    m = GrammarMatcher(g, VOCAB)
    assert (m.completion_distance(), m.shortest_completion()) == (5, b"abxyz")
    assert m.accept_bytes(b"abc")
    assert (m.completion_distance(), m.shortest_completion()) == (2, b"00")
    assert m.accept_bytes(b"1")
    assert m.shortest_completion() == b"0"
    assert m.accept_bytes(b"7")
    assert m.is_complete()
    assert (m.completion_distance(), m.shortest_completion()) == (0, b"")
    assert m.accept_token(EOS_ID) and m.is_terminated()
    assert (m.completion_distance(), m.shortest_completion()) == (0, b"")


def test_matcher_shortest_completion_of_a_partial_character() -> None:
    g = Grammar.from_gbnf('root ::= [é€] "!"')
    m = GrammarMatcher(g, VOCAB)
    assert m.shortest_completion() == "é!".encode()
    assert m.accept_bytes(b"\xe2")  # the lead byte of €: only € can follow
    assert m.completion_distance() == 3
    assert m.shortest_completion() == b"\x82\xac!"
    assert m.accept_bytes(b"\x82")
    assert m.shortest_completion() == b"\xac!"


def test_matcher_completion_distance_after_token_leaves_state() -> None:
    g = Grammar.from_gbnf(JSONISH)
    m = GrammarMatcher(g, VOCAB)
    assert m.accept_bytes(b'{"a":')
    assert m.completion_distance() == 2  # 0}
    assert m.completion_distance_after(tid(b'"a"')) == 1
    assert m.completion_distance_after(tid(b"[")) == 2  # ]}
    assert m.completion_distance_after(tid(b"}")) == -1
    assert m.completion_distance_after(EOS_ID) == -1
    assert m.completion_distance_after(CONTROL_ID) == -1
    assert m.completion_distance_after(VOCAB.n_vocab) == -1
    assert m.completion_distance() == 2
    assert m.shortest_completion_after(tid(b"[")) == b"]}"
    assert m.shortest_completion_after(tid(b"12")) == b"}"
    with pytest.raises(InternalError, match="not allowed"):
        m.shortest_completion_after(tid(b"}"))
    with pytest.raises(ValueError, match="max_bytes=1"):
        m.shortest_completion_after(tid(b"["), max_bytes=1)
    assert m.accept_bytes(b"1}")
    assert m.completion_distance_after(EOS_ID) == 0
    assert m.shortest_completion_after(EOS_ID) == b""


def test_matcher_shortest_completion_max_bytes() -> None:
    m = GrammarMatcher(Grammar.from_gbnf('root ::= "x"{1000}'), VOCAB)
    assert m.completion_distance() == 1000
    with pytest.raises(ValueError, match="1000 bytes"):
        m.shortest_completion(max_bytes=999)
    assert m.shortest_completion(max_bytes=1000) == b"x" * 1000


def test_matcher_shortest_completion_of_schema_keywords() -> None:
    """minLength, minItems, required properties, enums, patterns and number bounds are the
    grammar's business: the completion of an empty document is the smallest valid one."""
    import jsonschema

    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{3}$"},
            "name": {"type": "string", "minLength": 4},
            "tags": {"type": "array", "items": {"enum": ["alpha", "be"]}, "minItems": 3},
            "score": {"type": "number", "minimum": 10.5},
            "count": {"type": "integer", "minimum": 100},
            "kind": {"const": "thing"},
            "note": {"type": "string"},
        },
        "required": ["id", "name", "tags", "score", "count", "kind"],
    }
    g = Grammar.from_json_schema(schema)
    m = GrammarMatcher(g, VOCAB)
    text = m.shortest_completion()
    value = json.loads(text)
    jsonschema.validate(value, schema)
    assert "note" not in value
    assert len(value["name"]) == 4 and value["tags"] == ["be"] * 3
    assert value["count"] == 100 and re.fullmatch("[A-Z]{2}-[0-9]{3}", value["id"])
    assert len(text) == m.completion_distance()


def shorter_completion_exists(rx: re.Pattern[str], prefix: str, n_bytes: int) -> bool:
    """Whether some string of fewer than ``n_bytes`` bytes over the test alphabet (plus NUL, the
    smallest character of negated classes) completes ``prefix`` to a full match of ``rx``."""
    alphabet = ALPHABET + "é\x00"
    frontier = [""] if n_bytes > 0 else []
    while frontier:
        if any(rx.fullmatch(prefix + s) for s in frontier):
            return True
        frontier = [s + c for s in frontier for c in alphabet if len((s + c).encode()) < n_bytes]
    return False


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=regular_exprs(), seed=st.integers(0, 2**32 - 1))
def test_matcher_random_grammars_shortest_completion(expr: tuple[str, str], seed: int) -> None:
    """Along a random accepted token walk, the shortest completion is accepted byte by byte and
    completes the value; its length is the distance, which agrees with the distance looked up
    through each token; and Python's `re` finds nothing shorter."""
    gbnf, pattern = expr
    g = Grammar.from_gbnf("root ::= " + gbnf)
    rx = re.compile(pattern, re.DOTALL)
    m = GrammarMatcher(g, VOCAB)
    rng = random.Random(seed)
    done = b""
    for _ in range(6):
        distance = m.completion_distance()
        completion = m.shortest_completion()
        assert len(completion) == distance, f"{done!r}\n{gbnf}"
        assert rx.fullmatch((done + completion).decode("utf-8")), f"{done!r} {completion!r}\n{gbnf}"
        try:
            whole = done.decode("utf-8")
        except UnicodeDecodeError:
            whole = None  # inside a character
        if whole is not None and distance <= 4:
            assert not shorter_completion_exists(rx, whole, distance), f"{done!r}\n{gbnf}"
        probe = GrammarMatcher(g, VOCAB)
        assert probe.accept_bytes(done)
        for b in completion:
            assert not probe.is_complete()
            assert probe.accept_token(b), f"{done!r} + {completion!r}\n{gbnf}"
        assert probe.is_complete()
        allowed = sorted(mask_of(m, VOCAB))
        if not allowed or m.is_terminated():
            break
        token = rng.choice(allowed)
        after = m.completion_distance_after(token)
        after_text = m.shortest_completion_after(token)
        assert m.completion_distance() == distance, "completion_distance_after changed the state"
        assert m.shortest_completion() == completion, "shortest_completion_after changed it"
        assert m.accept_token(token)
        assert after == m.completion_distance(), f"{done!r} + {TOKENS[token]!r}\n{gbnf}"
        assert after_text == m.shortest_completion(), f"{done!r} + {TOKENS[token]!r}\n{gbnf}"
        done += TOKENS[token] if token != EOS_ID else b""
