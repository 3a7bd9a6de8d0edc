"""Fits a model's calibration map (:mod:`maaza_rt.calibration`) on labelled extractions.

Usage:
    python -m train.fit_calibration REPORT.json [REPORT.json ...] --model NAME --out FILE.json
        [--l2 X] [--note TEXT] [--balance leaf|row|source]

Each report is what ``python -m bench.calibration`` writes (``report.json``): per row the output,
every leaf's ``(pointer, probability, correct)``, the pointers with a span and those budget
closing wrote. Run it on rows the model was not trained on and that are not the rows the map
is judged on (the mixture's training rows for the default model, which was fine-tuned on EdgeJSON
only; the dev rows and EdgeJSON validation stay for ``bench.calibration``):

    python -m bench.calibration --rows runs/mixture/train.jsonl --edgejson-root "" --limit 20 \\
        --out runs/calibration-fit
    python -m train.fit_calibration runs/calibration-fit/report.json --model maaza-mlm-135m \\
        --out maaza_rt/weights/maaza-mlm-135m-calibration.json

The map is a logistic regression, every leaf weighing the same (as in the expected calibration
error), with an L2 penalty on the weights (not the bias), fitted by Newton's method.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from maaza_rt.calibration import FEATURES, CalibrationMap, leaf_features

BALANCE = ("leaf", "row", "source")


def examples(records: Iterable[dict[str, Any]], balance: str = "leaf"
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The feature matrix, the 0/1 labels and the weights of every leaf of every record that has
    leaves. ``balance``: every leaf weighs the same (``leaf``), every row's leaves together weigh
    the same (``row``), or every source's (``source``); weights average 1."""
    xs: list[list[float]] = []
    ys: list[float] = []
    groups: list[str] = []
    for k, r in enumerate(records):
        if "leaves" not in r:
            continue
        probability = {p: float(prob) for p, prob, *_ in r["leaves"]}
        feats = leaf_features(r["output"], probability, r.get("spanned", []),
                              r.get("closed", []))
        group = {"leaf": "", "row": str(k), "source": str(r.get("source", ""))}[balance]
        for p, _, ok, *_ in r["leaves"]:
            if p in feats:
                xs.append(feats[p])
                ys.append(float(bool(ok)))
                groups.append(group)
    sizes: dict[str, int] = {}
    for g in groups:
        sizes[g] = sizes.get(g, 0) + 1
    w = np.asarray([1.0 / sizes[g] for g in groups])
    if len(w):
        w *= len(w) / w.sum()
    return (np.asarray(xs, dtype=np.float64).reshape(-1, len(FEATURES)), np.asarray(ys), w)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 100,
                 sample_weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-penalised logistic regression, each example weighted by
    ``sample_weight`` (default 1) (Newton's method; the penalty ``l2 * |w|^2 / 2`` spares the
    bias)."""
    n, d = x.shape
    if n == 0:
        raise ValueError("no labelled leaves to fit on")
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    a = np.hstack([x, np.ones((n, 1))])
    beta = np.zeros(d + 1)
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        z = a @ beta
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))
        grad = a.T @ (sw * (p - y)) + penalty * beta
        hess = (a * (sw * p * (1 - p))[:, None]).T @ a + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if float(np.max(np.abs(step))) < 1e-8:
            break
    return beta[:-1], float(beta[-1])


def log_loss(m: CalibrationMap, x: np.ndarray, y: np.ndarray) -> float:
    ps = np.array([m.probability(row) for row in x])
    ps = np.clip(ps, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(ps) + (1 - y) * np.log(1 - ps)))


def fit(records: Sequence[dict[str, Any]], model: str, l2: float = 1.0, note: str = "",
        balance: str = "leaf") -> tuple[CalibrationMap, dict[str, Any]]:
    """The map fitted on ``records`` (weighted per ``balance``, see :func:`examples`) and a
    summary (leaves, accuracy, log loss)."""
    if balance not in BALANCE:
        raise ValueError(f"balance must be one of {', '.join(BALANCE)}")
    x, y, weight = examples(records, balance)
    w, b = fit_logistic(x, y, l2, sample_weight=weight)
    m = CalibrationMap(model=model, features=FEATURES, weights=tuple(float(v) for v in w),
                       bias=b, fitted_on=note)
    summary = {"rows": sum(1 for r in records if "leaves" in r), "leaves": int(len(y)),
               "accuracy": float(y.mean()) if len(y) else math.nan,
               "log_loss": log_loss(m, x, y)}
    return m, summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m train.fit_calibration", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("reports", nargs="+", help="report.json files of bench.calibration")
    ap.add_argument("--model", required=True, help="the model the map is for")
    ap.add_argument("--out", required=True, help="the map file to write")
    ap.add_argument("--l2", type=float, default=1.0, help="L2 penalty on the weights")
    ap.add_argument("--note", default="", help="what it was fitted on (stored in the map)")
    ap.add_argument("--balance", choices=BALANCE, default="leaf",
                    help="what weighs the same: every leaf (as in the ECE), row or source")
    args = ap.parse_args(argv)
    records: list[dict[str, Any]] = []
    for path in args.reports:
        with open(path, encoding="utf-8") as f:
            records += json.load(f)["records"]
    note = args.note or f"{len(records)} rows of {', '.join(args.reports)}"
    m, summary = fit(records, args.model, args.l2, note, args.balance)
    Path(args.out).write_text(json.dumps(m.to_json(), indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary))
    for name, w in zip(m.features, m.weights):
        print(f"  {name:14s} {w:+.3f}")
    print(f"  {'bias':14s} {m.bias:+.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
