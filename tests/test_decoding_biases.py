"""The verify loop's biases and drafters on scripted logits (``scripted_model``): a copy from the
text wins within the copy bias, never where a value ends and never inside a key; a labelled value
within twice that margin; the layout bias ends a labelled sentence with its line and starts the
next item as the text does; without a bias, drafts never change the output.

The loop on the real model is tested in test_decoding_loop.py, the chain and ``decode`` in
test_decoding_chain.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from maaza_rt.decoding import LABEL_BIAS_SCALE

sys.path.insert(0, str(Path(__file__).parent))
from decoding_cases import (  # noqa: E402
    NOTE,
    ORDER,
    ORDER_TEXT,
    PAYMENT,
    PAYMENT_TEXT,
    SITE,
    TICKET,
)
from scripted_model import decodings, run  # noqa: E402

# ---- biases and drafters with scripted logits -------------------------------------------------
# The logits come from tests/scripted_model.py: where the model's preferred output and another
# part, the gap between their scores is the gap between the model's choice and the other token,
# whatever the batching. Each test puts a copy just inside a bias margin and just outside it, so
# it tests the rule, not which near-ties one build of one model happens to meet.


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


def test_copy_bias_leaves_keys_to_the_model() -> None:
    """Which property to write is the model's call: inside a key a copy from the text (``cite``
    where the model writes ``city``) does not win, however near."""
    outputs = {'{"city":"Paris"}': 10.0, '{"cite":"Paris"}': 9.9}
    for bias in (2.0, 1e9):
        for options in decodings(bias):
            assert run(outputs, "We cite Paris.", SITE, **options).text == '{"city":"Paris"}'


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


# ---- the closing bias --------------------------------------------------------------------------

CONTACT = {"type": "object", "properties": {"name": {"type": "string"},
                                            "email": {"type": "string"},
                                            "phone": {"type": "string"}},
           "required": ["name"]}


@pytest.mark.parametrize("gap", [0.5, 0.9, 1.5])  # clear of the pieces' length bonus
def test_closing_bias_leaves_out_an_optional_property_within_its_margin(gap: float) -> None:
    """The model prefers writing an optional ``phone`` the text does not give by ``gap``
    logits; the object closes instead when the gap is within ``absent_bias``, in every
    decoding mode; off (0) the model's choice stands."""
    outputs = {'{"name":"Ada","phone":"Ada"}': 10.0 + gap, '{"name":"Ada"}': 10.0}
    for copy_bias in (0.0, 2.0):
        for options in decodings(copy_bias):
            assert json.loads(run(outputs, "Ada wrote.", CONTACT, **options).text) == {
                "name": "Ada", "phone": "Ada"}, options
            for bias in (1.0, 2.0):
                got = json.loads(run(outputs, "Ada wrote.", CONTACT, absent_bias=bias,
                                     **options).text)
                assert got == ({"name": "Ada"} if gap <= bias else
                               {"name": "Ada", "phone": "Ada"}), (bias, options)


def test_closing_bias_never_leaves_out_a_required_property() -> None:
    """Where a required property is still to come the grammar does not allow ``}``: the bias
    has nothing to choose, however large."""
    schema = {**CONTACT, "required": ["name", "phone"]}
    outputs = {'{"name":"Ada","phone":"Ada"}': 10.0, '{"name":"Ada"}': 9.9}
    for options in decodings(2.0):
        got = json.loads(run(outputs, "Ada wrote.", schema, absent_bias=1e9, **options).text)
        assert got == {"name": "Ada", "phone": "Ada"}, options


def test_closing_bias_closes_an_object_before_its_first_optional_member() -> None:
    """With every property optional, ``{}`` within the margin wins over a first member the
    text does not give; outside it the model's member stands."""
    site = {"type": "object", "properties": {"city": {"type": "string"}}}
    outputs = {'{"city":"Rome"}': 10.8, "{}": 10.0}
    assert run(outputs, "Rome, then Oslo.", site, absent_bias=1.0).text == "{}"
    assert run(outputs, "Rome, then Oslo.", site, absent_bias=0.5).text == '{"city":"Rome"}'


def test_closing_bias_leaves_list_items_to_the_model() -> None:
    """A list's next item is not an object member: the bias does not end lists."""
    tags = {"type": "object", "properties": {"tags": {"type": "array",
                                                      "items": {"type": "string"}}},
            "required": ["tags"]}
    outputs = {'{"tags":["a","b"]}': 10.5, '{"tags":["a"]}': 10.0}
    got = json.loads(run(outputs, "a b", tags, absent_bias=1e9).text)
    assert got == {"tags": ["a", "b"]}
