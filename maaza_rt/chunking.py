"""Long documents: a text whose prompt does not fit the context is extracted in chunks.

When the prompt (template, schema, text) plus ``max_tokens`` exceeds the context window,
:meth:`maaza_rt.Extractor.extract` hands the text to :func:`extract_in_chunks`. It splits the
text into overlapping chunks (:func:`split_text`) of at most :data:`MAX_CHUNK_TOKENS` text
tokens, cutting at the coarsest boundary that keeps a chunk at least half as long as the most
that fits: a paragraph break, else a line break, else a sentence end, else a space, else any
character. The next chunk starts a little before the cut, at the earliest such boundary in the
last ``overlap`` fraction of the chunk, so that a fact that straddles a cut is whole in one of
the two. Each chunk is extracted with the same schema and options; the schema part of the prompt
comes first, so its cache is reused from chunk to chunk. The chunk values are merged by
:func:`~maaza_rt.chunk_merge.merge_results` and the merge is checked against the schema's
grammar; where it does not validate (a ``maxItems`` that the concatenated arrays exceed, say),
the chunk value with the most leaves is returned instead, so the result always validates.

Nothing is truncated: a text is extracted whole or the call fails. When even an empty text
leaves fewer than :data:`MIN_CHUNK_TOKENS` tokens for the text, the original
:class:`~maaza_rt.errors.InputTooLongError` is raised.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

from .chunk_merge import ChunkResult, Merged, count_leaves, merge_results
from .errors import InputTooLongError
from .prompt import completion_text
from .schemas import SchemaValue, compile_schema

MIN_CHUNK_TOKENS = 128  # below this much room for text, chunking is refused
# The most text tokens in one chunk, however large the context. The default model reads short
# texts best: a 100,000-character report in 3 chunks as large as its context (8192 tokens)
# came out with none of its three facts right in 436 s and 630 MB; in 11 chunks of at most
# 2048 tokens it was exact in 232 s and 346 MB (bench/RESULTS.md, "Bulk extraction").
MAX_CHUNK_TOKENS = 2048
DEFAULT_OVERLAP = 0.1  # the next chunk starts within the last tenth of the previous one
_MIN_FILL = 0.5  # a coarser boundary is taken only if the chunk keeps half of what fits

# Cut positions: each pattern's match end is a place where a chunk may end and the next begin.
_BOUNDARIES = (
    re.compile(r"\n[^\S\n]*\n\s*"),  # paragraph: a blank line
    re.compile(r"\n\s*"),  # line
    re.compile(r"[.!?;:][\"')\]]*\s+"),  # sentence (or clause)
    re.compile(r"\s+"),  # word
)


@dataclass(frozen=True)
class Chunk:
    """One piece of a long text: ``text == whole[start:end]`` (trailing whitespace dropped)."""

    start: int
    end: int
    text: str


class Overflow:
    """A context manager that catches :class:`InputTooLongError` when ``enabled``: the caller
    then finds it in ``error`` and extracts the text in chunks instead."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.error: InputTooLongError | None = None

    def __enter__(self) -> Overflow:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        if self.enabled and isinstance(exc, InputTooLongError):
            self.error = exc
            return True
        return False


def _cuts(text: str, pattern: re.Pattern[str]) -> list[int]:
    return [m.end() for m in pattern.finditer(text) if 0 < m.end() < len(text)]


def _furthest(text: str, start: int, positions: list[int], fits: Callable[[str], bool]) -> int:
    """The largest position ``p`` in ``positions`` (ascending, all > start) with
    ``fits(text[start:p].rstrip())``, or -1. Assumes that a longer piece never fits where a
    shorter one does not (token counts grow with the text)."""
    lo, hi, best = 0, len(positions) - 1, -1
    while lo <= hi:
        mid = (lo + hi) // 2
        if fits(text[start:positions[mid]].rstrip()):
            best, lo = positions[mid], mid + 1
        else:
            hi = mid - 1
    return best


def _after(positions: list[int], start: int) -> list[int]:
    return positions[bisect.bisect_right(positions, start):]


