"""Token vocabularies for the grammar engine: the byte piece of every token of a model and its
end-of-generation ids, read from a GGUF file's tokenizer or given directly.

A :class:`Vocabulary` is a thin, immutable handle over the native core (``maaza_rt._core``) and
may be shared between threads.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _core
from .errors import ModelError, VocabularyError

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


__all__ = ["Vocabulary"]
