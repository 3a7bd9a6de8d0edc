"""llama.cpp's quantizer (through llama-cpp-python), optionally weighted by an importance matrix.

An importance matrix file (written by ``python -m convert.imatrix``) is a GGUF file of
``general.type`` ``imatrix`` with, per linear-layer tensor of the model, ``<tensor>.in_sum2``
(the sum over calibration tokens of each input column's squared value) and ``<tensor>.counts``
(the number of tokens). The quantizer weighs each column's rounding error by their ratio, the
mean squared input, so the columns that carry most of the signal are rounded most closely. Q8_0
ignores it; the 4- and 5-bit types use it.
"""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelError

# name -> llama_ftype (llama.h)
QUANT_TYPES: dict[str, int] = {"f32": 0, "f16": 1, "bf16": 32, "q8_0": 7, "q4_0": 2,
                               "q4_k_m": 15}
IMATRIX_TYPE = "imatrix"  # general.type of an importance matrix file


def read_imatrix(path: str | Path) -> dict[str, np.ndarray]:
    """Tensor name -> mean squared input per column, from an importance matrix file.

    Raises:
        ModelError: the file is missing, not an importance matrix, or inconsistent.
    """
    import gguf

    p = Path(path)
    if not p.is_file():
        raise ModelError(f"{p}: no such importance matrix file", path=str(p))
    try:
        reader = gguf.GGUFReader(str(p))
    except Exception as e:  # gguf raises ValueError/struct.error on other files
        raise ModelError(f"{p}: not a GGUF file ({e})", path=str(p)) from e
    field = reader.get_field("general.type")
    kind = field.contents() if field is not None else None
    if kind != IMATRIX_TYPE:
        raise ModelError(f"{p}: general.type is {kind!r}, not an importance matrix", path=str(p))
    tensors = {t.name: np.asarray(t.data, dtype=np.float32).reshape(-1) for t in reader.tensors}
    out: dict[str, np.ndarray] = {}
    for key, sum2 in tensors.items():
        if not key.endswith(".in_sum2"):
            continue
        name = key[: -len(".in_sum2")]
        counts = tensors.get(f"{name}.counts")
        if counts is None or counts.size != 1 or not counts[0] > 0:
            raise ModelError(f"{p}: {name} has no positive {name}.counts", path=str(p))
        mean = sum2 / counts[0]
        if not np.all(np.isfinite(mean)):
            raise ModelError(f"{p}: {name} holds values that are not finite", path=str(p))
        out[name] = mean.astype(np.float32)
    if not out:
        raise ModelError(f"{p}: no <tensor>.in_sum2 entries", path=str(p))
    return out


class ImatrixEntries:
    """The ``llama_model_imatrix_data`` array llama.cpp's quantizer reads (ending in a NULL
    name); it owns the memory the entries point into, so it must outlive the call."""

    def __init__(self, values: dict[str, np.ndarray]) -> None:
        import llama_cpp

        self._names = [name.encode() for name in sorted(values)]
        self._arrays = [np.ascontiguousarray(values[name], dtype=np.float32)
                        for name in sorted(values)]
        self.array = (llama_cpp.llama_model_imatrix_data * (len(self._names) + 1))()
        for i, (name, data) in enumerate(zip(self._names, self._arrays)):
            self.array[i].name = name
            self.array[i].data = data.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            self.array[i].size = data.size
        self.array[len(self._names)].name = None

    def pointer(self) -> Any:
        import llama_cpp

        return ctypes.cast(self.array, ctypes.POINTER(llama_cpp.llama_model_imatrix_data))


def quantize_gguf(src: str | Path, dst: str | Path, qtype: str, *, threads: int,
                  imatrix: str | Path | None = None, allow_requantize: bool = False,
                  quiet: bool = True) -> Path:
    """Writes the GGUF model ``src`` quantized to ``qtype`` (a key of :data:`QUANT_TYPES`) at
    ``dst`` with llama.cpp's quantizer, weighted by the importance matrix file ``imatrix`` when
    given. Returns ``dst``.

    With ``allow_requantize`` tensors that are quantized already are quantized again (else
    llama.cpp refuses such an input: requantizing loses precision twice).

    Raises:
        ModelError: an unknown type, an unreadable importance matrix, or llama.cpp fails (an
            unreadable input, an importance matrix of other shapes).
    """
    import llama_cpp
    from llama_cpp._utils import suppress_stdout_stderr

    if qtype not in QUANT_TYPES:
        raise ModelError(f"unknown quantization type {qtype!r}; choose one of "
                         f"{', '.join(QUANT_TYPES)}", path=str(dst))
    src_path, dst_path = Path(src), Path(dst)
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = QUANT_TYPES[qtype]
    params.nthread = threads
    params.allow_requantize = allow_requantize
    entries = ImatrixEntries(read_imatrix(imatrix)) if imatrix is not None else None
    if entries is not None:
        params.imatrix = entries.pointer()
    with suppress_stdout_stderr(disable=not quiet):
        status = llama_cpp.llama_model_quantize(str(src_path).encode(), str(dst_path).encode(),
                                                ctypes.byref(params))
    del entries  # llama.cpp has copied what it needs
    if status != 0:
        raise ModelError(f"llama.cpp failed to quantize {src_path} to {qtype} (status "
                         f"{status})", path=str(src_path))
    return dst_path


__all__ = ["IMATRIX_TYPE", "QUANT_TYPES", "ImatrixEntries", "quantize_gguf", "read_imatrix"]
