"""Quantize a GGUF model with llama.cpp's own quantizer (through llama-cpp-python).

Usage:
    python -m convert.quantize IN.gguf OUT.gguf --type q4_k_m [--threads 2] [--imatrix FILE]

Types: q8_0, q4_0, q4_k_m (and f16 / f32 for completeness). Tensors whose row length does not fit
a type's block size are written in a fallback type chosen by llama.cpp, as its own tool does.
``--imatrix`` takes an importance matrix from ``convert.imatrix``: the quantizer then weighs each
input column's rounding error by how strongly calibration data drives it (Q8_0 ignores it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from maaza_rt.errors import ModelError
from maaza_rt.quantize import QUANT_TYPES, quantize_gguf

from .common import ConvertError, gguf_architecture, run_step

# The types this command offers (llama_ftype values from maaza_rt.quantize).
TYPES: dict[str, int] = {k: QUANT_TYPES[k] for k in ("f32", "f16", "q4_0", "q8_0", "q4_k_m")}


def quantize(src: str | Path, dst: str | Path, qtype: str, *, threads: int = 2,
             quiet: bool = True, imatrix: str | Path | None = None) -> Path:
    """Write ``src`` quantized to ``qtype`` at ``dst`` and return ``dst``; with ``imatrix``
    (a file from :mod:`convert.imatrix`) the quantizer weighs rounding errors by it.

    Raises:
        ConvertError: unknown type, unreadable input or importance matrix, or llama.cpp reports
            a failure.
    """
    key = qtype.lower()
    if key not in TYPES:
        raise ConvertError(f"unknown quantization type {qtype!r}; choose one of "
                           f"{', '.join(TYPES)}")
    src_path, dst_path = Path(src), Path(dst)
    gguf_architecture(src_path)  # fails clearly on a missing or non-GGUF input
    dst_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return quantize_gguf(src_path, dst_path, key, threads=threads, imatrix=imatrix,
                             quiet=quiet)
    except ModelError as e:
        raise ConvertError(str(e)) from e


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convert.quantize", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src", help="GGUF model (F32 or F16)")
    parser.add_argument("dst", help="GGUF file to write")
    parser.add_argument("--type", required=True, choices=sorted(TYPES), dest="qtype")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--imatrix", default=None,
                        help="importance matrix from python -m convert.imatrix")
    parser.add_argument("--verbose", action="store_true", help="show llama.cpp's log")
    args = parser.parse_args(argv)
    return run_step(lambda: quantize(args.src, args.dst, args.qtype, threads=args.threads,
                                     quiet=not args.verbose, imatrix=args.imatrix))


if __name__ == "__main__":
    sys.exit(main())
