"""Long documents: splitting at boundaries with overlap, merging chunk values (with and without
per-leaf confidence and spans), the schema check of a merge, and the path through
``Extractor.extract``: with a scripted extractor (no model), and with the default model on a
document of over 20,000 characters whose facts lie in three different chunks."""

from __future__ import annotations

import dataclasses
import random
import re
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maaza_rt.chunk_merge import ChunkResult, count_leaves, merge_results, pointer_token
from maaza_rt.chunking import (
    MAX_CHUNK_TOKENS,
    Chunk,
    Overflow,
    combine_details,
    extract_in_chunks,
    merge_checked,
    prompt_fits,
    split_text,
)
from maaza_rt.errors import InputTooLongError


def _fits(n: int) -> Any:
    return lambda piece: len(piece) <= n


def _check_cover(text: str, chunks: list[Chunk], n: int) -> None:
    """Each chunk is its slice of the text and fits; they start in order with no gap between
    them (only whitespace may be skipped), and the last one reaches the end."""
    assert chunks
    for chunk in chunks:
        assert chunk.text == text[chunk.start:chunk.end] and len(chunk.text) <= n
    assert text[:chunks[0].start].strip() == ""
    for prev, nxt in zip(chunks, chunks[1:]):
        assert prev.start < nxt.start
        assert text[prev.end:nxt.start].strip() == ""
    assert text[chunks[-1].end:].strip() == ""


def test_split_text_prefers_paragraphs_then_lines_then_sentences() -> None:
    paragraphs = ["First paragraph with words.", "Second one is here.", "Third closes it."]
    text = "\n\n".join(paragraphs)
    chunks = split_text(text, _fits(40), overlap=0.0)
    assert [c.text for c in chunks] == paragraphs[:1] + ["\n\n".join(paragraphs[1:])]
    lines = "alpha beta gamma\ndelta epsilon\nzeta eta theta iota"
    assert [c.text for c in split_text(lines, _fits(32), overlap=0.0)] == [
        "alpha beta gamma\ndelta epsilon", "zeta eta theta iota"]
    prose = "One short sentence here. Another sentence follows it. And a last one."
    assert [c.text for c in split_text(prose, _fits(40), overlap=0.0)] == [
        "One short sentence here.", "Another sentence follows it.", "And a last one."]


def test_split_text_overlaps_the_previous_chunk() -> None:
    text = "\n".join(f"line {i:02d} of the file" for i in range(40))
    chunks = split_text(text, _fits(200), overlap=0.2)
    _check_cover(text, chunks, 200)
    assert len(chunks) >= 4
    for prev, nxt in zip(chunks, chunks[1:]):
        assert nxt.start < prev.end  # overlap
        assert nxt.start >= prev.end - 0.2 * (prev.end - prev.start) - 1
        assert text[nxt.start - 1] == "\n"  # starts at a line


def test_split_text_cuts_inside_a_word_only_when_it_must() -> None:
    text = "x" * 250 + " tail"
    chunks = split_text(text, _fits(100), overlap=0.0)
    _check_cover(text, chunks, 100)
    assert [len(c.text) for c in chunks[:2]] == [100, 100]
    assert split_text("short", _fits(100)) == [Chunk(0, 5, "short")]
    assert split_text("", _fits(0)) == [Chunk(0, 0, "")]
    with pytest.raises(ValueError, match="overlap"):
        split_text(text, _fits(100), overlap=0.5)
    with pytest.raises(ValueError, match="not even one character"):
        split_text(text, _fits(0))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab .\n", max_size=400), st.integers(min_value=1, max_value=60),
       st.sampled_from([0.0, 0.1, 0.3]))
def test_split_text_covers_any_text(text: str, n: int, overlap: float) -> None:
    _check_cover(text, split_text(text, _fits(n), overlap=overlap), n)


def test_merge_objects_arrays_and_empty_values() -> None:
    a = {"id": "A-1", "tags": ["x", "y", "y"], "who": {"name": "Ada"}, "note": ""}
    b = {"id": "A-2", "tags": ["y", "z"], "who": {"email": "ada@example.com"}, "note": "late",
         "extra": None}
    c = {"tags": [], "who": {}, "extra": 3}
    merged = merge_results([ChunkResult(a), ChunkResult(b, 100), ChunkResult(c, 200)])
    assert merged.value == {"id": "A-1", "tags": ["x", "y", "y", "z"],
                            "who": {"name": "Ada", "email": "ada@example.com"}, "note": "late",
                            "extra": 3}
    assert merged.confidence is None and merged.spans is None
    assert merge_results([ChunkResult([]), ChunkResult([])]).value == []
    assert merge_results([ChunkResult(None), ChunkResult("x")]).value == "x"
    assert count_leaves(a) == 5 and pointer_token("a/b~c") == "a~1b~0c"
    with pytest.raises(ValueError):
        merge_results([])


