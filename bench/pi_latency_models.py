"""The edge latency sweep's model files: which GGUF files to measure and their quantization.

:func:`discover_models` turns the sweep's ``--models`` (registry names or paths) and
``--gguf-dir`` directories into :class:`ModelFile` entries; :func:`quant_of` reads a file's
quantization from its name, else from its GGUF header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bench.harness import resolve
from bench.pi_latency_config import SweepConfig

QUANT_NAMES = ("F32", "F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q5_0", "Q5_1",
               "Q4_K_M", "Q4_K_S", "Q4_0", "Q4_1", "Q3_K_M", "Q3_K_S", "Q2_K")
# llama.cpp's LLAMA_FTYPE values, for files whose name does not say the quantization.
_FTYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
           10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
           17: "Q5_K_M", 18: "Q6_K", 32: "BF16"}


# ---- models and quantizations -----------------------------------------------------------------


@dataclass(frozen=True)
class ModelFile:
    """One GGUF file to sweep: ``model`` is what the engines are given (a name or a path)."""

    label: str
    model: str
    path: str
    quant: str
    size_bytes: int


def quant_from_name(name: str) -> str | None:
    """The quantization named in a GGUF file name (``...Q4_K_M.gguf`` -> ``Q4_K_M``), or None."""
    stem = Path(name).name.upper()
    for quant in sorted(QUANT_NAMES, key=len, reverse=True):
        if re.search(rf"(?<![A-Z0-9]){re.escape(quant)}(?![A-Z0-9])", stem):
            return quant
    return None


def quant_of(path: Path) -> str:
    """The quantization of a GGUF file: from its name, else its ``general.file_type``."""
    named = quant_from_name(path.name)
    if named is not None:
        return named
    try:
        import gguf

        reader = gguf.GGUFReader(str(path))
        f = reader.fields.get("general.file_type")
        if f is not None:
            return _FTYPES.get(int(f.parts[f.data[0]][0]), "unknown")
    except Exception:  # an unreadable header only loses the label
        pass
    return "unknown"


def discover_models(config: SweepConfig) -> tuple[list[ModelFile], list[str]]:
    """The model files to sweep, and a note for every model that could not be found."""
    from maaza_rt.errors import ModelError

    found: list[ModelFile] = []
    notes: list[str] = []
    seen: set[str] = set()

    def add(label: str, model: str, path: Path) -> None:
        key = str(path.resolve())
        if key in seen:
            return
        seen.add(key)
        found.append(ModelFile(label, model, str(path), quant_of(path), path.stat().st_size))

    for model in config.models:
        try:
            resolved = resolve(model)
        except ModelError as e:
            notes.append(f"{model}: skipped ({e})")
            continue
        add(resolved.name, model if resolved.spec is not None else str(resolved.path),
            resolved.path)
    wanted = {q.upper() for q in config.quants}
    for directory in config.gguf_dirs:
        d = Path(directory).expanduser()
        if not d.is_dir():
            notes.append(f"{directory}: not a directory")
            continue
        for path in sorted(d.glob("*.gguf")):
            if not wanted or quant_of(path) in wanted:
                add(path.stem, str(path), path)
    return found, notes
