"""Merge a GGUF LoRA adapter into its GGUF base model, then quantize the result (no torch).

Fine-tuned models ship as small LoRA adapters. llama.cpp can apply an adapter at run time, but
then every adapted projection costs two extra matrix products per token; a merged and quantized
file runs at the speed of a plain model. :func:`merge_adapter` writes that file once, with numpy
and llama.cpp's own quantizer:

1. every base tensor that the adapter adapts is dequantized, and ``alpha / r * B @ A`` is added
   to it (the adapter's tensors are already in the GGUF layout of the base: ``lora_a`` is
   ``r x in``, ``lora_b`` is ``out x r``); it is written as F16 (F32 for ``qtype="f32"``, BF16
   for ``qtype="bf16"``), every other tensor is copied byte for byte (with ``bf16``, quantized
   ones such as the token embedding become BF16 too), and all metadata (tokenizer, chat
   template) is copied;
2. llama.cpp quantizes that file to the requested type (``q8_0`` by default; ``f16``, ``bf16``
   and ``f32`` stop after step 1).

Both steps write temporary files beside the output and rename at the end, so an interrupted merge
never leaves a half-written model behind.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelError
from .gguf_file import check_gguf
from .quantize import QUANT_TYPES, quantize_gguf

MERGE_TYPES = QUANT_TYPES
# Types written directly (no llama.cpp quantize pass): every adapted tensor in that type.
_WRITTEN_TYPES = ("f32", "f16", "bf16")
_SKIP_KEYS = ("GGUF.", "general.architecture", "general.file_type")


@dataclass(frozen=True)
class LoraAdapter:
    """A GGUF LoRA adapter read into memory: its architecture, its alpha, and its
    ``{base tensor name: (A, B)}`` pairs as float32 arrays in the base's GGUF layout."""

    architecture: str
    alpha: float
    pairs: dict[str, tuple[np.ndarray, np.ndarray]]


def read_adapter(adapter: Path) -> LoraAdapter:
    """Read a GGUF LoRA adapter (any tensor type gguf-py can dequantize: F32, F16, Q8_0...).

    Raises:
        ModelError: the file is not a GGUF LoRA adapter or a weight lacks one of its factors.
    """
    import gguf

    try:
        reader = gguf.GGUFReader(adapter)
    except (OSError, ValueError) as e:
        raise ModelError(f"cannot read the GGUF adapter {adapter}: {e}", path=str(adapter)) from e
    kind = reader.get_field("general.type")
    lora_type = reader.get_field("adapter.type")
    if (kind is None or kind.contents() != "adapter" or lora_type is None
            or lora_type.contents() != "lora"):
        raise ModelError(f"not a GGUF LoRA adapter: {adapter}", path=str(adapter))
    arch_field = reader.get_field("general.architecture")
    alpha_field = reader.get_field("adapter.lora.alpha")
    alpha = float(alpha_field.contents()) if alpha_field is not None else 0.0
    parts: dict[str, dict[str, np.ndarray]] = {}
    for t in reader.tensors:
        for suffix, key in ((".lora_a", "A"), (".lora_b", "B")):
            if t.name.endswith(suffix):
                data = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
                parts.setdefault(t.name[: -len(suffix)], {})[key] = data
    pairs = {}
    for name, pair in parts.items():
        if set(pair) != {"A", "B"}:
            raise ModelError(f"{adapter}: {name} lacks its lora_a or lora_b tensor",
                             path=str(adapter))
        pairs[name] = (pair["A"], pair["B"])
    arch = str(arch_field.contents()) if arch_field is not None else ""
    return LoraAdapter(arch, alpha, pairs)


