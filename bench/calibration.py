"""Calibration of leaf confidences: expected calibration error and a reliability diagram.

Usage:
    python -m bench.calibration [--rows FILE.jsonl] [--edgejson-root DIR] [--limit N]
        [--model NAME_OR_PATH] [--threads N] [--max-tokens N] [--n-ctx N] [--bins N]
        [--overhead] [--out DIR] [--smoke]

Runs the model (the default one, one thread) in this process with ``return_details=True`` on
the EdgeJSON validation rows (``bench/dev.py``'s conversion: source ``edgejson``) and the
out-of-distribution dev rows (``--rows``, default ``runs/mixture/dev.jsonl``: schemas the model
never saw in training), and collects one ``(confidence, correct)`` pair per leaf of each output
(``Extraction.confidence``; docs/details.md): correct when the expected value has a leaf at the
same JSON pointer and it equals the output's (``metrics_reference.equal_reference``); a pointer
the expected value lacks is wrong. Rows whose extraction fails (a schema the engine rejects, a
budget error) add no pair and are counted.

Prints, per source, for EdgeJSON (``edgejson``), the pooled dev sources (``dev``) and overall
(``all``): rows, failed rows, rows whose value budget closing ended at ``--max-tokens`` (a
list run on until the budget adds hundreds of leaves), leaves, accuracy, mean confidence, ECE
(``--bins`` equal-width bins, 10 by default: the leaf-weighted mean of |accuracy - mean
confidence| per bin), the ECE over the rows not closed by the budget, and the Brier score; and the
span check: every spanned string leaf's text equals its value up to whitespace runs. With
``--overhead`` each row also runs twice more, with and without details, and the median ratio
of their wall times is the cost of recording token probabilities.

Writes to --out (default bench/out/calibration): reliability.png (accuracy per confidence bin
for edgejson, dev and all, with the leaf counts per bin), report.json (config, environment,
scores, every leaf's pair), report.md and config.json. ``--limit N`` keeps the first N rows of
each source; ``--smoke`` is ``--limit 2 --max-tokens 128``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bench.dev import limit_per_source
from bench.harness import EDGEJSON, OUT, REPO, environment, format_environment
from maaza_rt.grounding_text import collapse_whitespace
from maaza_rt.metrics_reference import equal_reference
from maaza_rt.spans import leaves

EDGEJSON_SOURCE = "edgejson"
DEV = "dev"  # every source of --rows, pooled
ALL = "all"
SMOKE_LIMIT = 2
SMOKE_MAX_TOKENS = 128


@dataclass
class Config:
    rows: str = str(REPO / "runs" / "mixture" / "dev.jsonl")  # OOD dev mixture rows ("" = none)
    edgejson_root: str = str(EDGEJSON)  # train.jsonl and schemas/ ("" = no EdgeJSON rows)
    model: str | None = None  # registry name or GGUF path; None: the default model
    threads: int = 1  # llama.cpp threads
    limit: int | None = None  # first N rows of each source
    max_tokens: int = 512  # generation budget per row
    n_ctx: int = 4096  # largest context
    bins: int = 10  # equal-width confidence bins of the ECE and the diagram
    overhead: bool = False  # also time each row with and without details
    out: str = str(OUT / "calibration")


class Extracting(Protocol):
    """What the run needs of an extractor (``maaza_rt.Extractor`` has it)."""

    def extract(self, text: str, schema: Any, *, max_tokens: int = ...,
                optional_timezone: bool = ..., return_details: bool = ...) -> Any: ...
    def clear_cache(self) -> None: ...


# ---- scoring ------------------------------------------------------------------------------------


def leaf_outcomes(output: Any, expected: Any, confidence: dict[str, float]
                  ) -> list[tuple[str, float, bool]]:
    """``(pointer, confidence, correct)`` for every leaf of ``output`` that has a confidence:
    correct when ``expected`` has a leaf at the pointer equal to the output's."""
    right = dict(leaves(expected))
    out = []
    for pointer, leaf in leaves(output):
        if pointer in confidence:
            ok = pointer in right and equal_reference(leaf, right[pointer])
            out.append((pointer, float(confidence[pointer]), ok))
    return out


