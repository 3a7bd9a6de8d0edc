"""Label lookup: the values drafted from the lines of the text that label the output's keys."""

from __future__ import annotations

from test_schema_view import ORDER

from maaza_rt.json_scan import finished_key
from maaza_rt.label_lookup import LabelLookup
from maaza_rt.schema_view import property_kinds, schema_shape

TEXT = (b"Transaction Record\n\nTransaction ID: 49e3-71\nAmount: 138.42 EUR\n"
        b"Merchant name: Denise \"D\" Thompson\nbalanceAfter:894.88\n")


def spell(data: bytes) -> list[int]:
    """A tokenizer whose tokens are the bytes themselves."""
    return list(data)


def test_label_lookup_proposes_the_labelled_value() -> None:
    lookup = LabelLookup(TEXT, spell)
    assert bytes(lookup.propose("transaction_id", 50)) == b"49e3-71"
    assert bytes(lookup.propose("amount", 3)) == b"138"  # at most n tokens
    assert bytes(lookup.propose("balance_after", 50)) == b"894.88"  # camelCase label, no space
    # The value stops before a byte that JSON escapes.
    assert bytes(lookup.propose("merchant_name", 50)) == b"Denise "
    assert lookup.propose("currency", 50) == []  # no such label
    assert lookup.propose("amount", 0) == []


def test_label_lookup_needs_a_word_start_and_a_colon() -> None:
    lookup = LabelLookup(b"Subtotal: 5\nTotal: 7\nid 3\n", spell)
    assert bytes(lookup.propose("total", 5)) == b"7"  # not the end of "Subtotal"
    assert lookup.propose("id", 5) == []  # no colon


def test_label_lookup_follows_the_text_order() -> None:
    # Two items with the same labels: after the first accepted value, the second is proposed.
    lookup = LabelLookup(b"Name: Ann\nQty: 1\nName: Bob\nQty: 2\n", spell)
    assert bytes(lookup.propose("name", 9)) == b"Ann"
    lookup.accepted(3)
    assert bytes(lookup.propose("qty", 9)) == b"1"
    lookup.accepted(1)
    assert bytes(lookup.propose("name", 9)) == b"Bob"
    lookup.accepted(0)  # a refused proposal moves nothing
    assert bytes(lookup.propose("name", 9)) == b"Bob"
    lookup.accepted(3)
    assert lookup.propose("name", 9) == []  # no label after the cursor: nothing to draft


def test_label_lookup_chains_the_fields_labelled_on_the_next_lines() -> None:
    text = (b"Items:\n  Description: Red pen\n  Quantity: 72\n  Unit Price: 1.5 USD\n"
            b"  Description: Ink\n  Quantity: 3\n  Paid: yes\n")
    kinds = {"description": ("description", "string"), "quantity": ("quantity", "number"),
             "unit price": ("unit_price", "number"), "paid": ("paid", "other")}
    lookup = LabelLookup(text, spell, kinds)
    # A string value, then a number (then "1.5 USD", no number: the proposal ends).
    assert bytes(lookup.propose("description", 200)) == b'Red pen","quantity":72'
    assert bytes(lookup.propose("description", 5)) == b"Red p"  # at most n tokens
    lookup.accepted(3)
    # From a number; "Unit Price: 1.5 USD" is not a number, so the proposal ends before it.
    assert bytes(lookup.propose("quantity", 200, in_string=False)) == b"72"
    lookup.accepted(1)
    # The next item's fields, up to a property of another kind.
    assert bytes(lookup.propose("description", 200)) == b'Ink","quantity":3'
    # Without kinds, only the labelled line.
    assert bytes(LabelLookup(text, spell).propose("description", 200)) == b"Red pen"


def test_label_lookup_offers_the_rest_of_a_draft_the_batch_cut() -> None:
    lookup = LabelLookup(b"Name: Ada Lovelace\n", spell)
    assert bytes(lookup.propose("name", 4)) == b"Ada "
    lookup.accepted(4)  # all offered tokens kept: the draft goes on
    assert lookup.pending() == ord("L")
    assert bytes(lookup.propose_rest(3)) == b"ove"  # after the output took "L" itself
    lookup.accepted(1)  # a mismatch: nothing pending
    assert lookup.pending() is None and lookup.propose_rest(3) == []


def test_label_lookup_goes_on_when_the_model_spells_the_draft_another_way() -> None:
    pieces = [bytes([i]) for i in range(256)] + [b"Ad", b"Ax"]
    lookup = LabelLookup(b"Name: Ada Lovelace\nName: Bob\n", spell, pieces=pieces)
    assert bytes(lookup.propose("name", 4)) == b"Ada "
    lookup.accepted(0)  # the model wrote "Ad" (256) where the draft has "A"
    assert lookup.pending() is None
    assert lookup.respell(256) and lookup.pending() == 256
    assert bytes(lookup.propose_rest(3)) == b"a L"  # the rest, tokenized anew
    lookup.accepted(1)  # then "a" kept and a token the draft does not spell
    assert not lookup.respell(257) and lookup.pending() is None
    assert not lookup.respell(ord("x"))
    # The value was begun (by the model's own token): the next "Name:" label is Bob's.
    lookup.drop()
    assert bytes(lookup.propose("name", 10)) == b"Bob"


