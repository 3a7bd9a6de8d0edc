"""The public extraction API: :class:`Extractor`, :func:`extract` and :class:`Extraction`.

An Extractor holds one loaded model (shared per process, :func:`~maaza_rt.llama_model.load_model`)
and one context (:class:`~maaza_rt.session.Session`), and serialises its calls with a lock. Each
call loads and compiles the schema (:mod:`maaza_rt.schemas`), builds the prompt with the one
template of :mod:`maaza_rt.prompt`, and runs the decoder (:mod:`maaza_rt.decoding`).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from .calibration import CalibrationMap, model_calibration
from .chunking import Overflow, extract_in_chunks
from .confidence import leaf_confidence, leaves_from, token_offsets
from .decoding import BIASES, DEFAULT_COPY_BIAS, generate
from .errors import InternalError
from .llama_model import grammar_vocabulary, load_model, physical_cores, set_llama_logging
from .models import ModelLike
from .schema_view import SchemaArgument
from .schemas import compile_schema, load_schema
from .session import Session
from .spans import leaf_spans

_MATCHER_CACHE_SIZE = 128  # grammar matchers kept per Extractor


def parse_output(text: str) -> Any:
    """Parses generated JSON text (the grammar guarantees it is valid).

    Raises:
        InternalError: the text is not valid JSON, which means a grammar engine bug.
    """
    try:
        return json.loads(text)
    except ValueError as e:
        raise InternalError(f"generated text is not valid JSON ({e}): {text[:200]!r}") from e


@dataclass(frozen=True)
class Extraction:
    """One extraction with its details (``return_details=True``).

    Attributes:
        value: the extracted value (a Pydantic instance when the schema was a Pydantic class).
        text: the generated JSON text.
        n_prompt_tokens: tokens in the prompt.
        n_prompt_tokens_reused: prompt tokens whose KV cache was reused from the previous call.
        n_output_tokens: generated tokens (end-of-generation not counted).
        n_forced_tokens: output tokens that came from grammar jump-forward.
        n_drafted_tokens: output tokens that came from prompt lookup (copied from the prompt,
            confirmed by the model in a batch).
        prompt_ms: prompt evaluation time.
        decode_ms: forward passes during generation.
        grammar_ms: grammar engine calls (masking, selection, accept, forced bytes).
        total_ms: the whole call, schema handling and prompt building included.
        budget_closed: the model was still writing when ``max_tokens`` came close, so the
            grammar's shortest completion ended the value (strings cut short, no further items).
        n_closing_tokens: output tokens of that completion (the last ones; 0 when not closed, or
            when the value was already complete and the budget only stopped its extension).
        spans: for each string and number leaf found in the input text, by JSON pointer
            (``/items/0/sku``), its ``(start, end)`` character offsets there
            (:func:`maaza_rt.spans.leaf_spans`; whitespace runs match one space).
        confidence: for every leaf, by JSON pointer, the estimated probability that its value
            is right: ``probability`` mapped by the model's calibration map
            (:mod:`maaza_rt.calibration`) where the model has one (``calibrated``), else
            ``probability`` itself (docs/details.md).
        probability: for every leaf, by JSON pointer, the probability of its value under the
            constrained distribution: the product of its tokens' probabilities
            (:mod:`maaza_rt.confidence`).
        calibrated: whether ``confidence`` went through a calibration map.
        closed: the pointers of the leaves that budget closing wrote or cut short (empty unless
            ``budget_closed``).
        n_chunks: how many chunks the text was extracted in (1 unless it was too long for the
            context; see :mod:`maaza_rt.chunking`).
    """

    value: Any
    text: str
    n_prompt_tokens: int
    n_prompt_tokens_reused: int
    n_output_tokens: int
    n_forced_tokens: int
    prompt_ms: float
    decode_ms: float
    grammar_ms: float
    total_ms: float
    budget_closed: bool = False
    n_closing_tokens: int = 0
    n_drafted_tokens: int = 0
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)
    n_chunks: int = 1
    probability: dict[str, float] = field(default_factory=dict)
    calibrated: bool = False
    closed: list[str] = field(default_factory=list)


class Extractor:
    """Extracts schema-valid JSON from text with one model; keeps its KV cache between calls.

    The model weights are loaded once per process and shared between Extractors; each Extractor
    owns one llama.cpp context. Calls on one Extractor are serialised by a lock.

    Args:
        model: a known model name, a path to a ``.gguf`` file, or None for the default
            (``$MAAZA_RT_MODEL`` overrides it).
        n_threads: CPU threads (default: the physical cores available).
        n_ctx: the largest context to use (default: the model's training context). The context
            starts small and grows with the prompts up to this limit.
        verbose: forward llama.cpp's log to the ``maaza_rt`` logger.
        use_extra_bufts: let llama.cpp repack weights for CPU-specific kernels (off by default:
            some builds pick kernels that the host CPU cannot run).

    Attributes:
        calibration: the map from leaf probabilities to ``Extraction.confidence``
            (:class:`~maaza_rt.calibration.CalibrationMap`): the one the model ships with, or
            None (then confidence is the probability). Assign a map fitted for your model to
            use it.

    Raises:
        ModelError: the model cannot be found or loaded, or its calibration map cannot be read.
    """

    def __init__(self, model: ModelLike = None, *, n_threads: int | None = None,
                 n_ctx: int | None = None, verbose: bool = False,
                 use_extra_bufts: bool = False) -> None:
        if n_threads is not None and n_threads < 1:
            raise ValueError("n_threads must be at least 1")
        if n_ctx is not None and n_ctx < 16:
            raise ValueError("n_ctx must be at least 16")
        if verbose:
            set_llama_logging(True)
        self.model = load_model(model, use_extra_bufts=use_extra_bufts)
        self.n_threads = n_threads or physical_cores()
        self.session = Session(self.model, n_threads=self.n_threads, n_ctx_limit=n_ctx)
        self.calibration: CalibrationMap | None = model_calibration(self.model.resolved.spec)
        self._matchers: dict[int, Any] = {}
        self._lock = threading.Lock()

    def _matcher(self, grammar: Any) -> Any:
        from .grammar import GrammarMatcher

        matcher = self._matchers.get(id(grammar))
        if matcher is None or matcher[0] is not grammar:
            matcher = (grammar, GrammarMatcher(grammar, grammar_vocabulary(self.model)))
            if len(self._matchers) >= _MATCHER_CACHE_SIZE:
                self._matchers.clear()
            self._matchers[id(grammar)] = matcher
        else:
            matcher[1].reset()
        return matcher[1]

    def extract(self, text: str, schema: SchemaArgument, *, max_tokens: int = 1024,
                temperature: float = 0.0, top_p: float = 1.0, seed: int | None = None,
                jump_forward: bool = True, prompt_lookup: bool = True,
                copy_bias: float | None = None, biases: Collection[str] = BIASES,
                label_drafts: bool = True, absent_bias: float = 0.0, lenient: bool = False,
                optional_timezone: bool = False, grounded: bool = True,
                return_details: bool = False, chunking: bool = True) -> Any:
        """Extracts a value that validates against ``schema`` from ``text``.

        Args:
            text: the input text (may be empty).
            schema: a dict, JSON text, a path to a ``.json`` file, or a Pydantic model class
                (then the result is an instance of it).
            max_tokens: the most tokens to generate. When the model is still writing as the
                budget runs out, the grammar's shortest completion ends the value in time
                (``Extraction.budget_closed``).
            temperature: 0 for greedy decoding (the default), else sampling temperature.
            top_p: nucleus sampling threshold (with temperature > 0).
            seed: random seed for sampling.
            jump_forward: feed grammar-forced tokens in one batch (the output is the same).
            prompt_lookup: where the grammar forces nothing, draft the next tokens by copying
                them from the input, and after a key (with ``jump_forward``) the values the
                input labels with it and the next keys (``Amount: 138.42`` lines); drafts are
                checked in one batch (with ``copy_bias`` 0 the output is the same as without).
            copy_bias: in greedy decoding with prompt lookup, choose a token copied from the
                input over the model's own choice when its logit is at most this much lower,
                the grammar allows it and the model's choice does not end the value: a small
                model's near-miss copies of ids, numbers and names become exact. Twice the
                margin (``LABEL_BIAS_SCALE``) holds for a copy of the
                value the text labels with the key (and of the key its next labelled line
                names, so that no labelled line is skipped), and lets a value end the way
                that label's line does (the next list item when the text's next line labels a
                property the item has; a labelled sentence at the end of its line, not
                before). None means
                ``DEFAULT_COPY_BIAS`` (2.0) when greedy with prompt lookup, else 0; 0 is plain
                greedy decoding.
            biases: which of the biases ``copy_bias`` turns on: ``"copy"`` (copies from prompt
                lookup and label drafts) and ``"layout"`` (a label draft's way of ending a
                value); both by default. Layout needs label drafts.
            label_drafts: after a key, draft the value the input labels with it (with
                ``jump_forward`` and ``prompt_lookup``); off leaves prompt lookup alone.
            absent_bias: close an object rather than write another of its optional properties
                when the closing token's logit is at most this much below the model's choice
                (``decoding.choosers.ClosingBias``); 0, the default, leaves it to the model.
            lenient: ignore (rather than refuse) schema keywords that cannot be enforced.
            optional_timezone: let ``date-time`` and ``time`` values leave out the time offset
                that RFC 3339 requires (off by default; EdgeJSON's date-times have none).
            grounded: ground values in ``text`` (on by default): a free-text string value must
                be a substring of ``text`` (whitespace runs written as one space), an ``email``
                or ``uri`` one of the text's words (or part of one) and a number one of the
                numbers ``text`` writes, so no value can be made up; strings with ``enum``,
                ``const``, ``pattern``, ``maxLength`` or a date/time ``format``, and any value
                whose schema says ``"x-maaza-grounded": false``, are not grounded (see
                docs/schema_support.md, "Grounding").
            return_details: return an :class:`Extraction` instead of the bare value, with
                each leaf's span in the text and confidence (recording token probabilities
                costs a little per token, only when asked for).
            chunking: when the prompt plus ``max_tokens`` exceeds the context window, extract
                the text in overlapping chunks and merge the values (:mod:`maaza_rt.chunking`;
                ``Extraction.n_chunks`` tells); False raises ``InputTooLongError`` instead.

        Raises:
            SchemaError: the schema is invalid, unreadable or cannot be enforced.
            InputTooLongError: the prompt plus ``max_tokens`` exceeds the context window, and
                ``chunking`` is off or the schema alone leaves too little room for any text.
            GenerationLimitError: ``max_tokens`` is smaller than the shortest valid value.
            TypeError, ValueError: bad arguments (a ``copy_bias`` above 0 needs greedy decoding
                with prompt lookup; ``biases`` names only those above).
        """
        t0 = time.perf_counter_ns()
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        if max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")
        if temperature < 0.0 or not 0.0 < top_p <= 1.0:
            raise ValueError("temperature must be >= 0 and top_p in (0, 1]")
        greedy_lookup = prompt_lookup and temperature == 0.0
        if copy_bias is None:
            copy_bias = DEFAULT_COPY_BIAS if greedy_lookup else 0.0
        elif not copy_bias >= 0.0:
            raise ValueError(f"copy_bias must be >= 0, not {copy_bias}")
        elif copy_bias > 0.0 and not greedy_lookup:
            raise ValueError("copy_bias above 0 needs greedy decoding (temperature 0) with "
                             "prompt_lookup")
        if not absent_bias >= 0.0:
            raise ValueError(f"absent_bias must be >= 0, not {absent_bias}")
        if isinstance(biases, str):
            raise TypeError(f"biases must be a collection of names, not the string {biases!r}")
        unknown = set(biases) - set(BIASES)
        if unknown:
            raise ValueError(f"unknown bias {sorted(unknown)[0]!r}; choose from "
                             f"{', '.join(BIASES)}")
        value_schema, pydantic_cls = load_schema(schema)
        grammar = compile_schema(value_schema, lenient=lenient,
                                 optional_timezone=optional_timezone, grounded=grounded)
        prompt_schema = value_schema if isinstance(value_schema, dict) else {}
        overflow = Overflow(chunking)  # catches InputTooLongError when chunking
        with overflow, self._lock:
            matcher = self._matcher(grammar)
            if grammar.n_grounded:
                matcher.bind_text(text)
            prompt = self.model.build_prompt(text, prompt_schema)
            tokens = self.model.prompt_tokens(prompt)
            gen, n_reused, prompt_ms = generate(
                self.session, matcher, tokens, max_tokens=max_tokens,
                temperature=temperature, top_p=top_p,
                seed=seed, jump_forward=jump_forward, prompt_lookup=prompt_lookup,
                copy_bias=copy_bias, biases=biases, absent_bias=absent_bias,
                labels=(self.model.label_lookup(text, prompt_schema)
                        if text and label_drafts else None),
                token_probs=return_details)
        if overflow.error is not None:
            return extract_in_chunks(
                self, text, value_schema, pydantic_cls, overflow.error, t0,
                return_details=return_details, max_tokens=max_tokens, lenient=lenient,
                optional_timezone=optional_timezone, grounded=grounded, temperature=temperature,
                top_p=top_p, seed=seed, jump_forward=jump_forward, prompt_lookup=prompt_lookup,
                copy_bias=copy_bias, biases=biases, label_drafts=label_drafts,
                absent_bias=absent_bias)
        data = parse_output(gen.text)
        value = data if pydantic_cls is None else pydantic_cls.model_validate(data)
        if not return_details:
            return value
        pieces = self.model.pieces
        output = b"".join(pieces[t] for t in gen.tokens)
        offsets = token_offsets(gen.tokens, pieces)
        probability = leaf_confidence(output, offsets, gen.token_probs or [])
        closed = (leaves_from(output, offsets[len(offsets) - gen.n_closing])
                  if 0 < gen.n_closing <= len(offsets) else set())
        spans = leaf_spans(data, text)
        calibration = self.calibration
        confidence = (calibration.apply(data, probability, spans, closed)
                      if calibration is not None else dict(probability))
        return Extraction(
            value=value, text=gen.text, n_prompt_tokens=len(tokens),
            n_prompt_tokens_reused=n_reused, n_output_tokens=len(gen.tokens),
            n_forced_tokens=gen.n_forced, prompt_ms=prompt_ms, decode_ms=gen.decode_ms,
            grammar_ms=gen.grammar_ms, total_ms=(time.perf_counter_ns() - t0) / 1e6,
            budget_closed=gen.budget_closed, n_closing_tokens=gen.n_closing,
            n_drafted_tokens=gen.n_drafted, spans=spans, confidence=confidence,
            probability=probability, calibrated=calibration is not None,
            closed=sorted(closed))

    def extract_many(self, texts: Any, schema: SchemaArgument, **options: Any) -> list[Any]:
        """Extracts from each text in turn; the schema part of the prompt is evaluated once.

        Takes the keyword options of :meth:`extract`.

        Raises:
            The errors of :meth:`extract`, for the first text that fails.
        """
        value_schema, pydantic_cls = load_schema(schema)
        target = pydantic_cls if pydantic_cls is not None else value_schema
        return [self.extract(text, target, **options) for text in texts]

    def clear_cache(self) -> None:
        """Drops the prompt tokens kept in the KV cache: the next extraction evaluates its
        whole prompt, as the first one of a process does (the context stays allocated)."""
        with self._lock:
            if self.session.ctx is not None:
                self.session.truncate(0)

    def close(self) -> None:
        """Frees the context (the shared model stays loaded)."""
        with self._lock:
            self.session.close()


_INIT_OPTIONS = ("n_threads", "n_ctx", "verbose", "use_extra_bufts")
_default_extractors: dict[tuple[Any, ...], Extractor] = {}
_default_lock = threading.Lock()


def extract(text: str, schema: SchemaArgument, *, model: ModelLike = None, **options: Any) -> Any:
    """Extracts a value that validates against ``schema`` from ``text``.

    Takes the options of :class:`Extractor` (``n_threads``, ``n_ctx``, ``verbose``) and of
    :meth:`Extractor.extract` (``max_tokens``, ``temperature``, ``return_details``...). One
    Extractor per model and settings is kept per process, so repeated calls reuse the prompt
    cache.

    Raises:
        SchemaError, ModelError, InputTooLongError, GenerationLimitError: see
        :meth:`Extractor.extract`.
    """
    init = {k: options.pop(k) for k in _INIT_OPTIONS if k in options}
    key = (os.fspath(model) if model is not None else os.environ.get("MAAZA_RT_MODEL"),
           tuple(sorted(init.items())))
    with _default_lock:
        extractor = _default_extractors.get(key)
        if extractor is None:
            extractor = Extractor(model, **init)
            _default_extractors[key] = extractor
    return extractor.extract(text, schema, **options)
