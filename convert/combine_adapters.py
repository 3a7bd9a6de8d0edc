"""Combine GGUF LoRA adapters trained in stages into one adapter for the original base.

Usage:
    python -m convert.combine_adapters FIRST.gguf [NEXT.gguf ...] OUT.gguf \\
        [--rank R] [--outtype f32|f16|q8_0]

A model can be fine-tuned in stages: train an adapter on the base, merge it into the base in F16
(``maaza_rt.adapter_merge.merge_adapter(..., qtype="f16")``), train the next adapter on that
merged model, and so on. A merge adds ``alpha / r * B @ A`` to each adapted weight, so all the
stages together add the sum of their updates. This command writes that sum as one adapter for the
first stage's base, which the runtime then applies or merges like any other:

- the stages' factors are stacked (``[s1*B1 | s2*B2 ...]`` and ``[A1; A2 ...]``, exact, of rank
  ``r1 + r2 + ...``) and refactored through a singular value decomposition into
  ``B' = U sqrt(S)`` and ``A' = sqrt(S) V^T``: both factors get balanced scales, which matters
  when they are stored in 8 bits;
- ``--rank R`` keeps the R largest singular values of each weight's update (default: the sum of
  the ranks, exact up to float rounding). Each weight's relative error (Frobenius norm of the
  dropped part over the whole update) is measured, and the largest is printed;
- ``alpha`` is written equal to the rank, so llama.cpp's scale ``alpha / r`` is 1;
- ``--outtype q8_0`` stores both factors in llama.cpp's Q8_0 (about half of F16). Its blocks are
  32 values along a row, so the rank must be a multiple of 32.

The stages must come in training order and adapt weights of the same shapes; any weight adapted
by only some stages is fine.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from maaza_rt.adapter_merge import read_adapter
from maaza_rt.errors import ModelError

from .common import ConvertError, run_step

COMBINE_TYPES = ("f32", "f16", "q8_0")
Q8_0_BLOCK = 32


@dataclass(frozen=True)
class CombineResult:
    """What :func:`combine_adapters` wrote: the file, its rank and the largest relative error
    of a weight's update that the rank truncation dropped (0 when nothing was dropped)."""

    path: Path
    rank: int
    max_relative_error: float

    def __str__(self) -> str:
        return (f"{self.path} (rank {self.rank}, largest relative truncation error "
                f"{self.max_relative_error:.2e})")


def _refactor(bs: list[np.ndarray], as_: list[np.ndarray],
              rank: int) -> tuple[np.ndarray, np.ndarray, float]:
    """``(B', A', relative error)`` with ``B' @ A'`` the best rank-``rank`` approximation of
    ``sum(b @ a)`` (padded with zero columns/rows when the sum has a lower rank)."""
    b = np.concatenate(bs, axis=1).astype(np.float64)   # out x R
    a = np.concatenate(as_, axis=0).astype(np.float64)  # R x in
    qb, rb = np.linalg.qr(b)          # out x R, R x R
    qa, ra = np.linalg.qr(a.T)        # in x R,  R x R
    u, s, vt = np.linalg.svd(rb @ ra.T)
    total = float(np.sqrt(np.sum(s * s)))
    dropped = float(np.sqrt(np.sum(s[rank:] ** 2)))
    keep = min(rank, s.shape[0])
    root = np.sqrt(s[:keep])
    new_b = np.zeros((b.shape[0], rank))
    new_a = np.zeros((rank, a.shape[1]))
    new_b[:, :keep] = (qb @ u[:, :keep]) * root
    new_a[:keep] = root[:, None] * (vt[:keep] @ qa.T)
    return new_b, new_a, dropped / total if total > 0 else 0.0


def _add_tensor(writer, name: str, data: np.ndarray, outtype: str) -> None:  # noqa: ANN001
    import gguf

    if outtype == "q8_0":
        q8 = gguf.GGMLQuantizationType.Q8_0
        writer.add_tensor(name, gguf.quants.quantize(data.astype(np.float32), q8), raw_dtype=q8)
    else:
        writer.add_tensor(name, np.ascontiguousarray(
            data, dtype=np.float16 if outtype == "f16" else np.float32))


def combine_adapters(stages: list[str | Path], out: str | Path, *, rank: int | None = None,
                     outtype: str = "f16") -> CombineResult:
    """Write the adapters ``stages`` (in training order) as one adapter at ``out``.

    Raises:
        ConvertError: no stage, an unsupported ``outtype``, a rank that is not positive (or, for
            Q8_0, not a multiple of 32), a file that is not a GGUF LoRA adapter, or stages that
            disagree on architecture or on a weight's shape.
    """
    import gguf

    if not stages:
        raise ConvertError("combine_adapters needs at least one adapter")
    if outtype not in COMBINE_TYPES:
        raise ConvertError(f"unsupported adapter type {outtype!r} (choose from "
                           f"{', '.join(COMBINE_TYPES)})")
    arch = None
    updates: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    total_rank = 0
    for stage in stages:
        try:
            adapter = read_adapter(Path(stage))
        except ModelError as e:
            raise ConvertError(str(e)) from e
        if arch is not None and adapter.architecture != arch:
            raise ConvertError(f"{stage}: architecture {adapter.architecture!r} differs from "
                               f"the first adapter's {arch!r}")
        arch = adapter.architecture
        stage_rank = 0
        for name, (a, b) in adapter.pairs.items():
            scale = adapter.alpha / a.shape[0] if adapter.alpha else 1.0
            bs, as_ = updates.setdefault(name, ([], []))
            if bs and (bs[0].shape[0], as_[0].shape[1]) != (b.shape[0], a.shape[1]):
                raise ConvertError(f"{stage}: {name} updates a {(b.shape[0], a.shape[1])} "
                                   f"weight, an earlier adapter a "
                                   f"{(bs[0].shape[0], as_[0].shape[1])} one")
            bs.append(scale * b)
            as_.append(a)
            stage_rank = max(stage_rank, a.shape[0])
        total_rank += stage_rank
    rank = total_rank if rank is None else rank
    if rank <= 0:
        raise ConvertError(f"--rank must be positive, not {rank}")
    if outtype == "q8_0" and rank % Q8_0_BLOCK:
        raise ConvertError(f"Q8_0 stores blocks of {Q8_0_BLOCK} values, so the rank must be a "
                           f"multiple of {Q8_0_BLOCK}, not {rank}")

    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp")
    writer = gguf.GGUFWriter(str(tmp), str(arch))
    writer.add_type("adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(rank))
    worst = 0.0
    for name in sorted(updates):
        new_b, new_a, err = _refactor(*updates[name], rank)
        worst = max(worst, err)
        _add_tensor(writer, f"{name}.lora_a", new_a, outtype)
        _add_tensor(writer, f"{name}.lora_b", new_b, outtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(out_path)
    return CombineResult(out_path, rank, worst)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convert.combine_adapters",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("adapters", nargs="+", metavar="ADAPTER",
                        help="GGUF LoRA adapters in training order, then the output file")
    parser.add_argument("--rank", type=int, help="rank of the combined adapter "
                        "(default: the sum of the adapters' ranks, exact)")
    parser.add_argument("--outtype", choices=COMBINE_TYPES, default="f16",
                        help="tensor type of the combined adapter (default: f16)")
    args = parser.parse_args(argv)
    if len(args.adapters) < 2:
        parser.error("give at least one adapter and the output file")
    *stages, out = args.adapters
    return run_step(lambda: combine_adapters(stages, out, rank=args.rank,
                                             outtype=args.outtype))


if __name__ == "__main__":
    sys.exit(main())
