"""bench.edgejson, the EdgeJSON benchmark: row selection, reports, failure handling, and an
end-to-end run on the real SmolLM2 model."""

from __future__ import annotations

import contextlib
import json
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import EDGEJSON

from bench import edgejson as bench_edgejson
from bench import engines
from maaza_rt import edgejson


def _short_rows(tmp_path: Path, n: int) -> Path:
    """A data file with the n rows of shortest expected output (distinct schemas)."""
    rows = edgejson.load_rows(EDGEJSON / "train.jsonl")
    rows.sort(key=lambda r: len(json.dumps(r["expected_output"])))
    picked: list[dict] = []
    for r in rows:
        if r["schema_id"] not in {p["schema_id"] for p in picked}:
            picked.append(r)
        if len(picked) == n:
            break
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in picked))
    return path


def test_bench_edgejson_select_rows_split_and_limit() -> None:
    cfg = bench_edgejson.Config(split="val", limit=5)
    rows, schemas = bench_edgejson.select_rows(cfg)
    _, val = edgejson.validation_split(edgejson.load_rows(cfg.data))
    assert [r["id"] for r in rows] == [r["id"] for r in val[:5]]
    assert {r["schema_id"] for r in rows} <= set(schemas)
    cfg_all = bench_edgejson.Config(split="all")
    assert len(bench_edgejson.select_rows(cfg_all)[0]) == 629


def test_bench_edgejson_select_rows_missing_schema(tmp_path: Path) -> None:
    row = {"id": "x", "schema_id": "no_such_schema", "prompt": "p", "expected_output": {}}
    data = tmp_path / "rows.jsonl"
    data.write_text(json.dumps(row) + "\n")
    with pytest.raises(ValueError, match="no_such_schema"):
        bench_edgejson.select_rows(bench_edgejson.Config(data=str(data), split="all"))


def test_bench_edgejson_smoke_preset() -> None:
    cfg, _ = bench_edgejson.parse_args(["--smoke", "--engine", "free"])
    assert cfg.limit == 3 and cfg.max_tokens == 64 and cfg.engines == ["free"]


def test_bench_edgejson_engine_that_cannot_start_is_reported(tmp_path: Path) -> None:
    data = _short_rows(tmp_path, 1)
    out = tmp_path / "out"
    code = bench_edgejson.main(["--engine", "hf", "--hf-model", str(tmp_path / "missing-model"),
                         "--data", str(data), "--split", "all", "--out", str(out)])
    assert code == 1
    report = json.loads((out / "report.json").read_text())
    assert "error" in report["engines"]["hf"]
    assert "failed to start" in (out / "report.md").read_text()


def test_bench_edgejson_runs_through_the_engine_worker(tmp_path: Path) -> None:
    """The benchmark on bench/engines.py's worker with the model-free fake engines: scores,
    per-example fields, a crash, a timeout and an exception each counted as one failed example."""
    real = [json.loads(line) for line in _short_rows(tmp_path, 2).read_text().splitlines()]
    bad = [dict(real[0], id=f"bad-{word}", prompt=word) for word in ("CRASH", "SLEEP", "RAISE")]
    data = tmp_path / "mixed.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in real + bad))
    out = tmp_path / "out"
    code = bench_edgejson.main(["--engine", "maaza", "--engine", "free", "--data", str(data),
                         "--split", "all", "--timeout", "2", "--threads", "1",
                         "--factory", "tests.fake_engine:make_engine", "--out", str(out)])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    for name, total_ms in (("maaza", 100.0), ("free", 200.0)):
        r = report["engines"][name]
        assert r["n"] == 5 and r["n_errors"] == 3
        assert r["errors"] == {"crash": 1, "timeout": 1, "ValueError": 1}
        assert r["n_restarts"] == 2 and len(r["model_load_ms"]) == 3
        assert r["overall"]["json_exact"] == pytest.approx(2 / 5)
        assert r["extract_json"] is (name == "free")
        first, crash, sleep, raised = (r["examples"][i] for i in (0, 2, 3, 4))
        assert first["ms"] == total_ms and first["n_prompt"] == 100 and first["n_out"] == 50
        assert first["text"] == json.dumps(real[0]["expected_output"])
        assert first["error"] is None and first["scores"]["json_exact"] == 1.0
        assert crash["error"] == "crash: signal 11" and crash["text"] == ""
        assert sleep["error"] == "timeout" and sleep["ms"] >= 2000
        assert raised["error"] == "ValueError: fake failure"
        assert all(e["scores"]["json_exact"] == 0.0 for e in (crash, sleep, raised))
        assert f"fake engine {name} loaded" in (out / f"worker_{name}.log").read_text()
    assert (out / "report.md").stat().st_size > 0


def test_bench_edgejson_parse_failures_are_not_engine_errors() -> None:
    error = bench_edgejson.example_error
    assert error(engines.EngineResult("free", error="ParseError: x")) is None
    assert error(engines.EngineResult("free")) is None
    assert error(engines.EngineResult("maaza", error="timeout")) == "timeout"


class _CharTokenizer:
    """A character-level stand-in for a transformers tokenizer (id 0 is end-of-sequence)."""

    bos_token, eos_token, eos_token_id, chat_template = None, "</s>", 0, None

    def __init__(self) -> None:
        self.add_special_tokens: list[bool] = []

    def __call__(self, text: str, return_tensors: str, add_special_tokens: bool) -> dict:
        self.add_special_tokens.append(add_special_tokens)
        return {"input_ids": np.array([[ord(c) for c in text]])}

    def decode(self, ids: Any, skip_special_tokens: bool) -> str:
        return "".join(chr(int(i)) for i in ids if not (skip_special_tokens and int(i) == 0))


