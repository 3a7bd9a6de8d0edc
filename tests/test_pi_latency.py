"""The edge latency sweep (bench.pi_latency*), its engines (bench.engines) and their worker
(bench.engine_worker).

Unit tests need no model: the worker runs ``tests/fake_engine.py``, whose fixed timings make the
sweep's arithmetic checkable exactly. One smoke test runs the real default model.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from bench import engine_worker, engines
from bench import pi_latency as pl
from bench import pi_latency_config as pl_config
from bench import pi_latency_models as pl_models
from bench import pi_latency_report as pl_report
from bench import pi_latency_run as pl_run
from maaza_rt.edgejson import complexity, validation_split

FAKE = "tests.fake_engine:make_engine"


# ---- config -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("1", [1]), ("1-4", [1, 2, 3, 4]), ("1-2,8", [1, 2, 8]), ("4,2,2", [2, 4]),
    (" 3 , 1 ", [1, 3]), ("2-2", [2]),
])
def test_parse_int_list_accepts_lists_and_ranges(text: str, expected: list[int]) -> None:
    assert pl_config.parse_int_list(text) == expected


@pytest.mark.parametrize("text", ["0", "3-1", "a", "", "1,-2", "0-2", "1.5"])
def test_parse_int_list_rejects_bad_items(text: str) -> None:
    with pytest.raises(ValueError):
        pl_config.parse_int_list(text)


def test_parse_args_quick_preset_then_overrides() -> None:
    quick = pl.parse_args(["--quick"])
    assert quick.models == ["default"]
    assert quick.threads == [1]
    assert quick.per_complexity == 1
    assert quick.peer_timeout_s == pl_config.QUICK["peer_timeout_s"]
    assert quick.engines == list(engines.ENGINES)
    custom = pl.parse_args(["--quick", "--threads", "1-3", "--engines", "maaza,free",
                            "--quants", "q8_0,f16", "--no-warmup"])
    assert custom.threads == [1, 2, 3]
    assert custom.engines == ["maaza", "free"]
    assert custom.quants == ["Q8_0", "F16"]
    assert custom.warmup is False
    assert custom.per_complexity == 1  # from --quick
    full = pl.parse_args([])
    assert full.models == ["default", "gemma3-270m"]
    assert full.per_complexity == pl_config.SweepConfig().per_complexity
    assert full.warmup is True


@pytest.mark.parametrize("argv", [["--engines", "maaza,vllm"], ["--complexities", "hard"],
                                  ["--per-complexity", "0"], ["--threads", "0"],
                                  ["--peer-max-tokens", "0"]])
def test_parse_args_rejects_bad_values(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        pl.parse_args(argv)


# ---- quantizations ----------------------------------------------------------------------------


@pytest.mark.parametrize("name, quant", [
    ("SmolLM2-135M-Instruct.Q4_1.gguf", "Q4_1"),
    ("gemma-3-270m-q4_k_m.gguf", "Q4_K_M"),
    ("model-Q4_K_S.gguf", "Q4_K_S"),
    ("model.f16.gguf", "F16"),
    ("model-BF16.gguf", "BF16"),
    ("tiny-q8_0.gguf", "Q8_0"),
    ("tiny-q4_0.gguf", "Q4_0"),
    ("model.gguf", None),
    ("xq4_0y.gguf", None),
])
def test_quant_from_name(name: str, quant: str | None) -> None:
    assert pl_models.quant_from_name(name) == quant


def test_quant_of_reads_the_file_type_when_the_name_does_not_say(tmp_path: Path) -> None:
    import gguf

    path = tmp_path / "unnamed.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_file_type(7)  # LLAMA_FTYPE_MOSTLY_Q8_0
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    assert pl_models.quant_of(path) == "Q8_0"
    (tmp_path / "junk.gguf").write_bytes(b"not a gguf file")
    assert pl_models.quant_of(tmp_path / "junk.gguf") == "unknown"


def test_discover_models_filters_directories_by_quant(tmp_path: Path) -> None:
    for name in ("a-Q8_0.gguf", "a-Q2_K.gguf", "a-F16.gguf", "notes.txt"):
        (tmp_path / name).write_bytes(b"GGUF" + b"\0" * 60)
    config = pl_config.SweepConfig(models=["no-such-model"],
                                   gguf_dirs=[str(tmp_path), "/nonexistent"],
                                   quants=["Q8_0", "F16"])
    found, notes = pl_models.discover_models(config)
    assert sorted(m.quant for m in found) == ["F16", "Q8_0"]
    assert all(m.size_bytes == 64 for m in found)
    assert any("no-such-model" in n for n in notes)
    assert any("/nonexistent" in n for n in notes)


# ---- sample -----------------------------------------------------------------------------------


def test_sample_rows_is_seeded_stratified_and_held_out(edgejson_rows: list[dict]) -> None:
    samples, warm = pl_run.sample_rows(edgejson_rows, ["simple", "medium", "complex"], 3, seed=0)
    again, warm_again = pl_run.sample_rows(edgejson_rows, ["simple", "medium", "complex"], 3,
                                           seed=0)
    assert [s.row["id"] for s in samples] == [s.row["id"] for s in again]
    assert [s.partner["id"] for s in samples] == [s.partner["id"] for s in again]
    assert warm["id"] == warm_again["id"]
    other, _ = pl_run.sample_rows(edgejson_rows, ["simple", "medium", "complex"], 3, seed=1)
    assert [s.row["id"] for s in samples] != [s.row["id"] for s in other]

    _, val = validation_split(edgejson_rows, seed=0)
    val_ids = {r["id"] for r in val}
    assert len(samples) == 9
    for cx in ("simple", "medium", "complex"):
        mine = [s for s in samples if s.complexity == cx]
        assert len(mine) == 3
        assert len({s.row["schema_id"] for s in mine}) == 3
    for s in samples:
        assert s.row["id"] in val_ids
        assert s.partner["schema_id"] == s.row["schema_id"]
        assert s.partner["id"] != s.row["id"]
    for a, b in zip(samples, samples[1:]):
        assert a.row["schema_id"] != b.row["schema_id"]
        assert complexity(a.row) != complexity(b.row)
    touched = {s.row["id"] for s in samples} | {s.partner["id"] for s in samples}
    assert warm["id"] not in touched
    assert warm["schema_id"] not in {s.row["schema_id"] for s in samples}


def test_sample_rows_caps_at_the_schemas_available(edgejson_rows: list[dict]) -> None:
    samples, _ = pl_run.sample_rows(edgejson_rows, ["complex"], 50, seed=0)
    n_schemas = len({r["schema_id"] for r in edgejson_rows if complexity(r) == "complex"})
    assert 1 <= len(samples) <= n_schemas
    assert len({s.row["schema_id"] for s in samples}) == len(samples)
    with pytest.raises(ValueError, match="complexity"):
        pl_run.sample_rows([r for r in edgejson_rows if complexity(r) == "simple"], ["complex"],
                           1, 0)


# ---- statistics and summaries -----------------------------------------------------------------


def _model() -> pl_models.ModelFile:
    return pl_models.ModelFile("m", "m", "/m.gguf", "Q4_0", 2 << 20)


def _rec(engine: str, phase: str, row: str, cx: str, total: float, *, prompt: float = 10.0,
         decode: float = 40.0, grammar: float = 0.4, n_out: int = 20, forced: int = 5,
         drafted: int = 3, error: str = "", n_eval: int = 100) -> dict:
    return {"model": "m", "quant": "Q4_0", "engine": engine, "threads": 2, "n_ctx": 1024,
            "phase": phase, "row_id": row, "schema_id": row, "complexity": cx, "error": error,
            "timed_out": error == "timeout", "valid": not error, "hit_max_tokens": False,
            "n_prompt_tokens": 120, "n_prompt_eval": n_eval if not error else 0,
            "n_output_tokens": n_out if not error else 0, "n_forced_tokens": forced,
            "n_drafted_tokens": drafted,
            "prompt_ms": prompt if not error else 0.0, "decode_ms": decode if not error else 0.0,
            "grammar_ms": grammar if not error else 0.0, "total_ms": total}


def test_summarize_computes_rates_shares_and_reuse() -> None:
    setting = pl_run.Setting(_model(), "maaza", 2, 1024)
    recs = [
        _rec("maaza", "warmup", "w", "simple", 999.0),
        _rec("maaza", "first", "a", "simple", 100.0),
        _rec("maaza", "partner", "p", "simple", 5.0),
        _rec("maaza", "second", "a", "simple", 60.0, n_eval=50, prompt=5.0),
        _rec("maaza", "first", "b", "complex", 300.0),
        _rec("maaza", "second", "b", "complex", 270.0),
        _rec("maaza", "first", "c", "complex", 500.0, error="timeout"),
    ]
    s = pl_report.summarize(setting, recs, {"load_ms": 12.0, "peak_rss_mb": 80.0},
                            ["simple", "complex"])
    assert s["n"] == 3 and s["n_errors"] == 1 and s["n_timeouts"] == 1 and s["n_valid"] == 2
    assert s["p50_ms"] == 300.0  # the timeout counts at its cap
    assert s["p50_ms_simple"] == 100.0
    assert s["p50_ms_complex"] == 400.0
    assert s["prompt_tok_s"] == pytest.approx(200 / 20.0 * 1000)
    assert s["decode_tok_s"] == pytest.approx(40 / 80.0 * 1000)
    assert s["grammar_us_per_token"] == pytest.approx(0.8 * 1000 / 40)
    assert s["grammar_share"] == pytest.approx(0.8 / 80.0)
    assert s["forced_share"] == pytest.approx(10 / 40)
    assert s["drafted_share"] == pytest.approx(6 / 40)
    assert s["second_over_first"] == pytest.approx((0.6 + 0.9) / 2)
    assert s["second_prompt_over_first"] == pytest.approx((0.5 + 1.0) / 2)
    assert s["prompt_share"] == pytest.approx(20.0 / 400.0)
    assert s["ms_per_output_token"] == pytest.approx(400.0 / 40)
    assert s["size_mb"] == 2.0 and s["load_ms"] == 12.0 and s["peak_rss_mb"] == 80.0


def test_bar_ratios_and_verdicts() -> None:
    summaries = []
    for engine, simple, complex_ in (("maaza", 100.0, 300.0), ("llama-gbnf", 400.0, 600.0),
                                     ("free", 200.0, 250.0)):
        recs = [_rec(engine, "first", "a", "simple", simple),
                _rec(engine, "first", "b", "complex", complex_)]
        summaries.append(pl_report.summarize(pl_run.Setting(_model(), engine, 2, 1024), recs,
                                             {}, ["simple", "complex"]))
    ratios = pl_report.bar_ratios(summaries, ["simple", "complex"])
    by_cx = {r["complexity"]: r for r in ratios}
    assert by_cx["simple"]["maaza_over_llama-gbnf"] == pytest.approx(0.25)
    assert by_cx["complex"]["maaza_over_llama-gbnf"] == pytest.approx(0.5)
    assert by_cx["simple"]["maaza_over_free"] == pytest.approx(0.5)
    assert by_cx["complex"]["maaza_over_free"] == pytest.approx(1.2)
    assert math.isnan(by_cx["simple"]["maaza_over_maaza-nojf"])
    assert math.isnan(by_cx["simple"]["maaza_over_maaza-nolookup"])
    lines = pl_report.bar_lines(summaries, ratios)
    simple_line = next(x for x in lines if x.endswith("-") and " simple:" in x)
    complex_line = next(x for x in lines if " complex:" in x)
    assert "maaza/llama-gbnf 0.250 (bar <= 0.333: meets)" in simple_line
    assert "misses by 1.50x" in complex_line and "misses by 1.20x" in complex_line
    assert any("grammar/decode time per token 1.00% (bar < 2%: meets)" in x for x in lines)
    assert pl_report._verdict(1.0, 1.0, strict=True) == "misses by 1.00x"
    assert pl_report._verdict(float("nan"), 1.0) == "n/a"


# ---- writers ----------------------------------------------------------------------------------


def _env() -> dict:
    return {"cpu": "Test CPU 9000", "cores_physical": 4, "cpus_logical": 8, "os": "TestOS 1",
            "memory_gb": 8.0, "python": "3.x", "llama_cpp_python": "0.0", "maaza_rt": "0.0",
            "git_commit": "abc123", "load_1min": 0.5, "date_utc": "2000-01-01 00:00"}


def test_writers_produce_csv_markdown_and_png(tmp_path: Path) -> None:
    summaries = []
    for engine in ("maaza", "llama-gbnf"):
        for threads in (1, 2):
            recs = [_rec(engine, "first", "a", "simple", 100.0 * threads)]
            summaries.append(pl_report.summarize(pl_run.Setting(_model(), engine, threads, 1024),
                                                 recs, {}, ["simple"]))
    ratios = pl_report.bar_ratios(summaries, ["simple"])
    base = tmp_path / "out"
    pl_report.write_csv(base.with_suffix(".csv"), summaries, pl_report.CONFIG_COLUMNS)
    with open(base.with_suffix(".csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4
    assert list(rows[0]) == list(pl_report.CONFIG_COLUMNS)
    assert [float(r["p50_ms"]) for r in rows] == [100.0, 200.0, 100.0, 200.0]
    md = pl_report.markdown(_env(), pl_config.SweepConfig(), summaries, ratios, ["a note"], 12.0)
    assert "Test CPU 9000 (4 physical cores, 8 logical CPUs)" in md
    assert "TestOS 1" in md and "a note" in md and "(commit abc123)" in md
    assert md.count("| m | Q4_0 | maaza |") == 2
    assert "| m | Q4_0 | 2 | 1024 | simple | 200 | - | - | 200 | - | 1.000 | - |" in md
    pngs = pl_report.write_plots(base, summaries, ["simple"])
    assert len(pngs) == 2
    for p in pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---- engines and the worker -------------------------------------------------------------------


@pytest.mark.parametrize("text, value", [
    ('{"a": 1}', {"a": 1}),
    ('Here it is:\n```json\n{"a": [1, 2]}\n```', {"a": [1, 2]}),
    ('{broken {"b": true} trailing', {"b": True}),
    ("[1, 2] and {}", [1, 2]),
])
def test_first_json_value(text: str, value: object) -> None:
    assert engines.first_json_value(text) == value


@pytest.mark.parametrize("text", ["", "no json", '{"a": ', "{[}"])
def test_first_json_value_raises_without_a_value(text: str) -> None:
    with pytest.raises(ValueError):
        engines.first_json_value(text)


@pytest.mark.parametrize("text, strict, value, error", [
    ('{"a": 1}', True, {"a": 1}, ""),
    ('{"a": 1} and more', False, {"a": 1}, ""),
    ('{"a": 1} and more', True, None, "ParseError"),
    ('{"a": ', False, None, "ParseError"),
])
def test_read_output_strict_and_first_value(text: str, strict: bool, value: object,
                                            error: str) -> None:
    got, why = engines.read_output(text, strict, hit_max_tokens=True)
    assert got == value
    assert why.startswith(error) and (not error or why.endswith("(stopped at max_tokens)"))
    if error:
        _, why = engines.read_output(text, strict, hit_max_tokens=False)
        assert why.endswith("(stopped at end of generation)")


def test_make_engine_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown engine"):
        engines.make_engine("vllm", "default", 1, 512)


def test_worker_round_trip_timeout_and_crash_recovery(edgejson_rows: list[dict]) -> None:
    row = edgejson_rows[0]
    with engine_worker.EngineWorker("maaza", "m", 1, 512, factory=FAKE) as w:
        r = w.extract(row["prompt"], {"type": "object"}, 64, timeout_s=30)
        assert r.ok and r.value == row["expected_output"]
        assert (r.total_ms, r.n_prompt_eval, r.n_forced_tokens) == (100.0, 100, 10)
        assert len(w.load_ms) == 1 and w.peak_rss_mb > 0
        r = w.extract("SLEEP", {}, 8, timeout_s=0.5)
        assert r.error == "timeout" and r.total_ms >= 500
        # The next request restarts the child (a fresh cache: the schema is new to it again).
        r = w.extract(row["prompt"], {"type": "object"}, 64, timeout_s=30)
        assert r.ok and r.n_prompt_eval == 100
        assert w.n_restarts == 1 and len(w.load_ms) == 2
        r = w.extract("CRASH", {}, 8, timeout_s=30)
        assert r.error == "crash: signal 11"  # SIGSEGV
        r = w.extract(row["prompt"], {}, 64, timeout_s=30)
        assert r.ok and w.n_restarts == 2
        # An exception in one extraction is that extraction's error; the child lives on.
        r = w.extract("RAISE", {}, 8, timeout_s=30)
        assert r.error == "ValueError: fake failure" and r.engine == "maaza"
        r = w.extract(row["prompt"], {}, 64, timeout_s=30)
        assert r.ok and r.text == json.dumps(row["expected_output"]) and w.n_restarts == 2
        # A cold request clears the engine's cache first: the schema is new to it again.
        r = w.extract(row["prompt"], {}, 64, timeout_s=30, cold=True)
        assert r.ok and (r.total_ms, r.n_prompt_eval) == (110.0, 100)


def test_worker_start_is_eager_and_logs_the_child_stderr(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    with engine_worker.EngineWorker("free", "m", 1, 512, factory=FAKE, log_path=log) as w:
        w.start()
        assert len(w.load_ms) == 1
        w.start()  # already running: no second load
        assert len(w.load_ms) == 1 and w.n_restarts == 0
    assert "fake engine free loaded" in log.read_text()


def test_worker_reports_a_failed_load() -> None:
    w = engine_worker.EngineWorker("maaza", "FAIL", 1, 512, factory=FAKE)
    with pytest.raises(engine_worker.WorkerError, match="cannot load FAIL"):
        w.extract("x", {}, 8)
    w.close()


def test_sweep_end_to_end_with_fake_engines(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    code = pl.main(["--quick", "--factory", FAKE, "--threads", "1,2", "--no-plots",
                    "--out", str(out)])
    assert code == 0
    with open(out.with_suffix(".csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * len(engines.ENGINES)
    maaza = next(r for r in rows if r["engine"] == "maaza" and r["threads"] == "1")
    assert float(maaza["p50_ms"]) == 100.0
    assert float(maaza["second_over_first"]) == pytest.approx(0.9)
    assert float(maaza["second_over_cold"]) == pytest.approx(90 / 110, abs=1e-4)  # cold: +10
    assert float(maaza["cold_p50_ms"]) == 110.0
    assert float(maaza["grammar_share"]) == pytest.approx(0.01)
    assert maaza["n_valid"] == maaza["n"] == "3"
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["config"]["factory"] == FAKE
    for r in data["ratios"]:
        assert r["maaza_over_llama-gbnf"] == pytest.approx(0.25)
        assert r["maaza_over_free"] == pytest.approx(0.5)
        assert r["maaza_over_maaza-nolookup"] == pytest.approx(100 / 110)
    with open(out.with_suffix(".extractions.csv"), encoding="utf-8") as f:
        phases = [r["phase"] for r in csv.DictReader(f)]
    # per configuration: warm-up + 3 rows, and for maaza a partner, a second and a cold run
    # per row
    assert len(phases) == 2 * (4 * (len(engines.ENGINES) - 1) + 13)
    live = out.with_suffix(".partial.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["phase"] for line in live) == sorted(phases)
    md = out.with_suffix(".md").read_text()
    assert "maaza/llama-gbnf 0.250 (bar <= 0.333: meets)" in md
    assert ("second/first extraction of a process 0.818 (bar <= 0.7: misses by 1.17x), "
            "second/first with that schema after another 0.900") in md


# ---- the real model ---------------------------------------------------------------------------


@pytest.mark.model
def test_sweep_smoke_on_the_default_model(tmp_path: Path) -> None:
    out = tmp_path / "smoke"
    code = pl.main(["--quick", "--engines", "maaza,free", "--complexities", "simple",
                    "--peer-max-tokens", "8", "--no-plots", "--out", str(out)])
    assert code == 0
    data = json.loads(out.with_suffix(".json").read_text())
    by_engine = {s["engine"]: s for s in data["summaries"]}
    ours = by_engine["maaza"]
    assert ours["n_valid"] == ours["n"] == 1
    assert ours["load_ms"] > 0 and ours["peak_rss_mb"] > 50
    assert ours["decode_tok_s"] > 0 and 0 < ours["grammar_share"] < 1
    recs = {(r["engine"], r["phase"]): r for r in data["records"]}
    first, second = recs[("maaza", "first")], recs[("maaza", "second")]
    assert first["n_output_tokens"] == second["n_output_tokens"]
    assert second["n_prompt_eval"] < first["n_prompt_eval"]  # the schema prefix came from cache
    cold = recs[("maaza", "cold")]
    assert cold["n_prompt_eval"] == cold["n_prompt_tokens"] > first["n_prompt_eval"]
    assert cold["text_head"] == first["text_head"]
    free = recs[("free", "first")]
    assert free["n_output_tokens"] == 8 and free["hit_max_tokens"]
    assert free["n_prompt_tokens"] == first["n_prompt_tokens"]  # one prompt for every engine