def split_text(text: str, fits: Callable[[str], bool], *,
               overlap: float = DEFAULT_OVERLAP) -> list[Chunk]:
    """Splits ``text`` into chunks that each satisfy ``fits`` (module docstring: boundaries and
    overlap). ``fits(piece)`` says whether a piece of text fits the budget (the prompt's token
    count with the model; a length in tests). Chunks cover the text in order, each starting
    after the previous one starts and no later than it ends.

    Raises:
        ValueError: ``overlap`` is not in [0, 0.5), or not even one character fits.
    """
    if not 0.0 <= overlap < 0.5:
        raise ValueError(f"overlap must be in [0, 0.5), not {overlap}")
    levels = [_cuts(text, pattern) for pattern in _BOUNDARIES]
    chunks: list[Chunk] = []
    start = 0
    while True:
        rest = text[start:].rstrip()
        if fits(rest):
            if rest or not chunks:
                chunks.append(Chunk(start, start + len(rest), rest))
            return chunks
        limit = _furthest(text, start, _after(levels[-1], start), fits)
        if limit < 0:  # no space fits: cut inside a word
            limit = _furthest(text, start, list(range(start + 1, len(text))), fits)
            if limit < 0:
                raise ValueError("not even one character of the text fits")
        end = limit
        floor = start + _MIN_FILL * (limit - start)
        for positions in levels:
            candidates = [p for p in _after(positions, start) if floor <= p <= limit]
            if candidates:
                end = candidates[-1]
                break
        piece = text[start:end].rstrip()
        if piece:
            chunks.append(Chunk(start, start + len(piece), piece))
        lo = end - int(overlap * (end - start))
        following = end
        for positions in levels:
            candidates = [p for p in _after(positions, start) if lo <= p < end]
            if candidates:
                following = candidates[0]
                break
        start = following


class _ChunkExtractor(Protocol):
    """What :func:`extract_in_chunks` needs of an :class:`~maaza_rt.Extractor`."""

    model: Any
    session: Any
    extract: Callable[..., Any]


def prompt_fits(extractor: _ChunkExtractor, schema: SchemaValue, max_tokens: int,
                max_text_tokens: int | None = None) -> Callable[[str], bool]:
    """``fits(piece)``: whether the prompt for ``piece`` plus ``max_tokens`` fits the context
    of ``extractor``, by the rule :meth:`maaza_rt.session.Session.reserve` applies, and the
    piece adds at most ``max_text_tokens`` tokens to the prompt of an empty text."""
    prompt_schema = schema if isinstance(schema, dict) else {}
    limit = extractor.session.n_ctx_limit

    def n_tokens(piece: str) -> int:
        return len(extractor.model.prompt_tokens(extractor.model.build_prompt(piece,
                                                                              prompt_schema)))

    n_empty = n_tokens("")

    def fits(piece: str) -> bool:
        n = n_tokens(piece)
        return n + max_tokens + 1 <= limit and (max_text_tokens is None
                                                or n - n_empty <= max_text_tokens)

    return fits


def _valid(schema: SchemaValue, value: Any, *, lenient: bool, optional_timezone: bool) -> bool:
    """Whether the schema's grammar accepts ``value``'s canonical text."""
    from .grammar import GrammarMatcher, Vocabulary

    grammar = compile_schema(schema, lenient=lenient, optional_timezone=optional_timezone)
    matcher = GrammarMatcher(grammar, Vocabulary([bytes([b]) for b in range(256)] + [b""],
                                                 eos_ids=[256]))
    schema_dict = schema if isinstance(schema, dict) else {}
    text = completion_text(value, schema_dict).encode("utf-8")
    return matcher.accept_bytes(text) and matcher.is_complete()


def _fallback(results: list[ChunkResult]) -> Merged:
    """The chunk result with the most leaves (the first of equals), as a merge of one."""
    best = max(range(len(results)), key=lambda i: (count_leaves(results[i].value), -i))
    return merge_results([results[best]])


def merge_checked(results: list[ChunkResult], schema: SchemaValue, *, lenient: bool = False,
                  optional_timezone: bool = False) -> Merged:
    """Merges chunk results (:func:`~maaza_rt.chunk_merge.merge_results`) and keeps the merge
    only if it validates against ``schema``; else the chunk result with the most leaves.

    Raises:
        SchemaError: the schema cannot be compiled.
    """
    merged = merge_results(results)
    if _valid(schema, merged.value, lenient=lenient, optional_timezone=optional_timezone):
        return merged
    return _fallback(results)


