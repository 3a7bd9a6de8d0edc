"""Unit tests of convert/: tensor naming and layout, and the errors for inputs it cannot convert.

Conversions that produce and run real GGUF files are in test_pipeline.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

# train/ and convert/ are scripts beside the installed package: reach them from the
# repository root, after site-packages so the installed maaza_rt (with _core) wins.
sys.path.append(str(Path(__file__).resolve().parent.parent))

import json

import numpy as np
import pytest

from convert import adapter_to_gguf, imatrix, merge, quantize, to_gguf
from convert.common import ConvertError, checkpoint_architecture, gguf_architecture, smollm2_gguf
from convert.to_gguf import gguf_tensor_name, permute_rotary
from maaza_rt.errors import ModelError


def test_convert_error_is_a_model_error() -> None:
    assert issubclass(ConvertError, ModelError)


@pytest.mark.parametrize("arch,hf,gguf_name", [
    ("llama", "model.embed_tokens.weight", "token_embd.weight"),
    ("llama", "lm_head.weight", "output.weight"),
    ("llama", "model.layers.3.self_attn.q_proj.weight", "blk.3.attn_q.weight"),
    ("llama", "model.layers.0.post_attention_layernorm.weight", "blk.0.ffn_norm.weight"),
    ("llama", "model.layers.12.mlp.down_proj.weight", "blk.12.ffn_down.weight"),
    ("gemma3", "model.layers.1.pre_feedforward_layernorm.weight", "blk.1.ffn_norm.weight"),
    ("gemma3", "model.layers.1.post_attention_layernorm.weight",
     "blk.1.post_attention_norm.weight"),
    ("gemma3", "model.layers.2.self_attn.k_norm.weight", "blk.2.attn_k_norm.weight"),
    ("gemma3", "model.norm.weight", "output_norm.weight"),
])
def test_tensor_names_follow_llama_cpp(arch: str, hf: str, gguf_name: str) -> None:
    assert gguf_tensor_name(arch, hf) == gguf_name


def test_tensor_name_skips_rotary_buffer_and_rejects_unknown() -> None:
    assert gguf_tensor_name("llama", "model.layers.0.self_attn.rotary_emb.inv_freq") is None
    with pytest.raises(ConvertError, match="unexpected tensor"):
        gguf_tensor_name("llama", "model.layers.0.self_attn.q_norm.weight")


def test_permute_rotary_interleaves_halves_per_head() -> None:
    # One head of 4 rows: HF layout [x0, x1 | y0, y1] (halves) -> llama.cpp [x0, y0, x1, y1].
    w = np.arange(8, dtype=np.float32).reshape(8, 1)  # two heads
    assert permute_rotary(w, 2).ravel().tolist() == [0, 2, 1, 3, 4, 6, 5, 7]
    with pytest.raises(ConvertError):
        permute_rotary(np.zeros((6, 2), np.float32), 2)


def test_permute_rotary_commutes_with_lora_product() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 16)), rng.standard_normal((32, 4))
    np.testing.assert_allclose(permute_rotary(b @ a, 4), permute_rotary(b, 4) @ a)


def test_checkpoint_architecture_rejects_unsupported(tmp_path: Path) -> None:
    assert checkpoint_architecture({"architectures": ["LlamaForCausalLM"]}, "x") == "llama"
    with pytest.raises(ConvertError, match="unsupported architecture.*GPT2LMHeadModel"):
        checkpoint_architecture({"architectures": ["GPT2LMHeadModel"]}, tmp_path)


def test_to_gguf_rejects_unsupported_architecture(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(
        {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2"}))
    with pytest.raises(ConvertError, match="unsupported architecture"):
        to_gguf.write_gguf(tmp_path, tmp_path / "out.gguf", vocab_from=smollm2_gguf())


def test_to_gguf_rejects_vocabulary_mismatch(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({
        "architectures": ["LlamaForCausalLM"], "vocab_size": 32000, "hidden_size": 64,
        "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 4,
        "rms_norm_eps": 1e-5}))
    with pytest.raises(ConvertError, match="vocabulary mismatch: model has 32000"):
        to_gguf.write_gguf(tmp_path, tmp_path / "out.gguf", vocab_from=smollm2_gguf())


def test_to_gguf_rejects_missing_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(ConvertError, match="no config.json"):
        to_gguf.write_gguf(tmp_path, tmp_path / "out.gguf", vocab_from=smollm2_gguf())


def test_to_gguf_main_requires_vocab_source(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert to_gguf.main([str(tmp_path), str(tmp_path / "o.gguf")]) == 2
    assert "--vocab-from is required" in capsys.readouterr().err


def test_gguf_architecture_of_real_and_bad_files(tmp_path: Path) -> None:
    assert gguf_architecture(smollm2_gguf()) == "llama"
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf at all")
    with pytest.raises(ConvertError, match="not a readable GGUF"):
        gguf_architecture(bad)


def test_quantize_rejects_unknown_type_and_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ConvertError, match="unknown quantization type 'q3_x'"):
        quantize.quantize(smollm2_gguf(), tmp_path / "o.gguf", "q3_x")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"nope")
    with pytest.raises(ConvertError):
        quantize.quantize(bad, tmp_path / "o.gguf", "q8_0")


def _adapter_dir(tmp_path: Path, **config: object) -> Path:
    d = tmp_path / "adapter"
    d.mkdir()
    (d / "adapter_config.json").write_text(json.dumps(
        {"peft_type": "LORA", "r": 4, "lora_alpha": 8, **config}))
    return d


@pytest.mark.parametrize("config,message", [
    ({"use_dora": True}, "use_dora"),
    ({"use_rslora": True}, "use_rslora"),
    ({"rank_pattern": {"q_proj": 8}}, "rank or alpha patterns"),
    ({"modules_to_save": ["lm_head"]}, "modules_to_save"),
    ({"peft_type": "IA3"}, "unsupported adapter type"),
])
def test_adapter_config_rejects_unsupported_variants(tmp_path: Path, config: dict,
                                                     message: str) -> None:
    with pytest.raises(ConvertError, match=message):
        merge.read_adapter_config(_adapter_dir(tmp_path, **config))


def test_adapter_without_recorded_base_needs_one(tmp_path: Path) -> None:
    d = _adapter_dir(tmp_path)
    with pytest.raises(ConvertError, match="no base recorded"):
        adapter_to_gguf.write_adapter_gguf(d, tmp_path / "lora.gguf")
    with pytest.raises(ConvertError, match="does not exist"):
        merge.resolve_base(d, tmp_path / "missing.gguf")


def test_adapter_to_gguf_main_reports_missing_adapter(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert adapter_to_gguf.main([str(tmp_path), str(tmp_path / "o.gguf")]) == 2
    assert "not a LoRA adapter" in capsys.readouterr().err


@pytest.mark.parametrize("module", [to_gguf, quantize, merge, adapter_to_gguf, imatrix])
def test_every_command_has_help(module: object, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        module.main(["--help"])  # type: ignore[attr-defined]
    assert info.value.code == 0
    assert "usage:" in capsys.readouterr().out


# ---- importance matrix ------------------------------------------------------------------------


def _tiny_llama() -> object:
    import torch
    import transformers

    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=300, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
        tie_word_embeddings=True)
    return transformers.LlamaForCausalLM(config).eval()


def test_imatrix_collects_squared_inputs_under_gguf_names() -> None:
    import torch

    model = _tiny_llama()
    hooks_before = sum(len(m._forward_hooks) for m in model.modules())
    sequences = [[1, 5, 9, 200, 7], [3, 4, 250]]
    acc = imatrix.collect(model, "llama", sequences)
    assert sum(len(m._forward_hooks) for m in model.modules()) == hooks_before
    layer = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]
    assert set(acc) == {f"blk.{i}.{n}.weight" for i in range(2) for n in layer} | {
        "token_embd.weight"}  # tied embeddings: the output layer multiplies by token_embd
    assert all(a.count == 8 for a in acc.values())
    assert acc["blk.0.attn_q.weight"].sum2.shape == (32,)
    assert acc["blk.1.ffn_down.weight"].sum2.shape == (64,)
    # q, k and v read the same normed input, gate and up too
    np.testing.assert_array_equal(acc["blk.1.attn_q.weight"].sum2, acc["blk.1.attn_v.weight"].sum2)
    np.testing.assert_array_equal(acc["blk.0.ffn_gate.weight"].sum2,
                                  acc["blk.0.ffn_up.weight"].sum2)
    # the output layer's input is the final (normed) hidden state
    expected = np.zeros(32)
    with torch.no_grad():
        for ids in sequences:
            h = model(torch.tensor([ids]), output_hidden_states=True).hidden_states[-1][0]
            expected += (h.double() ** 2).sum(0).numpy()
    np.testing.assert_allclose(acc["token_embd.weight"].sum2, expected, rtol=1e-5)


def test_imatrix_writes_what_the_quantizer_reads(tmp_path: Path) -> None:
    from maaza_rt.quantize import read_imatrix

    acc = {"blk.0.attn_q.weight": imatrix.Accumulator(np.array([4.0, 8.0, 0.0]), 4),
           "blk.0.ffn_down.weight": imatrix.Accumulator(np.array([1.0, 3.0]), 2)}
    path = imatrix.write_imatrix(tmp_path / "m.gguf", acc, datasets=["x"], n_sequences=1)
    values = read_imatrix(path)  # the mean squared input per column
    assert set(values) == set(acc)
    np.testing.assert_allclose(values["blk.0.attn_q.weight"], [1.0, 2.0, 0.0])
    np.testing.assert_allclose(values["blk.0.ffn_down.weight"], [0.5, 1.5])
    with pytest.raises(ConvertError, match="no calibration input reached blk.0.attn_k.weight"):
        imatrix.write_imatrix(tmp_path / "e.gguf",
                              {"blk.0.attn_k.weight": imatrix.Accumulator(np.zeros(2))},
                              datasets=[], n_sequences=0)
    with pytest.raises(ConvertError, match="no such importance matrix"):
        quantize.quantize(smollm2_gguf(), tmp_path / "o.gguf", "q4_0",
                          imatrix=tmp_path / "missing.gguf")
