"""Importance matrix for quantization: how strongly each input column of every linear layer is
driven on EdgeJSON training sequences, so that llama.cpp's quantizer spends its precision there.

Usage:
    python -m convert.imatrix MODEL OUT.imatrix.gguf [--data ../shared/edgejson] [--rows 96]
        [--max-len 1536] [--seed 0] [--threads N]
    python -m convert.quantize MERGED.gguf OUT.gguf --type q4_k_m --imatrix OUT.imatrix.gguf

MODEL is a GGUF file (F32, F16 or BF16 is best: transformers dequantizes it to torch) or a
checkpoint directory of the Llama or Gemma 3 architecture, normally the merged model that is
then quantized. The calibration sequences are ``--rows`` EdgeJSON training rows (never the
validation split of ``bench/edgejson.py``), each the runtime's prompt plus the expected compact
JSON and EOS, as the trainer builds them. For every linear layer the file holds, per input
column, the sum of the squared inputs over all tokens (``<tensor>.in_sum2``) and the number of
tokens (``<tensor>.counts``), the tensor names being the GGUF model's; the quantizer weighs each
column's rounding error by their ratio, the mean squared input.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from maaza_rt.quantize import IMATRIX_TYPE

from .common import (
    ConvertError,
    checkpoint_architecture,
    gguf_architecture,
    is_gguf,
    load_base_model,
    read_checkpoint_config,
    run_step,
)
from .to_gguf import default_vocab_from, gguf_tensor_name

logger = logging.getLogger("convert.imatrix")


@dataclass
class Accumulator:
    """Sum of squared inputs per column and the number of input rows (tokens) seen."""

    sum2: np.ndarray
    count: int = 0


def model_architecture(model_path: Path) -> str:
    """``llama`` or ``gemma3`` for a GGUF file or a checkpoint directory.

    Raises:
        ConvertError: neither, or an unsupported architecture.
    """
    if is_gguf(model_path):
        return gguf_architecture(model_path)
    if model_path.is_dir():
        return checkpoint_architecture(read_checkpoint_config(model_path), model_path)
    raise ConvertError(f"{model_path}: not a GGUF file or a checkpoint directory")


def linear_layers(model: Any, arch: str) -> dict[str, Any]:
    """GGUF tensor name -> the torch ``nn.Linear`` that multiplies by it.

    With tied embeddings the output layer multiplies by ``token_embd.weight`` (there is no
    ``output.weight`` in the GGUF).
    """
    import torch

    tied = bool(getattr(model.config, "tie_word_embeddings", False))
    out: dict[str, Any] = {}
    for name, module in model.named_modules():
        if not isinstance(module, torch.nn.Linear):
            continue
        if name == "lm_head":
            out["token_embd.weight" if tied else "output.weight"] = module
            continue
        gguf_name = gguf_tensor_name(arch, f"{name}.weight")
        if gguf_name is not None:
            out[gguf_name] = module
    return out


def collect(model: Any, arch: str, sequences: Iterable[Sequence[int]],
            progress: Any = None) -> dict[str, Accumulator]:
    """Runs ``model`` on each token sequence and accumulates every linear layer's squared
    inputs per column (float64 sums)."""
    import torch

    layers = linear_layers(model, arch)
    acc = {name: Accumulator(np.zeros(m.in_features, dtype=np.float64))
           for name, m in layers.items()}

    def hook_for(name: str) -> Any:
        def hook(module: Any, inputs: tuple[Any, ...], output: Any) -> None:
            x = inputs[0].detach().reshape(-1, module.in_features).double()
            a = acc[name]
            a.sum2 += (x * x).sum(dim=0).cpu().numpy()
            a.count += x.shape[0]
        return hook

    handles = [m.register_forward_hook(hook_for(name)) for name, m in layers.items()]
    try:
        with torch.no_grad():
            for ids in sequences:
                model(input_ids=torch.tensor([list(ids)], dtype=torch.long))
                if progress is not None:
                    progress(len(ids))
    finally:
        for h in handles:
            h.remove()
    return acc


def write_imatrix(path: str | Path, acc: dict[str, Accumulator], *, datasets: Sequence[str],
                  n_sequences: int) -> Path:
    """Writes ``acc`` as a GGUF file: ``<tensor>.in_sum2`` (F32, one value per input column)
    and ``<tensor>.counts`` (F32, one value), with the calibration data's description.

    Raises:
        ConvertError: a layer saw no input.
    """
    import gguf

    empty = sorted(name for name, a in acc.items() if a.count == 0)
    if empty:
        raise ConvertError(f"no calibration input reached {', '.join(empty[:3])}")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(out), arch="")
    writer.add_string("general.type", IMATRIX_TYPE)
    writer.add_array("imatrix.datasets", list(datasets))
    writer.add_uint32("imatrix.chunk_count", n_sequences)
    writer.add_uint32("imatrix.chunk_size", 1)
    for name in sorted(acc):
        a = acc[name]
        writer.add_tensor(f"{name}.in_sum2", a.sum2.astype(np.float32))
        writer.add_tensor(f"{name}.counts", np.array([float(a.count)], dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


def calibration_sequences(model_path: Path, data: Path, rows: int, max_len: int, seed: int,
                          tokenizer: Path | None = None) -> list[list[int]]:
    """Token ids of ``rows`` EdgeJSON training rows (prompt + compact JSON + EOS), chosen with
    ``seed``; rows longer than ``max_len`` tokens are skipped.

    Raises:
        ConvertError: no tokenizer GGUF, no schemas, or no row fits ``max_len``.
    """
    from train.config import TrainConfig
    from train.data import GGUFTokenizer, edgejson_examples
    from train.rows import train_rows

    tok_path = tokenizer or (model_path if is_gguf(model_path)
                             else default_vocab_from(model_path))
    if tok_path is None or not is_gguf(tok_path):
        raise ConvertError(f"{model_path}: give --tokenizer, a GGUF with the model's vocabulary")
    schema_dir = data / "schemas"
    schemas = {p.stem: json.loads(p.read_text(encoding="utf-8"))
               for p in sorted(schema_dir.glob("*.json"))}
    if not schemas:
        raise ConvertError(f"{schema_dir}: no schemas (set --data to the EdgeJSON directory)")
    defaults = TrainConfig()
    pool = train_rows(data, defaults.val_fraction, defaults.split_seed)
    random.Random(seed).shuffle(pool)
    examples = edgejson_examples(pool, schemas, GGUFTokenizer(tok_path))
    chosen = [list(e.input_ids) for e in examples if len(e.input_ids) <= max_len][:rows]
    if not chosen:
        raise ConvertError(f"no EdgeJSON training row fits --max-len {max_len}")
    return chosen


def build(model_path: str | Path, out: str | Path, *, data: str | Path, rows: int = 96,
          max_len: int = 1536, seed: int = 0, threads: int | None = None,
          tokenizer: str | Path | None = None) -> Path:
    """Computes the importance matrix of ``model_path`` and writes it to ``out``.

    Raises:
        ConvertError: see :func:`model_architecture`, :func:`calibration_sequences` and
            :func:`write_imatrix`.
    """
    import torch
    from tqdm import tqdm

    if rows < 1:
        raise ConvertError("--rows must be at least 1")
    model_path = Path(model_path)
    arch = model_architecture(model_path)
    sequences = calibration_sequences(model_path, Path(data), rows, max_len, seed,
                                      Path(tokenizer) if tokenizer else None)
    if threads:
        torch.set_num_threads(threads)
    model = load_base_model(model_path, "float32")
    total = sum(len(s) for s in sequences)
    with tqdm(total=total, unit="tok", desc="imatrix") as bar:
        acc = collect(model, arch, sequences, progress=bar.update)
    name = f"EdgeJSON train split, {len(sequences)} rows, seed {seed}"
    path = write_imatrix(out, acc, datasets=[name], n_sequences=len(sequences))
    logger.info("wrote %s: %d tensors, %d tokens", path, len(acc), total)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convert.imatrix", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="GGUF file or checkpoint directory (the merged model)")
    parser.add_argument("out", help="importance matrix GGUF file to write")
    parser.add_argument("--data", default="../shared/edgejson",
                        help="EdgeJSON directory (train.jsonl and schemas/)")
    parser.add_argument("--rows", type=int, default=96, help="calibration rows")
    parser.add_argument("--max-len", type=int, default=1536,
                        help="skip rows longer than this many tokens")
    parser.add_argument("--seed", type=int, default=0, help="which rows")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--tokenizer", default=None,
                        help="GGUF with the vocabulary (default: the model, or the base a merged "
                             "checkpoint records)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return run_step(lambda: build(args.model, args.out, data=args.data, rows=args.rows,
                                  max_len=args.max_len, seed=args.seed, threads=args.threads,
                                  tokenizer=args.tokenizer))


if __name__ == "__main__":
    sys.exit(main())