class _ScriptedModel:
    """Answers every prompt with ``reply`` then end-of-sequence, cut at ``max_new_tokens``."""

    def __init__(self, reply: str) -> None:
        self.reply = reply

    def eval(self) -> None:
        pass

    def generate(self, input_ids: Any, max_new_tokens: int, do_sample: bool,
                 pad_token_id: int) -> Any:
        assert do_sample is False and pad_token_id == 0
        new = ([ord(c) for c in self.reply] + [0])[:max_new_tokens]
        return np.concatenate([input_ids, np.array([new])], axis=1)


def _fake_hf_modules(monkeypatch: pytest.MonkeyPatch, reply: str) -> _CharTokenizer:
    tokenizer = _CharTokenizer()
    torch = types.ModuleType("torch")
    torch.no_grad = contextlib.nullcontext  # type: ignore[attr-defined]
    torch.set_num_threads = lambda n: None  # type: ignore[attr-defined]
    transformers = types.ModuleType("transformers")
    transformers.AutoTokenizer = types.SimpleNamespace(  # type: ignore[attr-defined]
        from_pretrained=lambda name, **kw: tokenizer)
    transformers.AutoModelForCausalLM = types.SimpleNamespace(  # type: ignore[attr-defined]
        from_pretrained=lambda name, **kw: _ScriptedModel(reply))
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "transformers", transformers)
    return tokenizer


def test_bench_edgejson_hf_engine_reads_generate_output(monkeypatch: pytest.MonkeyPatch) -> None:
    tokenizer = _fake_hf_modules(monkeypatch, 'Sure: {"name": "Ada"} done')
    engine = engines.make_engine("hf", "some/model", 1, 512)
    r = engine.extract("Ada wrote it.", {"type": "object"}, 64)
    assert r.ok and r.value == {"name": "Ada"} and r.text == 'Sure: {"name": "Ada"} done'
    assert r.n_output_tokens == len(r.text)  # end-of-sequence not counted
    assert r.n_prompt_tokens > len("Ada wrote it.") and r.total_ms > 0
    assert tokenizer.add_special_tokens == [True]  # the prompt carries no BOS of its own
    assert not r.extra["hit_max_tokens"]
    cut = engine.extract("Ada wrote it.", {"type": "object"}, 8)
    assert cut.error.startswith("ParseError") and cut.error.endswith("(stopped at max_tokens)")
    assert cut.n_output_tokens == 8 and cut.text == 'Sure: {"'
    with pytest.raises(ValueError, match="Hugging Face model"):
        engines.make_engine("hf", "default", 1, 512)


def test_bench_edgejson_hf_source_reads_gguf_files_and_registry_names(tmp_path: Path) -> None:
    from maaza_rt.models import resolve_model

    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    assert engines.hf_source(str(gguf)) == (str(tmp_path.resolve()), {"gguf_file": "m.gguf"})
    assert engines.hf_source("org/model") == ("org/model", {})
    with pytest.raises(FileNotFoundError, match="no GGUF file"):
        engines.hf_source(str(tmp_path / "missing.gguf"))
    base = resolve_model("smollm2-135m-instruct").path
    assert engines.hf_source("smollm2-135m-instruct") == (str(base.resolve().parent),
                                                           {"gguf_file": base.name})
    with pytest.raises(ValueError, match="runtime adapter"):
        engines.hf_source("maaza-mlm-135m-lora")


def test_bench_edgejson_hf_engine_needs_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    with pytest.raises(RuntimeError, match="needs torch and transformers"):
        engines.make_engine("hf", "some/model", 1, 512)


@pytest.mark.model
@pytest.mark.slow
def test_bench_edgejson_end_to_end_on_smollm2(tmp_path: Path) -> None:
    data = _short_rows(tmp_path, 2)
    out = tmp_path / "out"
    code = bench_edgejson.main(["--engine", "maaza", "--engine", "free", "--data", str(data),
                         "--split", "all", "--limit", "2", "--max-tokens", "48",
                         "--threads", "2", "--out", str(out)])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    for name in ("maaza", "free"):
        r = report["engines"][name]
        assert r["n"] == 2 and len(r["examples"]) == 2
        assert r["latency_ms"]["p50"] > 0 and r["peak_rss_mb"] > 50
        assert r["model_file_mb"] and r["model_file_mb"] > 10
        assert set(r["by_complexity"]) <= set(edgejson.COMPLEXITIES)
        for e in r["examples"]:
            assert all(0.0 <= e["scores"][m] <= 1.0 for m in ("field_f1", "leaf_f1"))
    # The grammar engine's output is valid whenever it finished within max_tokens.
    for e in report["engines"]["maaza"]["examples"]:
        if e["error"] is None:
            assert e["scores"]["parsed"] and e["scores"]["schema_valid"], e
    assert report["engines"]["free"]["extract_json"] is True
    for name in ("report.md", "accuracy_by_complexity.png", "latency.png", "config.json"):
        assert (out / name).stat().st_size > 0


@pytest.mark.model
def test_bench_edgejson_maaza_engines_start_and_extract() -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}},
              "required": ["name"]}
    for name in engines.MAAZA_MODES:
        engine = engines.make_engine(name, "default", 1, 1024)
        result = engine.extract("Name: Ada Lovelace", schema, 16)
        assert result.ok and isinstance(result.value, dict) and "name" in result.value, result
