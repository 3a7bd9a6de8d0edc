"""bench.calibration: ECE and reliability bins on hand-made pairs, leaf outcomes, and a whole
run over a rows file with a scripted extractor (no model)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bench import calibration
from maaza_rt.spans import leaf_spans, leaves
from train.sources import make_row


def test_expected_calibration_error_by_hand() -> None:
    pairs = [(0.9, True), (0.9, True), (0.95, True), (0.95, False), (0.25, False),
             (0.25, False)]
    # bin 9: confidence 0.925, accuracy 0.75; bin 2: confidence 0.25, accuracy 0
    expected = 4 / 6 * abs(0.75 - 0.925) + 2 / 6 * 0.25
    assert calibration.expected_calibration_error(pairs) == pytest.approx(expected)
    assert calibration.expected_calibration_error([(1.0, True), (0.0, False)]) == 0.0
    assert calibration.expected_calibration_error([(1.0, False)]) == 1.0
    assert calibration.expected_calibration_error([]) != calibration.expected_calibration_error(
        [])  # NaN


def test_reliability_bins_edges_and_counts() -> None:
    bins = calibration.reliability_bins([(0.0, False), (0.1, True), (0.99, True), (1.0, True)], 10)
    assert [b["n"] for b in bins] == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert bins[9]["confidence"] == pytest.approx(0.995) and bins[9]["accuracy"] == 1.0
    assert bins[1]["lo"] == pytest.approx(0.1) and bins[1]["hi"] == pytest.approx(0.2)
    with pytest.raises(ValueError):
        calibration.reliability_bins([], 0)
    s = calibration.summarize([(0.8, True), (0.4, False)], 10)
    assert s["n_leaves"] == 2 and s["accuracy"] == 0.5
    assert s["confidence"] == pytest.approx(0.6)
    assert s["brier"] == pytest.approx((0.2 ** 2 + 0.4 ** 2) / 2)


def test_leaf_outcomes_compare_at_the_same_pointer() -> None:
    output = {"a": "x", "b": [1, 2], "c": {}, "d": True, "e": 1}
    expected = {"a": "x", "b": [1, 3], "d": 1, "e": 1.0}
    conf = {"/a": 0.9, "/b/0": 0.8, "/b/1": 0.7, "/c": 0.6, "/d": 0.5, "/e": 0.4}
    assert calibration.leaf_outcomes(output, expected, conf) == [
        ("/a", 0.9, True), ("/b/0", 0.8, True), ("/b/1", 0.7, False),
        ("/c", 0.6, False),  # absent from the expected value
        ("/d", 0.5, False),  # true is not 1
        ("/e", 0.4, True)]
    assert calibration.leaf_outcomes(output, expected, {"/a": 1.0}) == [("/a", 1.0, True)]


def test_span_mismatches() -> None:
    text = "Ada\n Lovelace"
    assert calibration.span_mismatches({"n": "Ada Lovelace"}, text, {"/n": (0, 13)}) == []
    assert calibration.span_mismatches({"n": "Ada"}, text, {"/n": (0, 4)}) == ["/n"]


class ScriptedExtractor:
    """Answers each text with a scripted value; a leaf's confidence is 0.9 when it equals the
    expected value and 0.3 otherwise, except one wrong leaf at 0.95. "boom" fails."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[bool] = []

    def clear_cache(self) -> None:
        pass

    def extract(self, text: str, schema: Any, **options: Any) -> Any:
        from maaza_rt.errors import SchemaError

        self.calls.append(bool(options.get("return_details")))
        if text == "boom":
            raise SchemaError("unsupported")
        value, conf = self.answers[text]
        return SimpleNamespace(text=json.dumps(value), value=value, confidence=conf,
                               spans=leaf_spans(value, text),
                               budget_closed=text == "Alan Turing")


def _rows(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    rows = [
        make_row("alpha", "1", "s", schema, "Ada Lovelace wrote", {"name": "Ada Lovelace"}),
        make_row("alpha", "2", "s", schema, "Grace Hopper", {"name": "Grace Hopper"}),
        make_row("beta", "1", "s", schema, "Alan Turing", {"name": "Alan Turing", "age": 41}),
        make_row("beta", "2", "s", schema, "boom", {"name": "x"}),
    ]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    answers = {
        "Ada Lovelace wrote": ({"name": "Ada Lovelace"}, {"/name": 0.9}),
        "Grace Hopper": ({"name": "Grace"}, {"/name": 0.95}),
        "Alan Turing": ({"name": "Alan Turing", "age": 40}, {"/name": 0.9, "/age": 0.3}),
    }
    return path, answers


def test_main_scores_a_rows_file_and_writes_the_report(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    rows, answers = _rows(tmp_path)
    out = tmp_path / "out"
    extractor = ScriptedExtractor(answers)
    rc = calibration.main(["--rows", str(rows), "--edgejson-root", "", "--out", str(out),
                           "--overhead"], extractor=extractor)
    assert rc == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    g = report["groups"]
    assert list(g) == ["alpha", "beta", "dev", "all"]
    assert (g["alpha"]["n_rows"], g["alpha"]["n_leaves"], g["alpha"]["accuracy"]) == (2, 2, 0.5)
    assert (g["beta"]["n_rows"], g["beta"]["n_errors"], g["beta"]["n_leaves"]) == (2, 1, 2)
    pairs = [(0.9, True), (0.95, False), (0.9, True), (0.3, False)]
    assert g["all"]["n_leaves"] == 4
    assert g["all"]["ece"] == pytest.approx(calibration.expected_calibration_error(pairs))
    assert g["dev"]["ece"] == g["all"]["ece"]  # no EdgeJSON rows: dev is everything
    assert g["all"]["n_budget_closed"] == 1 and g["alpha"]["n_budget_closed"] == 0
    assert g["all"]["ece_not_closed"] == pytest.approx(
        calibration.expected_calibration_error(pairs[:2]))
    assert report["span_mismatches"] == [] and report["n_spans"] == 3  # not the age 40
    assert report["overhead_ratio_p50"] > 0 and False in extractor.calls
    assert (out / "reliability.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "config.json").is_file() and "| all | 4 | 1 | 1 | 4 |" in (
        out / "report.md").read_text()
    printed = capsys.readouterr().out
    assert "| all | 4 | 1 | 1 | 4 | 0.500 |" in printed and "span check: 3 spans, 0" in printed


def test_select_rows_limits_each_source(tmp_path: Path) -> None:
    rows, _ = _rows(tmp_path)
    cfg = calibration.Config(rows=str(rows), edgejson_root="", limit=1)
    assert [r["id"] for r in calibration.select_rows(cfg)] == ["alpha/1", "beta/1"]


def test_select_rows_reads_edgejson_validation_rows() -> None:
    cfg = calibration.Config(rows="", limit=2)
    got = calibration.select_rows(cfg)
    assert [r["source"] for r in got] == ["edgejson", "edgejson"]
    assert all(list(leaves(r["expected"])) for r in got)


def test_parse_args_smoke() -> None:
    cfg = calibration.parse_args(["--smoke"])
    assert (cfg.limit, cfg.max_tokens, cfg.threads, cfg.bins) == (2, 128, 1, 10)
    with pytest.raises(SystemExit):
        calibration.parse_args(["--bins", "0"])