def test_label_lookup_respell_needs_the_draft_to_go_on_after_the_token() -> None:
    pieces = [bytes([i]) for i in range(256)] + [b"Ada"]
    lookup = LabelLookup(b"Name: Ada\n", spell, pieces=pieces)
    assert bytes(lookup.propose("name", 8)) == b"Ada"
    lookup.accepted(0)
    assert not lookup.respell(256)  # the token spells the whole rest: nothing to go on with
    assert LabelLookup(b"Name: Ada\n", spell).respell(ord("A")) is False  # no draft


def test_label_lookup_ends_a_value_where_its_line_labels_another_property() -> None:
    kinds = {"name": ("name", "string"), "city": ("city", "string"), "age": ("age", "number")}
    lookup = LabelLookup(b"Name: Ada Lovelace; city: London, age: 36\n", spell, kinds)
    assert bytes(lookup.propose("name", 100)) == b"Ada Lovelace"
    assert bytes(lookup.propose("city", 100)) == b"London"
    assert bytes(lookup.propose("age", 100, in_string=False)) == b"36"
    # A comma before words that label no known property is text.
    lookup = LabelLookup(b"Name: Ada, the countess: of Lovelace\n", spell, kinds)
    assert bytes(lookup.propose("name", 100)) == b"Ada, the countess: of Lovelace"


def test_label_lookup_moves_past_the_values_the_output_kept() -> None:
    text = b"Description: Red pen\nQuantity: 72\nColor: blue\n"
    kinds = {"description": ("description", "string"), "quantity": ("quantity", "number"),
             "color": ("color", "string")}
    lookup = LabelLookup(text, spell, kinds)
    draft = b'Red pen","quantity":72,"color":"blue'
    assert bytes(lookup.propose("description", 100)) == draft
    lookup.accepted(10)  # 'Red pen","q': the first value only
    assert bytes(lookup.propose_key(100)) == b'quantity":72,"color":"blue'
    lookup.accepted(12)  # 'quantity":72': the next line is the one left
    assert bytes(lookup.propose_key(100)) == b'color":"blue'
    lookup.accepted(12)
    assert lookup.propose_key(100) == []  # no labelled line after the last value


def test_label_lookup_starts_the_next_list_item_when_a_property_comes_again() -> None:
    text = b"Description: Pen\nQuantity: 2\nDescription: Ink\nQuantity: 3\n"
    kinds = {"description": ("description", "string"), "quantity": ("quantity", "number")}
    lookup = LabelLookup(text, spell, kinds)
    assert bytes(lookup.propose("description", 100)) == (
        b'Pen","quantity":2},{"description":"Ink","quantity":3')


def test_label_lookup_drafts_only_labels_after_the_cursor() -> None:
    lookup = LabelLookup(b"Name: Ann\nStatus: ok\nOrder Date: 2022-07-20\n", spell)
    assert bytes(lookup.propose("status", 9)) == b"ok"
    lookup.accepted(2)
    assert bytes(lookup.propose("name", 9)) == b""  # its label comes before the cursor
    assert bytes(lookup.propose("order_date", 20)) == b"2022-07-20"


ORDER_TEXT = (b"Order Id: A1\nItems:\n  Name: Pen\n  Qty: 2\n  Name: Ink\n  Qty: 3\nTotal: 9.5\n"
              b"Address:\n  Street: 1 Main St\n  Zip Code: 02134\nStatus: shipped\n")


