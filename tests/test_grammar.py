"""Grammar: construction from JSON Schema and GBNF, validation, the public API shape."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import maaza_rt
from maaza_rt import GrammarError, JsonError, SchemaError
from maaza_rt.grammar import Grammar, GrammarMatcher, Vocabulary

BYTE_VOCAB = Vocabulary([bytes([b]) for b in range(256)] + [b""], [256])


def full_match(g: Grammar, data: bytes) -> bool:
    m = GrammarMatcher(g, BYTE_VOCAB)
    return m.accept_bytes(data) and m.is_complete()


def test_grammar_exports() -> None:
    assert maaza_rt.Grammar is Grammar
    assert maaza_rt.Vocabulary is Vocabulary
    assert maaza_rt.GrammarMatcher is GrammarMatcher


@pytest.mark.parametrize("schema", [{"type": "string"}, '{"type": "string"}'])
def test_grammar_from_json_schema_string(schema: dict | str) -> None:
    g = Grammar.from_json_schema(schema)
    assert g.ignored == []
    assert full_match(g, b'"abc \\" \\u00e9 \xc3\xa9"')
    assert not full_match(g, b'"abc')
    assert not full_match(g, b'"a\x01"')


def test_grammar_from_json_schema_errors() -> None:
    with pytest.raises(JsonError):
        Grammar.from_json_schema("{not json")
    with pytest.raises(ValueError, match="whitespace"):
        Grammar.from_json_schema({"type": "string"}, whitespace="loose")
    with pytest.raises(SchemaError):
        Grammar.from_json_schema({"not": {}})


def test_grammar_left_recursion_refused() -> None:
    with pytest.raises(GrammarError, match="left-recursive"):
        Grammar.from_gbnf('root ::= a\na ::= b "x" | "y"\nb ::= "z"? a')


def test_grammar_nullable_repeat_is_not_left_recursion() -> None:
    g = Grammar.from_gbnf('root ::= ("a"? "b"?)* "c"')
    assert full_match(g, b"c")
    assert full_match(g, b"abbac")
    assert not full_match(g, b"abba")


def test_grammar_large_repeat_counts() -> None:
    g = Grammar.from_gbnf('root ::= "x"{1000,1200}')
    assert full_match(g, b"x" * 1000)
    assert full_match(g, b"x" * 1200)
    assert not full_match(g, b"x" * 999)
    assert not full_match(g, b"x" * 1201)


def test_grammar_too_large_is_an_error() -> None:
    with pytest.raises(GrammarError, match="too large"):
        Grammar.from_gbnf('root ::= "x"{100000000}')


def test_grammar_program_bound_keeps_compile_memory_small() -> None:
    """Expanded repetitions are bounded at 2^21 program elements (about 125 MB to compile at the
    bound). A schema of the fuzzer (fuzz/regressions/schema/oom-repetition-in-one-of-branches:
    an array of up to 100,001 items in each of three oneOf alternatives) expanded to about six
    million and took 450 MB, past 2 GB under the sanitizers; it is now refused at once."""
    with pytest.raises(GrammarError, match="too large"):
        Grammar.from_gbnf('root ::= "x"{0,600000}')
    assert full_match(Grammar.from_gbnf('root ::= "x"{0,100000}'), b"x" * 100000)
    text = (Path(__file__).resolve().parent.parent / "fuzz" / "regressions" / "schema" /
            "oom-repetition-in-one-of-branches").read_bytes()[1:].decode()
    with pytest.raises(GrammarError, match="too large"):
        Grammar.from_json_schema(text)
    # One such array alone still compiles (maxItems is within the compiler's count bound).
    one = {"type": "array", "items": {"type": "integer"}, "maxItems": 100000}
    assert full_match(Grammar.from_json_schema(one), b"[1,2]")


def test_grammar_shared_between_threads() -> None:
    g = Grammar.from_gbnf('root ::= "[" [0-9]+ ("," [0-9]+)* "]"')
    errors: list[str] = []

    def work(k: int) -> None:
        text = ("[" + ",".join(str(i) for i in range(k, k + 50)) + "]").encode()
        for _ in range(20):
            if not full_match(g, text):
                errors.append(text.decode())

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_grammar_repr() -> None:
    assert repr(Grammar.from_gbnf('root ::= "a"')).startswith("Grammar(")
