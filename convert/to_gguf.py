"""Write a Hugging Face checkpoint (e.g. a merged LoRA model) as a GGUF file llama.cpp runs.

Usage:
    python -m convert.to_gguf CHECKPOINT_DIR OUT.gguf --vocab-from BASE.gguf [--dtype f32|f16]

Supported architectures: Llama (``LlamaForCausalLM``, e.g. SmolLM2) and Gemma 3 text
(``Gemma3ForCausalLM``). Tensor names and layouts follow llama.cpp's conventions: Llama's
query/key projections are permuted back from the Hugging Face rotary layout, Gemma's RMSNorm
weights are stored as ``1 + w``. The tokenizer (every ``tokenizer.*`` key, chat template
included) is copied from ``--vocab-from``, a GGUF of the same vocabulary, so the converted model
tokenizes exactly like its base. Matrices are written as F32 or F16; norms stay F32.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .common import (
    ConvertError,
    checkpoint_architecture,
    read_checkpoint_config,
    run_step,
)

_LAYER = re.compile(r"^model\.layers\.(\d+)\.(.+)$")

# Hugging Face tensor suffix (inside a layer) -> GGUF tensor name (without "blk.N.").
_LLAMA_LAYER = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}
_GEMMA3_LAYER = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "self_attn.q_norm.weight": "attn_q_norm.weight",
    "self_attn.k_norm.weight": "attn_k_norm.weight",
    "post_attention_layernorm.weight": "post_attention_norm.weight",
    "pre_feedforward_layernorm.weight": "ffn_norm.weight",
    "post_feedforward_layernorm.weight": "post_ffw_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}
_GLOBAL = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
}
LAYER_NAMES = {"llama": _LLAMA_LAYER, "gemma3": _GEMMA3_LAYER}


def permute_rotary(w: np.ndarray, n_head: int) -> np.ndarray:
    """Reorder a Llama q/k projection's rows from the Hugging Face rotary layout (halves) to
    llama.cpp's (interleaved pairs). Works on any matrix whose rows are the projection outputs,
    so it also applies to a LoRA ``B`` matrix."""
    rows = w.shape[0]
    if rows % (2 * n_head):
        raise ConvertError(f"cannot permute {rows} rows for {n_head} heads")
    return (w.reshape(n_head, 2, rows // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def gguf_tensor_name(arch: str, hf_name: str) -> str | None:
    """The GGUF name of a Hugging Face tensor, or None for tensors llama.cpp does not use.

    Raises:
        ConvertError: a tensor this converter does not know (a silently dropped weight would
            make a model that loads and computes the wrong thing).
    """
    if hf_name in _GLOBAL:
        return _GLOBAL[hf_name]
    if hf_name.endswith("rotary_emb.inv_freq"):
        return None
    m = _LAYER.match(hf_name)
    if m and m.group(2) in LAYER_NAMES[arch]:
        return f"blk.{m.group(1)}.{LAYER_NAMES[arch][m.group(2)]}"
    raise ConvertError(f"unexpected tensor {hf_name!r} for architecture {arch}")


def _rope_theta(config: dict[str, Any], default: float) -> float:
    params = config.get("rope_parameters")
    if isinstance(params, dict) and "full_attention" in params:  # per-layer-type parameters
        params = params["full_attention"]
    if isinstance(params, dict):
        kind = params.get("rope_type", "default")
        if kind != "default":
            raise ConvertError(f"unsupported rope type {kind!r}")
        return float(params.get("rope_theta", default))
    scaling = config.get("rope_scaling")
    if scaling and scaling.get("rope_type", scaling.get("type", "default")) != "default":
        raise ConvertError(f"unsupported rope scaling {scaling!r}")
    return float(config.get("rope_theta", default))


def _head_dim(config: dict[str, Any]) -> int:
    return int(config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"])


def _write_hparams(writer: Any, arch: str, config: dict[str, Any]) -> None:
    n_ctx = int(config.get("max_position_embeddings", 2048))
    writer.add_context_length(n_ctx)
    writer.add_embedding_length(int(config["hidden_size"]))
    writer.add_block_count(int(config["num_hidden_layers"]))
    writer.add_feed_forward_length(int(config["intermediate_size"]))
    writer.add_head_count(int(config["num_attention_heads"]))
    writer.add_head_count_kv(int(config.get("num_key_value_heads",
                                            config["num_attention_heads"])))
    writer.add_layer_norm_rms_eps(float(config["rms_norm_eps"]))
    if arch == "llama":
        writer.add_rope_freq_base(_rope_theta(config, 10000.0))
        writer.add_rope_dimension_count(_head_dim(config))
        writer.add_vocab_size(int(config["vocab_size"]))
        return
    # Gemma 3: llama.cpp fixes the local (sliding) layers' rope base at 10000 and the pattern
    # at five sliding layers then one global one; refuse checkpoints that say otherwise.
    writer.add_rope_freq_base(_rope_theta(config, 1_000_000.0))
    writer.add_key_length(_head_dim(config))
    writer.add_value_length(_head_dim(config))
    writer.add_sliding_window(int(config.get("sliding_window", 512)))
    local_base = config.get("rope_local_base_freq", 10000.0)
    params = config.get("rope_parameters")
    if isinstance(params, dict) and "sliding_attention" in params:
        local_base = params["sliding_attention"].get("rope_theta", local_base)
    if float(local_base) != 10000.0:
        raise ConvertError(f"Gemma 3 local rope base {local_base} != 10000 is not supported")
    types = config.get("layer_types")
    if types:
        expected = ["full_attention" if (i + 1) % 6 == 0 else "sliding_attention"
                    for i in range(len(types))]
        if list(types) != expected:
            raise ConvertError("Gemma 3 layer_types differ from llama.cpp's fixed pattern "
                               "(five sliding layers, then one global)")
    if config.get("final_logit_softcapping") or config.get("attn_logit_softcapping"):
        raise ConvertError("Gemma 3 logit soft-capping is not supported")
    scalar = config.get("query_pre_attn_scalar")
    if scalar is not None and int(scalar) != _head_dim(config):
        raise ConvertError(f"Gemma 3 query_pre_attn_scalar {scalar} != head_dim is not supported")


def copy_tokenizer(writer: Any, vocab_from: str | Path, n_vocab: int) -> None:
    """Copy every ``tokenizer.*`` key of a GGUF into ``writer``.

    Raises:
        ConvertError: no tokenizer there, or its size differs from the model's vocabulary.
    """
    from gguf import GGUFReader, GGUFValueType

    reader = GGUFReader(str(vocab_from))
    tokens = reader.fields.get("tokenizer.ggml.tokens")
    if tokens is None:
        raise ConvertError(f"{vocab_from}: GGUF has no tokenizer")
    if len(tokens.data) != n_vocab:
        raise ConvertError(f"vocabulary mismatch: model has {n_vocab} token embeddings, "
                           f"{vocab_from} has {len(tokens.data)} tokens")
    for key, field in reader.fields.items():
        if not key.startswith("tokenizer."):
            continue
        vtype = field.types[0]
        sub = field.types[-1] if vtype == GGUFValueType.ARRAY else None
        writer.add_key_value(key, field.contents(), vtype, sub)


def _tensors(checkpoint: Path) -> Iterator[tuple[str, np.ndarray]]:
    from safetensors import safe_open

    files = sorted(checkpoint.glob("*.safetensors"))
    if not files:
        raise ConvertError(f"{checkpoint}: no .safetensors files")
    for file in files:
        with safe_open(str(file), framework="pt") as f:
            for name in f.keys():  # noqa: SIM118 (safe_open is not a mapping)
                yield name, f.get_tensor(name).float().numpy()


def write_gguf(checkpoint: str | Path, out: str | Path, *, vocab_from: str | Path,
               dtype: str = "f32") -> Path:
    """Write ``checkpoint`` as a GGUF file at ``out`` and return its path.

    Raises:
        ConvertError: unsupported architecture or dtype, unknown tensors, vocabulary mismatch.
    """
    import gguf

    if dtype not in ("f32", "f16"):
        raise ConvertError(f"dtype must be f32 or f16, got {dtype!r}")
    ckpt = Path(checkpoint)
    config = read_checkpoint_config(ckpt)
    arch = checkpoint_architecture(config, ckpt)
    n_head = int(config["num_attention_heads"])
    n_head_kv = int(config.get("num_key_value_heads", n_head))
    tied = bool(config.get("tie_word_embeddings", arch == "gemma3"))

    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(out_path), arch)
    writer.add_type("model")
    writer.add_name(str(config.get("_name_or_path") or ckpt.name))
    writer.add_file_type(gguf.LlamaFileType.ALL_F32 if dtype == "f32"
                         else gguf.LlamaFileType.MOSTLY_F16)
    _write_hparams(writer, arch, config)
    copy_tokenizer(writer, vocab_from, int(config["vocab_size"]))

    seen: set[str] = set()
    for name, w in _tensors(ckpt):
        target = gguf_tensor_name(arch, name)
        if target is None or (tied and target == "output.weight"):
            continue
        if arch == "llama" and target.endswith("attn_q.weight"):
            w = permute_rotary(w, n_head)
        elif arch == "llama" and target.endswith("attn_k.weight"):
            w = permute_rotary(w, n_head_kv)
        if arch == "gemma3" and target.endswith("norm.weight"):
            w = w + 1.0
        data = w.astype(np.float16 if dtype == "f16" and w.ndim == 2 else np.float32)
        writer.add_tensor(target, np.ascontiguousarray(data))
        seen.add(target)
    if "token_embd.weight" not in seen:
        raise ConvertError(f"{ckpt}: no model.embed_tokens.weight")

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out_path


def default_vocab_from(checkpoint: str | Path) -> Path | None:
    """The base GGUF recorded by ``convert.merge`` beside a merged checkpoint, if any."""
    source = Path(checkpoint) / "maaza_source.json"
    if source.is_file():
        base = json.loads(source.read_text(encoding="utf-8")).get("vocab_from")
        return Path(base) if base else None
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convert.to_gguf", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="Hugging Face checkpoint directory")
    parser.add_argument("out", help="GGUF file to write")
    parser.add_argument("--vocab-from", help="GGUF whose tokenizer to copy (default: the base "
                        "recorded by convert.merge)")
    parser.add_argument("--dtype", choices=["f32", "f16"], default="f32")
    args = parser.parse_args(argv)

    def step() -> Path:
        vocab = args.vocab_from or default_vocab_from(args.checkpoint)
        if vocab is None:
            raise ConvertError("--vocab-from is required (no GGUF base recorded in checkpoint)")
        return write_gguf(args.checkpoint, args.out, vocab_from=vocab, dtype=args.dtype)

    return run_step(step)


if __name__ == "__main__":
    sys.exit(main())
