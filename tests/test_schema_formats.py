"""JSON Schema -> grammar compiler on strings: patterns and formats combined with length bounds,
time offsets, and the email, hostname and URI formats."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from maaza_rt import SchemaError
from maaza_rt.grammar import Grammar

sys.path.insert(0, str(Path(__file__).parent))
from schema_oracle import matches, oracle_valid, repro  # noqa: E402


@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        (
            {"type": "string", "pattern": "^[a-z]+$", "maxLength": 3},
            ["a", "abc"],
            ["", "abcd", "ab1"],
        ),
        (
            {"type": "string", "pattern": "^a+b$", "minLength": 3},
            ["aab", "aaaab"],
            ["ab", "b"],
        ),
        (
            {"type": "string", "pattern": "^([\\w/-]|[\\w-][\\w/-]*[\\w-])$", "maxLength": 4},
            ["a", "/", "ab", "a/b", "ab-c"],
            ["abcde", "/a", "a/"],
        ),
        (
            {"type": "string", "format": "date", "minLength": 10, "maxLength": 10},
            ["2024-01-31"],
            ["2024-1-31"],
        ),
        (
            {"type": "string", "format": "uuid", "maxLength": 40},
            ["123e4567-e89b-12d3-a456-426614174000"],
            ["123e4567"],
        ),
    ],
)
def test_schema_pattern_with_length(schema: Any, good: list[str], bad: list[str]) -> None:
    grammar = Grammar.from_json_schema(schema)
    for value in good:
        assert oracle_valid(schema, value), value
        assert matches(grammar, json.dumps(value)), repro(schema, value, grammar)
    for value in bad:
        assert not matches(grammar, json.dumps(value)), repro(schema, value, grammar)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "format": "date", "maxLength": 9},
        {"type": "string", "pattern": "^x{2}$", "minLength": 3},
    ],
)
def test_schema_pattern_with_length_unsatisfiable(schema: Any) -> None:
    with pytest.raises(SchemaError):
        Grammar.from_json_schema(schema)


def test_schema_pattern_with_length_lenient() -> None:
    schema = {"type": "string", "pattern": "^a+b+$", "minLength": 2, "maxLength": 3}
    with pytest.raises(SchemaError) as info:
        Grammar.from_json_schema(schema)
    assert info.value.keyword == "maxLength"
    grammar = Grammar.from_json_schema(schema, lenient=True)
    assert grammar.ignored == ["maxLength at #"]
    assert matches(grammar, '"ab"')


@pytest.mark.parametrize("fmt", ["date-time", "time"])
def test_schema_time_offset_required_unless_optional_timezone(fmt: str) -> None:
    """RFC 3339 requires a time offset; `optional_timezone=True` is the explicit departure."""
    schema = {"type": "string", "format": fmt}
    prefix = "2005-07-03T" if fmt == "date-time" else ""
    strict = Grammar.from_json_schema(schema)
    optional = Grammar.from_json_schema(schema, optional_timezone=True)
    assert not matches(strict, f'"{prefix}17:42:53.545351"')
    assert not matches(strict, f'"{prefix}12:00:00"')
    assert matches(optional, f'"{prefix}17:42:53.545351"')
    for value in (f'"{prefix}17:42:53Z"', f'"{prefix}17:42:53.5+02:00"'):
        assert matches(strict, value)
        assert matches(optional, value)


def test_email_format_generates_only_addresses_the_metrics_accept() -> None:
    """The grammar's email is a subset of the scorer's (metrics.h): bounded local part and
    domain, no empty atom, so a runaway generation cannot write a 4 KB domain."""
    from maaza_rt.metrics_reference import check_format_reference

    grammar = Grammar.from_json_schema({"type": "string", "format": "email"})
    label = "a" * 63
    accepted = [
        "a@b.co", "first.last@mail.example.org", "x_y%z+1-2@a-b.c-d.e.f.g.h",
        "a" * 64 + "@b.co",
        "a" * 31 + "." + "b" * 31 + "@b.co",
        "a.b.c.d.e.f@x.y",
        f"a@{label}.{label}.{label}",  # 191 characters
        "a@" + ".".join(["b" * 62] * 4),  # 251
        "a@" + ".".join(["b" * 41] * 6),  # 251
    ]
    refused = [
        "a" * 65 + "@b.co",  # local part over 64
        ".a@b.co", "a.@b.co", "a..b@b.co",  # empty atoms
        "a@b", "a@-b.co", "a@b-.co", "a@" + "b" * 64 + ".co",  # one label, bad or long labels
        "a@" + ".".join(["b" * 63] * 4),  # 255 characters of domain
        "a@" + ".".join(["b"] * 7),  # seven labels: beyond the grammar's subset
        "a@" + ".".join(["b" * 500] * 8),
    ]
    for text in accepted:
        assert check_format_reference("email", text), text
        assert matches(grammar, json.dumps(text)), text
    for text in refused:
        assert not matches(grammar, json.dumps(text)), text
    # what the grammar refuses beyond the scorer's rules is a documented approximation
    assert check_format_reference("email", "a@" + ".".join(["b"] * 7))


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ('"example.com"', True),
        ('"a-b.c"', True),
        ('"xn--4gbwdl.xn--wgbh1c"', False),  # A-labels: Punycode is not checked, so left out
        ('"xn--bcher-kva.example"', False),
        ('"ab--cd.com"', False),  # "--" in the 3rd and 4th positions (RFC 5891)
        ('"a--b.com"', True),
        ('"' + ".".join(["a" * 62] * 4) + '"', True),  # 251 characters
        ('"' + ".".join(["a" * 63] * 4) + '"', False),  # 255 characters
        ('"' + ".".join(["a" * 63] * 3 + ["a" * 61]) + '"', False),  # 253: valid, narrowed
        ('"' + ".".join(["a"] * 127) + '"', False),  # 253 characters in 127 labels: narrowed
        ('"' + ".".join(["abcdefghij"] * 23) + '"', False),  # 252 characters: narrowed
    ],
)
def test_schema_hostname_bounded_and_without_a_labels(text: str, ok: bool) -> None:
    schema = {"type": "string", "format": "hostname"}
    assert matches(Grammar.from_json_schema(schema), text) == ok, text
    if len(text) - 2 > 253 or "--" in text[3:5]:
        assert not ok


@pytest.mark.parametrize(
    ("fmt", "text", "ok"),
    [
        ("uri", '"http://u:p@h:80/a?b#c"', True),
        ("uri", '"http://h:/x"', True),  # an empty port is allowed
        ("uri", '"http://h:8a/x"', False),  # a port is digits
        ("uri", '"http://a@b@c/"', False),  # one '@' in the authority
        ("uri", '"http://[::1]/"', False),  # IP-literal hosts are left out
        ("uri", '"foo:"', True),
        ("uri", '"mailto:a@b.c"', True),
        ("uri-reference", '"//h:8a"', False),
        ("uri-reference", '"//a@b@c"', False),
        ("uri-reference", '"//u@h:80/p"', True),
        ("uri-reference", '"a:b@c@d"', True),  # a URI whose path holds '@' (no authority)
        ("uri-reference", '"../a@b"', True),
    ],
)
def test_schema_uri_authority_structure(fmt: str, text: str, ok: bool) -> None:
    grammar = Grammar.from_json_schema({"type": "string", "format": fmt})
    assert matches(grammar, text) == ok, text