def reliability_bins(pairs: Sequence[tuple[float, bool]], n_bins: int
                     ) -> list[dict[str, float]]:
    """Per equal-width confidence bin (``[k/n, (k+1)/n)``, the last one closed): its range,
    leaf count, mean confidence and accuracy (NaN when empty)."""
    if n_bins < 1:
        raise ValueError("n_bins must be at least 1")
    members: list[list[tuple[float, bool]]] = [[] for _ in range(n_bins)]
    for p, ok in pairs:
        members[min(max(int(p * n_bins), 0), n_bins - 1)].append((p, ok))
    bins = []
    for k, m in enumerate(members):
        nan = float("nan")
        bins.append({"lo": k / n_bins, "hi": (k + 1) / n_bins, "n": len(m),
                     "confidence": statistics.fmean(p for p, _ in m) if m else nan,
                     "accuracy": sum(ok for _, ok in m) / len(m) if m else nan})
    return bins


def expected_calibration_error(pairs: Sequence[tuple[float, bool]], n_bins: int = 10) -> float:
    """ECE: the leaf-weighted mean over equal-width bins of |accuracy - mean confidence|
    (NaN for no pairs)."""
    if not pairs:
        return float("nan")
    return sum(b["n"] / len(pairs) * abs(b["accuracy"] - b["confidence"])
               for b in reliability_bins(pairs, n_bins) if b["n"])


def summarize(pairs: Sequence[tuple[float, bool]], n_bins: int) -> dict[str, Any]:
    """Leaves, accuracy, mean confidence, ECE, Brier score and the bins of one group."""
    n = len(pairs)
    nan = float("nan")
    return {"n_leaves": n,
            "accuracy": sum(ok for _, ok in pairs) / n if n else nan,
            "confidence": statistics.fmean(p for p, _ in pairs) if n else nan,
            "ece": expected_calibration_error(pairs, n_bins),
            "brier": statistics.fmean((p - ok) ** 2 for p, ok in pairs) if n else nan,
            "bins": reliability_bins(pairs, n_bins)}


def span_mismatches(value: Any, text: str, spans: dict[str, tuple[int, int]]) -> list[str]:
    """Pointers of string leaves whose span's text, whitespace runs collapsed, differs from
    the value collapsed the same way (the span property; none is expected)."""
    strings = {p: v for p, v in leaves(value) if isinstance(v, str)}
    return [p for p, (s, e) in spans.items()
            if p in strings and collapse_whitespace(text[s:e]) != collapse_whitespace(strings[p])]


# ---- running ------------------------------------------------------------------------------------


def select_rows(cfg: Config) -> list[dict[str, Any]]:
    """EdgeJSON validation rows (source ``edgejson``), then the dev rows, each source limited
    to its first ``cfg.limit`` rows.

    Raises:
        FileNotFoundError, ValueError: the row files cannot be read.
    """
    rows: list[dict[str, Any]] = []
    if cfg.edgejson_root:
        from train.sources import edgejson as edgejson_source

        rows += edgejson_source.rows(Path(cfg.edgejson_root), "dev")
    if cfg.rows:
        from train.sources import load_rows

        rows += load_rows(cfg.rows)
    return limit_per_source(rows, cfg.limit)


def run_rows(extractor: Extracting, rows: Iterable[dict[str, Any]], cfg: Config,
             log: Any = None) -> list[dict[str, Any]]:
    """Extracts every row and returns one record per row: id, source, output, its leaves'
    pairs, span check and timings, or the error."""
    from maaza_rt.errors import MaazaError

    records = []
    for k, row in enumerate(rows):
        options: dict[str, Any] = {"max_tokens": cfg.max_tokens, "optional_timezone": True}
        record: dict[str, Any] = {"id": row["id"], "source": row["source"]}
        t0 = time.perf_counter_ns()
        try:
            r = extractor.extract(row["text"], row["schema"], return_details=True, **options)
        except MaazaError as e:
            record["error"] = f"{type(e).__name__}: {e}"
        else:
            output = json.loads(r.text)
            record.update(
                ms=(time.perf_counter_ns() - t0) / 1e6, output=output,
                leaves=[list(x) for x in leaf_outcomes(output, row["expected"], r.confidence)],
                n_spans=len(r.spans), span_mismatches=span_mismatches(output, row["text"],
                                                                      r.spans),
                budget_closed=bool(getattr(r, "budget_closed", False)))
            if cfg.overhead:
                record["overhead_ratio"] = _overhead(extractor, row, options)
        records.append(record)
        if log is not None:
            state = record.get("error") or f"{len(record['leaves'])} leaves"
            print(f"[{k + 1}] {row['id']}: {state}", file=log, flush=True)
    return records


