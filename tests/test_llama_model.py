"""The llama.cpp model: loading errors, the machine's core count and the one vocabulary."""

from __future__ import annotations

from pathlib import Path

import pytest

from maaza_rt import ModelError
from maaza_rt.llama_model import load_model, physical_cores


def test_bad_gguf_raises_model_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x07" * 100)
    with pytest.raises(ModelError, match="could not load") as info:
        load_model(bad)
    assert info.value.path == str(bad)


def test_physical_cores_is_positive() -> None:
    assert physical_cores() >= 1


@pytest.mark.model
def test_grammar_vocabulary_is_the_models_and_matches_the_gguf_reader() -> None:
    """One vocabulary: the grammar engine's comes from the loaded model (llama.cpp's pieces and
    end-of-generation set), and agrees with the GGUF reader used without a model."""
    from maaza_rt.grammar import Vocabulary
    from maaza_rt.llama_model import grammar_vocabulary

    model = load_model()
    vocab = grammar_vocabulary(model)
    assert grammar_vocabulary(model) is vocab  # built once per model
    assert vocab.n_vocab == model.n_vocab
    assert set(vocab.eos_ids) == set(model.eog_ids)
    for t in range(model.n_vocab):
        expected = b"" if t in model.eog_ids else model.pieces[t]
        assert vocab.token_bytes(t) == expected, t
    reader = Vocabulary.from_gguf(model.path)
    assert reader.eos_ids == vocab.eos_ids
    assert all(reader.token_bytes(t) == vocab.token_bytes(t) for t in range(model.n_vocab))
