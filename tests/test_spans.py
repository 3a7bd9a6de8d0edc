"""Leaf spans: where each string and number of a value is written in the text (spans)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from maaza_rt.grounding_text import collapse_whitespace
from maaza_rt.metrics_reference import leaf_f1_reference
from maaza_rt.spans import leaf_spans, leaves, pointer_token


def test_leaves_in_document_order_with_escaped_pointers() -> None:
    value = {"name": "Ada", "items": [{"sku": "A-1", "qty": 2}, {"sku": "B"}], "a/b~c": None,
             "tags": [], "meta": {}, "ok": True}
    assert list(leaves(value)) == [
        ("/name", "Ada"), ("/items/0/sku", "A-1"), ("/items/0/qty", 2), ("/items/1/sku", "B"),
        ("/a~1b~0c", None), ("/tags", []), ("/meta", {}), ("/ok", True)]
    assert list(leaves(4)) == [("", 4)]
    assert list(leaves([])) == [("", [])]
    assert pointer_token("~/") == "~0~1" and pointer_token(3) == "3"


def test_leaves_are_the_leaves_leaf_f1_counts() -> None:
    value = {"a": [1, {"b": []}], "c": {}}
    pointers = [p for p, _ in leaves(value)]
    assert pointers == ["/a/0", "/a/1/b", "/c"]
    # leaf F1 of a value against itself with one leaf changed: 2 of 3 leaves agree
    changed = {"a": [1, {"b": []}], "c": {"x": 1}}
    assert abs(leaf_f1_reference(changed, value) - 2 / 3) < 1e-9


def test_leaf_spans_strings_numbers_and_whitespace_runs() -> None:
    text = "Invoice INV-2291 for Ada Lovelace,\n  12 Main St,\n  Springfield. Total $1,240.50."
    value = {"invoice": "2291", "name": "Ada Lovelace", "address": "12 Main St, Springfield",
             "total": 1240.5, "paid": False, "note": None, "missing": "Grace"}
    spans = leaf_spans(value, text)
    assert set(spans) == {"/invoice", "/name", "/address", "/total"}
    assert text[slice(*spans["/name"])] == "Ada Lovelace"
    assert text[slice(*spans["/address"])] == "12 Main St,\n  Springfield"
    assert text[slice(*spans["/total"])] == "1,240.50"
    assert text[slice(*spans["/invoice"])] == "2291"


def test_leaf_spans_prefer_occurrences_after_the_previous_leaf() -> None:
    text = "From: Ada. To: Bob. Cc: Ada. Qty 2, then qty 2."
    spans = leaf_spans({"to": "Bob", "cc": "Ada", "from": "Ada"}, text)
    assert spans["/to"] == (15, 18)
    assert spans["/cc"] == (24, 27)  # after Bob
    assert spans["/from"] == (6, 9)  # none after Cc's Ada: the first occurrence
    spans = leaf_spans({"a": "then", "n": 2}, text)
    assert spans["/n"][0] == text.rindex("2")
    spans = leaf_spans([2, 2.0], text)
    assert spans == {"/0": (33, 34), "/1": (45, 46)}


def test_leaf_spans_number_values_compare_exactly() -> None:
    text = "rate 0.1, count 07, big 12345678901234567890, neg -3"
    spans = leaf_spans({"r": 0.1, "c": 7, "b": 12345678901234567890, "n": -3, "x": 0.3,
                        "t": True, "f": 1.0}, text)
    assert text[slice(*spans["/r"])] == "0.1"
    assert text[slice(*spans["/c"])] == "07"
    assert text[slice(*spans["/b"])] == "12345678901234567890"
    assert text[slice(*spans["/n"])] == "-3"
    assert "/x" not in spans and "/t" not in spans and "/f" not in spans


def test_leaf_spans_empty_strings_and_containers_get_none() -> None:
    assert leaf_spans({"a": "", "b": [], "c": {}, "d": None}, "abc") == {}
    assert leaf_spans("b", "abc") == {"": (1, 2)}


_CHARS = st.sampled_from(["a", "b", "c", "1", ",", ".", " ", "  ", "\n", "\t", "\u00a0", "é"])


@st.composite
def _text_and_values(draw: st.DrawFn) -> tuple[str, list[str]]:
    text = "".join(draw(st.lists(_CHARS, min_size=1, max_size=30)))
    values = []
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text) - 1))
        j = draw(st.integers(i + 1, len(text)))
        values.append(text[i:j])
    return text, values


@given(_text_and_values())
def test_every_span_holds_its_value_up_to_whitespace(case: tuple[str, list[str]]) -> None:
    text, values = case
    value = {"items": [{"v": v} for v in values], "n": len(values)}
    spans = leaf_spans(value, text)
    for k, v in enumerate(values):
        if not collapse_whitespace(v):
            continue
        start, end = spans[f"/items/{k}/v"]  # a substring of the text is always found
        assert 0 <= start < end <= len(text)
        assert collapse_whitespace(text[start:end]) == collapse_whitespace(v)


@given(st.lists(st.tuples(st.integers(-99999, 99999), st.integers(0, 99),
                          st.sampled_from(["", "$", "EUR ", "INV-", "ab"]),
                          st.sampled_from([" kg", "%", ",", "; ", " "])), min_size=1, max_size=6))
def test_every_number_span_holds_its_value(parts: list[tuple[int, int, str, str]]) -> None:
    text = ""
    values: list[float | int] = []
    for whole, cents, before, after in parts:
        if before[-1:].isalpha() and whole < 0:
            before += " "  # a hyphen after a letter is not a sign
        written = f"{whole:,}" if cents == 0 else f"{whole:,}.{cents:02d}"
        text += f"{before}{written}{after} "
        values.append(whole if cents == 0 else json.loads(written.replace(",", "")))
    spans = leaf_spans(values, text)
    assert len(spans) == len(values)
    for k, v in enumerate(values):
        start, end = spans[f"/{k}"]
        assert json.loads(text[start:end].replace(",", "")) == v
