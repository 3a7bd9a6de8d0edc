"""Tests of the generator's field library: naming styles, schema nodes, values per kind."""

from __future__ import annotations

import datetime
import random
from typing import Any

from faker import Faker
from jsonschema import Draft202012Validator

from train.sources.domains import LINE_ITEMS
from train.sources.domains_work import WORK_DOMAINS
from train.sources.fields import (
    FieldSpec,
    Slot,
    build_slot,
    enum_members,
    f,
    humanize,
    make_value,
    prop_name,
    styled,
)
from train.sources.values import RowCtx

INVOICE = {spec.key: spec for spec in WORK_DOMAINS[0].fields}
TICKET = {spec.key: spec for d in WORK_DOMAINS if d.name == "ticket" for spec in d.fields}


FAKE = Faker("en_US")


def _ctx(seed: int) -> RowCtx:
    fake = FAKE
    fake.seed_instance(seed)
    return RowCtx(random.Random(seed), fake, "USD", datetime.date(2025, 3, 3))


def _valid(slot: Slot, value: Any) -> bool:
    return Draft202012Validator(slot.node, format_checker=Draft202012Validator.FORMAT_CHECKER
                                ).is_valid(value)


def test_fields_naming_styles() -> None:
    spec = INVOICE["invoice_number"]
    rng = random.Random(0)
    assert prop_name(spec, "terse", rng) == "inv_no"
    assert prop_name(spec, "terse", rng, "camel") == "invNo"
    assert prop_name(spec, "verbose", rng) == "invoice_reference_number"
    assert prop_name(spec, "verbose", rng, "camel") == "invoiceReferenceNumber"
    snake = {prop_name(spec, "snake", random.Random(s)) for s in range(30)}
    assert "invoice_number" in snake and snake <= {"invoice_number", "invoice_id",
                                                   "invoice_no", "invoice_ref"}
    assert "invoiceNumber" in {prop_name(spec, "camel", random.Random(s)) for s in range(30)}
    assert "InvoiceNumber" in {prop_name(spec, "pascal", random.Random(s)) for s in range(30)}
    assert styled(["check-in", "date"], "snake") == "check-in_date"
    assert prop_name(f("check_in", "date", "check-in date"), "verbose", rng) == "check_in_date"
    assert humanize("unitPrice") == humanize("unit_price") == "unit price"


def test_fields_enum_synonyms_map_to_schema_casing() -> None:
    spec = TICKET["priority"]
    members = dict(enum_members(spec))
    assert members["high"] == ("P1", "urgent", "critical")
    seen: dict[str, set[str]] = {}
    for seed in range(300):
        rng = random.Random(seed)
        slot = build_slot(spec, "priority", rng, "snake", "snake")
        value = make_value(slot, _ctx(seed))
        assert value.expected in slot.node["enum"]
        canonical = ["low", "medium", "high"][slot.node["enum"].index(value.expected)]
        seen.setdefault(canonical, set()).add(value.surface)
    assert {"P1", "urgent", "critical", "high", "High"} <= seen["high"]
    assert not seen["high"] & seen["low"]
    casings = {tuple(build_slot(spec, "p", random.Random(s), "snake", "snake").node["enum"])
               for s in range(40)}
    assert ("low", "medium", "high") in casings
    assert ("LOW", "MEDIUM", "HIGH") in casings and ("Low", "Medium", "High") in casings


def test_fields_values_valid_for_every_kind() -> None:
    for domain in WORK_DOMAINS:
        for spec in domain.fields:
            for seed in range(8):
                slot = build_slot(spec, spec.key, random.Random(seed), "camel", "camel")
                value = make_value(slot, _ctx(seed))
                assert _valid(slot, value.expected), (spec.key, value.expected, slot.node)
                assert value.surface and value.spoken
                for text in value.grounded:
                    assert isinstance(text, str) and text


def test_fields_money_and_bool_values() -> None:
    total = INVOICE["total"]
    paid = INVOICE["paid"]
    for seed in range(50):
        slot = build_slot(total, "total", random.Random(seed), "snake", "snake")
        value = make_value(slot, _ctx(seed))
        assert isinstance(value.expected, (int, float))
        assert any(c in value.surface for c in "$0123456789")
        slot = build_slot(paid, "paid", random.Random(seed), "snake", "snake")
        value = make_value(slot, _ctx(seed))
        assert value.truth is value.expected
        assert value.surface in (paid.opts["yes"] if value.expected else paid.opts["no"])


def test_fields_rows_value_shapes() -> None:
    lengths = set()
    for seed in range(60):
        slot = build_slot(LINE_ITEMS, "items", random.Random(seed), "snake", "snake")
        assert slot.node["type"] == "array" and slot.node["items"]["type"] == "object"
        value = make_value(slot, _ctx(seed))
        assert _valid(slot, value.expected)
        assert value.items is not None and value.cells is not None and value.columns
        assert len(value.items) == len(value.cells) == len(value.expected)
        lengths.add(len(value.expected))
        for row, cells in zip(value.expected, value.cells):
            assert list(row) == list(slot.node["items"]["properties"])
            assert len(cells) == len(slot.subs)
    assert {0, 1, 2} <= lengths


def test_fields_object_value_follows_schema_order() -> None:
    spec = INVOICE["billing_address"]
    for seed in range(30):
        slot = build_slot(spec, "addr", random.Random(seed), "terse", "snake")
        value = make_value(slot, _ctx(seed))
        assert list(value.expected) == list(slot.node["properties"])
        assert all(g in value.surface for g in value.grounded)


def test_fields_f_builds_spec() -> None:
    spec = f("due_date", "date", "payment due|due", "Due|Payment due", "due {v}", "When|e.g. {ex}")
    assert isinstance(spec, FieldSpec)
    assert spec.names == ("due date", "payment due", "due")
    assert spec.labels == ("Due", "Payment due") and spec.descs == ("When", "e.g. {ex}")
