"""bench.dev, the out-of-distribution dev benchmark: failure counts on hand-made rows, row
selection, the EdgeJSON conversion, and a run of several models through bench/engines.py's
worker with a scripted model-free engine (``tests.test_bench_dev:make_engine``).

The scripted engine is built in the worker process, which imports this module: module-level
imports stay light and the harness is loaded by a fixture.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
EDGEJSON = SHARED / "edgejson"
ANSWERS_ENV = "MAAZA_TEST_DEV_ANSWERS"  # JSON file: {model: {"ms": float, "answers": {text: out}}}


# ---- the scripted engine (runs in the worker) ---------------------------------------------------


class ScriptedEngine:
    """Answers each text with the output text scripted for its model ("" when none is)."""

    def __init__(self, name: str, model: str) -> None:
        script = json.loads(Path(os.environ[ANSWERS_ENV]).read_text(encoding="utf-8"))[model]
        self.name, self.ms, self.answers = name, float(script["ms"]), script["answers"]

    def clear_cache(self) -> None:
        pass

    def extract(self, text: str, schema: dict, max_tokens: int) -> Any:
        from bench import engines

        return engines.EngineResult(self.name, text=self.answers.get(text, ""),
                                    n_prompt_tokens=10, n_output_tokens=5, total_ms=self.ms)


def make_engine(name: str, model: str, n_threads: int, n_ctx: int) -> ScriptedEngine:
    if model == "FAIL":
        raise RuntimeError("cannot load FAIL")
    return ScriptedEngine(name, model)


# ---- fixtures and rows ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dev() -> ModuleType:
    if not EDGEJSON.is_dir():
        pytest.skip(f"no EdgeJSON data at {EDGEJSON}")
    from bench import dev as dev_module

    return dev_module


SHOP = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "Full name of the customer"},
        "city": {"type": "string", "description": "City of the shop"},
        "status": {"enum": ["open", "closed"], "description": "Shop status"},
        "opened": {"type": "string", "format": "date"},
        "address": {"type": "object", "properties": {
            "street": {"type": "string", "description": "Street address"}}},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name"],
    "additionalProperties": False,
}
ORDER = {"type": "object", "properties": {
    "order_id": {"type": "string", "description": "Order number"}, "total": {"type": "number"},
    "note": {"type": "string"}}, "required": ["order_id"]}
PEOPLE = {"type": "object", "properties": {
    "people": {"type": "array", "items": {"type": "string"}},
    "places": {"type": "array", "items": {"type": "string"}}},
    "required": ["people", "places"], "additionalProperties": False}


def _row(source: str, key: str, schema: dict, text: str, expected: dict) -> dict:
    return {"id": f"{source}/{key}", "source": source, "schema_id": f"{source}/{key[0]}",
            "schema": schema, "text": text, "expected": expected}


# g1, n1, g2, n2, g3, n3 in file order; --limit-per-source 2 drops g3 and n3.
ROWS = [
    _row("gen", "g1", SHOP, "Ada Lovelace runs the shop in Leeds; it is open today.",
         {"name": "Ada Lovelace", "city": "Leeds", "status": "open"}),
    _row("ner", "n1", PEOPLE, "Grace met Alan in Paris.",
         {"people": ["Grace", "Alan"], "places": ["Paris"]}),
    _row("gen", "g2", ORDER, "Order A-17 came to 12.5 dollars.",
         {"order_id": "A-17", "total": 12.5}),
    _row("ner", "n2", PEOPLE, "Nobody went anywhere.", {"people": [], "places": []}),
    _row("gen", "g3", ORDER, "Order B-2 was free.", {"order_id": "B-2", "total": 0}),
    _row("ner", "n3", PEOPLE, "Linus stayed in Oslo.", {"people": ["Linus"], "places": ["Oslo"]}),
]
BAD = {  # the "bad" model's outputs (the "good" one answers every expected value)
    "gen/g1": {"name": "Full name of the customer", "city": "string", "status": "closed"},
    "gen/g2": {"order_id": "A-17", "total": 12.5, "note": "Paid in full"},
    "ner/n1": {"people": ["Grace", "Bob"], "places": []},
    "ner/n2": None,  # unparseable output
}


def test_bench_dev_rows_validate_against_their_schemas() -> None:
    from jsonschema import Draft202012Validator

    for row in ROWS:
        Draft202012Validator(row["schema"]).validate(row["expected"])


# ---- failure counts ---------------------------------------------------------------------------


def test_bench_dev_failures_count_descriptions_type_names_and_ungrounded(dev: ModuleType) -> None:
    from bench import failures

    text = "Ada Lovelace opened the shop in Leeds on 5 May 2021; tags: london. It is open."
    expected = {"name": "Ada Lovelace", "city": "Leeds", "status": "open",
                "opened": "2021-05-05", "tags": ["london"]}
    output = {
        "name": "  full NAME of the customer ",  # its own description: counted (and ungrounded)
        "city": "Street address",  # a nested property's description
        "status": "closed",  # wrong, not in the text, but an enum value: never counted
        "opened": "2021-05-05",  # not in the text, but right: not counted
        "address": {"street": "STRING"},  # a type name, nested
        "tags": ["LONDON", "Paris"],  # grounded (case-insensitive); ungrounded
    }
    found = failures.failures(output, expected, SHOP, text)
    assert found == {
        "description_values": ["/name", "/city"],
        "type_name_values": ["/address/street"],
        "ungrounded_strings": ["/name", "/city", "/address/street", "/tags/1"],
        # What grounding rules out: case counts, an enum value or a date is not grounded.
        "absent_strings": ["/name", "/city", "/address/street", "/tags/0", "/tags/1"],
        "absent_numbers": [],
        "extra_fields": ["/address"],
        "missing_fields": [],
    }
    # Type names as the prompt renders types count; words that merely contain one do not.
    typed = {"a": "String[]", "b": "number | null", "c": "string(date)", "d": "strings",
             "e": "a string"}
    assert failures.failures(typed, {}, {}, "")["type_name_values"] == ["/a", "/b", "/c"]
    # A long description counts in full and as the prompt shortens it (60 characters).
    long = "Name of the person who signed the delivery note at the loading dock"
    schema = {"type": "object", "properties": {"s": {"type": "string", "description": long}}}
    for value in (long.upper(), long[:57].rstrip() + "...", long[:57]):
        assert failures.failures({"s": value}, {}, schema, "")["description_values"] == ["/s"]
    assert failures.failures({"s": long[:40]}, {}, schema, "")["description_values"] == []
    # The right output has no failures at all; a field left out is missing.
    assert not any(failures.failures(expected, expected, SHOP, text).values())
    assert failures.failures({"name": "Ada Lovelace"}, expected, SHOP, text)["missing_fields"] == [
        "/city", "/status", "/opened", "/tags"]


def test_bench_dev_failures_follow_refs_and_branches(dev: ModuleType) -> None:
    from bench import failures

    schema = {"type": "object", "$defs": {"unit": {"enum": ["kg", "lb"],
                                                   "description": "Unit of weight"}},
              "properties": {"w": {"anyOf": [{"$ref": "#/$defs/unit"}, {"type": "null"}]},
                             "a/b": {"const": "fixed"}}}
    output = {"w": "lb", "a/b": "fixed", "x": "unit of weight"}
    found = failures.failures(output, {}, schema, "a 5 kg bag")
    assert found["ungrounded_strings"] == ["/x"]  # enum through $ref and anyOf, const exempt
    assert found["description_values"] == ["/x"]  # a description under $defs
    assert found["extra_fields"] == ["/w", "/a~1b", "/x"]
    assert failures.schema_descriptions(schema) == {"unit of weight"}


def test_bench_failures_absent_values_follow_the_grounding_rule(dev: ModuleType) -> None:
    from bench import failures

    schema = {"type": "object", "properties": {
        "total": {"type": "number"}, "n": {"type": "integer", "minimum": 100},
        "code": {"type": "string", "pattern": "^[A-Z]+$"},
        "note": {"type": "string", "x-maaza-grounded": False},
        "items": {"type": "array", "items": {"type": "object", "properties": {
            "sku": {"type": "string"}, "qty": {"type": "integer"}}}}}}
    text = "Order of $1,240.50: 2 x SKU-9\n  and  3 x SKU-7"
    output = {"total": 1240.5, "n": 7, "code": "XYZ", "note": "made up",
              "items": [{"sku": "SKU-9 and 3", "qty": 2}, {"sku": "SKU-8", "qty": 4}]}
    found = failures.absent_values(output, schema, text)
    # n: no number of the text is 100 or more, so nothing could ground it.
    assert found == {"absent_strings": ["/items/1/sku"], "absent_numbers": ["/items/1/qty"]}
    assert failures.absent_values({"total": 1240.50, "n": 100}, schema, "1,240.50 and 100") == {
        "absent_strings": [], "absent_numbers": []}


def test_bench_dev_field_results_count_absent_as_right(dev: ModuleType) -> None:
    expected = {"order_id": "A-17", "total": 12.5}
    assert dev.field_results({"order_id": "A-17", "total": 12.5}, expected, ORDER, True) == {
        "order_id": True, "total": True, "note": True}
    assert dev.field_results({"order_id": "A-17", "total": 12, "x": 1}, expected, ORDER,
                             True) == {"order_id": True, "total": False, "note": True,
                                       "x": False}
    assert dev.field_results({"total": 12.5, "note": ""}, expected, ORDER, True) == {
        "order_id": False, "total": True, "note": False}
    assert dev.field_results(None, expected, ORDER, False) == {
        "order_id": False, "total": False, "note": False}
    # the metrics' equality: 1 == 1.0, true != 1
    assert dev.field_results({"t": 1.0}, {"t": 1}, {}, True) == {"t": True}
    assert not dev.field_results({"b": True}, {"b": 1}, {}, True)["b"]


# ---- rows -------------------------------------------------------------------------------------


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_bench_dev_limit_per_source_keeps_file_order(dev: ModuleType, tmp_path: Path) -> None:
    rows = dev.load_mixture_rows(_write(tmp_path / "rows.jsonl", ROWS))
    assert [r["id"] for r in dev.limit_per_source(rows, 2)] == [
        "gen/g1", "ner/n1", "gen/g2", "ner/n2"]
    assert [r["id"] for r in dev.limit_per_source(rows, 1)] == ["gen/g1", "ner/n1"]
    assert dev.limit_per_source(rows, None) == rows


def test_bench_dev_load_rows_rejects_bad_rows(dev: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"rows.jsonl:2: duplicate id 'gen/g1'"):
        dev.load_mixture_rows(_write(tmp_path / "rows.jsonl", [ROWS[0], ROWS[0]]))
    with pytest.raises(ValueError, match="missing field"):
        dev.load_mixture_rows(_write(tmp_path / "rows.jsonl", [{"id": "x", "text": "t"}]))


def test_bench_dev_edgejson_val_rows_are_mixture_rows(dev: ModuleType) -> None:
    from jsonschema import Draft202012Validator

    from maaza_rt import edgejson

    _, val = edgejson.validation_split(edgejson.load_rows(EDGEJSON / "train.jsonl"), 0.2, 0)
    rows = dev.edgejson_val_rows(EDGEJSON, 4)
    assert len(rows) == 4 and dev.edgejson_val_rows(EDGEJSON, 0) == []
    for row, raw in zip(rows, val):
        schema = json.loads((EDGEJSON / "schemas" / f"{raw['schema_id']}.json").read_text())
        assert row["id"] == f"edgejson/{raw['id']}" and row["source"] == "edgejson"
        assert row["schema_id"] == f"edgejson/{raw['schema_id']}" and row["schema"] == schema
        assert row["text"] == raw["prompt"] and row["expected"] == raw["expected_output"]
        Draft202012Validator(schema).validate(row["expected"])


def test_bench_dev_smoke_preset_and_labels(dev: ModuleType) -> None:
    cfg = dev.parse_args(["--smoke", "--models", "a, /m/b.gguf", "--labels", "x,y"])
    assert cfg.limit_per_source == 3 and cfg.max_tokens == 64
    assert cfg.models == ["a", "/m/b.gguf"] and cfg.labels == ["x", "y"]
    assert dev.parse_args(["--smoke", "--limit-per-source", "7"]).limit_per_source == 7
    assert dev.default_label("/m/b.gguf") == "b" and dev.default_label("smollm2") == "smollm2"
    with pytest.raises(SystemExit):
        dev.parse_args(["--models", "a,b", "--labels", "x"])


# ---- a whole run through the worker -----------------------------------------------------------


def test_bench_dev_runs_models_through_the_engine_worker(
        dev: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Two scripted models and one that cannot load, over two sources plus EdgeJSON validation
    rows: per-source scores, failure counts, field accuracy, latency and the reports."""
    edge = dev.edgejson_val_rows(EDGEJSON, 2)
    good = {r["text"]: json.dumps(r["expected"]) for r in ROWS + edge}
    bad = dict(good)
    for r in ROWS:
        if r["id"] in BAD:
            bad[r["text"]] = "" if BAD[r["id"]] is None else json.dumps(BAD[r["id"]])
    script = {"good": {"ms": 10.0, "answers": good}, "bad": {"ms": 30.0, "answers": bad}}
    monkeypatch.setenv(ANSWERS_ENV, str(_write(tmp_path / "answers.json", [script])))
    out = tmp_path / "out"
    code = dev.main(["--rows", str(_write(tmp_path / "rows.jsonl", ROWS)),
                     "--models", "good,bad,FAIL", "--labels", "good,bad,broken",
                     "--edgejson-val", "2", "--limit-per-source", "2", "--threads", "1",
                     "--factory", "tests.test_bench_dev:make_engine", "--out", str(out)])
    assert code == 1  # one model failed to start
    report = json.loads((out / "report.json").read_text())
    assert report["rows_per_source"] == {"gen": 2, "ner": 2, "edgejson": 2}
    assert "cannot load FAIL" in report["models"]["broken"]["error"]

    g, b = report["models"]["good"], report["models"]["bad"]
    assert [e["id"] for e in b["examples"]] == ["gen/g1", "ner/n1", "gen/g2", "ner/n2"] + [
        r["id"] for r in edge]
    assert list(b["by_source"]) == ["gen", "ner", "edgejson"]
    for group in (g["overall"], *g["by_source"].values()):
        assert group["json_exact"] == 1.0 and group["field_accuracy"] == 1.0
        assert not any(group["failures"].values())
    assert g["overall"]["latency_ms"]["p50"] == 10.0 and b["overall"]["latency_ms"]["p50"] == 30.0

    gen, ner, edgej = (b["by_source"][s] for s in ("gen", "ner", "edgejson"))
    assert gen["n"] == 2 and gen["json_exact"] == 0.0
    assert gen["failures"] == {"description_values": 1, "type_name_values": 1,
                               "ungrounded_strings": 3, "absent_strings": 3, "absent_numbers": 0,
                               "extra_fields": 1, "missing_fields": 0}
    # g1: 3 of SHOP's 6 fields right (the 3 absent from both); g2: 2 of ORDER's 3 (note extra)
    assert gen["field_accuracy"] == pytest.approx(5 / 9)
    assert gen["fields"]["order_id"] == {"n": 1, "accuracy": 1.0}
    assert ner["n_unparsed"] == 1 and ner["field_accuracy"] == 0.0
    assert ner["failures"]["ungrounded_strings"] == 1 and ner["schema_valid"] == 0.5
    assert edgej["json_exact"] == 1.0 and not any(edgej["failures"].values())
    assert b["overall"]["json_exact"] == pytest.approx(2 / 6)
    assert b["overall"]["failures"]["ungrounded_strings"] == 4
    g1 = b["examples"][0]
    assert g1["failures"] == {"description_values": ["/name"], "type_name_values": ["/city"],
                              "ungrounded_strings": ["/name", "/city"],
                              "absent_strings": ["/name", "/city"]}
    assert g1["output"] == json.dumps(BAD["gen/g1"]) and g1["scores"]["json_exact"] == 0.0
    assert b["examples"][3]["failures"] == {} and b["examples"][3]["scores"]["parsed"] is False

    md = (out / "report.md").read_text()
    printed = capsys.readouterr().out
    for text in (md, printed):
        assert "### json_exact (percent)" in text and "| source | n | good | bad | broken |" in text
        assert "| all | 6 | 100.0 | 33.3 | - |" in text
        assert "| gen | bad | 2 | 0 | 0 | 1 | 1 | 3 | 3 | 0 | 1 | 0 |" in text
    assert "failed to start" in md and "#### gen" in md
    assert (out / "worker_good.log").exists() and (out / "config.json").exists()
