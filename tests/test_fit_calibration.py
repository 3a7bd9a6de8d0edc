"""train/fit_calibration.py: the logistic fit recovers a known map, and the command writes a map
the runtime loads."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest

from maaza_rt.calibration import FEATURES, load_calibration
from train import fit_calibration


def test_fit_logistic_recovers_known_weights() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20000, 2))
    true_w, true_b = np.array([1.5, -2.0]), 0.5
    p = 1 / (1 + np.exp(-(x @ true_w + true_b)))
    y = (rng.random(20000) < p).astype(float)
    w, b = fit_calibration.fit_logistic(x, y, l2=0.0)
    assert w == pytest.approx(true_w, abs=0.1) and b == pytest.approx(true_b, abs=0.1)
    with pytest.raises(ValueError, match="no labelled leaves"):
        fit_calibration.fit_logistic(np.zeros((0, 2)), np.zeros(0))


def _records(n: int, seed: int) -> list[dict]:
    """Rows of one string leaf: right when the model was sure and the value has a span."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        p = rnd.random()
        spanned = rnd.random() < 0.5
        ok = rnd.random() < (p if spanned else p / 4)
        out.append({"id": str(i), "source": "s", "output": {"a": "x"}, "leaves": [["/a", p, ok]],
                    "spanned": ["/a"] if spanned else [], "closed": []})
    out.append({"id": "failed", "source": "s", "error": "SchemaError: no"})
    return out


def test_main_writes_a_map_that_orders_leaves_as_the_labels_do(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]
                                                               ) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"records": _records(3000, 1)}), encoding="utf-8")
    out = tmp_path / "map.json"
    assert fit_calibration.main([str(report), "--model", "m", "--out", str(out)]) == 0
    m = load_calibration(out)
    assert m.model == "m" and "3001 rows" in m.fitted_on
    summary = json.loads(capsys.readouterr().out.splitlines()[0])
    assert summary["rows"] == 3000 and summary["leaves"] == 3000
    assert summary["log_loss"] < math.log(2)
    assert m.weights[FEATURES.index("logit")] > 0 and m.weights[FEATURES.index("spanned")] > 0
    sure = m.apply({"a": "x"}, {"/a": 0.9}, {"/a"}, ())["/a"]
    unsure = m.apply({"a": "x"}, {"/a": 0.9}, set(), ())["/a"]
    assert sure > unsure


def test_examples_weigh_leaves_rows_or_sources() -> None:
    records = [
        {"source": "a", "output": {"x": ["1", "2", "3"]}, "spanned": [], "closed": [],
         "leaves": [["/x/0", 0.5, True], ["/x/1", 0.5, False], ["/x/2", 0.5, False]]},
        {"source": "b", "output": {"y": "z"}, "spanned": [], "closed": [],
         "leaves": [["/y", 0.9, True]]},
        {"source": "b", "error": "failed"},
    ]
    x, y, w = fit_calibration.examples(records, "leaf")
    assert x.shape == (4, len(FEATURES)) and list(y) == [1, 0, 0, 1] and list(w) == [1] * 4
    _, _, w = fit_calibration.examples(records, "row")
    assert list(w) == pytest.approx([2 / 3] * 3 + [2])  # each row weighs 2 of 4
    _, _, w = fit_calibration.examples(records, "source")
    assert list(w) == pytest.approx([2 / 3] * 3 + [2])
    with pytest.raises(ValueError, match="balance"):
        fit_calibration.fit(records, "m", balance="token")
