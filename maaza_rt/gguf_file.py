"""GGUF files: the check every model path passes before llama.cpp or the adapter merger reads it.

llama.cpp crashes in native code on a file that is not GGUF; checking the magic first turns a
wrong path into a :class:`~maaza_rt.errors.ModelError` that names it. Model resolution
(:mod:`maaza_rt.models`), the adapter merger (:mod:`maaza_rt.adapter_merge`) and model loading
all check here, so none of them depends on another for it.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ModelError

GGUF_MAGIC = b"GGUF"


def check_gguf(path: Path) -> Path:
    """Checks that ``path`` is a readable file that starts with the GGUF magic.

    Raises:
        ModelError: the file is missing, unreadable, or not a GGUF file.
    """
    if not path.exists():
        raise ModelError(f"model file not found: {path}", path=str(path))
    if not path.is_file():
        raise ModelError(f"model path is not a file: {path}", path=str(path))
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise ModelError(f"cannot read model file {path}: {e.strerror}", path=str(path)) from e
    if magic != GGUF_MAGIC:
        raise ModelError(f"not a GGUF model file (bad magic {magic!r}): {path}", path=str(path))
    return path


__all__ = ["GGUF_MAGIC", "check_gguf"]