def _overhead(extractor: Extracting, row: dict[str, Any], options: dict[str, Any]) -> float:
    """Wall time with details over without (each the best of two, whole prompt evaluated)."""
    best: dict[bool, float] = {}
    for details in (False, True, False, True):
        extractor.clear_cache()
        t0 = time.perf_counter_ns()
        extractor.extract(row["text"], row["schema"], return_details=details, **options)
        ms = (time.perf_counter_ns() - t0) / 1e6
        best[details] = min(ms, best.get(details, ms))
    return best[True] / best[False]


def _members(records: Sequence[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The records of group ``name``: a source, ``dev`` or ``all``."""
    return [r for r in records if name == ALL or r["source"] == name
            or (name == DEV and r["source"] != EDGEJSON_SOURCE)]


def _pairs(records: Iterable[dict[str, Any]]) -> list[tuple[float, bool]]:
    return [(p, bool(ok)) for r in records for _, p, ok in r.get("leaves", [])]


def groups(records: Sequence[dict[str, Any]]) -> dict[str, list[tuple[float, bool]]]:
    """The pairs of each source, then ``dev`` (every source but EdgeJSON) and ``all``."""
    names = list(dict.fromkeys(r["source"] for r in records))
    if any(r["source"] != EDGEJSON_SOURCE for r in records):
        names.append(DEV)
    return {name: _pairs(_members(records, name)) for name in [*names, ALL]}


# ---- reporting ----------------------------------------------------------------------------------


def _fmt(x: float, digits: int = 3) -> str:
    return "-" if x != x else f"{x:.{digits}f}"


def table(report: dict[str, Any]) -> list[str]:
    """The per-group table as Markdown lines."""
    lines = ["| group | rows | errors | closed | leaves | accuracy | mean confidence | ECE | "
             "ECE not closed | Brier |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name, g in report["groups"].items():
        lines.append(f"| {name} | {g['n_rows']} | {g['n_errors']} | {g['n_budget_closed']} | "
                     f"{g['n_leaves']} | {_fmt(g['accuracy'])} | {_fmt(g['confidence'])} | "
                     f"{_fmt(g['ece'])} | {_fmt(g['ece_not_closed'])} | {_fmt(g['brier'])} |")
    return lines


def write_diagram(report: dict[str, Any], path: Path) -> None:
    """The reliability diagram: accuracy against mean confidence per bin for edgejson, dev and
    all, the diagonal, and the leaves per bin below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [g for g in (EDGEJSON_SOURCE, DEV, ALL) if g in report["groups"]]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6, 7), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1]})
    top.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="calibrated")
    n_bins = report["config"]["bins"]
    width = 1.0 / n_bins / (len(shown) + 1)
    for i, name in enumerate(shown):
        g = report["groups"][name]
        full = [b for b in g["bins"] if b["n"]]
        top.plot([b["confidence"] for b in full], [b["accuracy"] for b in full], marker="o",
                 label=f"{name} (ECE {_fmt(g['ece'])}, {g['n_leaves']} leaves)")
        bottom.bar([b["lo"] + (i + 0.5) * width for b in g["bins"]], [b["n"] for b in g["bins"]],
                   width, label=name)
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy (leaf equals expected)")
    top.set_title("Reliability of leaf confidence")
    top.legend(loc="upper left", fontsize=8)
    bottom.set_xlabel("confidence")
    bottom.set_ylabel("leaves")
    bottom.set_yscale("log")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def build_report(cfg: Config, env: dict[str, Any], records: list[dict[str, Any]]
                 ) -> dict[str, Any]:
    """Scores per group, the span check, the overhead ratio and the records."""
    by_group = groups(records)
    scored = {}
    for name, pairs in by_group.items():
        members = _members(records, name)
        open_rows = [r for r in members if not r.get("budget_closed")]
        scored[name] = {"n_rows": len(members),
                        "n_errors": sum("error" in r for r in members),
                        "n_budget_closed": len(members) - len(open_rows),
                        **summarize(pairs, cfg.bins),
                        "ece_not_closed": expected_calibration_error(_pairs(open_rows),
                                                                     cfg.bins)}
    ratios = [r["overhead_ratio"] for r in records if "overhead_ratio" in r]
    return {"config": dataclasses.asdict(cfg), "environment": env, "groups": scored,
            "n_spans": sum(r.get("n_spans", 0) for r in records),
            "span_mismatches": [f"{r['id']}{p}" for r in records
                                for p in r.get("span_mismatches", [])],
            "overhead_ratio_p50": statistics.median(ratios) if ratios else None,
            "records": records}


