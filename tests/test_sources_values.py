"""Tests of the generator's value writers: numbers, amounts, dates, times, patterns, lists."""

from __future__ import annotations

import datetime
import random
import re

import pytest

from train.sources.values import (
    RowCtx,
    date_surface,
    fill_pattern,
    format_number,
    fresh,
    group_thousands,
    join_items,
    money_surface,
    time_surface,
)


def _parse_amount(text: str) -> float:
    """The number in an amount written by :func:`money_surface` (test oracle)."""
    digits = re.sub(r"[^\d.,]", "", text)
    if re.search(r",\d{2}$", digits):  # 1.240,50
        digits = digits.replace(".", "").replace(",", ".")
    return float(digits.replace(",", ""))


def test_values_format_number_known_values() -> None:
    rng = random.Random(0)
    assert format_number(1240.5, 2, rng, euro=True) == "1.240,50"
    assert format_number(89.9, 2, rng) == "89.90"
    assert format_number(7, 0, rng) == "7"
    assert group_thousands("1234567", ",") == "1,234,567"
    assert {format_number(12345.0, 0, random.Random(s)) for s in range(40)} == {"12345",
                                                                                 "12,345"}


@pytest.mark.parametrize("currency,marks", [("USD", ("$", "USD")), ("EUR", ("€", "EUR")),
                                            ("GBP", ("£", "GBP")), ("CHF", ("CHF",))])
def test_values_money_surface_round_trips(currency: str, marks: tuple[str, ...]) -> None:
    rng = random.Random(1)
    for _ in range(200):
        x = round(rng.uniform(1, 99999), 2)
        text = money_surface(x, currency, False, rng)
        assert any(m in text for m in marks), text
        assert _parse_amount(text) == pytest.approx(x), text

    def forms(x: float, code: str, roll: float) -> set[str]:
        return {money_surface(x, code, False, random.Random(s), roll=roll) for s in range(40)}

    assert forms(1240.5, "USD", 0.1) == {"$1,240.50", "US$1,240.50", "$1240.50", "US$1240.50"}
    assert forms(89.9, "EUR", 0.6) == {"EUR 89.90"}
    assert forms(1240.5, "EUR", 0.05) == {"1.240,50 €"}
    assert forms(1240.5, "GBP", 0.9) == {"1,240.50 GBP", "1240.50 GBP"}


def test_values_date_surface_unambiguous() -> None:
    rng = random.Random(2)
    ambiguous = datetime.date(2025, 3, 4)
    for _ in range(300):
        text = date_surface(ambiguous, rng)
        assert not re.fullmatch(r"\d{2}[/.]\d{2}[/.]\d{4}", text), text
        assert "2025" in text
    forms = {date_surface(datetime.date(2025, 3, 15), rng) for _ in range(300)}
    assert {"March 15, 2025", "2025-03-15", "15 Mar 2025", "03/15/2025", "15/03/2025"} <= forms


def test_values_time_surface_forms() -> None:
    rng = random.Random(3)
    for _ in range(200):
        assert re.fullmatch(r"\d{2}:\d{2}|\d{1,2}:\d{2} (AM|PM|am|pm)", time_surface(rng))


def test_values_fill_pattern_and_join_items() -> None:
    rng = random.Random(4)
    assert re.fullmatch(r"INV-\d{4}", fill_pattern("INV-####", rng))
    assert re.fullmatch(r"1Z\d{3}[A-Z]{2}", fill_pattern("1Z###@@", rng))
    assert re.fullmatch(r"[0-9a-f]{8}", fill_pattern("xxxxxxxx", rng))
    assert join_items([], rng) == "" and join_items(["a"], rng) == "a"
    for _ in range(50):
        text = join_items(["red", "green", "blue"], rng)
        assert all(w in text for w in ("red", "green", "blue"))
        assert text.index("red") < text.index("green") < text.index("blue")


def test_values_fresh_never_repeats_or_returns_type_names() -> None:
    ctx = RowCtx(random.Random(5), None, "USD", datetime.date(2024, 1, 1))
    values = iter(["string", "Lyon", "Lyon", "Nice"])
    assert fresh(ctx, lambda: next(values)) == "Lyon"
    assert fresh(ctx, lambda: next(values)) == "Nice"
