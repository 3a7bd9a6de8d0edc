"""Grounded values: a matcher bound to a text accepts only strings that are substrings of it and
numbers it writes, checked against a direct definition on random texts and values."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maaza_rt import Grammar, GrammarMatcher, SchemaError, Vocabulary
from maaza_rt.grounding_text import collapse_whitespace, text_number_literals

BYTE_VOCAB = Vocabulary([bytes([i]) for i in range(256)] + [b"</s>"], [256])


def matcher(schema: dict, text: str | None, vocab: Vocabulary = BYTE_VOCAB) -> GrammarMatcher:
    m = GrammarMatcher(Grammar.from_json_schema(schema, grounded=True), vocab)
    if text is not None:
        m.bind_text(text)
    return m


def accepts(m: GrammarMatcher, value: object) -> bool:
    m.reset()
    doc = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return m.accept_bytes(doc.encode()) and m.is_complete()


STRING = {"type": "object", "properties": {"v": {"type": "string"}}, "required": ["v"]}
NONEMPTY = {"type": "object", "properties": {"v": {"type": "string", "minLength": 1}},
            "required": ["v"]}

# Texts over a small alphabet with the characters that matter: spaces and line breaks (collapsed),
# quotes and backslashes (escaped), multi-byte characters (boundaries).
ALPHABET = "ab c\n\t\"\\é€😀1,.-"
texts = st.text(alphabet=ALPHABET, max_size=30)


@settings(max_examples=300, deadline=None)
@given(texts, st.data())
def test_a_string_is_accepted_exactly_when_it_is_a_substring(text: str,
                                                              data: st.DataObject) -> None:
    m = matcher(STRING, text)
    norm = collapse_whitespace(text)
    for source in (norm, text):  # as written, or with whitespace runs as one space
        i = data.draw(st.integers(0, len(source)))
        j = data.draw(st.integers(i, len(source)))
        assert accepts(m, {"v": source[i:j]})
    other = data.draw(st.text(alphabet=ALPHABET, max_size=6))
    assert accepts(m, {"v": other}) == (other in norm or other in text)


def test_whitespace_runs_as_written_or_as_one_space_and_escapes_have_one_spelling() -> None:
    m = matcher(STRING, 'Ship to 12 Main St\n   Springfield; say "hi" \\ bye\tnow')
    assert accepts(m, {"v": "12 Main St Springfield"})
    assert accepts(m, {"v": "12 Main St\n   Springfield"})
    assert not accepts(m, {"v": "12 Main St\nSpringfield"})  # neither as written nor collapsed
    assert not accepts(m, {"v": "12 Main St  Springfield"})
    assert accepts(m, {"v": 'say "hi" \\ bye\tnow'}) and accepts(m, {"v": "bye now"})
    for prefix in (b'{"v":"say \\u0022hi', b'{"v":"St\\u000a', b'{"v":"St\\/'):
        m.reset()
        assert not m.accept_bytes(prefix)  # one spelling: no \u or \/ forms
    assert not accepts(m, {"v": "string"})


def test_a_value_never_starts_or_ends_inside_a_character() -> None:
    m = matcher(STRING, "x€y")
    euro = "€".encode()
    m.reset()
    assert not m.accept_bytes(b'{"v":"' + euro[1:])
    m.reset()
    assert m.accept_bytes(b'{"v":"x' + euro[:2])
    assert not m.accept_bytes(b'"')
    assert m.accept_bytes(euro[2:] + b'"}')


@pytest.mark.parametrize("text", [
    b"x\xe2\x82y",  # a character cut short
    b"x\xe2y\xc3",  # a lead byte alone, and one at the end
    b"x\xc0\x80y",  # an overlong form of NUL
    b"x\xed\xa0\x80y",  # a surrogate
    b"x\x80y\xff",  # stray bytes
])
def test_a_text_that_is_not_utf8_grounds_its_whole_characters_only(text: bytes) -> None:
    """Text bound as bytes through the core (``bind_text`` takes a ``str``, always UTF-8; the
    fuzzer's input, fuzz/regressions/grounding/): every byte that belongs to no well-formed
    character is a boundary no value crosses, so a value never starts a character it cannot
    finish (the shortest completion used to fail with InternalError "grounded text ends inside
    a character") and never holds an invalid one."""
    m = GrammarMatcher(Grammar.from_json_schema(STRING, grounded=True), BYTE_VOCAB)
    m._handle.bind_text(text, [])
    for value in ("x", "y", ""):
        assert accepts(m, {"v": value})
    for head in range(0x80, 0x100):
        m.reset()
        if m.accept_bytes(b'{"v":"x' + bytes([head])):  # only a whole character may follow
            assert m.completion_distance() < 10
            assert json.loads((b'{"v":"x' + bytes([head]) + m.shortest_completion()).decode())
    m.reset()
    assert m.accept_bytes(b'{"v":"x')
    assert m.shortest_completion() == b'"}'


def test_non_empty_strings_and_an_empty_text() -> None:
    m = matcher(NONEMPTY, "Ada")
    assert not accepts(m, {"v": ""})
    assert accepts(m, {"v": "d"})
    empty = matcher(NONEMPTY, "")
    assert not empty.grounded_active(0)  # nothing to ground in: the plain grammar holds
    assert accepts(empty, {"v": "anything"})
    assert matcher(STRING, "").grounded_active(0)
    assert accepts(matcher(STRING, ""), {"v": ""})
    assert not accepts(matcher(STRING, ""), {"v": "a"})


NUMBERS = {"type": "object", "properties": {
    "total": {"type": "number"},
    "count": {"type": "integer", "minimum": 3},
    "year": {"type": "integer"},
}, "required": ["total", "count", "year"]}


def test_numbers_are_the_texts_numbers_that_the_schema_allows() -> None:
    m = matcher(NUMBERS, "Invoice INV-2291: $1,240.50 for 3 items, 2024-07-01.")
    assert accepts(m, {"total": 1240.5, "count": 3, "year": 2024})
    m.reset()
    assert m.accept_bytes(b'{"total":1240.50,"count":2291,"year":7}')
    for bad in ({"total": 1240, "count": 3, "year": 2024},   # not written
                {"total": -2291, "count": 3, "year": 2024},  # the dash belongs to the id
                {"total": 1.5, "count": 1, "year": 2024},    # 1 is below the minimum
                {"total": 3, "count": 3, "year": 1240.5}):   # not an integer
        assert not accepts(m, bad), bad


def test_a_number_the_text_cannot_give_falls_back_to_the_schema() -> None:
    m = matcher(NUMBERS, "only 1 and 2 here")
    assert m.grounded_active(0) and not m.grounded_active(1) and m.grounded_active(2)
    assert accepts(m, {"total": 2, "count": 99, "year": 1})
    assert not accepts(m, {"total": 5, "count": 99, "year": 1})


def test_formats_are_grounded_in_the_words_they_match() -> None:
    schema = {"type": "object", "properties": {"email": {"type": "string", "format": "email"},
                                               "when": {"type": "string", "format": "date"}},
              "required": ["email", "when"]}
    g = Grammar.from_json_schema(schema, grounded=True)
    assert g.n_grounded == 1  # a date is written otherwise in text: not grounded
    m = GrammarMatcher(g, BYTE_VOCAB)
    m.bind_text("Mail ada@example.com, not bob@x by March 3.")
    assert accepts(m, {"email": "ada@example.com", "when": "2025-03-03"})
    assert not accepts(m, {"email": "adad@example.com", "when": "2025-03-03"})
    assert not accepts(m, {"email": "ada@example.com,", "when": "2025-03-03"})


@pytest.mark.parametrize("prop", [
    {"type": "string", "enum": ["a", "b"]}, {"const": "a"}, {"type": "string", "pattern": "^a+$"},
    {"type": "string", "format": "date-time"}, {"type": "string", "maxLength": 3},
    {"type": "string", "minLength": 2}, {"type": "string", "x-maaza-grounded": False},
    {"type": "number", "x-maaza-grounded": False}, {"type": "boolean"},
])
def test_what_is_not_grounded(prop: dict) -> None:
    g = Grammar.from_json_schema({"type": "object", "properties": {"v": prop}}, grounded=True)
    assert g.n_grounded == 0


def test_the_opt_out_must_be_a_boolean() -> None:
    with pytest.raises(SchemaError) as e:
        Grammar.from_json_schema({"type": "string", "x-maaza-grounded": "no"}, grounded=True)
    assert e.value.keyword == "x-maaza-grounded"


def test_without_a_text_a_grounded_grammar_is_the_plain_one() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}, "n": {"type": "number"},
                                               "e": {"type": "string", "format": "email"}}}
    plain = GrammarMatcher(Grammar.from_json_schema(schema), BYTE_VOCAB)
    unbound = matcher(schema, None)
    bound = matcher(schema, "x")
    bound.unbind()
    for value in ({"a": "string", "n": 12.5, "e": "q@r.st"}, {"a": "\u00e9\n"}, {"n": -1e5}):
        assert accepts(plain, value) and accepts(unbound, value) and accepts(bound, value)
    assert "grounded-body" in Grammar.from_json_schema(schema, grounded=True).to_gbnf()


