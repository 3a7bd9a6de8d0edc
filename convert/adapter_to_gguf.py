"""Write a peft LoRA adapter as a GGUF LoRA adapter that llama.cpp applies at run time.

Usage:
    python -m convert.adapter_to_gguf ADAPTER_DIR OUT.gguf [--base BASE.gguf|BASE_DIR]

The GGUF follows llama.cpp's adapter conventions: ``general.type = adapter``,
``adapter.type = lora``, ``adapter.lora.alpha``, and for each adapted weight ``W`` of the base
(GGUF name ``blk.N.attn_q.weight`` etc.) two F32 tensors ``<W>.lora_a`` (rank x in) and
``<W>.lora_b`` (out x rank); llama.cpp adds ``scale * alpha / rank * B A x``. Llama's q/k
adapters get the same row permutation as the base weights (applied to ``B``). Apply it with
``llama_cpp.Llama(base, lora_path=OUT.gguf)`` or ``llama_adapter_lora_init``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

from .common import (
    ConvertError,
    checkpoint_architecture,
    gguf_architecture,
    is_gguf,
    read_checkpoint_config,
    run_step,
)
from .merge import read_adapter_config, resolve_base
from .to_gguf import gguf_tensor_name, permute_rotary

_PEFT_NAME = re.compile(r"^base_model\.model\.(.+)\.lora_([AB])\.weight$")


def _base_hparams(base: Path) -> tuple[str, int, int]:
    """(architecture, n_head, n_head_kv) of a GGUF file or checkpoint directory."""
    if is_gguf(base):
        from gguf import GGUFReader

        arch = gguf_architecture(base)
        fields = GGUFReader(str(base)).fields
        n_head = fields.get(f"{arch}.attention.head_count")
        n_kv = fields.get(f"{arch}.attention.head_count_kv")
        if n_head is None:
            raise ConvertError(f"{base}: GGUF has no {arch}.attention.head_count")
        heads = int(n_head.contents())
        return arch, heads, int(n_kv.contents()) if n_kv is not None else heads
    config = read_checkpoint_config(base)
    heads = int(config["num_attention_heads"])
    return (checkpoint_architecture(config, base), heads,
            int(config.get("num_key_value_heads", heads)))


ADAPTER_TYPES = ("f32", "f16")


def write_adapter_gguf(adapter: str | Path, out: str | Path,
                       base: str | Path | None = None, outtype: str = "f32") -> Path:
    """Write ``adapter`` (for ``base``) as a GGUF LoRA adapter at ``out``; return ``out``.

    ``outtype`` is the tensor type: ``f32``, or ``f16`` (half the size; what the package ships).

    Raises:
        ConvertError: unsupported adapter or architecture, or tensors this converter does not
            know how to place.
    """
    import gguf
    from safetensors import safe_open

    if outtype not in ADAPTER_TYPES:
        raise ConvertError(f"unsupported adapter type {outtype!r} (choose from "
                           f"{', '.join(ADAPTER_TYPES)})")
    dtype = np.float16 if outtype == "f16" else np.float32
    config = read_adapter_config(adapter)
    base_path = resolve_base(adapter, base)
    arch, n_head, n_head_kv = _base_hparams(base_path)
    if arch not in ("llama", "gemma3"):
        raise ConvertError(f"{base_path}: unsupported architecture {arch!r}")
    weights = Path(adapter) / "adapter_model.safetensors"
    if not weights.is_file():
        raise ConvertError(f"{adapter}: no adapter_model.safetensors")

    pairs: dict[str, dict[str, np.ndarray]] = {}
    with safe_open(str(weights), framework="pt") as f:
        for name in f.keys():  # noqa: SIM118 (safe_open is not a mapping)
            m = _PEFT_NAME.match(name)
            if m is None:
                raise ConvertError(f"{adapter}: unexpected adapter tensor {name!r}")
            target = gguf_tensor_name(arch, m.group(1) + ".weight")
            if target is None:
                raise ConvertError(f"{adapter}: adapter tensor {name!r} has no GGUF weight")
            pairs.setdefault(target, {})[m.group(2)] = f.get_tensor(name).float().numpy()

    writer = gguf.GGUFWriter(str(out), arch)
    writer.add_type("adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(config.get("lora_alpha", config["r"])))
    for target in sorted(pairs):
        pair = pairs[target]
        if set(pair) != {"A", "B"}:
            raise ConvertError(f"{adapter}: {target} lacks its lora_A or lora_B tensor")
        a, b = pair["A"], pair["B"]
        if arch == "llama" and target.endswith("attn_q.weight"):
            b = permute_rotary(b, n_head)
        elif arch == "llama" and target.endswith("attn_k.weight"):
            b = permute_rotary(b, n_head_kv)
        writer.add_tensor(f"{target}.lora_a", np.ascontiguousarray(a, dtype=dtype))
        writer.add_tensor(f"{target}.lora_b", np.ascontiguousarray(b, dtype=dtype))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return Path(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convert.adapter_to_gguf", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("adapter", help="peft LoRA adapter directory")
    parser.add_argument("out", help="GGUF adapter file to write")
    parser.add_argument("--base", help="base GGUF or checkpoint (default: recorded in adapter)")
    parser.add_argument("--outtype", choices=ADAPTER_TYPES, default="f32",
                        help="tensor type of the adapter (default: f32)")
    args = parser.parse_args(argv)
    return run_step(lambda: write_adapter_gguf(args.adapter, args.out, args.base, args.outtype))


if __name__ == "__main__":
    sys.exit(main())