def test_merge_picks_scalars_by_confidence_else_first() -> None:
    a, b = {"total": 10, "name": "Bob"}, {"total": 12, "name": "Robert"}
    assert merge_results([ChunkResult(a), ChunkResult(b)]).value == a
    confident = merge_results([ChunkResult(a, 0, {"/total": 0.4, "/name": 0.9}),
                               ChunkResult(b, 50, {"/total": 0.8, "/name": 0.2})])
    assert confident.value == {"total": 12, "name": "Bob"}
    assert confident.confidence == {"/total": 0.8, "/name": 0.9}
    # A result without confidence ranks below one with it.
    assert merge_results([ChunkResult(a), ChunkResult(b, 0, {"/total": 0.1})]).value["total"] == 12


def test_merge_prefers_values_labelled_or_found_in_their_chunk() -> None:
    a = ChunkResult({"inspector": "string", "site": "Kestrel"}, 0, None, None, "Site: Kestrel")
    b = ChunkResult({"inspector": "Helena Marsh", "site": "city"}, 40, None, None,
                    "Inspector:  HELENA   marsh")
    assert merge_results([a, b]).value == {"inspector": "Helena Marsh", "site": "Kestrel"}
    # Found beats confident; among the found, confidence decides.
    c = ChunkResult({"inspector": "Helen"}, 80, {"/inspector": 0.99}, None, "no name here")
    d = ChunkResult({"inspector": "Helena Marsh"}, 90, {"/inspector": 0.7}, None,
                    "Helena Marsh")
    assert merge_results([c, d]).value == {"inspector": "Helena Marsh"}
    e = ChunkResult({"inspector": "Helena"}, 95, {"/inspector": 0.8}, None, "Helena Marsh")
    assert merge_results([d, e]).value == {"inspector": "Helena"}
    # A value its text labels with the key beats a phrase merely found, confident or first.
    f = ChunkResult({"site": "market square", "report_number": 7}, 0,
                    {"/site": 0.9, "/report_number": 0.9}, None, "The market square was full.")
    g = ChunkResult({"site": "Kestrel Quarry", "report_number": 12}, 50,
                    {"/site": 0.2, "/report_number": 0.1}, None,
                    "Site:\n  Kestrel quarry\nReport-Number: 12")
    assert merge_results([f, g]).value == {"site": "Kestrel Quarry", "report_number": 12}


def test_merge_maps_spans_and_confidence_onto_the_merged_value() -> None:
    a = ChunkResult({"items": [{"n": "pen"}, {"n": "ink"}], "shop": "Ives"}, 0,
                    {"/items/0/n": 0.9, "/items/1/n": 0.8, "/shop": 0.5},
                    {"/items/0/n": (5, 8), "/items/1/n": (12, 15), "/shop": (0, 4)})
    b = ChunkResult({"items": [{"n": "ink"}, {"n": "cap"}], "shop": "Ivy"}, 10,
                    {"/items/0/n": 0.7, "/items/1/n": 0.6, "/shop": 0.9},
                    {"/items/0/n": (2, 5), "/items/1/n": (20, 23), "/shop": (30, 33)})
    merged = merge_results([a, b])
    assert merged.value == {"items": [{"n": "pen"}, {"n": "ink"}, {"n": "cap"}], "shop": "Ivy"}
    assert merged.spans == {"/items/0/n": (5, 8), "/items/1/n": (12, 15),
                            "/items/2/n": (30, 33), "/shop": (40, 43)}
    assert merged.confidence == {"/items/0/n": 0.9, "/items/1/n": 0.8, "/items/2/n": 0.6,
                                 "/shop": 0.9}


