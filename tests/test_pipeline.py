"""The fine-tuning pipeline end to end on tiny random models: LoRA steps -> merge -> GGUF ->
llama.cpp, quantized variants, and the GGUF LoRA adapter applied by llama.cpp at run time.

The tiny models use the SmolLM2 GGUF's vocabulary (49,152 tokens) so the real tokenizer, chat
template and tokenizer copy are exercised; everything else is random and small (2 layers,
hidden size 64), so the whole module runs in well under a minute on two cores.

Tolerance for llama.cpp vs torch logits (both F32): max |difference| <= 2e-3 * max(1, max |logit|).
Observed: about 2e-4 on logits of magnitude ~1.3 (llama.cpp keeps some intermediates in F16).
"""

from __future__ import annotations

import sys
from pathlib import Path

# train/ and convert/ are scripts beside the installed package: reach them from the
# repository root, after site-packages so the installed maaza_rt (with _core) wins.
sys.path.append(str(Path(__file__).resolve().parent.parent))

import json
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the train extra (torch) is not installed")
transformers = pytest.importorskip("transformers")

from convert.adapter_to_gguf import write_adapter_gguf  # noqa: E402
from convert.common import (  # noqa: E402
    ConvertError,
    gguf_architecture,
    llama_logits,
    load_base_model,
    open_llama,
    smollm2_gguf,
)
from convert.merge import merge  # noqa: E402
from convert.quantize import quantize  # noqa: E402
from convert.to_gguf import write_gguf  # noqa: E402
from train.data import GGUFTokenizer, encode_example  # noqa: E402
from train.lora import TrainConfig, lr_at, train  # noqa: E402

PROMPT = "<|im_start|>user\nName and age: Bob is 12 years old.<|im_end|>\n<|im_start|>assistant\n"
RTOL = 2e-3


def close(a: np.ndarray, b: np.ndarray) -> float:
    """Max |a - b| relative to the logits' scale (at least 1)."""
    return float(np.abs(a - b).max() / max(1.0, float(np.abs(b).max())))


def tiny_config(arch: str) -> Any:
    common = dict(vocab_size=49152, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                  rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2, pad_token_id=2)
    if arch == "llama":
        return transformers.LlamaConfig(**common, tie_word_embeddings=True, rope_theta=100000.0)
    return transformers.Gemma3TextConfig(
        **common, head_dim=16, query_pre_attn_scalar=16, sliding_window=64,
        layer_types=["sliding_attention", "sliding_attention"], rope_theta=1_000_000.0,
        final_logit_softcapping=None, attn_logit_softcapping=None,
    )


