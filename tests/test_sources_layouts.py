"""Tests of the generator's text layouts: values verbatim, noise outside values, nine layouts."""

from __future__ import annotations

import random

import pytest

from train.sources import in_text
from train.sources.layouts import LAYOUTS, Doc, Out, Piece, render

DOC = Doc("Invoice", "Your invoice", "Please find the details below.", "Thanks.", "Dana Whitfield")


def _pieces() -> list[Piece]:
    return [
        Piece("Invoice #", "INV-2291", "INV-2291", "this is invoice {v}"),
        Piece("Total", "$1,240.50", "$1,240.50", "the total comes to {v}"),
        Piece("Paid", "no", "no", "payment is still outstanding"),
        Piece("Tags", "vip, refund", "vip and refund", "tagged {v}", items=["vip", "refund"]),
        Piece("Items", "none", "2 x USB-C cable @ $3.50; 1 x webcam @ $42.00", "we ordered {v}",
              items=["2 x USB-C cable @ $3.50", "1 x webcam @ $42.00"],
              columns=["Item", "Qty", "Price"],
              cells=[["USB-C cable", "2", "$3.50"], ["webcam", "1", "$42.00"]]),
    ]


def test_layouts_all_registered() -> None:
    assert set(LAYOUTS) == {"prose", "email", "chat", "ticket", "receipt", "table", "bullets",
                            "kv", "mixed"}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_layouts_keep_values_verbatim_with_noise(layout: str) -> None:
    for seed in range(40):
        text = render(layout, _pieces(), DOC, random.Random(seed), noise=True)
        for value in ("INV-2291", "$1,240.50", "USB-C cable", "webcam", "$3.50", "$42.00"):
            assert value in text, (layout, value, text)
        assert in_text("vip", text) and in_text("refund", text)
        assert "outstanding" in text or "Paid" in text.title() or "PAID" in text
        assert len(text) < 800


def test_layouts_email_signs_with_writer_and_has_subject() -> None:
    text = render("email", _pieces(), DOC, random.Random(0))
    assert text.startswith("Subject: Your invoice")
    assert text.rstrip().endswith("Dana Whitfield")


def test_layouts_chat_lowercases_words_not_values() -> None:
    pieces = [Piece("Name", "Dana Whitfield", "Dana Whitfield", "This Is From {v} Please")]
    text = render("chat", pieces, Doc("T", "S", "O", "C"), random.Random(1))
    assert "Dana Whitfield" in text
    assert "This Is" not in text and "From" not in text


def test_layouts_noise_never_touches_values() -> None:
    for seed in range(200):
        out = Out()
        out.t("Invoice number please ")
        out.v("Mississippi Freight")
        out.t(" remember everything ")
        text = out.render(random.Random(seed), noise=True)
        assert "Mississippi Freight" in text
    # noise does change the words around values sometimes
    texts = set()
    for seed in range(50):
        out = Out()
        out.t("Invoice number please remember ")
        out.v("X")
        texts.add(out.render(random.Random(seed), noise=True))
    assert len(texts) > 5


def test_layouts_table_renders_rows_as_table() -> None:
    text = render("table", _pieces(), DOC, random.Random(0))
    assert "| USB-C cable | 2 | $3.50 |" in text.replace("  ", " ")


def test_layouts_unknown_layout_raises() -> None:
    with pytest.raises(KeyError):
        render("poem", _pieces(), DOC, random.Random(0))
