"""GBNF parsing and printing: tables of strings that must pass or fail, errors with positions,
and the print -> parse round trip."""

from __future__ import annotations

import pytest

from maaza_rt import GrammarError
from maaza_rt.grammar import Grammar, GrammarMatcher, Vocabulary

BYTE_VOCAB = Vocabulary([bytes([b]) for b in range(256)] + [b""], [256])


def matches(grammar: Grammar, text: str) -> bool:
    m = GrammarMatcher(grammar, BYTE_VOCAB)
    return m.accept_bytes(text.encode("utf-8")) and m.is_complete()


# (grammar, strings that must match, strings that must not)
TABLE = [
    ('root ::= "abc"', ["abc"], ["", "ab", "abcd", "abd"]),
    ('root ::= "a" | "b" "c"', ["a", "bc"], ["b", "ac", "abc"]),
    ("root ::= [a-c]+", ["a", "abcabc"], ["", "d", "ad"]),
    ("root ::= [^a-c]", ["d", "é", "\U0001f600"], ["a", "", "dd"]),
    ('root ::= "x"*', ["", "x", "xxxx"], ["y"]),
    ('root ::= "x"? "y"', ["y", "xy"], ["xxy", "x"]),
    ('root ::= "x"{2,3}', ["xx", "xxx"], ["x", "xxxx"]),
    ('root ::= "x"{2}', ["xx"], ["x", "xxx"]),
    ('root ::= "x"{2,}', ["xx", "xxxxx"], ["x"]),
    ('root ::= "x"{,2}', ["", "x", "xx"], ["xxx"]),
    ("root ::= .", ["a", "é", "😀"], ["", "ab"]),
    ('root ::= item ("," item)*\nitem ::= [0-9]+', ["1", "1,22,333"], ["1,", ",1", "1,,2"]),
    ('root ::= "[" (val ("," val)*)? "]"\nval ::= "1" | root', ["[]", "[1,[1,[]]]"], ["[", "[1,]"]),
    ('root ::= "\\x41\\u00e9\\U0001F600\\n\\t\\"\\\\"', ['Aé😀\n\t"\\'], ["A"]),
    ("root ::= [\\]\\-\\\\^]+", ["]-\\^"], ["a"]),
    ("root ::= [é-ê]", ["é", "ê"], ["e", "ë"]),
    ('# comment\nroot ::= a # trailing\n\na ::= "q"\n', ["q"], ["a"]),
    ('root ::= "a"\n  | "b"', ["a", "b"], ["ab"]),
    ('root ::= ( "a"\n  "b" )', ["ab"], ["a"]),
    ('root ::= ""', [""], ["a"]),
    ('root ::= ("a"?)* "b"', ["b", "aab"], ["a"]),
    # A rule mentioned before the helper rules of an earlier one (found by fuzz/fuzz_gbnf): the
    # printed order must be the order in which the parser meets the rules again.
    ('root ::= obj\nobj ::= "{" ws (pair ("," ws pair)*)? "}"\npair ::= str ":" ws val\n'
     'val ::= str | [0-9]+ | obj\nstr ::= "\\"" [^"\\\\]* "\\""\nws ::= [ \\t\\n]*',
     ['{}', '{"a":1, "b":{"c":"é"}}'], ["{", '{"a"}', '{"a":}']),
]


@pytest.mark.parametrize("text,good,bad", TABLE)
def test_gbnf_table_pass_fail(text: str, good: list[str], bad: list[str]) -> None:
    g = Grammar.from_gbnf(text)
    for s in good:
        assert matches(g, s), f"must match: {s!r}\ngrammar:\n{text}\nprinted:\n{g.to_gbnf()}"
    for s in bad:
        assert not matches(g, s), f"must not match: {s!r}\ngrammar:\n{text}"


@pytest.mark.parametrize("text,good,bad", TABLE)
def test_gbnf_print_round_trip(text: str, good: list[str], bad: list[str]) -> None:
    g = Grammar.from_gbnf(text)
    printed = g.to_gbnf()
    g2 = Grammar.from_gbnf(printed)
    assert g2.to_gbnf() == printed, f"printing is not a fixed point:\n{printed}"
    for s in good:
        assert matches(g2, s), f"printed grammar must match {s!r}:\n{printed}"
    for s in bad:
        assert not matches(g2, s), f"printed grammar must not match {s!r}:\n{printed}"


