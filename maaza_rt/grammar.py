"""Grammar engine API: compiled grammars, token vocabularies and per-sequence matchers.

These are thin handles over the native core (``maaza_rt._core``): a :class:`Grammar` is immutable
and may be shared between threads; a :class:`Vocabulary` too; a :class:`GrammarMatcher` follows
one sequence and is not thread-safe. Heavy calls (masks) release the GIL.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _core
from .errors import ModelError, VocabularyError
from .schema_view import SchemaText

# End-of-generation token texts llama.cpp recognises by name (besides the ids in the metadata).
_EOG_TEXTS = frozenset(
    {
        "<|eot_id|>",
        "<|im_end|>",
        "<|end|>",
        "<|return|>",
        "<|call|>",
        "<end_of_turn>",
        "<|endoftext|>",
        "<|eom_id|>",
        "<EOT>",
        "_<EOT>",
        "<|end_of_text|>",
        "<end_of_utterance>",
        "</s>",
    }
)
# Fill-in-the-middle tokens llama.cpp also treats as end of generation.
_FIM_EOG_TEXTS = frozenset(
    {
        "<|fim_pad|>",
        "<fim-pad>",
        "<fim_pad>",
        "<|fim▁pad|>",
        "<|fim_repo|>",
        "<|repo_name|>",
        "<fim-repo>",
        "<REPO>",
        "<reponame>",
        "<|file_sep|>",
        "<|file_separator|>",
    }
)

# GGUF token types (llama.cpp's llama_token_type).
_TYPE_NORMAL = 1
_TYPE_UNKNOWN = 2
_TYPE_CONTROL = 3
_TYPE_USER_DEFINED = 4
_TYPE_UNUSED = 5
_TYPE_BYTE = 6


_TOKENIZER_KEYS = frozenset(
    {
        "tokenizer.ggml.model",
        "tokenizer.ggml.tokens",
        "tokenizer.ggml.token_type",
        "tokenizer.ggml.eos_token_id",
        "tokenizer.ggml.eot_token_id",
        "tokenizer.ggml.eom_token_id",
    }
)

# GGUF metadata value types: fixed-size ones as struct/numpy formats.
_GGUF_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_GGUF_STRING = 8
_GGUF_ARRAY = 9


def _read_gguf_metadata(path: str, keys: frozenset[str]) -> dict[str, Any]:
    """Reads the metadata key/values named in ``keys`` from a GGUF file header (memory-mapped).

    Only the header is parsed (tensor data is never touched); unwanted values are skipped without
    being decoded, which keeps large tokenizer arrays (merges) cheap.

    Raises:
        ValueError: not a GGUF file or a truncated/corrupt header.
    """
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        if mm[:4] != b"GGUF":
            raise ValueError("bad magic (not a GGUF file)")
        version = struct.unpack_from("<I", mm, 4)[0]
        if version < 2:
            raise ValueError(f"unsupported GGUF version {version}")
        n_kv = struct.unpack_from("<Q", mm, 16)[0]
        pos = 24
        out: dict[str, Any] = {}

        def read_str(at: int) -> tuple[bytes, int]:
            (n,) = struct.unpack_from("<Q", mm, at)
            end = at + 8 + n
            if end > len(mm):
                raise ValueError("truncated string")
            return mm[at + 8 : end], end

        def read_value(at: int, vtype: int, want: bool) -> tuple[Any, int]:
            if vtype in _GGUF_SCALARS:
                fmt = _GGUF_SCALARS[vtype]
                return (struct.unpack_from(fmt, mm, at)[0] if want else None), at + struct.calcsize(
                    fmt
                )
            if vtype == _GGUF_STRING:
                raw, end = read_str(at)
                return (raw.decode("utf-8", errors="replace") if want else None), end
            if vtype == _GGUF_ARRAY:
                etype, count = struct.unpack_from("<IQ", mm, at)
                at += 12
                if etype in _GGUF_SCALARS:
                    fmt = _GGUF_SCALARS[etype]
                    size = struct.calcsize(fmt) * count
                    if at + size > len(mm):
                        raise ValueError("truncated array")
                    vals = (
                        np.frombuffer(mm, dtype=np.dtype(fmt), count=count, offset=at).tolist()
                        if want
                        else None
                    )
                    return vals, at + size
                if etype == _GGUF_STRING:
                    items: list[str] = []
                    for _ in range(count):
                        raw, at = read_str(at)
                        if want:
                            items.append(raw.decode("utf-8", errors="replace"))
                    return (items if want else None), at
                items_any: list[Any] = []
                for _ in range(count):
                    v, at = read_value(at, etype, want)
                    items_any.append(v)
                return (items_any if want else None), at
            raise ValueError(f"unknown GGUF value type {vtype}")

        for _ in range(n_kv):
            raw_key, pos = read_str(pos)
            key = raw_key.decode("utf-8", errors="replace")
            (vtype,) = struct.unpack_from("<I", mm, pos)
            value, pos = read_value(pos + 4, vtype, key in keys)
            if key in keys:
                out[key] = value
        return out


def _gpt2_unicode_to_byte() -> dict[str, int]:
    """Inverse of GPT-2's byte -> printable character map used by byte-level BPE vocabularies."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    mapping: dict[str, int] = {chr(b): b for b in printable}
    n = 0
    for b in range(256):
        if b not in printable:
            mapping[chr(256 + n)] = b
            n += 1
    return mapping