def test_merge_checked_falls_back_to_one_chunk_when_the_merge_is_invalid() -> None:
    schema = {"type": "object", "properties": {
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "n": {"type": "integer"}}, "additionalProperties": False}
    ok = merge_checked([ChunkResult({"tags": ["a"]}), ChunkResult({"tags": ["b"], "n": 1})],
                       schema)
    assert ok.value == {"tags": ["a", "b"], "n": 1}
    results = [ChunkResult({"tags": ["a"]}), ChunkResult({"tags": ["b", "c"], "n": 1})]
    fallback = merge_checked(results, schema)
    assert fallback.value == {"tags": ["b", "c"], "n": 1}
    jsonschema.validate(fallback.value, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(merge_results(results).value, schema)


def test_overflow_catches_only_input_too_long_when_enabled() -> None:
    with Overflow(True) as caught:
        raise InputTooLongError("too long", 10, 5, 5)
    assert caught.error is not None and caught.error.excess == 5
    with pytest.raises(InputTooLongError), Overflow(False):
        raise InputTooLongError("too long")
    with pytest.raises(KeyError), Overflow(True):
        raise KeyError("other")


# ---- the path through extract_in_chunks, with a scripted extractor ---------------------------


@dataclass(frozen=True)
class _Details:
    """An extraction record with the fields a later Extraction adds (confidence, spans)."""

    value: Any
    text: str = ""
    n_prompt_tokens: int = 0
    n_output_tokens: int = 0
    prompt_ms: float = 0.0
    total_ms: float = 0.0
    budget_closed: bool = False
    n_chunks: int = 1
    confidence: dict[str, float] = field(default_factory=dict)
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)


class _ScriptedModel:
    """Prompts are the text plus a 20-character template; a token is a character."""

    def build_prompt(self, text: str, schema: dict) -> str:
        return "T" * 20 + text

    def prompt_tokens(self, prompt: str) -> list[int]:
        return [ord(c) for c in prompt]


class _ScriptedExtractor:
    """Finds ``Label: value`` lines for the schema's properties; confidence 1 / (1 + offset)."""

    def __init__(self, n_ctx: int) -> None:
        self.model = _ScriptedModel()
        self.session = type("S", (), {"n_ctx_limit": n_ctx})()
        self.calls: list[str] = []

    def extract(self, text: str, schema: dict, **options: Any) -> _Details:
        assert options["chunking"] is False and options["return_details"] is True
        assert len(text) + 20 + options["max_tokens"] + 1 <= self.session.n_ctx_limit
        self.calls.append(text)
        value: dict[str, Any] = {}
        confidence: dict[str, float] = {}
        spans: dict[str, tuple[int, int]] = {}
        for key in schema["properties"]:
            for m in re.finditer(rf"^{key.rstrip('s').title()}: (.+)$", text, re.M):
                if key == "codes":
                    value.setdefault(key, []).append(m.group(1))
                    at = f"/codes/{len(value[key]) - 1}"
                elif key not in value:
                    value[key] = m.group(1)
                    at = f"/{key}"
                else:
                    continue
                confidence[at] = 1 / (1 + m.start(1))
                spans[at] = (m.start(1), m.end(1))
        return _Details(value, n_prompt_tokens=len(text) + 20, n_output_tokens=3, prompt_ms=1.0,
                        confidence=confidence, spans=spans)


SCRIPT_SCHEMA = {"type": "object", "properties": {
    "name": {"type": "string"}, "city": {"type": "string"},
    "codes": {"type": "array", "items": {"type": "string"}}}, "additionalProperties": False}


def _labelled_document(seed: int) -> tuple[str, dict[str, Any]]:
    rng = random.Random(seed)
    words = ["river", "stone", "lamp", "field", "cloud", "bread", "road", "glass"]
    paragraphs = [" ".join(rng.choice(words) for _ in range(30)) for _ in range(30)]
    paragraphs.insert(3, "Name: Ada Lovelace")
    paragraphs.insert(12, "Code: K-1\nCode: K-2")
    paragraphs.insert(20, "City: London")
    paragraphs.insert(27, "Code: K-3")
    return "\n\n".join(paragraphs), {"name": "Ada Lovelace", "city": "London",
                                     "codes": ["K-1", "K-2", "K-3"]}


