"""MaskBench: the benchmark harness (instance serialisation, key order, worker failures) and the
corpus test of our engine against the committed baseline tests/data/maskbench_baseline.json.

The corpus test runs a fixed sample of MaskBench files through our engine under the SmolLM2
vocabulary, in a worker subprocess so a crash is reported, not fatal. A schema that passed in the
baseline and fails now, any invalidation error (an invalid instance accepted), or any outcome other
than "compiled" or "SchemaError" fails the test. Improvements warn; to record them run

    MAAZA_UPDATE_BASELINE=1 PYTHONPATH=. pytest tests/test_maskbench.py -k baseline
"""

from __future__ import annotations

import importlib.util
import json
import stat
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MASKBENCH = REPO.parent / "shared" / "maskbench"
_spec = importlib.util.spec_from_file_location("maskbench", REPO / "bench" / "maskbench.py")
assert _spec is not None and _spec.loader is not None
mb = importlib.util.module_from_spec(_spec)
sys.modules["maskbench"] = mb
_spec.loader.exec_module(mb)


# ---------------------------------------------------------------------------------------------
# Serialisation and key order
# ---------------------------------------------------------------------------------------------


def test_serialize_python_and_compact_separators() -> None:
    value = mb.load_json_keep_numbers('{"a": [1, 2.50, 1e3], "b": {"c": null, "d": true}}')
    assert mb.serialize(value, "python") == '{"a": [1, 2.50, 1e3], "b": {"c": null, "d": true}}'
    assert mb.serialize(value, "compact") == '{"a":[1,2.50,1e3],"b":{"c":null,"d":true}}'


def test_serialize_keeps_utf8_and_escapes_controls() -> None:
    value = mb.load_json_keep_numbers('"caf\\u00e9 \\"q\\" \\n"')
    assert mb.serialize(value, "compact") == '"café \\"q\\" \\n"'


def test_serialize_rejects_unknown_whitespace_mode() -> None:
    with pytest.raises(ValueError, match="whitespace"):
        mb.serialize({}, "pretty")


def test_reorder_keys_follows_properties_order() -> None:
    schema = {"type": "object", "properties": {"b": {}, "a": {}, "c": {}}}
    value = {"x": 0, "c": 3, "a": 1, "b": 2}
    assert list(mb.reorder_keys(value, schema)) == ["b", "a", "c", "x"]


def test_reorder_keys_through_ref_allof_and_arrays() -> None:
    schema = {
        "$defs": {"item": {"properties": {"z": {}, "y": {}}}},
        "allOf": [{"properties": {"list": {"type": "array", "items": {"$ref": "#/$defs/item"}}}},
                  {"properties": {"first": {}}}],
    }
    value = {"first": 1, "list": [{"y": 1, "z": 2}, {"y": 3}]}
    out = mb.reorder_keys(value, schema)
    assert list(out) == ["list", "first"]
    assert [list(o) for o in out["list"]] == [["z", "y"], ["y"]]


def test_reorder_keys_picks_best_anyof_alternative() -> None:
    schema = {"anyOf": [{"properties": {"p": {}, "q": {}}},
                        {"properties": {"t": {}, "s": {}, "r": {}}}]}
    assert list(mb.reorder_keys({"r": 1, "s": 2, "t": 3}, schema)) == ["t", "s", "r"]


def test_reorder_keys_survives_recursive_ref() -> None:
    schema = {"$ref": "#/definitions/n",
              "definitions": {"n": {"properties": {"v": {}, "kids": {"items": {"$ref": "#"}}}}}}
    value = {"kids": [{"kids": [], "v": 2}], "v": 1}
    out = mb.reorder_keys(value, schema)
    assert list(out) == ["v", "kids"] and list(out["kids"][0]) == ["v", "kids"]


def test_select_files_sample_is_deterministic() -> None:
    files = [Path(f"f{i:03d}.json") for i in range(100)]
    a = mb.select_files(files, None, 10, 7)
    assert a == mb.select_files(files, None, 10, 7) and a == sorted(a) and len(set(a)) == 10
    assert mb.select_files(files, 5, None, 0) == files[:5]