def random_vocab(text: str, rng: random.Random) -> Vocabulary:
    """Byte tokens plus pieces cut from the text and from JSON around it."""
    data = ('{"v":"' + collapse_whitespace(text) + '","n":12,"w":"' + text[::-1] + '"}').encode()
    pieces = {bytes([i]) for i in range(256)}
    for _ in range(400):
        i = rng.randrange(len(data))
        pieces.add(data[i:i + rng.randint(2, 8)])
    tokens = sorted(pieces) + [b"</s>"]
    return Vocabulary(tokens, [len(tokens) - 1])


@pytest.mark.parametrize("seed", range(12))
def test_masks_agree_with_token_by_token_checks(seed: int) -> None:
    rng = random.Random(seed)
    text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(5, 40))) + " 3,400.5 and 12"
    schema = {"type": "object", "properties": {"v": {"type": "string"}, "n": {"type": "number"},
                                               "w": {"type": "string", "minLength": 1}},
              "required": ["v", "n"]}
    vocab = random_vocab(text, rng)
    m = matcher(schema, text, vocab)
    bits = np.zeros((vocab.n_vocab + 31) // 32, dtype=np.uint32)
    written = b""
    for _ in range(40):
        m.fill_mask(bits)
        allowed = [t for t in range(vocab.n_vocab) if bits[t >> 5] >> (t & 31) & 1]
        assert allowed == [t for t in range(vocab.n_vocab) if m.can_accept_token(t)]
        if m.is_terminated() or not allowed:
            break
        if not m.is_complete():
            # The shortest completion is as long as announced and completes the value.
            tail = m.shortest_completion()
            assert len(tail) == m.completion_distance()
            probe = matcher(schema, text, vocab)
            assert probe.accept_bytes(written + tail) and probe.is_complete()
        t = rng.choice(allowed)
        assert m.accept_token(t)
        written += vocab.token_bytes(t) if t != vocab.n_vocab - 1 else b""


def test_number_literals_are_the_ones_the_text_writes() -> None:
    assert text_number_literals("$1,240.50, 02 and -3 C", False) == [
        "1240.5", "1240.50", "2", "-3"]
