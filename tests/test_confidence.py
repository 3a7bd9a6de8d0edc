"""Leaf confidence: token probabilities recorded by the decoder, combined per leaf (confidence).

The decoder's probabilities are checked on scripted logits (``scripted_model``), where every
score is known, so each expected probability is computed here from the scores by hand.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from maaza_rt.confidence import leaf_byte_ranges, leaf_confidence, token_offsets
from maaza_rt.spans import leaves

sys.path.insert(0, str(Path(__file__).parent))
from scripted_model import LENGTH_BONUS, OTHER, ScriptedModel, decodings, run  # noqa: E402


def test_leaf_byte_ranges_cover_each_leaf() -> None:
    text = '{"name": "Ada \\"L\\"", "n": -4.5e2, "a": [true, null, [], {}], "o/x": {"k": false}}'
    ranges = leaf_byte_ranges(text)
    got = {p: text[s:e] for p, (s, e, _) in ranges.items()}
    assert got == {"/name": '"Ada \\"L\\""', "/n": "-4.5e2", "/a/0": "true", "/a/1": "null",
                   "/a/2": "[]", "/a/3": "{}", "/o~1x/k": "false"}
    assert [p for p, _ in leaves(json.loads(text))] == list(ranges)
    assert {p for p, (_, _, open_end) in ranges.items() if open_end} == {
        "/n", "/a/0", "/a/1", "/o~1x/k"}
    assert leaf_byte_ranges(" 12 ") == {"": (1, 3, True)}


def test_leaf_byte_ranges_count_bytes_not_characters() -> None:
    text = '{"é":"ü","n":1}'
    ranges = leaf_byte_ranges(text)
    data = text.encode("utf-8")
    assert data[ranges["/é"][0]:ranges["/é"][1]] == '"ü"'.encode()
    assert data[ranges["/n"][0]:ranges["/n"][1]] == b"1"


@pytest.mark.parametrize("bad", ['{"a":1', '{"a" 1}', "[1,]", "tru", '{"a":1} x', '"abc'])
def test_leaf_byte_ranges_reject_invalid_json(bad: str) -> None:
    with pytest.raises(ValueError):
        leaf_byte_ranges(bad)


def test_leaf_confidence_multiplies_overlapping_tokens() -> None:
    pieces = [b'{"', b"name", b'":"', b"Ada", b" Love", b'lace","', b"n", b'":', b"4", b"2",
              b',"', b"ok", b'":', b"true", b"}"]
    probs = [1.0, 1.0, 1.0, 0.5, 0.8, 0.9, 1.0, 1.0, 0.7, 0.6, 0.4, 1.0, 1.0, 0.3, 0.2]
    tokens = list(range(len(pieces)))
    text = b"".join(pieces).decode()
    assert text == '{"name":"Ada Lovelace","n":42,"ok":true}'
    conf = leaf_confidence(text, token_offsets(tokens, pieces), probs)
    # the string: from the token holding its opening quote to the one holding its closing one
    assert conf["/name"] == pytest.approx(1.0 * 0.5 * 0.8 * 0.9)
    # the number: its digits and the token after it, which ends it
    assert conf["/n"] == pytest.approx(0.7 * 0.6 * 0.4)
    assert conf["/ok"] == pytest.approx(0.3 * 0.2)


def test_leaf_confidence_edges() -> None:
    # a number at the very end has no token after it; an empty token holds no byte
    assert leaf_confidence("42", [0, 1, 2], [0.5, 0.5, 0.0]) == {"": 0.25}
    assert leaf_confidence("[]", [0], [0.9]) == {"": 0.9}
    assert token_offsets([2, 0, 1], [b"a", b"", b"bcd"]) == [0, 3, 4]
    with pytest.raises(ValueError, match="probabilities"):
        leaf_confidence("1", [0], [])
    with pytest.raises(ValueError, match="nondecreasing"):
        leaf_confidence("[1,2]", [0, 3, 2], [1.0, 1.0, 1.0])


# ---- probabilities recorded by the decoder, on scripted logits -------------------------------

BOOL = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
NUMBER = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
TICKET = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}
# In the scripted model, after a prefix every token that continues no known output has logit
# OTHER (-30): those tokens change the expected probabilities by less than this.
NEGLIGIBLE = 300 * math.exp(OTHER)


def _softmax_first(*scores: float) -> float:
    """The probability of the first of several allowed tokens with these logits."""
    return 1.0 / sum(math.exp(s - scores[0]) for s in scores)


def _confidence(outputs: dict[str, float], text: str, schema: dict,
                **options: object) -> tuple[str, dict[str, float]]:
    gen = run(outputs, text, schema, token_probs=True, **options)
    assert gen.token_probs is not None and len(gen.token_probs) == len(gen.tokens)
    pieces = ScriptedModel(outputs).pieces
    return gen.text, leaf_confidence(gen.text, token_offsets(gen.tokens, pieces),
                                     gen.token_probs)


def test_decoder_records_nothing_unless_asked() -> None:
    assert run({'{"ok":true}': 0.0}, "yes", BOOL).token_probs is None


@pytest.mark.parametrize("gap", [0.25, 1.0, 3.0])
def test_a_choice_between_two_values_has_their_softmax(gap: float) -> None:
    """``true`` and ``false`` part at their first byte, ``gap`` logits apart; everything else
    the grammar forces (probability 1)."""
    outputs = {'{"ok":true}': 0.0, '{"ok":false}': -gap}
    for options in decodings(0.0):
        text, conf = _confidence(outputs, "ok?", BOOL, **options)
        assert text == '{"ok":true}'
        # "t" and "f" both carry the 1/64 length bonus of a one-byte piece: it cancels
        assert conf["/ok"] == pytest.approx(_softmax_first(0.0, -gap), rel=1e-6, abs=NEGLIGIBLE)


def test_a_number_counts_the_token_that_ends_it() -> None:
    """After ``4`` the model may end the number (``}``) or write ``2``: the number's confidence
    includes the token after it, which made that choice."""
    outputs = {'{"n":4}': 0.0, '{"n":42}': -1.0}
    for options in decodings(0.0):
        text, conf = _confidence(outputs, "n is 4", NUMBER, **options)
        assert text == '{"n":4}'
        assert conf["/n"] == pytest.approx(_softmax_first(0.0, -1.0), rel=1e-6, abs=NEGLIGIBLE)
    outputs = {'{"n":42}': 0.0, '{"n":4}': -0.5, '{"n":47}': -2.0}
    text, conf = _confidence(outputs, "n is 42", NUMBER)
    assert text == '{"n":42}'
    # "4": certain (all three start with it); "2" against "7" and "}"; then "}" is the only
    # known continuation
    assert conf["/n"] == pytest.approx(_softmax_first(0.0, -0.5, -2.0), rel=1e-6, abs=NEGLIGIBLE)


@pytest.mark.parametrize("gap", [1.0, 1.5])
def test_a_biased_copy_keeps_the_models_own_probability(gap: float) -> None:
    """The copy bias writes the text's ``ab7d`` where the model preferred ``ab7f``: the value's
    confidence is the probability the model gave the copied character, before the bias."""
    outputs = {'{"id":"ab7f"}': 10.0, '{"id":"ab7d"}': 10.0 - gap}
    text = "Ticket ab7d\nOpened today."
    # The closing quote: the scripted model scores both spellings of the known output, ``"}``
    # (two bytes of length bonus) and ``"`` (one byte), so the token written, ``"}``, has
    # this probability.
    closing = _softmax_first(2 * LENGTH_BONUS, LENGTH_BONUS)
    plain_text, plain = _confidence(outputs, text, TICKET, copy_bias=0.0)
    assert json.loads(plain_text)["id"] == "ab7f"
    assert plain["/id"] == pytest.approx(_softmax_first(0.0, -gap) * closing, rel=1e-6,
                                         abs=NEGLIGIBLE)
    for options in decodings(2.0):
        copied_text, conf = _confidence(outputs, text, TICKET, **options)
        assert json.loads(copied_text)["id"] == "ab7d", options
        assert conf["/id"] == pytest.approx(_softmax_first(-gap, 0.0) * closing, rel=1e-6,
                                            abs=NEGLIGIBLE)


def test_budget_closing_tokens_count_as_forced() -> None:
    outputs = {'{"id":"abcdefghijklmnop"}': 0.0}
    gen = run(outputs, "abcdefghijklmnop", TICKET, max_tokens=8, token_probs=True,
              prompt_lookup=False)
    assert gen.budget_closed and gen.n_closing > 0
    assert gen.token_probs is not None and len(gen.token_probs) == len(gen.tokens)
    assert gen.token_probs[-gen.n_closing:] == [1.0] * gen.n_closing
