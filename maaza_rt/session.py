"""One llama.cpp context: its KV cache, prefix reuse and batches.

A :class:`Session` belongs to one :class:`maaza_rt.extractor.Extractor` and is not thread-safe
(the Extractor serialises its calls). ``Session.tokens`` is always the exact list of tokens whose
keys and values sit in the cache; :meth:`Session.eval_prompt` reuses its longest common prefix
with a new prompt, and the decoder feeds batches and truncates what it does not keep.
"""

from __future__ import annotations

import ctypes
from typing import Any

import llama_cpp as llama
import numpy as np

from .errors import InputTooLongError, InternalError, ModelError
from .llama_model import LlamaModel, close_at_exit

_CTX_STEP = 512  # contexts grow in multiples of this many tokens
_MAX_BATCH = 512


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
        self._view: np.ndarray | None = None
        self._view_addr = 0
        close_at_exit(self)

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