def test_gbnf_print_root_first_and_named_root() -> None:
    g = Grammar.from_gbnf('start ::= x\nx ::= "1"', root="start")
    printed = g.to_gbnf()
    assert printed.splitlines()[0].startswith("root ::= ")
    assert matches(Grammar.from_gbnf(printed), "1")


def test_gbnf_print_repeat_operators() -> None:
    g = Grammar.from_gbnf(
        'root ::= a? b* c+ d{3} e{1,} f{2,5}\na ::= "a"\nb ::= "b"\n'
        'c ::= "c"\nd ::= "d"\ne ::= "e"\nf ::= "f"'
    )
    first = g.to_gbnf().splitlines()[0]
    assert first == "root ::= a? b* c+ d{3} e+ f{2,5}"


@pytest.mark.parametrize(
    "text,line,column,fragment",
    [
        ('root ::= "abc', 1, 10, "unterminated"),
        ("root ::= x\nx ::= y", 2, 7, "undefined rule 'y'"),
        ('root ::= "a"\nfoo "b"', 2, 5, "::="),
        ('root ::= "\\q"', 1, 11, "unknown escape"),
        ("root ::= [a-", 1, 10, "unterminated character class"),
        ('root ::= "a" )', 1, 14, "end of line"),
        ('root ::= "a"\nroot ::= "b"', 2, 1, "defined twice"),
        ('root ::= x "a"\nx ::= root "b" | "c"', 1, 1, "left-recursive"),
        ('root ::= "a"\nx ::= x "b"', 2, 1, "left-recursive"),
        ("root ::= * ", 1, 10, "nothing to repeat"),
        ('root ::= "a"{3,1}', 1, 13, "min > max"),
        ("root ::= [z-a]", 1, 10, "out of order"),
    ],
)
def test_gbnf_parse_error_position(text: str, line: int, column: int, fragment: str) -> None:
    with pytest.raises(GrammarError) as info:
        Grammar.from_gbnf(text)
    err = info.value
    assert fragment in str(err), str(err)
    assert (err.line, err.column) == (line, column), str(err)


def test_gbnf_missing_root() -> None:
    with pytest.raises(GrammarError, match="no rule named 'main'"):
        Grammar.from_gbnf('root ::= "a"', root="main")


def test_gbnf_unproductive_root_is_an_error() -> None:
    with pytest.raises(GrammarError, match="matches no string"):
        Grammar.from_gbnf("root ::= [^\\x00-\\U0010FFFF]")


def test_gbnf_dead_alternative_is_pruned() -> None:
    # The first alternative can never complete; it must not leave a dead end after "a".
    g = Grammar.from_gbnf('root ::= "a" [^\\x00-\\U0010FFFF] | "a" "b"')
    m = GrammarMatcher(g, BYTE_VOCAB)
    assert m.accept_bytes(b"a")
    assert m.forced_bytes() == b"b"


def test_gbnf_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(GrammarError, match="nested too deeply"):
        Grammar.from_gbnf("root ::= " + "(" * 100000 + '"a"' + ")" * 100000)
    g = Grammar.from_gbnf("root ::= " + "(" * 100 + '"a"' + ")" * 100)
    assert matches(g, "a")


def test_a_state_too_ambiguous_to_hold_is_a_grammar_error() -> None:
    # A rule that matches the empty string, repeated inside a recursion: each "(" multiplies the
    # ways to split the input between repetition levels (about 100^d stacks at depth d). The
    # matcher refuses the step with a GrammarError instead of exhausting memory, and its state
    # is the one before the refused step.
    g = Grammar.from_gbnf('root ::= "(" item{0,100} ")"\nitem ::= root | ""')
    m = GrammarMatcher(g, BYTE_VOCAB)
    accepted = 0
    with pytest.raises(GrammarError, match="too ambiguous"):
        for _ in range(10):
            m.accept_bytes(b"(")
            accepted += 1
    assert 1 <= accepted < 10
    assert m.accept_bytes(b")" * accepted) and m.is_complete()
    # Shallow nesting is matched as usual.
    assert matches(g, "(()())")
