"""JSON scanning: where an output prefix stands (in a key, in a string), the key it ends on, its
depth and root keys."""

from __future__ import annotations

from maaza_rt.json_scan import JsonScan, finished_key


def test_finished_key_reads_the_key_the_output_ends_on() -> None:
    assert finished_key(b'{"a":1,"balance_after":') == "balance_after"
    assert finished_key(b'{"name":"') == "name"
    assert finished_key(b'{"name":"A') is None  # inside the value already
    assert finished_key(b'{"name"') is None
    assert finished_key(b'{"say \\"hi\\"":"') == 'say \\"hi\\"'


def scanned(data: bytes, pieces: int = 1) -> JsonScan:
    """A scan fed ``data`` in ``pieces`` parts (where it ends must not depend on the cuts)."""
    scan = JsonScan()
    step = max(1, -(-len(data) // pieces))
    for i in range(0, len(data), step):
        scan.feed(data[i:i + step])
    return scan


def test_json_scan_tells_keys_from_values_and_list_items() -> None:
    for pieces in (1, 3, 50):
        assert scanned(b'{"na', pieces).in_key
        assert scanned(b'{"a":1,"', pieces).in_key
        assert scanned(b'{"a":[{"b":2},{"', pieces).in_key
        value = scanned(b'{"name":"Ad', pieces)
        assert value.in_string and not value.in_key
        item = scanned(b'{"tags":["Beautiful","Reflect","', pieces)  # a list's string item
        assert item.in_string and not item.in_key
        assert not scanned(b'{"name":', pieces).in_string
        assert not scanned(b'{"a":"x","b":3', pieces).in_key
        quoted = scanned(b'{"q":"say \\"hi', pieces)
        assert quoted.in_string and not scanned(b'{"q":"a\\\\"', pieces).in_string
        assert scanned(b'{"a":"x,\\"y\\"","', pieces).in_key  # escaped quotes are text
    assert not JsonScan().in_string and not JsonScan().in_key


def test_json_scan_tells_where_a_next_piece_ends_the_value() -> None:
    assert scanned(b'{"a":"x').ending(b'yz",') == 2
    assert scanned(b'{"a":"x').ending(b"y, z") == -1  # a comma in a string is text
    assert scanned(b'{"a":12').ending(b"3},") == 1
    # An escape the output left open makes the next quote text.
    assert scanned(b'{"a":"x\\').ending(b'"",') == 1


def test_json_scan_finds_where_a_next_piece_starts_an_object_member() -> None:
    assert scanned(b'{"a":"x').member_start(b'",') == 1  # after the string closes
    assert scanned(b'{"a":"x').member_start(b'y, z') == -1  # a comma in a string is text
    assert scanned(b'{"a":12').member_start(b',"') == 0
    assert scanned(b"{").member_start(b'"') == 0  # the first key after the brace
    assert scanned(b"").member_start(b'{"') == 1
    assert scanned(b'{"a":[1').member_start(b",") == -1  # a list's next item is no member
    assert scanned(b'{"a":[1').member_start(b'],"') == 1
    assert scanned(b'{"a":{"b":1').member_start(b'}},') == -1  # the object closes first
    assert scanned(b'{"a":{"b":1').member_start(b'},') == 1  # the outer object's next member
    assert scanned(b'{"a":"x\\').member_start(b'",') == -1  # an escaped quote is text
    scan = scanned(b'{"a":"x')
    scan.member_start(b'","b":1')
    assert scan.in_string and not scan.in_key  # the scan itself does not move