def test_extract_in_chunks_merges_and_maps_spans_to_the_whole_text() -> None:
    text, expected = _labelled_document(0)
    extractor = _ScriptedExtractor(n_ctx=1200)
    error = InputTooLongError("too long", len(text), 1200, 1)
    details = extract_in_chunks(extractor, text, SCRIPT_SCHEMA, None, error, 0,
                                return_details=True, max_tokens=100, lenient=False,
                                optional_timezone=False)
    assert details.value == expected
    assert details.n_chunks == len(extractor.calls) >= 3
    assert details.n_prompt_tokens == sum(len(c) + 20 for c in extractor.calls)
    assert set(details.spans) == {"/name", "/city", "/codes/0", "/codes/1", "/codes/2"}
    for pointer, (start, end) in details.spans.items():
        parts = pointer.split("/")[1:]
        leaf: Any = details.value
        for part in parts:
            leaf = leaf[int(part)] if isinstance(leaf, list) else leaf[part]
        assert text[start:end] == leaf
    assert set(details.confidence) == set(details.spans)
    value = extract_in_chunks(extractor, text, SCRIPT_SCHEMA, None, error, 0,
                              return_details=False, max_tokens=100, lenient=False,
                              optional_timezone=False)
    assert value == expected
    pydantic = pytest.importorskip("pydantic")

    class Record(pydantic.BaseModel):
        name: str
        city: str
        codes: list[str]

    record = extract_in_chunks(extractor, text, SCRIPT_SCHEMA, Record, error, 0,
                               return_details=False, max_tokens=100, lenient=False,
                               optional_timezone=False)
    assert isinstance(record, Record) and record.model_dump() == expected


def test_extract_in_chunks_caps_chunks_below_a_large_context() -> None:
    text, expected = _labelled_document(1)
    extractor = _ScriptedExtractor(n_ctx=100_000)
    details = extract_in_chunks(extractor, text, SCRIPT_SCHEMA, None,
                                InputTooLongError("too long"), 0, return_details=True,
                                max_tokens=100, lenient=False, optional_timezone=False,
                                max_chunk_tokens=600)
    assert details.value == expected
    assert len(extractor.calls) >= 9 and max(len(c) for c in extractor.calls) <= 600


def test_extract_in_chunks_refuses_when_the_schema_leaves_no_room() -> None:
    error = InputTooLongError("too long", 500, 200, 300)
    with pytest.raises(InputTooLongError) as info:
        extract_in_chunks(_ScriptedExtractor(n_ctx=200), "x " * 250, SCRIPT_SCHEMA, None, error,
                          0, return_details=False, max_tokens=100, lenient=False,
                          optional_timezone=False)
    assert info.value is error


def test_combine_details_on_the_current_extraction_type() -> None:
    from maaza_rt.chunk_merge import Merged
    from maaza_rt.extractor import Extraction

    parts = [Extraction(value={"a": i}, text="", n_prompt_tokens=10, n_prompt_tokens_reused=4,
                        n_output_tokens=2, n_forced_tokens=1, prompt_ms=1.0, decode_ms=2.0,
                        grammar_ms=0.5, total_ms=4.0, budget_closed=i == 1)
             for i in range(3)]
    combined = combine_details(parts, {"a": 0}, '{"a":0}', Merged({"a": 0}), 0)
    assert dataclasses.replace(combined, total_ms=0.0) == Extraction(
        value={"a": 0}, text='{"a":0}', n_prompt_tokens=30, n_prompt_tokens_reused=12,
        n_output_tokens=6, n_forced_tokens=3, prompt_ms=3.0, decode_ms=6.0, grammar_ms=1.5,
        total_ms=0.0, budget_closed=True, n_chunks=3)


# ---- the default model on a long document (bench/bulk.py makes it) ---------------------------

@pytest.mark.model
@pytest.mark.slow
def test_long_document_is_extracted_exactly_in_chunks() -> None:
    import maaza_rt
    from bench.bulk import LONG_EXPECTED, LONG_FACTS, LONG_SCHEMA, long_document

    text = long_document(20_000)
    assert 20_000 <= len(text) <= 25_000
    extractor = maaza_rt.Extractor(n_threads=1, n_ctx=1024)
    try:
        with pytest.raises(InputTooLongError):
            extractor.extract(text, LONG_SCHEMA, max_tokens=64, chunking=False)
        details = extractor.extract(text, LONG_SCHEMA, max_tokens=64, return_details=True)
        chunks = split_text(text, prompt_fits(extractor, LONG_SCHEMA, 64, MAX_CHUNK_TOKENS))
    finally:
        extractor.close()
    jsonschema.validate(details.value, LONG_SCHEMA)
    assert details.value == LONG_EXPECTED
    assert details.n_chunks == len(chunks) >= 3
    # No two facts share a chunk, so the value needs three of them.
    holders = [{i for i, c in enumerate(chunks) if fact in c.text} for _, fact in LONG_FACTS]
    assert all(holders) and not any(a & b for a, b in zip(holders, holders[1:] + holders[:1]))
    assert details.n_prompt_tokens_reused > 0  # the schema prefix is reused between chunks