def _decode_bpe(text: str, table: dict[str, int]) -> bytes:
    out = bytearray()
    for ch in text:
        b = table.get(ch)
        if b is None:
            out += ch.encode("utf-8")
        else:
            out.append(b)
    return bytes(out)


def _decode_spm(text: str, token_type: int) -> bytes:
    if (
        token_type == _TYPE_BYTE
        and len(text) == 6
        and text.startswith("<0x")
        and text.endswith(">")
    ):
        return bytes([int(text[3:5], 16)])
    return text.replace("\u2581", " ").encode("utf-8")


class Grammar:
    """A compiled grammar: immutable, thread-safe, shareable between matchers.

    Attributes:
        ignored: "keyword at pointer" for each schema keyword ignored in lenient mode.
    """

    __slots__ = ("_handle",)

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    @staticmethod
    def from_json_schema(
        schema: SchemaText,
        *,
        whitespace: str = "compact",
        max_whitespace: int = 24,
        additional_properties: bool = False,
        lenient: bool = False,
        optional_timezone: bool = False,
    ) -> Grammar:
        """Compiles a JSON Schema (a dict or bool, or its JSON text).

        Args:
            schema: the JSON Schema.
            whitespace: ``"compact"`` (no whitespace), ``"python"`` (``", "`` and ``": "``) or
                ``"flexible"`` (JSON whitespace, at most ``max_whitespace`` bytes per gap).
            max_whitespace: the per-gap cap in flexible mode.
            additional_properties: the value assumed where a schema leaves out
                ``additionalProperties`` (False keeps output to the declared properties; True
                follows the JSON Schema specification).
            lenient: ignore keywords that cannot be enforced (listed in :attr:`ignored`) instead
                of raising.
            optional_timezone: let ``date-time`` and ``time`` values leave out the time offset
                (``Z`` or ``+hh:mm``), which RFC 3339 requires: a departure from the
                specification, off by default, for data written without offsets (EdgeJSON's
                date-times have none).

        Raises:
            SchemaError: the schema is malformed or uses a keyword that cannot be enforced.
            JsonError: ``schema`` is a string that is not valid JSON.
            ValueError: unknown ``whitespace`` style.
        """
        text = schema if isinstance(schema, str) else json.dumps(schema)
        return Grammar(
            _core.Grammar.from_json_schema(
                text,
                whitespace=whitespace,
                max_whitespace=max_whitespace,
                additional_properties=additional_properties,
                lenient=lenient,
                optional_timezone=optional_timezone,
            )
        )

    @staticmethod
    def from_gbnf(text: str, root: str = "root") -> Grammar:
        """Parses a GBNF grammar (llama.cpp syntax) whose start rule is ``root``.

        Raises:
            GrammarError: syntax error, undefined rule, missing root or left recursion; carries
                ``line`` and ``column``.
        """
        return Grammar(_core.Grammar.from_gbnf(text, root))

    def to_gbnf(self) -> str:
        """The grammar as GBNF text that :meth:`from_gbnf` reads back to an equivalent grammar."""
        return str(self._handle.to_gbnf())

    @property
    def ignored(self) -> list[str]:
        return list(self._handle.ignored)

    def __repr__(self) -> str:
        return f"Grammar(n_rules={self._handle.n_rules})"


