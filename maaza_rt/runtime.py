"""The decoding loop over llama.cpp: prompt evaluation with prefix reuse, grammar-masked decoding
and exact jump-forward.

Ownership: a :class:`LlamaModel` (weights, vocabulary, token pieces) is loaded once per process
and shared (:func:`load_model` caches it); a :class:`Session` owns one llama.cpp context, its
batch and the list of tokens currently in its KV cache, and belongs to one :class:`Extractor`.
Neither is thread-safe: an Extractor serialises its own calls with a lock.

Per generated token the loop makes one native grammar call (``select_greedy``, or ``mask_logits``
when sampling) on a zero-copy numpy view of llama.cpp's logits, then one ``accept_token``. When
the grammar forces bytes (keys, separators, closing brackets), the forced tokens are fed to the
model in one batch with logits at every position, and each is kept only if the model's own
constrained choice at that position is the same token. After a key, the value that the input
text labels with it (``Amount: 138.42`` for ``amount``, ``lookup.LabelLookup``) is drafted in the
same batch; where the grammar forces nothing, prompt lookup (``lookup.PromptLookup``) drafts
tokens copied from the prompt. Drafts are checked the same way. Runs shorter than
``_MIN_SPECULATIVE`` tokens are not batched (a small batch costs more than its tokens one by
one). The output is therefore identical to step-by-step decoding (up to llama.cpp's batch
rounding); the speculative tokens merely share forward passes. The one exception is the greedy
copy bias, which may prefer a near-tied drafted copy over the model's choice.

Budget closing: a free token is committed only if the grammar's shortest completion after it
still fits in ``max_tokens`` (its length in bytes bounds its tokens; near the limit it is
tokenized to count exactly). When it would not, the shortest completion is appended instead, so
the output is complete and valid at the budget rather than cut off.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import logging
import os
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

import llama_cpp as llama
import numpy as np

from .errors import GenerationLimitError, InputTooLongError, InternalError, ModelError
from .lookup import (
    JsonScan,
    LabelLookup,
    PromptLookup,
    finished_key,
    property_kinds,
    root_keys,
    schema_shape,
)
from .models import ModelLike, ResolvedModel, check_gguf, resolve_model
from .prompt import Prompt, build_prompt, encode_prompt

logger = logging.getLogger("maaza_rt")

_CTX_STEP = 512  # contexts grow in multiples of this many tokens
_MAX_BATCH = 512
_MAX_JUMP = 64  # cap on forced tokens fed in one batch
_JUMP_START = 8  # forced tokens fed speculatively at the first jump of a generation
_DRAFT_START = 8  # prompt-lookup draft tokens fed at the first draft of a generation
_LABEL_START = 16  # label-draft tokens fed at the first label draft of a generation
_MAX_DRAFT = 32  # cap on draft tokens fed in one batch
# Fewest speculative tokens worth a batch. On llama.cpp's CPU backend a batch of n > 1 tokens
# costs far more than one token (SmolLM2 Q8_0, 500 tokens of context, one thread: n = 2 costs
# 3.0 single-token passes, 4: 4.3, 8: 5.0, 16: 6.3; two threads: 2.3, 3.2, 3.9, 5.0;
# bench/batch_cost.py), so a run of one or two speculative tokens is decoded token by token.
_MIN_SPECULATIVE = 3
def _ends_alike(choice: bytes, drafted: bytes, scan: JsonScan) -> bool:
    """Whether two tokens, written after the output ``scan`` has read, both end the value being
    written, after the same text, each its own way: inside a string both close it (``.",`` and
    ``."``: the same text, then the quote); elsewhere both hold ``,``, ``}`` or ``]`` after the
    same text (``5,`` and ``5}``). A comma inside a string is text, not an ending."""
    i, j = scan.ending(choice), scan.ending(drafted)
    return i >= 0 and i == j and choice[:i] == drafted[:i]


def _ends_early(choice: bytes, drafted: bytes, scan: JsonScan) -> bool:
    """Whether, inside a string, ``choice`` closes it where ``drafted`` writes more of it on
    the same line (no quote, no escape)."""
    if not scan.in_string or b'"' in drafted or b"\\" in drafted:
        return False
    return scan.ending(choice) >= 0


# Greedy decoding takes a token copied from the input over the model's choice when the copy's
# logit is at most this far below (see Extractor.extract); measured on the EdgeJSON validation
# split, where it fixes near-miss copies of ids, numbers and sentences (bench/RESULTS.md).
DEFAULT_COPY_BIAS = 2.0
# Biases toward a label draft (a copy of the value the text labels with the key, and the
# layout bias: a label draft's way of ending a value, or of going on with it) take this many
# times the copy bias as their margin: a value the text labels with the key, and where that
# label's line ends, are firmer evidence than a copy found by prompt lookup. EdgeJSON
# validation split, Q8_0: the layout misses it mends were 2.0-3.0 logits apart (a scale of 3
# mended no more), a UUID copied from the wrong line 2.7 (bench/RESULTS.md).
LABEL_BIAS_SCALE = 2.0


class Matcher(Protocol):
    """What the decoding loop needs from a grammar matcher (``maaza_rt.GrammarMatcher``)."""

    def accept_token(self, token_id: int) -> bool: ...
    def can_accept_token(self, token_id: int) -> bool: ...
    def forced_bytes(self) -> bytes: ...
    def is_complete(self) -> bool: ...
    def is_terminated(self) -> bool: ...
    def completion_distance(self) -> int: ...
    def completion_distance_after(self, token_id: int) -> int: ...
    def shortest_completion(self) -> bytes: ...
    def shortest_completion_after(self, token_id: int) -> bytes: ...
    def mask_logits(self, logits: np.ndarray) -> None: ...
    def select_greedy(self, logits: np.ndarray) -> int: ...


# ---- llama.cpp logging ------------------------------------------------------------------------


@llama.llama_log_callback
def _silent_log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    return None


@llama.llama_log_callback
def _forward_log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    logger.debug("llama.cpp: %s", text.decode("utf-8", "replace").rstrip())


_log_lock = threading.Lock()


def set_llama_logging(verbose: bool) -> None:
    """Silences llama.cpp (the default) or forwards its messages to the ``maaza_rt`` logger."""
    with _log_lock:
        # The callbacks are module globals, so they outlive every model and context.
        llama.llama_log_set(_forward_log if verbose else _silent_log, ctypes.c_void_p(0))


set_llama_logging(False)


def physical_cores() -> int:
    """The number of physical CPU cores available to this process (at least 1)."""
    try:
        available = set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        available = set(range(os.cpu_count() or 1))
    cores: set[str] = set()
    for cpu in available:
        try:
            siblings = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list")
            cores.add(siblings.read_text().strip())
        except OSError:
            cores.add(str(cpu))
    return max(1, len(cores))


# ---- model ------------------------------------------------------------------------------------


class LlamaModel:
    """Loaded GGUF weights and vocabulary, shared by every Session of the process.

    Raises:
        ModelError: llama.cpp cannot load the file.
    """

    def __init__(self, resolved: ResolvedModel, *, use_extra_bufts: bool = False) -> None:
        self.resolved = resolved
        self.path = check_gguf(resolved.path)
        params = llama.llama_model_default_params()
        # CPU weight repacking ("extra buffer types") is off by default: some builds select
        # repacked kernels the host CPU cannot run.
        params.use_extra_bufts = use_extra_bufts
        ptr = llama.llama_model_load_from_file(str(self.path).encode(), params)
        if not ptr:
            raise ModelError(f"llama.cpp could not load the model file {self.path}",
                             path=str(self.path))
        self.ptr = ptr
        # A fine-tuned model's LoRA adapter: loaded once with the weights, owned by the model
        # (llama.cpp frees it with the model), enabled in every context at scale 1.
        self.adapter: Any = None
        if resolved.adapter is not None:
            adapter_path = check_gguf(resolved.adapter)
            adapter = llama.llama_adapter_lora_init(ptr, str(adapter_path).encode())
            if not adapter:
                raise ModelError(f"llama.cpp could not apply the LoRA adapter {adapter_path} to "
                                 f"{self.path} (wrong base model?)", path=str(adapter_path))
            self.adapter = adapter
        self.vocab = llama.llama_model_get_vocab(ptr)
        self.n_vocab: int = llama.llama_vocab_n_tokens(self.vocab)
        self.n_ctx_train: int = llama.llama_model_n_ctx_train(ptr)
        self.add_bos: bool = bool(llama.llama_vocab_get_add_bos(self.vocab))
        self.bos_id: int = llama.llama_vocab_bos(self.vocab)
        self.eos_id: int = llama.llama_vocab_eos(self.vocab)
        self.eog_ids = frozenset(t for t in range(self.n_vocab)
                                 if llama.llama_vocab_is_eog(self.vocab, t))
        self.bos_token = self._special_text(self.bos_id)
        self.eos_token = self._special_text(self.eos_id)
        self.chat_template = self._meta("tokenizer.chat_template")
        self._pieces: list[bytes] | None = None
        self._byte_tokens: dict[int, int] | None = None
        self._control_tokens: frozenset[int] | None = None
        self._short_tokens: frozenset[int] | None = None
        self._closing_tokens: frozenset[int] | None = None
        self._tok_buf = (llama.llama_token * 4096)()
        self._spells_text: bool | None = None

    def _meta(self, key: str) -> str | None:
        size = 1 << 16
        while True:
            buf = ctypes.create_string_buffer(size)
            n = llama.llama_model_meta_val_str(self.ptr, key.encode(), buf, size)
            if n < 0:
                return None
            if n < size:
                return buf.value.decode("utf-8", "replace")
            size = n + 1

    def _special_text(self, token_id: int) -> str:
        if token_id < 0:
            return ""
        buf = ctypes.create_string_buffer(256)
        n = llama.llama_token_to_piece(self.vocab, token_id, buf, 256, 0, True)
        return buf.raw[: max(n, 0)].decode("utf-8", "replace")

    def tokenize(self, text: str | bytes, add_special: bool,
                 parse_special: bool = True) -> list[int]:
        """Token ids of ``text`` (llama.cpp's tokenizer)."""
        data = text.encode("utf-8") if isinstance(text, str) else text
        buf = self._tok_buf
        n = llama.llama_tokenize(self.vocab, data, len(data), buf, len(buf), add_special,
                                 parse_special)
        if n < 0:
            buf = (llama.llama_token * (-n + 16))()
            n = llama.llama_tokenize(self.vocab, data, len(data), buf, len(buf), add_special,
                                     parse_special)
            if n < 0:
                raise InternalError("tokenization failed")
        return list(buf[:n])

    @property
    def pieces(self) -> list[bytes]:
        """The raw bytes of every token (empty for control tokens), computed once."""
        if self._pieces is None:
            buf = ctypes.create_string_buffer(512)
            pieces = []
            for t in range(self.n_vocab):
                n = llama.llama_token_to_piece(self.vocab, t, buf, 512, 0, False)
                pieces.append(buf.raw[: max(n, 0)])
            self._pieces = pieces
        return self._pieces

    @property
    def control_tokens(self) -> frozenset[int]:
        """Tokens whose text holds a raw control byte (a newline, a tab...), or no text at all."""
        if self._control_tokens is None:
            self._control_tokens = frozenset(
                i for i, p in enumerate(self.pieces) if not p or any(b < 0x20 for b in p))
        return self._control_tokens

    @property
    def closing_tokens(self) -> frozenset[int]:
        """Tokens that can end a JSON string or number (they hold ``"``, ``,``, ``}`` or ``]``)."""
        if self._closing_tokens is None:
            self._closing_tokens = frozenset(
                i for i, p in enumerate(self.pieces) if any(b in b'",}]' for b in p))
        return self._closing_tokens

    @property
    def short_tokens(self) -> frozenset[int]:
        """Tokens of at most one byte of text."""
        if self._short_tokens is None:
            self._short_tokens = frozenset(i for i, p in enumerate(self.pieces) if len(p) <= 1)
        return self._short_tokens

    @property
    def byte_tokens(self) -> dict[int, int]:
        """Byte value -> a token whose piece is that single byte (bytes without one are absent;
        byte-level BPE vocabularies drop some that UTF-8 text never contains)."""
        if self._byte_tokens is None:
            found: dict[int, int] = {}
            for t, piece in enumerate(self.pieces):
                if len(piece) == 1 and piece[0] not in found:
                    found[piece[0]] = t
            self._byte_tokens = found
        return self._byte_tokens

    def label_lookup(self, text: str, schema: object = None) -> LabelLookup | None:
        """A label lookup over ``text`` for ``schema``'s properties, or None for a tokenizer
        that does not spell a piece of text as its own bytes (one that adds a space, say)."""
        if self._spells_text is None:
            probe = b"Ab1 cd"
            self._spells_text = b"".join(
                self.pieces[t] for t in self.tokenize(probe, False, False)) == probe
        if not self._spells_text:
            return None
        props = schema.get("properties") if isinstance(schema, dict) else None
        return LabelLookup(text.encode("utf-8"), lambda data: self.tokenize(data, False, False),
                           property_kinds(schema), self.pieces,
                           [str(k) for k in props] if isinstance(props, dict) else [],
                           schema_shape(schema))

    def prompt_tokens(self, prompt: Prompt) -> list[int]:
        """The model input for ``prompt`` (see :func:`maaza_rt.prompt.encode_prompt`)."""
        return encode_prompt(prompt, lambda text, add: self.tokenize(text, add, True),
                             add_bos=self.add_bos, bos_token=self.bos_token)

    def build_prompt(self, text: str, schema: dict) -> Prompt:
        return build_prompt(text, schema, self.chat_template, bos_token=self.bos_token,
                            eos_token=self.eos_token)

    def free(self) -> None:
        """Frees the weights (and an adapter, which llama.cpp frees with its model)."""
        ptr = getattr(self, "ptr", None)
        if ptr and llama is not None and llama.llama_model_free is not None:
            llama.llama_model_free(ptr)
            self.ptr = None

    def __del__(self) -> None:
        self.free()


_model_cache: dict[tuple[str, str, bool], LlamaModel] = {}
_model_lock = threading.Lock()
# Every live Session, so that interpreter exit can free contexts before the models they use.
_live_sessions: weakref.WeakSet[Session] = weakref.WeakSet()


def _free_native_state() -> None:
    """Frees llama.cpp contexts, then models, in that order, at interpreter exit.

    Left to the garbage collector, shutdown may finalize a model before a context that still
    uses it (or after llama_cpp's module globals are gone), which crashed the process on exit.
    """
    for session in list(_live_sessions):
        session.close()
    _default_extractors.clear()
    with _model_lock:
        for loaded in _model_cache.values():
            loaded.free()
        _model_cache.clear()


atexit.register(_free_native_state)


def load_model(model: ModelLike = None, *, use_extra_bufts: bool = False) -> LlamaModel:
    """The process-wide loaded model for a name or path (loaded on first use).

    Raises:
        ModelError: the model cannot be found or loaded.
    """
    resolved = resolve_model(model)
    adapter = str(resolved.adapter.resolve()) if resolved.adapter is not None else ""
    key = (str(resolved.path.resolve()), adapter, use_extra_bufts)
    with _model_lock:
        loaded = _model_cache.get(key)
        if loaded is None:
            llama.llama_backend_init()
            loaded = LlamaModel(resolved, use_extra_bufts=use_extra_bufts)
            _model_cache[key] = loaded
        return loaded


# ---- session: one context and its KV cache ----------------------------------------------------


class Session:
    """One llama.cpp context: evaluates prompts (reusing the cached prefix) and decodes tokens.

    ``tokens`` is always the exact list of tokens whose keys and values sit in the KV cache.
    """

    def __init__(self, model: LlamaModel, *, n_threads: int, n_ctx_limit: int | None) -> None:
        self.model = model
        self.n_threads = n_threads
        self.n_ctx_limit = min(n_ctx_limit or model.n_ctx_train, model.n_ctx_train)
        self.ctx: Any = None
        self.n_ctx = 0
        self.batch: Any = None
        self.batch_size = 0
        self.tokens: list[int] = []
        # The most forced tokens fed speculatively in one batch: halved to the accepted length on
        # a mismatch (the rest of the batch is wasted work), doubled after a fully accepted run.
        self.jump_cap = _JUMP_START
        self._view: np.ndarray | None = None
        self._view_addr = 0
        _live_sessions.add(self)

    def _create(self, n_ctx: int) -> None:
        self.close()
        params = llama.llama_context_default_params()
        params.n_ctx = n_ctx
        params.n_batch = min(n_ctx, _MAX_BATCH)
        params.n_ubatch = params.n_batch
        params.n_seq_max = 1
        params.n_threads = self.n_threads
        params.n_threads_batch = self.n_threads
        params.no_perf = True
        # Flash attention makes the numbers depend on how the prompt was split into batches, so
        # a reused prefix would change the output; without it they do not.
        params.flash_attn_type = llama.LLAMA_FLASH_ATTN_TYPE_DISABLED
        ctx = llama.llama_init_from_model(self.model.ptr, params)
        if not ctx:
            raise ModelError(f"llama.cpp could not create a context of {n_ctx} tokens",
                             path=str(self.model.path))
        self.ctx = ctx
        if self.model.adapter is not None:
            adapters = (llama.llama_adapter_lora_p_ctypes * 1)(self.model.adapter)
            scales = (ctypes.c_float * 1)(1.0)
            if llama.llama_set_adapters_lora(ctx, adapters, 1, scales) != 0:
                raise ModelError("llama.cpp could not enable the LoRA adapter",
                                 path=str(self.model.resolved.adapter))
        self.n_ctx = llama.llama_n_ctx(ctx)
        self.batch_size = params.n_batch
        self.batch = llama.llama_batch_init(self.batch_size, 0, 1)
        self.tokens = []

    def reserve(self, n_prompt: int, max_tokens: int) -> None:
        """Makes room for a prompt of ``n_prompt`` tokens plus ``max_tokens`` of output.

        Raises:
            InputTooLongError: they do not fit the model's context (or the ``n_ctx`` limit).
        """
        needed = n_prompt + max_tokens + 1
        if needed > self.n_ctx_limit:
            excess = needed - self.n_ctx_limit
            raise InputTooLongError(
                f"input too long: the prompt has {n_prompt} tokens and max_tokens is {max_tokens}, "
                f"{excess} tokens over the context window of {self.n_ctx_limit}",
                n_prompt_tokens=n_prompt, n_ctx=self.n_ctx_limit, excess=excess)
        if self.ctx is None or needed > self.n_ctx:
            size = -(-needed // _CTX_STEP) * _CTX_STEP
            if self.ctx is not None:
                size = max(size, 2 * self.n_ctx)
            self._create(min(size, self.n_ctx_limit))

    def _decode(self, tokens: list[int], start: int, all_logits: bool) -> None:
        batch = self.batch
        n = len(tokens)
        if not 0 < n <= self.batch_size:
            raise InternalError(f"batch of {n} tokens (the limit is {self.batch_size})")
        batch.n_tokens = n
        for i, t in enumerate(tokens):
            batch.token[i] = t
            batch.pos[i] = start + i
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = 0
            batch.logits[i] = all_logits
        batch.logits[n - 1] = True
        rc = llama.llama_decode(self.ctx, batch)
        if rc != 0:
            # The cache may hold part of the batch now: forget it rather than guess.
            self.truncate(0)
            raise InternalError(f"llama_decode failed with code {rc}")
        self.tokens.extend(tokens)

    def truncate(self, n_keep: int) -> None:
        """Drops the KV cache beyond the first ``n_keep`` tokens."""
        if n_keep < len(self.tokens):
            mem = llama.llama_get_memory(self.ctx)
            if not llama.llama_memory_seq_rm(mem, 0, n_keep, -1):
                llama.llama_memory_clear(mem, True)
                n_keep = 0
            del self.tokens[n_keep:]

    def eval_prompt(self, tokens: list[int]) -> int:
        """Evaluates ``tokens`` as the whole context, reusing the longest cached common prefix.

        Returns the number of tokens reused. Afterwards :meth:`logits` (index -1) predicts the
        token after the prompt.
        """
        common = 0
        limit = min(len(tokens), len(self.tokens))
        while common < limit and tokens[common] == self.tokens[common]:
            common += 1
        common = min(common, len(tokens) - 1)  # the last token is evaluated to get its logits
        self.truncate(common)
        pos = common
        last = len(tokens) - 1
        while pos < last:
            chunk = tokens[pos: min(pos + self.batch_size, last)]
            self._decode(chunk, pos, False)
            pos += len(chunk)
        # The last prompt token always goes alone, so the first output logits are computed the
        # same way whether or not a prefix was reused (llama.cpp rounds batches differently).
        self._decode([tokens[last]], last, False)
        return common

    def feed(self, tokens: list[int], all_logits: bool) -> None:
        """Appends ``tokens`` to the context (logits for every position when ``all_logits``)."""
        self._decode(tokens, len(self.tokens), all_logits)

    def logits(self, index: int) -> np.ndarray:
        """A zero-copy float32 view of the logits of batch position ``index`` (-1 = last)."""
        ptr = llama.llama_get_logits_ith(self.ctx, index)
        if not ptr:
            raise InternalError(f"no logits at batch position {index}")
        addr = ctypes.addressof(ptr.contents)
        if addr != self._view_addr or self._view is None:
            self._view = np.ctypeslib.as_array(ptr, shape=(self.model.n_vocab,))
            self._view_addr = addr
        return self._view

    def close(self) -> None:
        if self.batch is not None:
            llama.llama_batch_free(self.batch)
            self.batch = None
        if self.ctx is not None:
            llama.llama_free(self.ctx)
            self.ctx = None
        self.tokens = []
        self._view = None
        self._view_addr = 0

    def __del__(self) -> None:
        if llama is not None:
            self.close()


# ---- generation ------------------------------------------------------------------------------


@dataclass
class Generation:
    """Raw result of one decoding run."""

    text: str
    tokens: list[int]
    n_forced: int
    decode_ms: float
    grammar_ms: float
    budget_closed: bool = False  # the shortest completion ended the value at the budget
    n_closing: int = 0  # its tokens (0 if the value was already complete)
    n_drafted: int = 0  # output tokens proposed by prompt lookup and confirmed by the model


Sampler = Callable[[Matcher, np.ndarray], int]


def _sampler(temperature: float, top_p: float, seed: int | None) -> Sampler:
    rng = np.random.default_rng(seed)

    def sample(matcher: Matcher, logits: np.ndarray) -> int:
        matcher.mask_logits(logits)
        finite = np.isfinite(logits)
        if not finite.any():
            raise InternalError("the grammar allows no token")
        scaled = np.where(finite, logits / temperature, -np.inf)
        probs = np.exp(scaled - scaled.max())
        probs /= probs.sum()
        if top_p < 1.0:
            order = np.argsort(-probs)
            keep = np.cumsum(probs[order]) - probs[order] < top_p
            trimmed = np.zeros_like(probs)
            trimmed[order[keep]] = probs[order[keep]]
            probs = trimmed / trimmed.sum()
        return int(rng.choice(len(probs), p=probs))

    return sample


def _forced_tokens(model: LlamaModel, last: int, forced: bytes, budget: int) -> list[int]:
    """Tokens for the grammar's forced bytes after committed token ``last`` (maybe empty).

    Tokenizes ``piece(last) + forced`` so the split is one the model saw in training, and uses
    it only if ``last`` is reproduced (else the forced bytes alone are tokenized: ``last`` is
    already committed). Keeps the tokens only if they detokenize to exactly ``forced``. A final
    token that a longer one could extend (``":`` before ``":"``) is kept too: every token is
    checked against the model's own constrained choice by the caller, so this only decides how
    much work is speculative.
    """
    pieces = model.pieces
    head = pieces[last]
    tokens = model.tokenize(head + forced, False, False) if head else []
    if tokens and tokens[0] == last:
        tokens = tokens[1:]
    else:
        tokens = model.tokenize(forced, False, False)
    if b"".join(pieces[t] for t in tokens) != forced:
        return []
    return tokens[:budget]


def _closing_tokens(model: LlamaModel, last: int | None, completion: bytes,
                    budget: int) -> list[int] | None:
    """Tokens spelling ``completion`` after committed token ``last``, at most ``budget`` of them.

    Tokenized like forced bytes (see :func:`_forced_tokens`; nothing is held back since nothing
    follows), else single-byte tokens; None if neither spells it within the budget.
    """
    pieces = model.pieces
    head = pieces[last] if last is not None else b""
    tokens = model.tokenize(head + completion, False, False) if head else []
    if tokens and tokens[0] == last:
        tokens = tokens[1:]
    else:
        tokens = model.tokenize(completion, False, False)
    if b"".join(pieces[t] for t in tokens) == completion and len(tokens) <= budget:
        return tokens
    single = model.byte_tokens
    if len(completion) <= budget and all(b in single for b in completion):
        return [single[b] for b in completion]
    return None


def generate(session: Session, matcher: Matcher, prompt_tokens: list[int], *, max_tokens: int,
             stop_ids: frozenset[int] = frozenset(), temperature: float = 0.0, top_p: float = 1.0,
             seed: int | None = None, jump_forward: bool = True, prompt_lookup: bool = True,
             copy_bias: float = 0.0, labels: LabelLookup | None = None
             ) -> tuple[Generation, int, float]:
    """Runs one constrained generation after ``prompt_tokens``.

    Generation ends at an end-of-generation token (the model's, or one in ``stop_ids``), when
    the grammar is terminated (no forward pass is spent on it), or after ``max_tokens`` tokens
    if the value is complete then. Returns the generation, the number of prompt tokens reused
    from the cache, and the prompt evaluation time in ms.

    Speculation: with ``jump_forward`` the grammar's forced tokens, and with ``prompt_lookup``
    tokens copied from the prompt where the grammar forces nothing (:class:`PromptLookup`), are
    fed after the chosen token in one batch; each is kept only while it is the token the loop
    would have chosen at that position, so neither changes what is chosen. ``copy_bias`` (greedy
    only) is the exception: where neither the greedy choice nor the copied token can end a
    string or number (neither holds any of ``",}]``), a copied token whose logit is within
    ``copy_bias`` of the choice and which the grammar allows is chosen instead. The model alone
    decides where a value ends, so a bias neither runs a copy on past the value nor cuts it.
    With ``labels`` (and both options on), a key the output ends on is followed in the same
    batch by the value the input text labels with it, and the labelled fields after it
    (:class:`LabelLookup`); the copy bias applies to such a draft from its first token on,
    with ``LABEL_BIAS_SCALE`` times the margin, inside keys too (a drafted key is the property
    the text's next labelled line names). With the copy margin, the presence bias goes on
    past a closing of the root object while the text labels a root property not yet written;
    with the label margin, the layout bias takes a label draft's way of ending a value over
    the model's other way of ending it, and a label draft's string going on over the model's
    closing it (docs/runtime.md).

    Budget closing: when the shortest complete value fits in ``max_tokens``, a chosen token is
    committed only if the shortest completion after it still fits (its bytes bound its tokens;
    when they do not fit, it is tokenized as it would be appended); otherwise the shortest
    completion is appended (``Generation.n_closing`` tokens, no forward pass) and generation
    ends with a complete value. The decision depends only on the tokens so far, so jump-forward
    does not change it.

    Raises:
        InputTooLongError: the prompt and ``max_tokens`` do not fit the context.
        GenerationLimitError: ``max_tokens`` tokens were generated and the value is incomplete
            (only possible when even the shortest complete value exceeds ``max_tokens``).
        InternalError: the grammar allowed no token, or llama.cpp failed.
    """
    model = session.model
    session.reserve(len(prompt_tokens), max_tokens)
    t0 = time.perf_counter_ns()
    n_reused = session.eval_prompt(prompt_tokens)
    prompt_ms = (time.perf_counter_ns() - t0) / 1e6

    eog = model.eog_ids | stop_ids
    sample = None if temperature <= 0.0 else _sampler(temperature, top_p, seed)
    out: list[int] = []
    n_forced = 0
    n_drafted = 0
    lookup = (PromptLookup(prompt_tokens, model.control_tokens, model.short_tokens)
              if prompt_lookup else None)
    if not (prompt_lookup and jump_forward):
        labels = None
    pieces = model.pieces
    # The output's bytes, for label lookup, and where they end (in a key, a string, ...); kept
    # only with prompt lookup, the one user of either.
    out_text = bytearray() if lookup is not None else None
    scan = JsonScan()
    # Draft tokens per batch, adapted per draft source (see the loop).
    caps: dict[PromptLookup | LabelLookup | None, int] = {lookup: _DRAFT_START,
                                                          labels: _LABEL_START}
    biased = copy_bias > 0.0 and sample is None and lookup is not None
    label_margin = LABEL_BIAS_SCALE * copy_bias  # biases toward a label draft
    value_enders = model.closing_tokens if biased else frozenset()
    n_closing = 0
    closed = False
    grammar_ns = 0
    decode_ns = 0
    # Budget closing keeps room for the shortest completion after every committed token: its
    # bytes, or failing that the tokens _closing_tokens would spell it with.
    distance = matcher.completion_distance()
    closing = 0 <= distance <= max_tokens or (
        distance > 0 and _closing_tokens(model, None, matcher.shortest_completion(),
                                         max_tokens) is not None)

    def pick(logits: np.ndarray) -> int:
        nonlocal grammar_ns
        t = time.perf_counter_ns()
        token = matcher.select_greedy(logits) if sample is None else sample(matcher, logits)
        grammar_ns += time.perf_counter_ns() - t
        if token < 0:
            raise InternalError("the grammar allows no token")
        return token

    def allows(token: int) -> bool:
        nonlocal grammar_ns
        t = time.perf_counter_ns()
        ok = matcher.can_accept_token(token)
        grammar_ns += time.perf_counter_ns() - t
        return ok

    def prefer_copy(logits: np.ndarray, choice: int, copy: int, margin: float,
                    keys: bool = False) -> int:
        """The copy bias: ``copy`` over ``choice`` when within ``margin``, neither ends a value
        and the output is not writing a key (unless ``keys``: a label draft's key is the one
        the text's next labelled line names)."""
        if (copy != choice and copy not in value_enders and choice not in value_enders
                and logits[copy] >= logits[choice] - margin
                and (keys or not scan.in_key) and allows(copy)):
            return copy
        return choice

    def prefer_layout(logits: np.ndarray, choice: int, drafted: int) -> int:
        """The layout bias: where a label draft ends a value one way (``"},{"``: the next
        list item, as the text's next line labels a property the item has) and the model's
        choice ends it another (``","``: one more property), or where the draft goes on with a
        string that the model's choice closes (the labelled line goes on), the draft's way when
        near-tied (``LABEL_BIAS_SCALE`` times the copy bias)."""
        if drafted == choice:
            return choice
        if ((_ends_alike(pieces[choice], pieces[drafted], scan)
                or (_ends_early(pieces[choice], pieces[drafted], scan)
                    and not scan.in_key))
                and logits[drafted] >= logits[choice] - label_margin
                and allows(drafted)):
            return drafted
        return choice

    # Presence bias: closing the root object while the text labels a root property the output
    # has not written, near-tied with going on to another property, goes on instead.
    go_on: dict[bytes, int] = {}
    if biased and labels is not None and labels.root:
        for close, more in ((b'"}', b'","'), (b"}", b',"')):
            ids = model.tokenize(more, False, False)
            if len(ids) == 1:
                go_on[close] = ids[0]

    def prefer_presence(logits: np.ndarray, choice: int) -> int:
        """``choice``, or the token that goes on to another root property (see go_on)."""
        alt = go_on.get(pieces[choice]) if go_on else None
        if alt is None or logits[alt] < logits[choice] - copy_bias or labels is None:
            return choice
        state = root_keys(bytes(out_text)) if out_text is not None else None
        if state is None or state[0] != 1:
            return choice
        if any(k not in state[1] and labels.labels_after_cursor(k) for k in labels.root) and (
                allows(alt)):
            return alt
        return choice

    def accept(token: int) -> None:
        nonlocal grammar_ns
        t = time.perf_counter_ns()
        ok = matcher.accept_token(token)
        grammar_ns += time.perf_counter_ns() - t
        if not ok:
            raise InternalError(f"the grammar rejected token {token} it had allowed")
        out.append(token)
        if out_text is not None:  # only prompt lookup and its biases read these
            out_text.extend(pieces[token])
            scan.feed(pieces[token])

    def fits(token: int) -> bool:
        """Whether committing ``token`` leaves room for the shortest completion after it."""
        nonlocal grammar_ns
        if not closing:
            return True
        room = max_tokens - len(out) - 1
        t = time.perf_counter_ns()
        distance = matcher.completion_distance_after(token)
        completion = matcher.shortest_completion_after(token) if distance > room >= 0 else None
        grammar_ns += time.perf_counter_ns() - t
        if 0 <= distance <= room:
            return True
        return completion is not None and _closing_tokens(model, token, completion,
                                                          room) is not None

    def close() -> None:
        """Appends the shortest completion (it fits: see ``closing``)."""
        nonlocal grammar_ns, n_closing, closed
        t = time.perf_counter_ns()
        completion = matcher.shortest_completion()
        grammar_ns += time.perf_counter_ns() - t
        budget = max_tokens - len(out)
        tokens = _closing_tokens(model, out[-1] if out else None, completion, budget)
        if tokens is None:
            raise InternalError(f"the vocabulary cannot spell the shortest completion "
                                f"{completion[:40]!r} in {budget} tokens")
        for token in tokens:
            accept(token)
        n_closing = len(tokens)
        closed = True
        if not matcher.is_complete():
            raise InternalError("the shortest completion did not complete the value")

    def finished() -> bool:
        if matcher.is_terminated():
            return True
        if len(out) >= max_tokens:
            if matcher.is_complete():
                return True
            raise _limit(model, out, max_tokens)
        return False

    # Batch shapes change llama.cpp's rounding, so they must depend on this generation only:
    # the speculation cap starts afresh every time.
    session.jump_cap = _JUMP_START
    choice = pick(session.logits(-1))
    while choice not in eog:
        if not fits(choice):
            close()
            break
        accept(choice)
        if finished():
            break
        # Speculative tokens: the grammar's forced ones, then a value the text labels with the
        # key they end on; or else a copy from the prompt (which the grammar may or may not
        # allow: only the model's constrained choices are kept).
        forced: list[int] = []
        drafted: list[int] = []
        source: PromptLookup | LabelLookup | None = None
        fb = b""
        if jump_forward or lookup is not None:
            t = time.perf_counter_ns()
            fb = matcher.forced_bytes()
            grammar_ns += time.perf_counter_ns() - t
        if fb and jump_forward:
            budget = min(max_tokens - len(out), session.jump_cap)
            forced = _forced_tokens(model, choice, fb, budget)
        pending = labels.pending() if labels is not None else None
        if labels is not None and pending is not None:
            # The rest of a labelled draft that was longer than its batch, while the output
            # follows it.
            if pending == choice and labels.rest_starts_with(fb):
                forced = []  # the draft spells the forced bytes (as the model writes them)
                drafted = labels.propose_rest(min(max_tokens - len(out), caps[labels]))
                source = labels
            else:
                labels.drop()
        tail = bytes(out_text[-80:]) if out_text is not None else b""
        if (labels is not None and not drafted
                and (fb == b"" or b"".join(pieces[t] for t in forced) == fb)):
            key = finished_key(tail + fb)
            if key is not None:
                drafted = labels.propose(key, min(max_tokens - len(out) - len(forced),
                                                  caps[labels]), (tail + fb).endswith(b'"'),
                                         bytes(out_text) + fb if out_text is not None else None)
                source = labels
        if not forced and not drafted and lookup is not None:
            if not scan.in_key:
                drafted = lookup.propose(out, min(max_tokens - len(out), caps[lookup]))
                source = lookup
            elif labels is not None and tail[-2:] in (b'{"', b',"'):
                drafted = labels.propose_key(min(max_tokens - len(out), caps[labels]),
                                             bytes(out_text) if out_text is not None else None)
                source = labels
        # The copy bias applies to drafted copies: a prompt-lookup draft (never inside a key:
        # which properties to write is the model's call), or a label draft from its first token
        # (the value the text labels with the key, and inside keys the next labelled line's).
        copies = biased and source is not None
        speculative = forced + drafted
        if len(speculative) < _MIN_SPECULATIVE:
            # A short batch costs more than feeding its tokens one by one (see _MIN_SPECULATIVE).
            speculative, forced, drafted = [], [], []
        base = len(session.tokens)
        t = time.perf_counter_ns()
        session.feed([choice, *speculative], bool(speculative))
        decode_ns += time.perf_counter_ns() - t
        # Keep each speculative token only while it is what the model itself would choose.
        nxt = -1
        n_kept = len(speculative)
        stop = False
        for i, f in enumerate(speculative):
            logits = session.logits(i)
            c = pick(logits)
            is_forced = i < len(forced)
            if copies and not is_forced:
                c = (prefer_copy(logits, c, f, copy_bias) if source is lookup
                     else prefer_copy(logits, c, f, label_margin, keys=True))
            if copies and not is_forced and source is labels:
                c = prefer_layout(logits, c, f)
            c = prefer_presence(logits, c)
            if c != f:
                session.truncate(base + 1 + i)
                if is_forced:
                    session.jump_cap = max(_MIN_SPECULATIVE, i)
                elif source is not None:
                    source.accepted(i - len(forced))
                    caps[source] = max(_MIN_SPECULATIVE, i - len(forced) + 1)
                    if source is labels and labels is not None:
                        # The model may spell the draft's next bytes another way: the draft
                        # then goes on after its token.
                        labels.respell(c)
                n_kept = i
                nxt = c
                break
            if not fits(f):  # as step-by-step decoding would decide at this token
                session.truncate(base + 1 + i)
                close()
                stop = True
                break
            accept(f)
            if is_forced:
                n_forced += 1
            else:
                n_drafted += 1
            if finished():
                session.truncate(base + 2 + i)
                stop = True
                break
        if stop:
            break
        if forced and n_kept >= len(forced) and len(forced) >= session.jump_cap:
            session.jump_cap = min(2 * session.jump_cap, _MAX_JUMP)
        if drafted and nxt < 0 and source is not None:
            source.accepted(len(drafted))
            if len(drafted) >= caps[source]:
                caps[source] = min(2 * caps[source], _MAX_DRAFT)
        if nxt >= 0:
            choice = nxt
        else:
            logits = session.logits(len(speculative))
            choice = pick(logits)
            # The copy bias holds at every step, not only inside a fed draft: batch boundaries
            # must not decide whether a copy is preferred.
            hint = lookup.propose(out, 1) if biased and lookup is not None else []
            if hint:
                choice = prefer_copy(logits, choice, hint[0], copy_bias)
                if choice == hint[0]:
                    lookup.accepted(1)
            pending = labels.pending() if biased and labels is not None else None
            if pending is not None:
                choice = prefer_layout(logits, choice, pending)
            choice = prefer_presence(logits, choice)
    text = _text(model, out)
    gen = Generation(text, out, n_forced, decode_ns / 1e6, grammar_ns / 1e6, closed, n_closing,
                     n_drafted)
    return gen, n_reused, prompt_ms


def _text(model: LlamaModel, tokens: list[int]) -> str:
    pieces = model.pieces
    return b"".join(pieces[t] for t in tokens).decode("utf-8", "replace")


def _limit(model: LlamaModel, out: list[int], max_tokens: int) -> GenerationLimitError:
    partial = _text(model, out)
    return GenerationLimitError(
        f"generation stopped at max_tokens={max_tokens} before the JSON value was complete "
        f"({len(partial)} characters so far)", partial_text=partial, n_tokens=len(out))


def parse_output(text: str) -> Any:
    """Parses generated JSON text (the grammar guarantees it is valid).

    Raises:
        InternalError: the text is not valid JSON, which means a grammar engine bug.
    """
    try:
        return json.loads(text)
    except ValueError as e:
        raise InternalError(f"generated text is not valid JSON ({e}): {text[:200]!r}") from e


# ---- schemas and grammars ---------------------------------------------------------------------

SchemaLike = Any  # dict | bool | JSON text | path (str or Path) | Pydantic model class


def _is_pydantic_class(schema: Any) -> bool:
    return isinstance(schema, type) and callable(getattr(schema, "model_json_schema", None))


def load_schema(schema: SchemaLike) -> tuple[dict | bool, Any]:
    """Normalises a schema argument to a JSON Schema value and, for Pydantic, the model class.

    Accepts a dict or bool, JSON text, a path to a ``.json`` file (str or Path), or a Pydantic
    model class (``pydantic`` is imported only then, by the class itself).

    Raises:
        SchemaError: unreadable file, invalid JSON, or a value that is not a schema.
    """
    from .errors import SchemaError

    if _is_pydantic_class(schema):
        return schema.model_json_schema(), schema
    if isinstance(schema, (dict, bool)):
        return schema, None
    if isinstance(schema, str) and (schema.lstrip()[:1] in ("{", "[")
                                    or schema.strip() in ("true", "false")):
        try:
            value = json.loads(schema)
        except ValueError as e:
            raise SchemaError(f"schema is not valid JSON: {e}") from e
        source = "schema text"
    elif isinstance(schema, (str, os.PathLike)):
        path = Path(schema)
        try:
            raw = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise SchemaError(f"cannot read schema file {path}: {e}") from e
        try:
            value = json.loads(raw)
        except ValueError as e:
            raise SchemaError(f"schema file {path} is not valid JSON: {e}") from e
        source = f"schema file {path}"
    else:
        raise SchemaError(f"unsupported schema argument of type {type(schema).__name__}: give a "
                          "dict, JSON text, a path to a .json file or a Pydantic model class")
    if not isinstance(value, (dict, bool)):
        raise SchemaError(f"{source} must hold a JSON object or boolean, "
                          f"not {type(value).__name__}")
    return value, None


_grammar_cache: dict[tuple[str, bool], Any] = {}
_grammar_lock = threading.Lock()
_GRAMMAR_CACHE_SIZE = 128


def compile_schema(schema: dict | bool, *, lenient: bool = False) -> Any:
    """The compiled grammar for a schema (compact whitespace), cached per (schema, options).

    Raises:
        SchemaError: the schema is malformed or cannot be enforced.
    """
    from .grammar import Grammar

    key = (json.dumps(schema, sort_keys=True, ensure_ascii=False), lenient)
    with _grammar_lock:
        grammar = _grammar_cache.get(key)
    if grammar is None:
        grammar = Grammar.from_json_schema(schema, whitespace="compact", lenient=lenient)
        with _grammar_lock:
            if len(_grammar_cache) >= _GRAMMAR_CACHE_SIZE:
                _grammar_cache.pop(next(iter(_grammar_cache)))
            _grammar_cache[key] = grammar
    return grammar


_vocab_cache: dict[str, Any] = {}


def grammar_vocabulary(model: LlamaModel) -> Any:
    """The grammar engine's Vocabulary of a loaded model, read once per process.

    Raises:
        VocabularyError: the vocabulary is unusable.
    """
    from .grammar import Vocabulary

    key = str(model.path)
    with _grammar_lock:
        vocab = _vocab_cache.get(key)
    if vocab is None:
        vocab = Vocabulary.from_gguf(str(model.path))
        if vocab.n_vocab != model.n_vocab:
            raise InternalError(f"grammar vocabulary has {vocab.n_vocab} tokens, the model "
                                f"{model.n_vocab}")
        with _grammar_lock:
            _vocab_cache[key] = vocab
    return vocab


# ---- public API -------------------------------------------------------------------------------


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

    Raises:
        ModelError: the model cannot be found or loaded.
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
        self._matchers: dict[int, Any] = {}
        self._lock = threading.Lock()

    def _matcher(self, grammar: Any) -> Any:
        from .grammar import GrammarMatcher

        matcher = self._matchers.get(id(grammar))
        if matcher is None or matcher[0] is not grammar:
            matcher = (grammar, GrammarMatcher(grammar, grammar_vocabulary(self.model)))
            if len(self._matchers) >= _GRAMMAR_CACHE_SIZE:
                self._matchers.clear()
            self._matchers[id(grammar)] = matcher
        else:
            matcher[1].reset()
        return matcher[1]

    def extract(self, text: str, schema: SchemaLike, *, max_tokens: int = 1024,
                temperature: float = 0.0, top_p: float = 1.0, seed: int | None = None,
                jump_forward: bool = True, prompt_lookup: bool = True,
                copy_bias: float | None = None, lenient: bool = False,
                return_details: bool = False) -> Any:
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
                model's near-miss copies of ids, numbers and names become exact. The same
                margin lets the output go on to another top-level property instead of closing
                the object when the text labels one it has not written (``Order Date: ...`` as
                the last line). Twice the margin (``LABEL_BIAS_SCALE``) holds for a copy of the
                value the text labels with the key (and of the key its next labelled line
                names, so that no labelled line is skipped), and lets a value end the way
                that label's line does (the next list item when the text's next line labels a
                property the item has; a labelled sentence at the end of its line, not
                before). None means
                ``DEFAULT_COPY_BIAS`` (2.0) when greedy with prompt lookup, else 0; 0 is plain
                greedy decoding.
            lenient: ignore (rather than refuse) schema keywords that cannot be enforced.
            return_details: return an :class:`Extraction` instead of the bare value.

        Raises:
            SchemaError: the schema is invalid, unreadable or cannot be enforced.
            InputTooLongError: the prompt plus ``max_tokens`` exceeds the context window.
            GenerationLimitError: ``max_tokens`` is smaller than the shortest valid value.
            TypeError, ValueError: bad arguments (a ``copy_bias`` above 0 needs greedy decoding
                with prompt lookup).
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
        value_schema, pydantic_cls = load_schema(schema)
        grammar = compile_schema(value_schema, lenient=lenient)
        prompt_schema = value_schema if isinstance(value_schema, dict) else {}
        with self._lock:
            matcher = self._matcher(grammar)
            prompt = self.model.build_prompt(text, prompt_schema)
            tokens = self.model.prompt_tokens(prompt)
            vocab = grammar_vocabulary(self.model)
            gen, n_reused, prompt_ms = generate(
                self.session, matcher, tokens, max_tokens=max_tokens,
                stop_ids=frozenset(vocab.eos_ids), temperature=temperature, top_p=top_p,
                seed=seed, jump_forward=jump_forward, prompt_lookup=prompt_lookup,
                copy_bias=copy_bias,
                labels=self.model.label_lookup(text, prompt_schema) if text else None)
        value = parse_output(gen.text)
        if pydantic_cls is not None:
            value = pydantic_cls.model_validate(value)
        if not return_details:
            return value
        return Extraction(
            value=value, text=gen.text, n_prompt_tokens=len(tokens),
            n_prompt_tokens_reused=n_reused, n_output_tokens=len(gen.tokens),
            n_forced_tokens=gen.n_forced, prompt_ms=prompt_ms, decode_ms=gen.decode_ms,
            grammar_ms=gen.grammar_ms, total_ms=(time.perf_counter_ns() - t0) / 1e6,
            budget_closed=gen.budget_closed, n_closing_tokens=gen.n_closing,
            n_drafted_tokens=gen.n_drafted)

    def extract_many(self, texts: Any, schema: SchemaLike, **options: Any) -> list[Any]:
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


def extract(text: str, schema: SchemaLike, *, model: ModelLike = None, **options: Any) -> Any:
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