def test_percentiles_nearest_rank() -> None:
    p = mb.percentiles([float(i) for i in range(1, 101)])
    assert (p["p50"], p["p90"], p["p99"], p["max"], p["n"]) == (50.0, 90.0, 99.0, 100.0, 100)


def test_instances_round_trip_on_corpus_sample() -> None:
    """Reordering and serialising never change an instance's value."""
    files = mb.select_files(mb.list_corpus(MASKBENCH), None, 200, 3)
    assert files, f"no MaskBench files under {MASKBENCH}"
    for path in files:
        doc = mb.load_json_keep_numbers(path.read_text(encoding="utf-8"))
        plain = json.loads(path.read_text(encoding="utf-8"))
        for test, ref in zip(doc["tests"], plain["tests"]):
            for ws in ("python", "compact"):
                text = mb.serialize(mb.reorder_keys(test["data"], doc["schema"]), ws)
                assert json.loads(text) == ref["data"], f"{path.name}: {text[:200]}"


# ---------------------------------------------------------------------------------------------
# Worker failures are counted, not fatal
# ---------------------------------------------------------------------------------------------


def _fake_interpreter(tmp_path: Path, body: str) -> str:
    """A stand-in for the worker interpreter: announces itself ready, then runs `body`."""
    script = tmp_path / "fake-python"
    script.write_text("#!/bin/sh\necho '{\"ready\": true, \"version\": \"fake\"}'\n"
                      f"read line\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_worker_crash_is_counted(tmp_path: Path) -> None:
    cfg = mb.Config(timeout_s=20.0)
    w = mb.Worker("maaza", _fake_interpreter(tmp_path, "kill -SEGV $$"), "unused", cfg)
    res = w.run(b'{"schema": {}, "instances": []}\n')
    assert res["status"] == "crash"
    assert w.proc is None


def test_worker_hang_times_out(tmp_path: Path) -> None:
    cfg = mb.Config(timeout_s=0.5)
    w = mb.Worker("maaza", _fake_interpreter(tmp_path, "exec sleep 30"), "unused", cfg)
    res = w.run(b'{"schema": {}, "instances": []}\n')
    assert res["status"] == "timeout"
    assert w.proc is None


def test_worker_result_is_passed_through(tmp_path: Path) -> None:
    cfg = mb.Config(timeout_s=20.0)
    body = "echo '{\"status\": \"ok\", \"instances\": []}'"
    w = mb.Worker("maaza", _fake_interpreter(tmp_path, body), "unused", cfg)
    assert w.run(b"{}\n") == {"status": "ok", "instances": []}
    w.stop()


def test_summarize_counts_errors() -> None:
    results = {
        "a": {"status": "ok", "ttfm_ns": 1000, "mask_ns": [10, 20],
              "instances": [{"valid": True, "accepted": True},
                            {"valid": False, "accepted": True}]},
        "b": {"status": "ok", "ttfm_ns": 2000, "mask_ns": [30],
              "instances": [{"valid": True, "accepted": False}]},
        "c": {"status": "compile_error", "error": "x"},
        "d": {"status": "crash", "error": "x"},
    }
    s = mb.summarize("e", results)
    assert (s["compiled"], s["compile_errors"], s["crashes"], s["passing"]) == (2, 1, 1, 0)
    assert (s["validation_errors"], s["invalidation_errors"]) == (1, 1)
    assert s["mask_us"]["n"] == 3


# ---------------------------------------------------------------------------------------------
# Corpus test of our engine against the committed baseline
# ---------------------------------------------------------------------------------------------

BASELINE = REPO / "tests" / "data" / "maskbench_baseline.json"
SAMPLE_SIZE = 150
SAMPLE_SEED = 20261126
UPDATE_ENV = "MAAZA_UPDATE_BASELINE"
