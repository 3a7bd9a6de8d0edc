"""Schemas and texts the decoding tests on scripted logits share (test_decoding_biases.py,
test_decoding_chain.py): an id to copy, a city or a cite, a transaction id on a labelled line, a
labelled note, order items laid out line by line, and a date given apart from its name."""

from __future__ import annotations

TICKET = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}

SITE = {"type": "object", "properties": {"city": {"type": "string"}, "cite": {"type": "string"}}}

PAYMENT = {"type": "object", "properties": {"transaction_id": {"type": "string"}},
           "required": ["transaction_id"]}
PAYMENT_TEXT = "Order 5c1f-02 shipped.\nTransaction ID: 4a9e-77\n"

NOTE = {"type": "object", "properties": {"note": {"type": "string"}}, "required": ["note"]}

ORDER = {"type": "object", "properties": {"items": {"type": "array", "items": {
    "type": "object", "properties": {"name": {"type": "string"}, "qty": {"type": "integer"}},
    "required": ["name"]}}}, "required": ["items"]}
ORDER_TEXT = "Items:\nName: Pen\nName: Ink\nQty: 3\n"

DATED = {"type": "object", "properties": {"name": {"type": "string"}, "date": {"type": "string"}},
         "required": ["name"]}
DATED_TEXT = "Name: Ada\n\nSigned on the second.\nDate: 2024-01-02\n"
