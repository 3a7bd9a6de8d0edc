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
import ctypes
import sys
from pathlib import Path

from .common import ConvertError, gguf_architecture, run_step

# Name -> llama_ftype value (llama.h).
TYPES: dict[str, int] = {
    "f32": 0,
    "f16": 1,
    "q4_0": 2,
    "q8_0": 7,
    "q4_k_m": 15,
}


def quantize(src: str | Path, dst: str | Path, qtype: str, *, threads: int = 2,
             quiet: bool = True, imatrix: str | Path | None = None) -> Path:
    """Write ``src`` quantized to ``qtype`` at ``dst`` and return ``dst``; with ``imatrix``
    (a file from :mod:`convert.imatrix`) the quantizer weighs rounding errors by it.

    Raises:
        ConvertError: unknown type, unreadable input or importance matrix, or llama.cpp reports
            a failure.
    """
    import llama_cpp
    from llama_cpp._utils import suppress_stdout_stderr

    key = qtype.lower()
    if key not in TYPES:
        raise ConvertError(f"unknown quantization type {qtype!r}; choose one of "
                           f"{', '.join(TYPES)}")
    src_path, dst_path = Path(src), Path(dst)
    gguf_architecture(src_path)  # fails clearly on a missing or non-GGUF input
    dst_path.parent.mkdir(parents=True, exist_ok=True)
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = TYPES[key]
    params.nthread = threads
    entries = None
    if imatrix is not None:
        from .imatrix import ImatrixEntries, read_imatrix

        entries = ImatrixEntries(read_imatrix(imatrix))
        params.imatrix = entries.pointer()
    with suppress_stdout_stderr(disable=not quiet):
        rc = llama_cpp.llama_model_quantize(str(src_path).encode(), str(dst_path).encode(),
                                            ctypes.byref(params))
    del entries  # llama.cpp has copied what it needs
    if rc != 0:
        raise ConvertError(f"llama.cpp failed to quantize {src_path} to {key} (code {rc})")
    return dst_path


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
