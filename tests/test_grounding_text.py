"""Whitespace normalization with offsets, and the numbers a text writes (grounding_text)."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maaza_rt.grounding_text import (
    WHITESPACE,
    TextNumber,
    canonical_number,
    collapse_whitespace,
    json_number_forms,
    normalize_text,
    text_number_literals,
    text_numbers,
)

RFC8259_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


def test_whitespace_set_is_the_documented_one() -> None:
    expected = ({chr(c) for c in range(0x21)} | {"\u0085", "\u00a0", "\u1680"}
                | {chr(c) for c in range(0x2000, 0x200B)}
                | {"\u2028", "\u2029", "\u202f", "\u205f", "\u3000"})
    assert set(WHITESPACE) == expected
    assert "\u200b" not in WHITESPACE and "\u0021" not in WHITESPACE and "x" not in WHITESPACE


def test_normalize_text_collapses_runs_and_records_offsets() -> None:
    text = "12 Main St,\n   Springfield\u00a0\tIL"
    norm = normalize_text(text)
    assert norm.text == "12 Main St, Springfield IL"
    assert norm.original == text
    assert len(norm.starts) == len(norm.ends) == len(norm.text)
    comma = norm.text.index(",")
    assert (norm.starts[comma + 1], norm.ends[comma + 1]) == (11, 15)  # "\n   "
    i = norm.text.index("Springfield")
    assert norm.original_span(i, i + len("Springfield")) == (15, 26)
    assert norm.original_span(comma, i + 3) == (10, 18)
    assert text[slice(*norm.original_span(comma, i + 3))] == ",\n   Spr"


def test_normalize_text_keeps_leading_and_trailing_runs_as_one_space() -> None:
    norm = normalize_text("\r\n\tab \u3000")
    assert norm.text == " ab "
    assert norm.starts == (0, 3, 4, 5) and norm.ends == (3, 4, 5, 7)
    assert normalize_text("").text == ""


def test_original_span_edges() -> None:
    norm = normalize_text("a  b")
    assert norm.original_span(0, 0) == (0, 0)
    assert norm.original_span(3, 3) == (4, 4)
    assert norm.original_span(1, 2) == (1, 3)
    with pytest.raises(IndexError):
        norm.original_span(2, 1)
    with pytest.raises(IndexError):
        norm.original_span(0, 4)


@given(st.text(alphabet=st.sampled_from(["a", "b", " ", "\n", "\t", "\u00a0", "\u2029", "\x00",
                                         "é"]), max_size=40))
def test_normalize_text_offsets_cover_the_text(text: str) -> None:
    norm = normalize_text(text)
    assert norm.text == collapse_whitespace(text)
    assert "  " not in norm.text
    # the pieces the characters stand for tile the original text, in order
    assert list(norm.starts[1:]) == list(norm.ends[:-1])
    if text:
        assert norm.starts[0] == 0 and norm.ends[-1] == len(text)
    for k, ch in enumerate(norm.text):
        piece = text[norm.starts[k]:norm.ends[k]]
        assert piece == ch or (ch == " " and piece and all(c in WHITESPACE for c in piece))


def _numbers(text: str) -> list[tuple[str, str]]:
    return [(str(n.value), n.written) for n in text_numbers(text)]


@pytest.mark.parametrize("text, expected", [
    ("INV-2291", [("2291", "2291")]),
    ("2024-07-01", [("2024", "2024"), ("7", "07"), ("1", "01")]),
    ("-3 C", [("-3", "-3")]),
    ("was -3 C", [("-3", "-3")]),
    ("total $1,240.50.", [("1240.50", "1,240.50")]),
    ("1,234,567 units", [("1234567", "1,234,567")]),
    ("1,2345", [("1", "1"), ("2345", "2345")]),
    ("a list 1,2,3", [("1", "1"), ("2", "2"), ("3", "3")]),
    ("take .5 mg", [("0.5", ".5")]),
    ("\u22127\u00b0C", [("-7", "\u22127")]),
    ("+5 points", [("5", "+5")]),
    ("C+5", [("5", "5")]),
    ("12kg and EUR9.99", [("12", "12"), ("9.99", "9.99")]),
    ("1e5", [("1", "1"), ("5", "5")]),
    ("no digits, none.", []),
    ("Section 3. Done", [("3", "3")]),
])
def test_text_numbers(text: str, expected: list[tuple[str, str]]) -> None:
    assert _numbers(text) == expected


def test_text_numbers_offsets_point_at_the_written_number() -> None:
    text = "Pay $1,240.50 by INV-2291 (-3 C)"
    found = text_numbers(text)
    assert [text[n.start:n.end] for n in found] == [n.written for n in found]
    assert (found[0].start, found[0].end) == (5, 13)
    assert found[1].start == text.index("2291")
    assert found[2].written == "-3" and found[2].value == Decimal(-3)


def test_canonical_number() -> None:
    assert canonical_number(Decimal("1240.50")) == "1240.5"
    assert canonical_number(Decimal("2")) == "2"
    assert canonical_number(Decimal("-3.000")) == "-3"
    assert canonical_number(Decimal("-0.0")) == "0"
    assert canonical_number(Decimal("0.050")) == "0.05"
    assert canonical_number(Decimal("1E+3")) == "1000"
    big = "123456789012345678901234567890123.25"  # more digits than Decimal's default precision
    assert canonical_number(Decimal(big)) == big


def _forms(written: str, integer_only: bool) -> list[str]:
    (n,) = text_numbers(written)
    return json_number_forms(n, integer_only)


@pytest.mark.parametrize("written, forms, integer_forms", [
    ("1,240.50", ["1240.5", "1240.50"], []),
    ("2", ["2"], ["2"]),
    ("02", ["2"], ["2"]),
    ("-3", ["-3"], ["-3"]),
    ("3.0", ["3", "3.0"], ["3"]),
    ("3,000", ["3000"], ["3000"]),
    (".5", ["0.5"], []),
    ("0.50", ["0.5", "0.50"], []),
    ("007.10", ["7.1"], []),
    ("\u22122.5", ["-2.5"], []),
    ("+4", ["4"], ["4"]),
])
def test_json_number_forms(written: str, forms: list[str], integer_forms: list[str]) -> None:
    assert _forms(written, False) == forms
    assert _forms(written, True) == integer_forms


@given(st.text(alphabet=st.sampled_from(list("0123456789,.-+ $a\u2212")), max_size=30),
       st.booleans())
def test_number_forms_are_valid_json_of_the_same_value(text: str, integer_only: bool) -> None:
    for n in text_numbers(text):
        assert text[n.start:n.end] == n.written
        forms = json_number_forms(n, integer_only)
        assert len(forms) == len(set(forms))
        for form in forms:
            assert RFC8259_NUMBER.fullmatch(form), form
            assert Decimal(form) == n.value
            if integer_only:
                assert isinstance(json.loads(form), int)
        if not integer_only or n.value == n.value.to_integral_value():
            assert forms and forms[0] == canonical_number(n.value)


def test_text_number_literals_unique_in_order_of_first_appearance() -> None:
    text = "Qty 3 at $1,240.50 each; 3.0 kg; ref 02; again 1240.5"
    assert text_number_literals(text, False) == ["3", "1240.5", "1240.50", "3.0", "2"]
    assert text_number_literals(text, True) == ["3", "2"]
    assert text_number_literals("", False) == []


def test_text_number_is_a_value_record() -> None:
    n = TextNumber(Decimal("1.5"), 0, 3, "1.5")
    assert n == TextNumber(Decimal("1.5"), 0, 3, "1.5")
    with pytest.raises(AttributeError):
        n.start = 1  # type: ignore[misc]
