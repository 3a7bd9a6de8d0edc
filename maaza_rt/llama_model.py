"""The llama.cpp model: loaded GGUF weights (and a LoRA adapter), the vocabulary as llama.cpp
reads it, and the process-wide cache of loaded models.

Ownership: a :class:`LlamaModel` is loaded once per process and shared (:func:`load_model` caches
it); contexts (:class:`maaza_rt.session.Session`) register with :func:`close_at_exit` so that
interpreter exit frees every context before the models they use. The model's vocabulary is the
one source of token pieces and end-of-generation ids, for the decoder and for the grammar engine
(:func:`grammar_vocabulary`).
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import threading
import weakref
from pathlib import Path
from typing import Any, Protocol

import llama_cpp as llama

from .errors import InternalError, ModelError
from .gguf_file import check_gguf
from .label_lookup import LabelLookup
from .models import ModelLike, ResolvedModel, resolve_model
from .prompt import Prompt, build_prompt, encode_prompt
from .schema_view import property_kinds, schema_shape

logger = logging.getLogger("maaza_rt")


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
        self._piece_ids: dict[bytes, int] | None = None
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
    def piece_ids(self) -> dict[bytes, int]:
        """Piece bytes -> the lowest token id with that piece (pieces of text only)."""
        if self._piece_ids is None:
            found: dict[bytes, int] = {}
            for t, piece in enumerate(self.pieces):
                if piece and piece not in found:
                    found[piece] = t
            self._piece_ids = found
        return self._piece_ids

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
        return LabelLookup(text.encode("utf-8"), lambda data: self.tokenize(data, False, False),
                           property_kinds(schema), self.pieces, schema_shape(schema))

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


class Closable(Protocol):
    def close(self) -> None: ...


# Every live context owner, so that interpreter exit can free contexts before the models they use.
_live: weakref.WeakSet[Any] = weakref.WeakSet()


def close_at_exit(owner: Closable) -> None:
    """Registers ``owner`` (a context's owner) to be closed at interpreter exit, before models."""
    _live.add(owner)


def _free_native_state() -> None:
    """Frees llama.cpp contexts, then models, in that order, at interpreter exit.

    Left to the garbage collector, shutdown may finalize a model before a context that still
    uses it (or after llama_cpp's module globals are gone), which crashed the process on exit.
    """
    for owner in list(_live):
        owner.close()
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


_vocab_cache: dict[str, Any] = {}
_vocab_lock = threading.Lock()


def grammar_vocabulary(model: LlamaModel) -> Any:
    """The grammar engine's Vocabulary of a loaded model: llama.cpp's own token pieces (empty
    for control tokens) with its end-of-generation set, built once per model.

    Raises:
        VocabularyError: the vocabulary is unusable.
    """
    from .grammar import Vocabulary

    key = f"{model.path}|{model.resolved.adapter}"
    with _vocab_lock:
        vocab = _vocab_cache.get(key)
    if vocab is None:
        eog = model.eog_ids
        pieces = [b"" if t in eog else p for t, p in enumerate(model.pieces)]
        vocab = Vocabulary(pieces, sorted(eog))
        with _vocab_lock:
            _vocab_cache[key] = vocab
    return vocab