class Vocabulary:
    """The byte piece of every token and the end-of-generation ids of a model.

    Raises:
        VocabularyError: empty vocabulary, no end-of-generation id, or an id out of range.
    """

    __slots__ = ("_handle",)

    def __init__(self, tokens: Sequence[bytes], eos_ids: Sequence[int]) -> None:
        self._handle = _core.Vocabulary([bytes(t) for t in tokens], [int(i) for i in eos_ids])

    @staticmethod
    def from_gguf(path: str | os.PathLike[str]) -> Vocabulary:
        """Reads the tokenizer of a GGUF model file (memory-mapped, no weights are loaded).

        Pieces match llama.cpp's ``token_to_piece(special=False)``: control, unknown and unused
        tokens get empty pieces and are never allowed by a mask.

        Raises:
            ModelError: the file is missing or is not a readable GGUF file.
            VocabularyError: the tokenizer is missing or of an unsupported kind.
        """
        p = os.fspath(path)
        if not os.path.isfile(p):
            raise ModelError(f"model file not found: {p}", path=p)
        try:
            meta = _read_gguf_metadata(p, _TOKENIZER_KEYS)
        except (OSError, ValueError, struct.error) as e:
            raise ModelError(f"not a readable GGUF file: {p}: {e}", path=p) from e

        def scalar(name: str) -> int | None:
            v = meta.get(name)
            return None if v is None else int(v)

        model = meta.get("tokenizer.ggml.model")
        texts = meta.get("tokenizer.ggml.tokens")
        if not isinstance(model, str) or not isinstance(texts, list):
            raise VocabularyError(f"{p}: no tokenizer in the GGUF metadata")
        types_raw = meta.get("tokenizer.ggml.token_type")
        types = (
            [int(t) for t in types_raw] if types_raw is not None else [_TYPE_NORMAL] * len(texts)
        )
        if len(types) != len(texts):
            raise VocabularyError(f"{p}: token_type and tokens differ in length")

        eos: set[int] = set()
        for key in ("eos_token_id", "eot_token_id", "eom_token_id"):
            v = scalar(f"tokenizer.ggml.{key}")
            if v is not None and 0 <= v < len(texts):
                eos.add(v)
        for i, t in enumerate(texts):
            if t in _EOG_TEXTS or t in _FIM_EOG_TEXTS:
                eos.add(i)

        if model == "gpt2":
            table = _gpt2_unicode_to_byte()

            def decode(text: str, _kind: int) -> bytes:
                return _decode_bpe(text, table)

        elif model == "llama":
            decode = _decode_spm
        else:
            raise VocabularyError(f"{p}: unsupported tokenizer model '{model}'")

        pieces: list[bytes] = []
        for i, (text, kind) in enumerate(zip(texts, types)):
            if kind in (_TYPE_CONTROL, _TYPE_UNKNOWN, _TYPE_UNUSED) or i in eos:
                pieces.append(b"")
            elif kind == _TYPE_BYTE and model == "gpt2":
                pieces.append(_decode_bpe(text, table))
            else:
                pieces.append(decode(text, kind))
        return Vocabulary(pieces, sorted(eos))

    @property
    def n_vocab(self) -> int:
        return int(self._handle.n_vocab)

    @property
    def eos_ids(self) -> list[int]:
        return list(self._handle.eos_ids)

    def token_bytes(self, token_id: int) -> bytes:
        """The byte piece of a token (empty for control tokens).

        Raises:
            IndexError: ``token_id`` is out of range.
        """
        return bytes(self._handle.token_bytes(token_id))

    def __repr__(self) -> str:
        return f"Vocabulary(n_vocab={self.n_vocab}, eos_ids={self.eos_ids})"