def write_outputs(report: dict[str, Any], out_dir: Path) -> list[str]:
    """Writes report.json, report.md and reliability.png; returns the lines printed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False)
                                         + "\n", encoding="utf-8")
    lines = table(report)
    lines += ["", f"span check: {report['n_spans']} spans, "
                  f"{len(report['span_mismatches'])} whose text differs from the value"]
    if report["overhead_ratio_p50"] is not None:
        lines.append(f"details overhead: median wall-time ratio with/without "
                     f"{report['overhead_ratio_p50']:.3f}")
    cfg = report["config"]
    head = ["# Leaf confidence calibration", "",
            " | ".join(f"{k}: {v}" for k, v in report["environment"].items()), "",
            f"rows: EdgeJSON validation + {cfg['rows'] or 'no dev rows'}, limit per source "
            f"{cfg['limit']}, max_tokens {cfg['max_tokens']}, {cfg['bins']} bins", ""]
    (out_dir / "report.md").write_text("\n".join(head + lines) + "\n", encoding="utf-8")
    write_diagram(report, out_dir / "reliability.png")
    return lines


# ---- command line -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> Config:
    """The run's config from the command line.

    Raises:
        SystemExit: bad arguments (argparse).
    """
    d = Config()
    ap = argparse.ArgumentParser(prog="python -m bench.calibration",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default=d.rows, help='OOD dev mixture rows (JSONL; "" for none)')
    ap.add_argument("--edgejson-root", dest="edgejson_root", default=d.edgejson_root,
                    help='EdgeJSON train.jsonl and schemas/ ("" for no EdgeJSON rows)')
    ap.add_argument("--model", default=d.model, help="registry name or GGUF path")
    ap.add_argument("--threads", type=int, default=d.threads)
    ap.add_argument("--limit", type=int, default=d.limit, help="first N rows of each source")
    ap.add_argument("--max-tokens", dest="max_tokens", type=int, default=d.max_tokens)
    ap.add_argument("--n-ctx", dest="n_ctx", type=int, default=d.n_ctx)
    ap.add_argument("--bins", type=int, default=d.bins)
    ap.add_argument("--overhead", action="store_true",
                    help="also time each row with and without details")
    ap.add_argument("--out", default=d.out)
    ap.add_argument("--smoke", action="store_true",
                    help=f"--limit {SMOKE_LIMIT} --max-tokens {SMOKE_MAX_TOKENS}")
    args = ap.parse_args(argv)
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(Config)}
    if values["bins"] < 1:
        ap.error("--bins must be at least 1")
    if args.smoke:
        values["limit"] = values["limit"] or SMOKE_LIMIT
        values["max_tokens"] = min(values["max_tokens"], SMOKE_MAX_TOKENS)
    return Config(**values)


def main(argv: list[str] | None = None, extractor: Extracting | None = None) -> int:
    """Runs the benchmark (``extractor``: an extractor to use instead of loading the model)."""
    cfg = parse_args(argv)
    out_dir = Path(cfg.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=2) + "\n")
    env = environment(threads=cfg.threads, model=cfg.model or "default")
    print(format_environment(env))
    try:
        rows = select_rows(cfg)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["source"]] = counts.get(row["source"], 0) + 1
    print(f"rows: {len(rows)} ({', '.join(f'{s} {n}' for s, n in counts.items())})")
    if extractor is None:
        from maaza_rt.extractor import Extractor

        extractor = Extractor(cfg.model, n_threads=cfg.threads, n_ctx=cfg.n_ctx)
    records = run_rows(extractor, rows, cfg, log=sys.stderr)
    report = build_report(cfg, env, records)
    print("\n".join(write_outputs(report, out_dir)))
    print(f"wrote {out_dir / 'report.json'}, report.md, reliability.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
