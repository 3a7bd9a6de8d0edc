"""maaza_rt.quantize: importance matrix files and the entries handed to llama.cpp's quantizer.

Quantizing real models with them is in test_pipeline.py (a tiny model) and test_models.py.
"""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np
import pytest

from maaza_rt.errors import ModelError
from maaza_rt.models import MODELS, resolve_model
from maaza_rt.quantize import ImatrixEntries, quantize_gguf, read_imatrix


def _write(path: Path, tensors: dict[str, np.ndarray], kind: str = "imatrix") -> Path:
    writer = gguf.GGUFWriter(str(path), arch="")
    writer.add_string("general.type", kind)
    for name, data in tensors.items():
        writer.add_tensor(name, np.asarray(data, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_read_imatrix_gives_mean_squares_per_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "m.gguf", {
        "blk.0.attn_q.weight.in_sum2": [4.0, 8.0, 0.0], "blk.0.attn_q.weight.counts": [4.0],
        "blk.0.ffn_down.weight.in_sum2": [1.0, 3.0], "blk.0.ffn_down.weight.counts": [2.0]})
    values = read_imatrix(path)
    assert set(values) == {"blk.0.attn_q.weight", "blk.0.ffn_down.weight"}
    np.testing.assert_allclose(values["blk.0.attn_q.weight"], [1.0, 2.0, 0.0])
    np.testing.assert_allclose(values["blk.0.ffn_down.weight"], [0.5, 1.5])
    assert values["blk.0.attn_q.weight"].dtype == np.float32


def test_imatrix_entries_end_in_a_null_name() -> None:
    entries = ImatrixEntries({"b": np.array([1.0, 2.0]), "a": np.array([3.0, 4.0, 5.0])})
    assert [entries.array[i].name for i in range(3)] == [b"a", b"b", None]
    assert [entries.array[i].size for i in range(2)] == [3, 2]
    assert entries.array[0].data[2] == 5.0 and entries.array[1].data[1] == 2.0
    assert entries.pointer()[1].name == b"b"


@pytest.mark.parametrize("tensors,kind,message", [
    ({"t.in_sum2": [1.0]}, "model", "general.type is 'model', not an importance matrix"),
    ({"t.in_sum2": [1.0]}, "imatrix", "t has no positive t.counts"),
    ({"t.in_sum2": [1.0], "t.counts": [0.0]}, "imatrix", "t has no positive t.counts"),
    ({"t.in_sum2": [np.inf], "t.counts": [1.0]}, "imatrix", "not finite"),
    ({"t.counts": [1.0]}, "imatrix", "no <tensor>.in_sum2 entries"),
])
def test_read_imatrix_rejects_bad_files(tmp_path: Path, tensors: dict, kind: str,
                                        message: str) -> None:
    with pytest.raises(ModelError, match=message):
        read_imatrix(_write(tmp_path / "bad.gguf", tensors, kind))


def test_read_imatrix_rejects_missing_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such importance matrix file"):
        read_imatrix(tmp_path / "missing.gguf")
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"nope")
    with pytest.raises(ModelError, match="not a GGUF file"):
        read_imatrix(junk)


@pytest.mark.model
def test_quantize_gguf_checks_type_and_requantizing(tmp_path: Path) -> None:
    base = resolve_model(MODELS["smollm2-135m-instruct"].name).path  # Q4_1 tensors
    with pytest.raises(ModelError, match="unknown quantization type 'q3_x'"):
        quantize_gguf(base, tmp_path / "o.gguf", "q3_x", threads=1)
    with pytest.raises(ModelError, match="failed to quantize"):
        quantize_gguf(base, tmp_path / "o.gguf", "q8_0", threads=1)  # requantizing: refused
    out = quantize_gguf(base, tmp_path / "o.gguf", "q8_0", threads=1, allow_requantize=True)
    assert gguf.GGUFReader(str(out)).fields["general.file_type"].contents() == 7
