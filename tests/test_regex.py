"""`pattern` regular expressions (ECMA-262 subset) compiled into string grammars: tables of
string values that must match or not, checked against Python's `re.search` (the oracle
`jsonschema` uses) where the two dialects agree, and the constructs that are refused."""

from __future__ import annotations

import json
import re

import pytest

from maaza_rt import SchemaError
from maaza_rt.grammar import Grammar, GrammarMatcher, Vocabulary

BYTE_VOCAB = Vocabulary([bytes([b]) for b in range(256)] + [b""], [256])


def matches_value(pattern: str, value: str) -> bool:
    grammar = Grammar.from_json_schema({"type": "string", "pattern": pattern})
    m = GrammarMatcher(grammar, BYTE_VOCAB)
    return m.accept_bytes(json.dumps(value, ensure_ascii=False).encode("utf-8")) and m.is_complete()


# (pattern, values that must match, values that must not)
PATTERNS: list[tuple[str, list[str], list[str]]] = [
    (
        "^[+]?[0-9\\-\\s()]+$",
        ["+1 (555) 123-4567", "555-0100", "(0) 1"],
        ["+", "", "+1 x", "1+2", "a"],
    ),
    ("^abc$", ["abc"], ["abcd", "xabc", "ab", ""]),
    ("abc", ["abc", "xxabcxx", "abcabc"], ["ab", "acb", ""]),
    ("^ab", ["ab", "abz"], ["zab"]),
    ("ab$", ["ab", "zab"], ["abz"]),
    ("^a|b$", ["a", "azz", "zzb", "b"], ["za", "bz"]),
    ("^(a|bc)+$", ["a", "bc", "abca"], ["", "b", "ac"]),
    ("^(?:ab)*c?$", ["", "ab", "abab", "ababc", "c"], ["a", "cc", "abca"]),
    ("^(?<year>\\d{4})-\\d\\d$", ["2024-01"], ["24-01"]),
    ("^\\d{2,3}$", ["12", "123"], ["1", "1234", "ab"]),
    ("^\\d{2}$", ["12"], ["1", "123"]),
    ("^\\d{2,}$", ["12", "12345"], ["1"]),
    ("^a+?b*?c??$", ["a", "aabbc"], ["b", "acc"]),
    ("^[^a-c]$", ["d", "é", "😀", "\n", '"', "\\"], ["a", "b", "", "dd"]),
    ("^.$", ["a", "é", "😀", '"'], ["\n", "\r", "\u2028", ""]),
    ("^\\w+$", ["abc_09"], ["a-b", "é"]),
    ("^\\W$", ["-", "é"], ["a", "_"]),
    ("^\\s$", [" ", "\t", "\n", "\u00a0", "\u3000"], ["a", ""]),
    ("^\\S+$", ["ab"], ["a b"]),
    ("^\\D$", ["a"], ["1"]),
    ("^[\\d.]+$", ["1.5", "..."], ["1,5"]),
    ("^\\.$", ["."], ["a"]),
    ("^[a\\-z]$", ["a", "-", "z"], ["b"]),
    ("^[-a]$", ["-", "a"], ["b"]),
    ("^[a-]$", ["-", "a"], ["b"]),
    ("^\\x41\\u00e9$", ["Aé"], ["A"]),
    ("^\\t\\n$", ["\t\n"], ["tn"]),
    ('^"\\\\$', ['"\\'], ['"']),
    ('^[\\\\"]+$', ['\\"\\'], ["a"]),
    ("^x{2}y{0,1}$", ["xx", "xxy"], ["x", "xxyy"]),
    ("^a{,2}$", ["a{,2}"], ["aa"]),
    ("^[\\u0000-\\u001f]$", ["\x00", "\n", "\x1f"], [" ", "a"]),
    ("^\\$\\^\\(\\)\\[\\]\\{\\}\\|\\?\\*\\+\\/$", ["$^()[]{}|?*+/"], ["$"]),
    ("", ["", "anything"], []),
    ("^$", [""], ["a"]),
    ("^[😀-😂]$", ["😁"], ["😃"]),
]


# Where Python's `re` and ECMA-262 disagree: \w \W are ASCII-only in ECMA-262, and `{,2}` is a
# literal there but a quantifier in Python.
DIALECT_DIFFERS = {"^\\w+$", "^\\W$", "^a{,2}$"}


@pytest.mark.parametrize(("pattern", "good", "bad"), PATTERNS, ids=[p for p, _, _ in PATTERNS])
def test_regex_table(pattern: str, good: list[str], bad: list[str]) -> None:
    for value in good:
        if pattern not in DIALECT_DIFFERS:
            oracle = re.search(pattern.replace("(?<year>", "(?P<year>"), value)
            assert oracle, f"table error: {value!r}"
        assert matches_value(pattern, value), f"{pattern!r} should match {value!r}"
    for value in bad:
        assert not matches_value(pattern, value), f"{pattern!r} should not match {value!r}"


def test_regex_non_canonical_escape_refused() -> None:
    # Pattern-constrained strings accept only the canonical spelling (documented).
    grammar = Grammar.from_json_schema({"type": "string", "pattern": "^a$"})
    m = GrammarMatcher(grammar, BYTE_VOCAB)
    assert not (m.accept_bytes(b'"\\u0061"') and m.is_complete())


@pytest.mark.parametrize(
    "pattern",
    [
        "(?=a)",
        "(?!a)",
        "(?<=a)b",
        "(?<!a)b",
        "(a)\\1",
        "(?<n>a)\\k<n>",
        "\\bword",
        "a\\B",
        "\\p{L}",
        "(a",
        "a)",
        "[a",
        "*a",
        "a**",
        "\\",
        "[z-a]",
        "(?x)",
        "a^b",
        "(^a)",
        "a$b",
        "(a*)*",
        "\\u12",
        "x{99999999}",
    ],
)
def test_regex_refused(pattern: str) -> None:
    with pytest.raises(SchemaError) as info:
        Grammar.from_json_schema(
            {"type": "object", "properties": {"p": {"type": "string", "pattern": pattern}}}
        )
    assert info.value.keyword == "pattern"
    assert info.value.pointer == "/properties/p"


def test_regex_control_characters_canonical_escapes() -> None:
    # `.` admits every control character except line terminators, each in json.dumps' spelling.
    for c in range(0x20):
        assert matches_value("^.$", chr(c)) == (c not in (0x0A, 0x0D)), hex(c)
    assert matches_value("^[^a]$", "\x1f")
    assert not matches_value("^[^\x1f]$", "\x1f")