def test_label_lookup_drafts_through_the_schema_nesting() -> None:
    shape = schema_shape(ORDER)
    lookup = LabelLookup(ORDER_TEXT, spell, property_kinds(ORDER), shape=shape)
    # From the order id on: into the list of items (a repeated property starts the next
    # item), out of it for the total, into the address object and out of it for the status;
    # the labelled lines end with the text, and so does the draft: it closes the object.
    assert bytes(lookup.propose("order_id", 500, output=b'{"order_id":"')) == (
        b'A1","items":[{"name":"Pen","qty":2},{"name":"Ink","qty":3}],"total":9.5,'
        b'"address":{"street":"1 Main St","zip_code":"02134"},"status":"shipped"}')
    # Without the output (or the shape) the draft stops at the first nested field, as before.
    assert bytes(lookup.propose("order_id", 500)) == b"A1"
    # A key just opened inside the address takes the next line of the address only.
    lookup = LabelLookup(ORDER_TEXT, spell, property_kinds(ORDER), shape=shape)
    lookup.cursor = ORDER_TEXT.index(b"  Street")
    assert bytes(lookup.propose_key(500, output=b'{"order_id":"A1","address":{"')) == (
        b'street":"1 Main St","zip_code":"02134"},"status":"shipped"}')
    lookup.cursor = ORDER_TEXT.index(b"Status")
    # The status belongs to the root object, not to the address whose key is open.
    assert lookup.propose_key(500, output=b'{"order_id":"A1","address":{"street":"1","') == []
    # A line labelling an object opens it for the lines that follow.
    lookup.cursor = ORDER_TEXT.index(b"Address")
    assert bytes(lookup.propose_key(500, output=b'{"order_id":"A1","')) == (
        b'address":{"street":"1 Main St","zip_code":"02134"},"status":"shipped"}')
    # An empty line ends the labelled block too; a line that labels nothing known does not.
    text = b"Total: 9.5\n\nPlease extract it.\n"
    lookup = LabelLookup(text, spell, property_kinds(ORDER), shape=shape)
    assert bytes(lookup.propose("total", 50, False, b'{"items":[{"qty":1}],"total":')) == (
        b"9.5}")
    text = b"Total: 9.5\nCourier: DHL\n"
    lookup = LabelLookup(text, spell, property_kinds(ORDER), shape=shape)
    assert bytes(lookup.propose("total", 50, False, b'{"total":')) == b"9.5"


def test_label_lookup_nested_draft_moves_the_cursor_past_an_opened_object() -> None:
    shape = schema_shape(ORDER)
    lookup = LabelLookup(ORDER_TEXT, spell, property_kinds(ORDER), shape=shape)
    lookup.cursor = ORDER_TEXT.index(b"Address")
    draft = bytes(lookup.propose_key(500, output=b'{"total":9.5,"'))
    assert draft.startswith(b'address":{"street')
    lookup.accepted(len(b'address":{'))  # the opener kept, not the street
    assert lookup.cursor == ORDER_TEXT.index(b"\n  Street")  # the end of the "Address:" line


def test_label_lookup_string_values_go_on_over_unlabelled_lines() -> None:
    text = (b"Address: 993 Hayes Mills\nNew Susanville, WV 27736\nTimezone: 00:59\n"
            b"Note: one\n\nPlease extract it.\n")
    kinds = {"address": ("address", "string"), "timezone": ("timezone", "string"),
             "note": ("note", "string")}
    lookup = LabelLookup(text, spell, kinds)
    # The address takes its second line (as the JSON escape \n); the labelled lines after it
    # are fields of their own, and an empty line ends the last value.
    assert bytes(lookup.propose("address", 500)) == (
        b'993 Hayes Mills\\nNew Susanville, WV 27736","timezone":"00:59","note":"one')
    lookup.accepted(len(b'993 Hayes Mills\\nNew Susanville, WV 27736","t'))
    assert lookup.cursor == text.index(b"\nTimezone")  # past both lines of the address
    # A number never does.
    assert bytes(LabelLookup(b"Qty: 3\n4 more\n", spell, {"qty": ("qty", "number")}).propose(
        "qty", 50, in_string=False)) == b"3"


def test_label_lookup_drafts_lists_laid_out_one_item_per_line() -> None:
    schema = {"type": "object", "properties": {
        "item_id": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "scores": {"type": "array", "items": {"type": "number"}},
        "created_by": {"type": "string"}}}
    text = (b"Item Id: 474e\nTags:\n  Maintain\n  Enjoy\n  Two\nScores:\n  1.5\n  2\n"
            b"Created By: Level\n\nPlease extract it.\n")
    shape = schema_shape(schema)
    lookup = LabelLookup(text, spell, property_kinds(schema), shape=shape)
    # In a chain: the list, closed, then the next labelled line, then the end of the block.
    assert bytes(lookup.propose("item_id", 500, output=b'{"item_id":"')) == (
        b'474e","tags":["Maintain","Enjoy","Two"],"scores":[1.5,2],"created_by":"Level"}')
    # Right after the list opened (the grammar forced '["' or '[').
    assert bytes(lookup.propose("tags", 500, True, b'{"item_id":"474e","tags":["')) == (
        b'Maintain","Enjoy","Two"],"scores":[1.5,2],"created_by":"Level"}')
    assert bytes(lookup.propose("scores", 500, False, b'{"scores":[')) == (
        b'1.5,2],"created_by":"Level"}')
    # An item that is not a number ends a list of numbers before it: no list to draft.
    odd = LabelLookup(b"Scores:\n  1.5\n  many\n", spell, property_kinds(schema), shape=shape)
    assert bytes(odd.propose("scores", 500, False, b'{"scores":[')) == b"1.5]"
    assert finished_key(b'{"tags":["') == "tags" and finished_key(b'{"tags":[') == "tags"
    assert finished_key(b'{"tags":[1') is None
    # Items must be indented under their label.
    flat = LabelLookup(b"Tags:\nMaintain\n", spell, property_kinds(schema), shape=shape)
    assert flat.propose("tags", 500, True, b'{"tags":["') == []