def _write_merged(base: Path, adapter: Path, out: Path, dtype: str) -> None:
    """Writes the merged weights in ``dtype`` (``f32``, ``f16`` or ``bf16``). Tensors the adapter
    does not touch (the token embedding, norms) are copied as the base stores them, except that
    ``bf16`` converts every quantized one to BF16 too."""
    import gguf

    lora = read_adapter(adapter)
    alpha, pairs = lora.alpha, lora.pairs
    reader = gguf.GGUFReader(base)
    arch_field = reader.get_field("general.architecture")
    if arch_field is None:
        raise ModelError(f"{base}: no general.architecture in the GGUF header", path=str(base))
    names = {t.name for t in reader.tensors}
    missing = sorted(set(pairs) - names)
    if missing:
        raise ModelError(f"the adapter {adapter} does not fit the base model {base}: "
                         f"it adapts {missing[0]}, which the base does not have",
                         path=str(adapter))
    writer = gguf.GGUFWriter(str(out), str(arch_field.contents()))
    for field in reader.fields.values():
        if field.name.startswith(_SKIP_KEYS):
            continue
        vtype = field.types[0]
        sub_type = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), vtype, sub_type=sub_type)
    writer.add_file_type({"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
                          "bf16": gguf.LlamaFileType.MOSTLY_BF16}[dtype])
    bf16 = gguf.GGMLQuantizationType.BF16
    for t in reader.tensors:
        pair = pairs.get(t.name)
        if pair is None:
            if dtype == "bf16" and t.tensor_type not in (gguf.GGMLQuantizationType.F32, bf16):
                # The token embedding (also the output matrix): BF16 products are the fast ones.
                plain = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
                writer.add_tensor(t.name, gguf.quants.quantize(plain, bf16), raw_dtype=bf16)
            else:
                writer.add_tensor(t.name, t.data, raw_dtype=t.tensor_type)
            continue
        weight = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        a, b = pair
        if weight.shape != (b.shape[0], a.shape[1]) or a.shape[0] != b.shape[1]:
            raise ModelError(f"the adapter {adapter} does not fit the base model {base}: "
                             f"{t.name} is {weight.shape}, the adapter's update is "
                             f"{(b.shape[0], a.shape[1])}", path=str(adapter))
        scale = alpha / a.shape[0] if alpha else 1.0
        weight += scale * (b @ a)
        if dtype == "bf16":
            writer.add_tensor(t.name, gguf.quants.quantize(weight, bf16), raw_dtype=bf16)
        else:
            writer.add_tensor(t.name, weight if dtype == "f32" else weight.astype(np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def merge_adapter(base: str | os.PathLike[str], adapter: str | os.PathLike[str],
                  out: str | os.PathLike[str], *, qtype: str = "q8_0",
                  threads: int | None = None,
                  imatrix: str | os.PathLike[str] | None = None) -> Path:
    """Write ``base`` with ``adapter`` merged into it, quantized to ``qtype``, at ``out``.

    ``qtype`` is ``q8_0`` (default), ``q4_k_m``, ``q4_0``, ``bf16``, ``f16`` or ``f32``; the
    quantizer weighs rounding errors by the importance matrix file ``imatrix`` when given
    (:mod:`maaza_rt.quantize`; the types written directly ignore it). Returns ``out``.

    Raises:
        ModelError: a file is missing or not GGUF, the adapter does not fit the base, or
            llama.cpp fails to quantize.
    """
    base_path, adapter_path, out_path = Path(base), Path(adapter), Path(out)
    check_gguf(base_path)
    check_gguf(adapter_path)
    if qtype not in MERGE_TYPES:
        raise ModelError(f"unsupported merge type {qtype!r} (choose from "
                         f"{', '.join(MERGE_TYPES)})", path=str(out_path))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tag = f".tmp{os.getpid()}"
    merged = out_path.with_name(out_path.name + tag + ".f16")
    final = out_path.with_name(out_path.name + tag)
    try:
        if qtype in _WRITTEN_TYPES:
            _write_merged(base_path, adapter_path, final, qtype)
        else:
            _write_merged(base_path, adapter_path, merged, "f16")
            quantize_gguf(merged, final, qtype, threads=threads or os.cpu_count() or 1,
                          imatrix=imatrix, allow_requantize=True)
        os.replace(final, out_path)
    except OSError as e:
        raise ModelError(f"could not write the merged model {out_path}: {e}",
                         path=str(out_path)) from e
    finally:
        for tmp in (merged, final):
            if tmp.exists():
                tmp.unlink()
    return out_path


__all__ = ["MERGE_TYPES", "merge_adapter"]