def make_examples(tok: GGUFTokenizer) -> list:
    rows = [("Bob is 12 years old.", '{"name":"Bob","age":12}'),
            ("Alice turned 31 today.", '{"name":"Alice","age":31}'),
            ("Carol, 47, lives here.", '{"name":"Carol","age":47}'),
            ("Dan is 5.", '{"name":"Dan","age":5}')]
    out = []
    for text, completion in rows:
        prefix = "<|im_start|>user\nName and age: "
        suffix = f"{text}<|im_end|>\n<|im_start|>assistant\n"
        out.append(encode_example(tok, tok.encode(prefix) + tok.encode(suffix), completion))
    return out


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Builds every artifact once: base (HF + GGUF), LoRA adapter, merged (HF + GGUF)."""
    tmp = tmp_path_factory.mktemp("pipeline")
    vocab = smollm2_gguf()
    torch.manual_seed(0)
    base_model = transformers.LlamaForCausalLM(tiny_config("llama")).eval()
    base_model.save_pretrained(str(tmp / "base_hf"))
    base_gguf = write_gguf(tmp / "base_hf", tmp / "base.gguf", vocab_from=vocab)

    tok = GGUFTokenizer(base_gguf)
    cfg = TrainConfig(base=str(base_gguf), out=str(tmp / "run"), rank=4, alpha=8.0,
                      dropout=0.0, lr=5e-3, warmup=0.0, max_steps=6, batch_size=2,
                      save_every=3, device="cpu", seed=0)
    summary = train(cfg, load_base_model(base_gguf), make_examples(tok), tok.pad_id,
                    str(base_gguf))
    adapter = Path(summary["adapter"])
    merged_hf = merge(adapter, tmp / "merged_hf")
    merged_gguf = write_gguf(merged_hf, tmp / "merged.gguf",
                             vocab_from=json.loads((merged_hf / "maaza_source.json")
                                                   .read_text())["vocab_from"])
    ids = tok.encode(PROMPT)
    return {"tmp": tmp, "vocab": vocab, "base_gguf": base_gguf, "base_model": base_model,
            "adapter": adapter, "merged_hf": merged_hf, "merged_gguf": merged_gguf,
            "summary": summary, "ids": ids, "run": tmp / "run", "cfg": cfg}


def torch_logits(model: Any, ids: list[int]) -> np.ndarray:
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].float().numpy()


def test_pipeline_training_writes_outputs_and_learns(pipeline: dict[str, Any]) -> None:
    run = pipeline["run"]
    history = json.loads((run / "loss.json").read_text())
    assert len(history) == 6 and pipeline["summary"]["steps"] == 6
    assert history[-1]["loss"] < history[0]["loss"]
    assert (run / "loss.png").stat().st_size > 1000
    assert json.loads((run / "config.json").read_text())["rank"] == 4
    assert (run / "adapter" / "adapter_model.safetensors").is_file()
    written = json.loads((run / "summary.json").read_text())
    assert written["steps"] == 6 and written["tokens"] == pipeline["summary"]["tokens"] > 0
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step-3", "step-6"]


def test_pipeline_merged_gguf_matches_torch(pipeline: dict[str, Any]) -> None:
    ids = pipeline["ids"]
    merged = transformers.AutoModelForCausalLM.from_pretrained(str(pipeline["merged_hf"])).eval()
    expected = torch_logits(merged, ids)
    # The adapter changed the model: the merged logits differ from the base's.
    assert close(torch_logits(pipeline["base_model"], ids), expected) > 10 * RTOL
    got = llama_logits(open_llama(pipeline["merged_gguf"]), ids)
    assert got.shape == expected.shape
    assert close(got, expected) <= RTOL


def test_pipeline_base_gguf_matches_torch(pipeline: dict[str, Any]) -> None:
    ids = pipeline["ids"]
    got = llama_logits(open_llama(pipeline["base_gguf"]), ids)
    assert close(got, torch_logits(pipeline["base_model"], ids)) <= RTOL


def test_pipeline_gguf_adapter_matches_merged(pipeline: dict[str, Any]) -> None:
    ids = pipeline["ids"]
    lora = write_adapter_gguf(pipeline["adapter"], pipeline["tmp"] / "lora.gguf")
    assert gguf_architecture(lora) == "llama"
    with_adapter = llama_logits(open_llama(pipeline["base_gguf"], lora_path=lora), ids)
    merged = llama_logits(open_llama(pipeline["merged_gguf"]), ids)
    base = llama_logits(open_llama(pipeline["base_gguf"]), ids)
    assert close(base, merged) > 10 * RTOL
    assert close(with_adapter, merged) <= RTOL


def test_pipeline_f16_gguf_adapter_is_half_size_and_matches(pipeline: dict[str, Any]) -> None:
    ids = pipeline["ids"]
    f32 = write_adapter_gguf(pipeline["adapter"], pipeline["tmp"] / "lora32.gguf")
    f16 = write_adapter_gguf(pipeline["adapter"], pipeline["tmp"] / "lora16.gguf", outtype="f16")
    tensors = f32.stat().st_size - 4096, f16.stat().st_size - 4096  # minus header slack
    assert tensors[1] < 0.6 * tensors[0]
    with_adapter = llama_logits(open_llama(pipeline["base_gguf"], lora_path=f16), ids)
    merged = llama_logits(open_llama(pipeline["merged_gguf"]), ids)
    assert close(with_adapter, merged) <= RTOL


@pytest.mark.parametrize("qtype, tolerance", [("f32", RTOL), ("q8_0", 30 * RTOL)])
def test_pipeline_adapter_merged_without_torch_matches_merged(pipeline: dict[str, Any],
                                                              qtype: str,
                                                              tolerance: float) -> None:
    from maaza_rt.adapter_merge import merge_adapter

    ids = pipeline["ids"]
    lora = write_adapter_gguf(pipeline["adapter"], pipeline["tmp"] / f"lora-{qtype}.gguf",
                              outtype="f16")
    out = merge_adapter(pipeline["base_gguf"], lora, pipeline["tmp"] / f"rt-{qtype}.gguf",
                        qtype=qtype, threads=1)
    assert gguf_architecture(out) == "llama"
    merged = llama_logits(open_llama(pipeline["merged_gguf"]), ids)
    base = llama_logits(open_llama(pipeline["base_gguf"]), ids)
    ours = llama_logits(open_llama(out), ids)
    assert close(ours, merged) <= tolerance < close(base, merged)


def test_pipeline_adapter_type_is_checked(pipeline: dict[str, Any]) -> None:
    with pytest.raises(ConvertError, match="unsupported adapter type 'q4'"):
        write_adapter_gguf(pipeline["adapter"], pipeline["tmp"] / "x.gguf", outtype="q4")


@pytest.mark.parametrize("qtype,file_type,min_corr",
                         [("q8_0", 7, 0.999), ("q4_0", 2, 0.98), ("q4_k_m", 15, 0.98)])
def test_pipeline_quantized_variants_run(pipeline: dict[str, Any], qtype: str, file_type: int,
                                         min_corr: float) -> None:
    from gguf import GGUFReader

    ids = pipeline["ids"]
    out = quantize(pipeline["merged_gguf"], pipeline["tmp"] / f"merged-{qtype}.gguf", qtype)
    assert int(GGUFReader(str(out)).fields["general.file_type"].contents()) == file_type
    assert out.stat().st_size < pipeline["merged_gguf"].stat().st_size
    got = llama_logits(open_llama(out), ids)
    ref = llama_logits(open_llama(pipeline["merged_gguf"]), ids)
    assert np.isfinite(got).all()
    assert np.corrcoef(got.ravel(), ref.ravel())[0, 1] >= min_corr


def test_pipeline_imatrix_command_and_weighted_quantization(pipeline: dict[str, Any]) -> None:
    from conftest import EDGEJSON

    from convert import imatrix
    from convert.common import ConvertError
    from maaza_rt.quantize import read_imatrix

    tmp, ids = pipeline["tmp"], pipeline["ids"]
    path = tmp / "merged.imatrix.gguf"
    # three EdgeJSON training rows through the merged model (its vocabulary from its GGUF)
    assert imatrix.main([str(pipeline["merged_gguf"]), str(path), "--data", str(EDGEJSON),
                         "--rows", "3", "--max-len", "500", "--threads", "1"]) == 0
    values = read_imatrix(path)
    assert len(values) == 2 * 7 + 1 and values["blk.1.ffn_down.weight"].shape == (128,)
    assert all(v.min() >= 0 and v.max() > 0 for v in values.values())

    plain = quantize(pipeline["merged_gguf"], tmp / "plain-q4_0.gguf", "q4_0")
    weighted = quantize(pipeline["merged_gguf"], tmp / "imatrix-q4_0.gguf", "q4_0",
                        imatrix=path)
    assert weighted.read_bytes() != plain.read_bytes()  # the weights steered the rounding
    ref = llama_logits(open_llama(pipeline["merged_gguf"]), ids)
    got = llama_logits(open_llama(weighted), ids)
    assert np.corrcoef(got.ravel(), ref.ravel())[0, 1] >= 0.98

    # an importance matrix of another model's shapes is llama.cpp's error, reported as ours
    wrong = imatrix.write_imatrix(
        tmp / "wrong.imatrix.gguf",
        {name: imatrix.Accumulator(np.ones(v.size + 1), 1) for name, v in values.items()},
        datasets=["x"], n_sequences=1)
    with pytest.raises(ConvertError, match="failed to quantize"):
        quantize(pipeline["merged_gguf"], tmp / "wrong-q4_0.gguf", "q4_0", imatrix=wrong)


def test_pipeline_converted_gguf_tokenizes_like_base(pipeline: dict[str, Any],
                                                     edgejson_rows: list[dict]) -> None:
    ours = open_llama(pipeline["merged_gguf"], vocab_only=True)
    ref = open_llama(pipeline["vocab"], vocab_only=True)
    assert ours.metadata.get("tokenizer.chat_template") == ref.metadata.get(
        "tokenizer.chat_template")
    for row in edgejson_rows[:100]:
        text = PROMPT + row["prompt"] + json.dumps(row["expected_output"])
        assert ours.tokenize(text.encode(), add_bos=False, special=True) == ref.tokenize(
            text.encode(), add_bos=False, special=True)


def test_pipeline_resume_continues_from_checkpoint(pipeline: dict[str, Any]) -> None:
    import dataclasses
    import shutil

    # An interrupted run: the straight run's directory as it was after its step-3 checkpoint.
    run = pipeline["tmp"] / "resume"
    shutil.copytree(pipeline["run"] / "checkpoints" / "step-3", run / "checkpoints" / "step-3")
    tok = GGUFTokenizer(pipeline["base_gguf"])
    cfg = dataclasses.replace(pipeline["cfg"], out=str(run), resume=True)
    summary = train(cfg, load_base_model(pipeline["base_gguf"]), make_examples(tok),
                    tok.pad_id, "base")
    assert summary["steps"] == 6 and summary["resumed_from_step"] == 3
    # The whole run's time and tokens: the checkpoint's first segment plus this one.
    straight_summary = json.loads((pipeline["run"] / "summary.json").read_text())
    assert summary["tokens"] == straight_summary["tokens"]
    assert summary["segment_tokens"] < summary["tokens"]
    assert summary["seconds"] > summary["segment_seconds"] > 0
    resumed = json.loads((run / "loss.json").read_text())
    straight = json.loads((pipeline["run"] / "loss.json").read_text())
    # Same seed, same batches, dropout off: resuming reproduces the uninterrupted run.
    np.testing.assert_allclose([h["loss"] for h in resumed], [h["loss"] for h in straight],
                               rtol=1e-4)


def test_pipeline_micro_batches_match_whole_batches(pipeline: dict[str, Any]) -> None:
    import dataclasses

    tok = GGUFTokenizer(pipeline["base_gguf"])
    cfg = dataclasses.replace(pipeline["cfg"], out=str(pipeline["tmp"] / "micro"), micro_batch=1,
                              save_every=0)
    train(cfg, load_base_model(pipeline["base_gguf"]), make_examples(tok), tok.pad_id, "base")
    micro = json.loads((pipeline["tmp"] / "micro" / "loss.json").read_text())
    whole = json.loads((pipeline["run"] / "loss.json").read_text())
    np.testing.assert_allclose([h["loss"] for h in micro], [h["loss"] for h in whole],
                               rtol=1e-4)


def test_pipeline_gemma3_gguf_and_adapter_match_torch(tmp_path: Path) -> None:
    torch.manual_seed(1)
    model = transformers.Gemma3ForCausalLM(tiny_config("gemma3")).eval()
    model.save_pretrained(str(tmp_path / "gemma_hf"))
    path = write_gguf(tmp_path / "gemma_hf", tmp_path / "gemma.gguf", vocab_from=smollm2_gguf())
    assert gguf_architecture(path) == "gemma3"
    llm = open_llama(path)
    ids = llm.tokenize(PROMPT.encode(), add_bos=False, special=True)
    base = llama_logits(llm, ids)
    assert close(base, torch_logits(model, ids)) <= RTOL

    # LoRA on a checkpoint-directory base, then the GGUF adapter against the merged model.
    tok = GGUFTokenizer(path)
    cfg = TrainConfig(out=str(tmp_path / "run"), rank=4, alpha=8.0, dropout=0.0, lr=5e-3,
                      warmup=0.0, max_steps=4, batch_size=2, save_every=0, device="cpu")
    summary = train(cfg, transformers.AutoModelForCausalLM.from_pretrained(
        str(tmp_path / "gemma_hf")), make_examples(tok), tok.pad_id, str(tmp_path / "gemma_hf"))
    merged_hf = merge(summary["adapter"], tmp_path / "merged_hf")
    merged = write_gguf(merged_hf, tmp_path / "merged.gguf", vocab_from=smollm2_gguf())
    lora = write_adapter_gguf(summary["adapter"], tmp_path / "lora.gguf", base=path)
    want = llama_logits(open_llama(merged), ids)
    assert close(base, want) > 10 * RTOL
    assert close(llama_logits(open_llama(path, lora_path=lora), ids), want) <= RTOL


def test_pipeline_merge_rejects_mismatched_base(pipeline: dict[str, Any], tmp_path: Path) -> None:
    cfg = tiny_config("llama")
    cfg.hidden_size = 32
    cfg.intermediate_size = 64
    transformers.LlamaForCausalLM(cfg).save_pretrained(str(tmp_path / "other"))
    with pytest.raises(ConvertError, match="does not match base"):
        merge(pipeline["adapter"], tmp_path / "out", base=tmp_path / "other")


def test_pipeline_verify_command_checks_tolerance(pipeline: dict[str, Any],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from convert import verify

    assert verify.main([str(pipeline["merged_gguf"]),
                        "--reference", str(pipeline["merged_hf"])]) == 0
    assert json.loads(capsys.readouterr().out)["max_rel_diff"] <= RTOL
    # The base is not the merged model: the check must fail.
    assert verify.main([str(pipeline["base_gguf"]),
                        "--reference", str(pipeline["merged_gguf"])]) == 1
    assert verify.main([str(pipeline["base_gguf"]), "--lora",
                        str(write_adapter_gguf(pipeline["adapter"], pipeline["tmp"] / "l2.gguf")),
                        "--reference", str(pipeline["merged_gguf"])]) == 0


def test_pipeline_bfloat16_autocast_trains(pipeline: dict[str, Any]) -> None:
    import dataclasses

    tok = GGUFTokenizer(pipeline["base_gguf"])
    cfg = dataclasses.replace(pipeline["cfg"], out=str(pipeline["tmp"] / "bf16"),
                              dtype="bfloat16", max_steps=2, save_every=0)
    summary = train(cfg, load_base_model(pipeline["base_gguf"]), make_examples(tok), tok.pad_id,
                    "base")
    history = json.loads((pipeline["tmp"] / "bf16" / "loss.json").read_text())
    straight = json.loads((pipeline["run"] / "loss.json").read_text())
    assert summary["steps"] == 2 and all(np.isfinite(h["loss"]) for h in history)
    # Same first batch: bf16 autocast gives nearly the fp32 loss, not the same bits.
    assert history[0]["loss"] == pytest.approx(straight[0]["loss"], rel=2e-2)


def test_completion_loss_matches_full_loss_and_gradients(pipeline: dict[str, Any]) -> None:
    from peft import LoraConfig, get_peft_model

    from train.data import collate
    from train.lora import completion_loss

    tok = GGUFTokenizer(pipeline["base_gguf"])
    torch.manual_seed(0)
    model = get_peft_model(load_base_model(pipeline["base_gguf"]),
                           LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                      init_lora_weights=False)).eval()
    params = [p for p in model.parameters() if p.requires_grad]
    for example in make_examples(tok):
        model.zero_grad()
        full = model(**collate([example], tok.pad_id)).loss
        full.backward()
        full_grads = [p.grad.clone() for p in params]
        model.zero_grad()
        ours = completion_loss(model, example, torch.device("cpu"))
        ours.backward()
        assert abs(float(ours) - float(full)) <= 1e-5 * max(1.0, float(full))
        # Gradients differ only by what flows through the prompt's keys and values.
        assert all(torch.isfinite(p.grad).all() for p in params)
        assert any(p.grad.abs().sum() > 0 for p in params)
        assert max(float((a - p.grad).abs().max()) for a, p in zip(full_grads, params)) > 0


def test_prompt_grad_false_needs_micro_batch_one() -> None:
    from train.lora import ConfigError, validate

    with pytest.raises(ConfigError, match="micro_batch 1"):
        validate(TrainConfig(prompt_grad=False, micro_batch=0))
    validate(TrainConfig(prompt_grad=False, micro_batch=1))


def test_pipeline_training_without_prompt_gradients_learns(pipeline: dict[str, Any]) -> None:
    import dataclasses

    tok = GGUFTokenizer(pipeline["base_gguf"])
    cfg = dataclasses.replace(pipeline["cfg"], out=str(pipeline["tmp"] / "nograd"),
                              prompt_grad=False, micro_batch=1, save_every=0)
    summary = train(cfg, load_base_model(pipeline["base_gguf"]), make_examples(tok),
                    tok.pad_id, "base")
    history = json.loads((pipeline["tmp"] / "nograd" / "loss.json").read_text())
    assert summary["steps"] == 6 and history[-1]["loss"] < history[0]["loss"]


def test_pipeline_gradient_checkpointing_trains_the_same_adapter(pipeline: dict[str, Any]) -> None:
    import dataclasses

    import torch
    from safetensors.torch import load_file

    tok = GGUFTokenizer(pipeline["base_gguf"])
    adapters = {}
    for name, flag in (("plain", False), ("ckpt", True)):
        cfg = dataclasses.replace(pipeline["cfg"], out=str(pipeline["tmp"] / f"gc-{name}"),
                                  grad_checkpoint=flag, max_steps=2, save_every=0)
        base = load_base_model(pipeline["base_gguf"])
        train(cfg, base, make_examples(tok), tok.pad_id, "base")
        assert base.is_activation_checkpointing is flag  # the option reached the model
        adapters[name] = load_file(str(pipeline["tmp"] / f"gc-{name}" / "adapter"
                                       / "adapter_model.safetensors"))
    assert adapters["plain"].keys() == adapters["ckpt"].keys()
    # Recomputed activations give the same gradients (dropout included: the RNG state is
    # replayed), so the two adapters agree up to float rounding, and training moved them.
    lora_b = [k for k in adapters["plain"] if "lora_B" in k]
    assert lora_b and any(float(adapters["plain"][k].abs().max()) > 0 for k in lora_b)
    for k, v in adapters["plain"].items():
        assert torch.allclose(v, adapters["ckpt"][k], atol=1e-5, rtol=1e-4), k


def test_pipeline_trains_on_packed_examples_as_on_tokenized_ones(pipeline: dict[str, Any],
                                                                  capsys) -> None:
    """``--examples`` trains on a packed file without a tokenizer: the same examples, seed and
    settings give the straight run's losses."""
    from train.lora import main
    from train.packed import save_examples

    tok = GGUFTokenizer(pipeline["base_gguf"])
    packed = pipeline["tmp"] / "examples.npz"
    save_examples(packed, make_examples(tok), {"pad_id": tok.pad_id})
    cfg = pipeline["cfg"]
    out = pipeline["tmp"] / "from-packed"
    flags = ["--examples", str(packed), "--base", str(pipeline["base_gguf"]), "--out", str(out),
             "--rank", "4", "--alpha", "8", "--dropout", "0", "--lr", str(cfg.lr),
             "--warmup", "0", "--max-steps", "6", "--batch-size", "2", "--save-every", "0",
             "--device", "cpu", "--seed", "0"]
    assert main(flags) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 6
    packed_run = json.loads((out / "loss.json").read_text())
    straight = json.loads((pipeline["run"] / "loss.json").read_text())
    np.testing.assert_allclose([h["loss"] for h in packed_run], [h["loss"] for h in straight],
                               rtol=1e-4)