class GrammarMatcher:
    """Parser state of one sequence under a grammar and a vocabulary. Not thread-safe.

    A rejected token or byte string is reported by a ``False`` return value and leaves the state
    unchanged. End-of-generation tokens are allowed exactly when :meth:`is_complete` is true.
    """

    __slots__ = ("_handle", "grammar", "vocab")

    def __init__(self, grammar: Grammar, vocab: Vocabulary) -> None:
        self.grammar = grammar
        self.vocab = vocab
        self._handle = _core.GrammarMatcher(grammar._handle, vocab._handle)

    def fill_mask(self, bitmask: np.ndarray) -> None:
        """Writes the allowed tokens into ``bitmask`` (uint32[ceil(n_vocab/32)], bit set = allowed).

        Raises:
            TypeError: wrong dtype.
            ValueError: not one-dimensional, not C-contiguous, read-only or too small.
        """
        self._handle.fill_mask(bitmask)

    def accept_token(self, token_id: int) -> bool:
        """Advances by one token; ``False`` (state unchanged) if it is not allowed."""
        return bool(self._handle.accept_token(token_id))

    def can_accept_token(self, token_id: int) -> bool:
        """Whether :meth:`accept_token` would accept the token (the state does not change)."""
        return bool(self._handle.can_accept_token(token_id))

    def accept_bytes(self, data: bytes) -> bool:
        """Advances by raw bytes; ``False`` (state unchanged) if they are not allowed."""
        return bool(self._handle.accept_bytes(data))

    def forced_bytes(self) -> bytes:
        """The unique continuation from here (at most 256 bytes), ``b""`` if there is a choice."""
        return bytes(self._handle.forced_bytes())

    def is_complete(self) -> bool:
        """The root value is complete: end-of-generation is allowed now."""
        return bool(self._handle.is_complete())

    def is_terminated(self) -> bool:
        """End-of-generation was accepted, or the value is complete and nothing may follow."""
        return bool(self._handle.is_terminated())

    def completion_distance(self) -> int:
        """The length in bytes of the shortest continuation that completes the value.

        0 when the value is already complete (or end-of-generation was accepted), -1 when no
        continuation completes it. Costs a few microseconds; the state is unchanged.
        """
        return int(self._handle.completion_distance())

    def completion_distance_after(self, token_id: int) -> int:
        """:meth:`completion_distance` as it would be after accepting ``token_id``.

        -1 if the token is not allowed; the state is unchanged.
        """
        return int(self._handle.completion_distance_after(token_id))

    def shortest_completion(self, max_bytes: int | None = None) -> bytes:
        """The shortest continuation that completes the value (``b""`` if it is complete).

        Accepting it (byte by byte or at once) makes :meth:`is_complete` true; its length is
        :meth:`completion_distance`. The grammar decides its content: strings reach their
        ``minLength`` with the smallest allowed characters, arrays get ``minItems`` minimal
        items, required properties appear, optional ones are left out. The state is unchanged.

        Raises:
            ValueError: the completion is longer than ``max_bytes``.
            InternalError: no continuation completes the value.
        """
        return bytes(self._handle.shortest_completion(-1 if max_bytes is None else max_bytes))

    def shortest_completion_after(self, token_id: int, max_bytes: int | None = None) -> bytes:
        """:meth:`shortest_completion` as it would be after accepting ``token_id``.

        The state is unchanged.

        Raises:
            ValueError: the completion is longer than ``max_bytes``.
            InternalError: the token is not allowed, or no continuation completes the value.
        """
        limit = -1 if max_bytes is None else max_bytes
        return bytes(self._handle.shortest_completion_after(token_id, limit))

    def reset(self) -> None:
        """Returns to the initial state."""
        self._handle.reset()

    def mask_logits(self, logits: np.ndarray) -> None:
        """Sets disallowed entries of ``logits`` (float32[>= n_vocab]) to ``-inf`` in place.

        Raises:
            TypeError: wrong dtype.
            ValueError: not one-dimensional, not C-contiguous, read-only or too small.
        """
        self._handle.mask_logits(logits)

    def select_greedy(self, logits: np.ndarray) -> int:
        """The allowed token with the highest logit (-1 if none); does not advance the state.

        Raises:
            TypeError: wrong dtype.
            ValueError: not one-dimensional, not C-contiguous or too small.
        """
        return int(self._handle.select_greedy(logits))


__all__ = ["Grammar", "GrammarMatcher", "Vocabulary"]
