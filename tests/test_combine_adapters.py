"""Combining staged GGUF LoRA adapters into one (convert/combine_adapters.py).

Synthetic adapters check the arithmetic (the combined update is the sum of the stages' updates,
a truncation keeps the best low-rank part, Q8_0 stays close) and the errors; the model check has
llama.cpp apply a combined Q8_0 adapter to the packaged SmolLM2 base.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent))

import numpy as np
import pytest

from convert.combine_adapters import combine_adapters, main
from convert.common import ConvertError
from maaza_rt.adapter_merge import read_adapter

OUT_DIM, IN_DIM = 64, 96


def _pair(rng: np.random.Generator, rank: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.normal(size=(rank, IN_DIM)), rng.normal(size=(OUT_DIM, rank))


def _update(alpha: float, pair: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    a, b = (np.asarray(x, dtype=np.float64) for x in pair)
    return alpha / a.shape[0] * (b @ a)


@pytest.fixture()
def stages(tmp_path: Path, write_lora) -> tuple[list[Path], dict[str, np.ndarray]]:
    """Two rank-8 stages with different alphas; blk.1 is adapted by the second only. Returns
    the files and each weight's expected total update."""
    rng = np.random.default_rng(0)
    first = {"blk.0.attn_q.weight": _pair(rng, 8)}
    second = {"blk.0.attn_q.weight": _pair(rng, 8), "blk.1.ffn_up.weight": _pair(rng, 8)}
    files = [write_lora(tmp_path / "s1.gguf", 16.0, first),
             write_lora(tmp_path / "s2.gguf", 8.0, second)]
    expected = {"blk.0.attn_q.weight": _update(16.0, first["blk.0.attn_q.weight"])
                + _update(8.0, second["blk.0.attn_q.weight"]),
                "blk.1.ffn_up.weight": _update(8.0, second["blk.1.ffn_up.weight"])}
    return files, expected


def _combined_updates(path: Path) -> tuple[dict[str, np.ndarray], float, int]:
    lora = read_adapter(path)
    ranks = {a.shape[0] for a, _ in lora.pairs.values()}
    assert len(ranks) == 1
    return ({name: _update(lora.alpha, pair) for name, pair in lora.pairs.items()}, lora.alpha,
            ranks.pop())


def test_combined_adapter_adds_the_stages_updates(tmp_path: Path, stages) -> None:
    files, expected = stages
    result = combine_adapters(files, tmp_path / "all.gguf", outtype="f32")
    assert result.rank == 16 and result.max_relative_error < 1e-9
    updates, alpha, rank = _combined_updates(result.path)
    assert rank == 16 and alpha == 16.0  # scale 1
    assert set(updates) == set(expected)
    for name, want in expected.items():
        assert np.abs(updates[name] - want).max() <= 1e-4 * np.abs(want).max(), name
    assert not list(tmp_path.glob("*.tmp"))


def test_truncation_keeps_the_best_low_rank_part(tmp_path: Path, stages) -> None:
    files, expected = stages
    result = combine_adapters(files, tmp_path / "r4.gguf", rank=4, outtype="f32")
    updates, _, rank = _combined_updates(result.path)
    assert rank == 4
    worst = 0.0
    for name, want in expected.items():
        u, s, vt = np.linalg.svd(want)
        best = (u[:, :4] * s[:4]) @ vt[:4]
        assert np.abs(updates[name] - best).max() <= 1e-4 * np.abs(want).max(), name
        worst = max(worst, float(np.linalg.norm(want - best) / np.linalg.norm(want)))
    assert result.max_relative_error == pytest.approx(worst, rel=1e-6)
    assert 0.1 < worst < 1.0


def test_rank_above_the_sum_pads_with_zeros(tmp_path: Path, stages) -> None:
    files, expected = stages
    updates, _, rank = _combined_updates(
        combine_adapters(files, tmp_path / "r32.gguf", rank=32, outtype="f32").path)
    assert rank == 32
    for name, want in expected.items():
        assert np.abs(updates[name] - want).max() <= 1e-4 * np.abs(want).max(), name


def test_q8_0_is_half_of_f16_and_stays_close(tmp_path: Path, stages) -> None:
    import gguf

    files, expected = stages
    f16 = combine_adapters(files, tmp_path / "f16.gguf", rank=32, outtype="f16").path
    q8 = combine_adapters(files, tmp_path / "q8.gguf", rank=32, outtype="q8_0").path
    types = {t.tensor_type for t in gguf.GGUFReader(q8).tensors}
    assert types == {gguf.GGMLQuantizationType.Q8_0}
    assert q8.stat().st_size < 0.6 * f16.stat().st_size
    updates, _, _ = _combined_updates(q8)
    for name, want in expected.items():
        assert np.linalg.norm(updates[name] - want) <= 0.02 * np.linalg.norm(want), name


