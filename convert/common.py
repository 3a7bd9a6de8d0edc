"""Shared pieces of the conversion steps: the error type, base-model loading and llama.cpp access.

A *base* is either a GGUF file or a Hugging Face checkpoint directory; finding, checking and
loading one is training's concern as much as conversion's, so it lives in ``train.base_model``
(conversion depends on training, never the reverse) and is imported here for the steps. What
only conversion needs is defined here: :func:`run_step` for a command's ``main`` and
:func:`llama_logits` for comparing a converted model with its source.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from train.base_model import (
    ARCHITECTURES,
    GGUF_ARCHITECTURES,
    ConvertError,
    checkpoint_architecture,
    gguf_architecture,
    is_gguf,
    load_base_model,
    open_llama,
    read_checkpoint_config,
    smollm2_gguf,
)

__all__ = [
    "ARCHITECTURES",
    "GGUF_ARCHITECTURES",
    "ConvertError",
    "checkpoint_architecture",
    "gguf_architecture",
    "is_gguf",
    "llama_logits",
    "load_base_model",
    "open_llama",
    "read_checkpoint_config",
    "run_step",
    "smollm2_gguf",
]


def run_step(step: Callable[[], object]) -> int:
    """Runs one conversion step for a command's ``main``: prints what it returns (the written
    path) and returns 0, or prints one ``error:`` line to stderr and returns 2 on ConvertError."""
    try:
        result = step()
    except ConvertError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(result)
    return 0


def llama_logits(llm: Any, ids: list[int]) -> np.ndarray:
    """llama.cpp logits (float32, one row per input position) for a fresh sequence ``ids``."""
    llm.reset()
    llm.eval(ids)
    return np.array(llm.scores[: len(ids)], dtype=np.float32)