def extract_in_chunks(extractor: _ChunkExtractor, text: str, schema: SchemaValue,
                      pydantic_cls: Any, error: InputTooLongError, started_ns: int, *,
                      return_details: bool, max_tokens: int, lenient: bool,
                      optional_timezone: bool, max_chunk_tokens: int = MAX_CHUNK_TOKENS,
                      **options: Any) -> Any:
    """Extracts ``text`` chunk by chunk with ``extractor`` and merges the values.

    ``error`` is the error the whole text raised; ``started_ns`` when the call began
    (``time.perf_counter_ns``); ``max_chunk_tokens`` caps the text tokens of a chunk; the other
    keywords are :meth:`Extractor.extract`'s. Returns the
    value (a ``pydantic_cls`` instance when given), or with ``return_details`` the first chunk's
    :class:`~maaza_rt.Extraction` type holding the merge: token counts and times summed over the
    chunks, ``n_chunks`` the number of chunks, and where the type has them ``confidence`` and
    ``spans`` mapped onto the merged value and the whole text.

    Raises:
        InputTooLongError: ``error``, when the prompt without text leaves fewer than
            :data:`MIN_CHUNK_TOKENS` tokens for the text.
        The errors of :meth:`Extractor.extract` for a chunk.
    """
    fits = prompt_fits(extractor, schema, max_tokens + MIN_CHUNK_TOKENS)
    if not fits(""):
        raise error
    chunks = split_text(text, prompt_fits(extractor, schema, max_tokens, max_chunk_tokens))
    details = [extractor.extract(chunk.text, schema, return_details=True, chunking=False,
                                 max_tokens=max_tokens, lenient=lenient,
                                 optional_timezone=optional_timezone, **options)
               for chunk in chunks]
    results = [ChunkResult(d.value, chunk.start, getattr(d, "confidence", None),
                           getattr(d, "spans", None), chunk.text)
               for d, chunk in zip(details, chunks)]
    merged = merge_checked(results, schema, lenient=lenient, optional_timezone=optional_timezone)
    value = merged.value
    if pydantic_cls is not None:
        value = pydantic_cls.model_validate(value)
    if not return_details:
        return value
    return combine_details(details, value, completion_text(
        merged.value, schema if isinstance(schema, dict) else {}), merged, started_ns)


_SUMMED = ("n_prompt_tokens", "n_prompt_tokens_reused", "n_output_tokens", "n_forced_tokens",
           "n_drafted_tokens", "n_closing_tokens", "prompt_ms", "decode_ms", "grammar_ms")


def combine_details(details: list[Any], value: Any, text: str, merged: Merged,
                    started_ns: int) -> Any:
    """One extraction record for the chunks' records ``details`` (dataclass instances of one
    type): the merged value and its text, counts and times summed, ``budget_closed`` if any
    chunk's was, ``n_chunks``, and ``confidence``/``spans`` where the type has those fields."""
    names: Collection[str] = {f.name for f in dataclasses.fields(details[0])}
    updates: dict[str, Any] = {"value": value, "text": text, "n_chunks": len(details),
                               "total_ms": (time.perf_counter_ns() - started_ns) / 1e6,
                               "budget_closed": any(d.budget_closed for d in details)}
    for name in _SUMMED:
        if name in names:
            updates[name] = sum(getattr(d, name) for d in details)
    if merged.confidence is not None:
        updates["confidence"] = merged.confidence
    if merged.spans is not None:
        updates["spans"] = merged.spans
    return dataclasses.replace(details[0], **{k: v for k, v in updates.items() if k in names})


__all__ = [
    "Chunk",
    "DEFAULT_OVERLAP",
    "MAX_CHUNK_TOKENS",
    "MIN_CHUNK_TOKENS",
    "Overflow",
    "combine_details",
    "extract_in_chunks",
    "merge_checked",
    "prompt_fits",
    "split_text",
]