def test_combine_errors_are_clear(tmp_path: Path, stages, write_lora) -> None:
    files, _ = stages
    with pytest.raises(ConvertError, match="multiple of 32, not 16"):
        combine_adapters(files, tmp_path / "x.gguf", outtype="q8_0")
    with pytest.raises(ConvertError, match="unsupported adapter type 'q4_0'"):
        combine_adapters(files, tmp_path / "x.gguf", outtype="q4_0")
    with pytest.raises(ConvertError, match="rank must be positive"):
        combine_adapters(files, tmp_path / "x.gguf", rank=0)
    with pytest.raises(ConvertError, match="at least one adapter"):
        combine_adapters([], tmp_path / "x.gguf")
    rng = np.random.default_rng(1)
    gemma = write_lora(tmp_path / "g.gguf", 8.0, {"blk.0.attn_q.weight": _pair(rng, 8)},
                           arch="gemma3")
    with pytest.raises(ConvertError, match="architecture 'gemma3' differs from .*'llama'"):
        combine_adapters([files[0], gemma], tmp_path / "x.gguf")
    a, b = rng.normal(size=(8, IN_DIM + 32)), rng.normal(size=(OUT_DIM, 8))
    wide = write_lora(tmp_path / "w.gguf", 8.0, {"blk.0.attn_q.weight": (a, b)})
    with pytest.raises(ConvertError, match=r"blk.0.attn_q.weight updates a \(64, 128\) weight"):
        combine_adapters([files[0], wide], tmp_path / "x.gguf")
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF" + bytes(60))
    with pytest.raises(ConvertError, match="cannot read the GGUF adapter .*model.gguf"):
        combine_adapters([files[0], model], tmp_path / "x.gguf")
    with pytest.raises(ConvertError, match="cannot read the GGUF adapter .*absent.gguf"):
        combine_adapters([files[0], tmp_path / "absent.gguf"], tmp_path / "x.gguf")
    assert not list(tmp_path.glob("x.gguf*"))


def test_command_line(tmp_path: Path, stages, capsys) -> None:
    files, _ = stages
    out = tmp_path / "cli.gguf"
    assert main([*map(str, files), str(out), "--rank", "32", "--outtype", "q8_0"]) == 0
    assert f"{out} (rank 32" in capsys.readouterr().out
    assert read_adapter(out).alpha == 32.0
    assert main([*map(str, files), str(out), "--outtype", "q8_0"]) == 2
    assert "multiple of 32" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(out)])


@pytest.mark.model
def test_llama_cpp_applies_a_combined_q8_0_adapter(tmp_path: Path) -> None:
    """The shipped adapter alone, refactored to rank 32 in Q8_0: llama.cpp loads it and gives
    the logits of the original adapter. On the base in F16, so that the comparison is not
    drowned by the 8-bit activations llama.cpp uses against Q4_1 weights (test_adapter_merge.py
    measures that effect)."""
    from convert.common import llama_logits, open_llama
    from maaza_rt.models import MODELS, resolve_model, weights_dir
    from maaza_rt.quantize import quantize_gguf

    base = tmp_path / "base-f16.gguf"
    quantize_gguf(resolve_model("smollm2-135m-instruct").path, base, "f16", threads=1,
                  allow_requantize=True)
    shipped = weights_dir() / str(MODELS["maaza-mlm-135m"].adapter)
    q8 = combine_adapters([shipped], tmp_path / "q8.gguf", rank=32, outtype="q8_0").path
    text = ("<|im_start|>user\nExtract the name as JSON.\nGrace Hopper wrote the first "
            "compiler.<|im_end|>\n<|im_start|>assistant\n{\"name\":\"")

    def logits(lora: Path | None) -> np.ndarray:
        llm = open_llama(base, lora_path=lora, n_threads=1)
        ids = llm.tokenize(text.encode(), add_bos=False, special=True)
        return llama_logits(llm, ids).astype(np.float64)

    want, ours, plain = logits(shipped), logits(q8), logits(None)
    # The adapter moves the logits by up to 26 here; the Q8_0 refactoring by 0.11.
    assert np.abs(ours - want).max() < 0.02 * np.abs(plain - want).max()
    assert (ours.argmax(1) == want.argmax(1)).mean() >= 0.95  # 28 of 28 here