def test_pipeline_packed_examples_beyond_the_vocabulary_are_refused(pipeline: dict[str, Any],
                                                                     capsys) -> None:
    from train.data import Example
    from train.lora import main
    from train.packed import save_examples

    packed = pipeline["tmp"] / "foreign.npz"
    save_examples(packed, [Example([1, 2, 60000], [-100, 2, 60000])], {"pad_id": 2})
    assert main(["--examples", str(packed), "--base", str(pipeline["base_gguf"]),
                 "--out", str(pipeline["tmp"] / "foreign"), "--device", "cpu"]) == 2
    assert "token id 60000; the base's vocabulary has 49152" in capsys.readouterr().err


def test_pipeline_time_budget_ends_the_run_with_the_schedule_run_down(
        pipeline: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """``max_seconds``: a clock that moves 1 s per reading uses the budget up long before the
    100 steps; the run stops early, says so, and its learning rate falls as time passes."""
    import dataclasses
    import itertools

    import train.lora as lora

    ticks = itertools.count()
    monkeypatch.setattr(lora.time, "perf_counter", lambda: float(next(ticks)))
    tok = GGUFTokenizer(pipeline["base_gguf"])
    cfg = dataclasses.replace(pipeline["cfg"], out=str(pipeline["tmp"] / "budget"),
                              max_steps=100, max_seconds=12.0, save_every=0, warmup=0.0)
    summary = train(cfg, load_base_model(pipeline["base_gguf"]), make_examples(tok),
                    tok.pad_id, "base")
    history = json.loads((pipeline["tmp"] / "budget" / "loss.json").read_text())
    assert summary["stopped_by"] == "time" and 1 < summary["steps"] < 10
    lrs = [h["lr"] for h in history]
    assert all(a > b for a, b in zip(lrs, lrs[1:]))
    assert lrs[-1] < 0.5 * cfg.lr  # far down the cosine after a few of 100 steps
    assert lrs[1] < lr_at(1, 100, cfg.lr, 0.0)  # ahead of the steps-only schedule
    straight = json.loads((pipeline["run"] / "summary.json").read_text())
    assert straight["stopped_by"] == "steps"
