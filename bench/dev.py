"""Out-of-distribution dev benchmark: several models on mixture rows with unseen schemas.

Usage:
    python -m bench.dev --rows FILE.jsonl --models NAME_OR_PATH[,NAME_OR_PATH...]
        [--labels NAME[,NAME...]] [--engine maaza] [--edgejson-val N] [--limit-per-source N]
        [--threads N] [--max-tokens N] [--timeout S] [--n-ctx N] [--out DIR]
        [--factory MODULE:CALLABLE] [--smoke]

The rows are *mixture rows* (``train/sources/__init__.py``: id, source, schema_id, inline
schema, text, expected), as the mixture builder writes its dev file (for example
``runs/mixture/dev.jsonl``): schemas the model was never trained on. EdgeJSON validation rows are
not in that file (``bench/edgejson.py`` scores them); ``--edgejson-val N`` appends the first N of
them as mixture rows of source ``edgejson`` (``train.sources.edgejson``'s conversion) so that one
run shows both sides of a change. ``--limit-per-source N`` keeps the first N rows of each source
in file order.

Each model (a registry name such as ``smollm2-135m-instruct`` for the zero-shot base, or a GGUF
path) runs in its own ``bench/engines.py`` worker process with the same engine (``maaza`` by
default) over the same rows; models run one after another in one invocation.

Scores per model, overall ("all") and per source:
    json_exact, field_f1, compliance, schema_valid, leaf_f1
                    the native metrics exactly as bench/edgejson.py computes them
    field_accuracy  over (row, top-level property) pairs, for every property of the row's schema
                    or of its expected or output object: output[prop] == expected[prop] (the
                    metrics' equality), absent == absent counting as right; every pair of an
                    unparsed output is wrong. Per property name in report.json.
Failure counts (what goes wrong on unseen schemas): the kinds of bench/failures.py, over
parsed outputs (``absent_strings``/``absent_numbers`` are the values grounding rules out).

Writes to --out: report.json (config, environment header, per model: overall and per-source
scores, failure counts, per-field accuracy, latency p50/p95, every example's output with its
failures), report.md (one table per metric: rows = sources + "all", columns = models; the
failure-count table; per-field accuracy), config.json and worker_<label>.log. The tables are
printed too.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import edgejson as edgejson_bench
from bench.engines import FACTORY, EngineWorker, WorkerError
from bench.failures import FAILURES, failures
from bench.harness import EDGEJSON, OUT, REPO, format_environment, percentiles, physical_cores
from maaza_rt import metrics, metrics_reference
from maaza_rt.errors import MaazaError
from train.sources import load_rows

SCORE_METRICS = (*edgejson_bench.METRICS, "field_accuracy")
ALL = "all"
SMOKE_ROWS = 3  # rows per source with --smoke
SMOKE_MAX_TOKENS = 64


@dataclass
class Config:
    rows: str = str(REPO / "runs" / "mixture" / "dev.jsonl")  # mixture rows (JSONL)
    models: list[str] = field(default_factory=lambda: ["default"])  # registry names or GGUFs
    labels: list[str] | None = None  # display names, one per model (default: name or file stem)
    engine: str = "maaza"  # bench/engines.py engine every model runs with
    edgejson_val: int = 0  # append the first N EdgeJSON validation rows (source "edgejson")
    edgejson_root: str = str(EDGEJSON)  # train.jsonl and schemas/
    limit_per_source: int | None = None  # first N rows of each source, in file order
    threads: int | None = None  # CPU threads per worker (default: physical cores)
    max_tokens: int = 512  # generation budget per example
    timeout: float = 300.0  # seconds per example before the worker is killed
    n_ctx: int = 4096  # context of the llama.cpp engines (maaza's is a limit)
    out: str = str(OUT / "dev")
    factory: str = FACTORY  # module:callable building the engines in the worker


# ---- rows -------------------------------------------------------------------------------------


def load_mixture_rows(path: str | Path) -> list[dict[str, Any]]:
    """Mixture rows from a JSONL file, in file order (``train.sources.load_rows``).

    Raises:
        FileNotFoundError, ValueError: as ``train.sources.load_rows``.
    """
    return load_rows(path)


def edgejson_val_rows(root: str | Path, n: int) -> list[dict[str, Any]]:
    """The first ``n`` EdgeJSON validation rows (the split bench/edgejson.py scores) as mixture
    rows: source ``edgejson``, the schema file's content inline, text = prompt, expected =
    expected_output (``train.sources.edgejson``'s conversion).

    Raises:
        FileNotFoundError: ``root`` lacks train.jsonl or schemas/.
        ValueError: a row names a schema that has no file.
    """
    if n <= 0:
        return []
    from train.sources import edgejson as edgejson_source

    return edgejson_source.rows(Path(root), "dev")[:n]


def limit_per_source(rows: list[dict[str, Any]], n: int | None) -> list[dict[str, Any]]:
    """The first ``n`` rows of each source, keeping file order (all rows when ``n`` is None)."""
    if n is None:
        return list(rows)
    taken: dict[str, int] = {}
    out = []
    for row in rows:
        k = taken.get(row["source"], 0)
        if k < n:
            taken[row["source"]] = k + 1
            out.append(row)
    return out


def select_rows(cfg: Config) -> list[dict[str, Any]]:
    """The rows to run: --rows, plus --edgejson-val rows, limited per source.

    Raises:
        FileNotFoundError, ValueError: as :func:`load_mixture_rows` and :func:`edgejson_val_rows`;
            ValueError also when an EdgeJSON row's id is already in --rows.
    """
    rows = load_mixture_rows(cfg.rows)
    extra = edgejson_val_rows(cfg.edgejson_root, cfg.edgejson_val)
    clash = {r["id"] for r in rows} & {r["id"] for r in extra}
    if clash:
        raise ValueError(f"EdgeJSON rows already in {cfg.rows}: {', '.join(sorted(clash)[:5])}")
    return limit_per_source(rows + extra, cfg.limit_per_source)


_ABSENT = object()


def field_results(output: Any, expected: Any, schema: dict[str, Any], parsed: bool
                  ) -> dict[str, bool]:
    """Per top-level property of the schema, the expected or the output object: whether the
    output's value equals the expected one (absent == absent is right; unparsed: all wrong)."""
    out = output if isinstance(output, dict) else {}
    exp = expected if isinstance(expected, dict) else {}
    props = list(schema.get("properties") or {})
    props += [k for k in (*exp, *out) if k not in props]
    results = {}
    for p in dict.fromkeys(props):
        a, b = out.get(p, _ABSENT), exp.get(p, _ABSENT)
        same = a is b if _ABSENT in (a, b) else metrics_reference.equal_reference(a, b)
        results[p] = parsed and same
    return results


# ---- running and scoring ----------------------------------------------------------------------


def default_label(model: str) -> str:
    """A model's display name: a registry name as is, a file path as its stem."""
    return Path(model).stem if model.lower().endswith(".gguf") or "/" in model else model


def parse_output(text: str, parsed: bool, extract: bool) -> Any:
    """The output value the metrics scored (None when it did not parse)."""
    if not parsed:
        return None
    return json.loads((metrics.extract_json(text) or "null") if extract else text)


def score_batch(texts: list[str], rows: list[dict[str, Any]], extract: bool
                ) -> tuple[dict[str, Any], list[str]]:
    """``metrics.score`` by source with per-pair columns, and the schema_ids the native
    validator rejects (those rows are scored without a schema)."""
    expected = [json.dumps(r["expected"], ensure_ascii=False) for r in rows]
    sources = [r["source"] for r in rows]
    schemas: list[Any] = [r["schema"] for r in rows]
    try:
        return metrics.score(texts, expected, schemas, sources, extract, return_pairs=True), []
    except MaazaError:
        pass
    bad: dict[str, bool] = {}
    for r in rows:
        if r["schema_id"] not in bad:
            try:
                metrics.schema_valid("null", r["schema"])
                bad[r["schema_id"]] = False
            except MaazaError:
                bad[r["schema_id"]] = True
    schemas = [None if bad[r["schema_id"]] else r["schema"] for r in rows]
    return (metrics.score(texts, expected, schemas, sources, extract, return_pairs=True),
            sorted(k for k, v in bad.items() if v))


def summarize(examples: list[dict[str, Any]], totals: dict[str, Any]) -> dict[str, Any]:
    """One group's scores: the native totals plus field accuracy, per-field accuracy, failure
    counts, engine errors and latency."""
    pairs = [ok for e in examples for ok in e["fields"].values()]
    per_field: dict[str, list[int]] = {}
    for e in examples:
        for p, ok in e["fields"].items():
            c = per_field.setdefault(p, [0, 0])
            c[0] += ok
            c[1] += 1
    lat = percentiles((e["ms"] for e in examples if e["ms"] is not None), (50, 95))
    return {
        **totals,
        "field_accuracy": sum(pairs) / len(pairs) if pairs else None,
        "fields": {p: {"n": n, "accuracy": k / n}
                   for p, (k, n) in sorted(per_field.items(), key=lambda kv: -kv[1][1])},
        "failures": {kind: sum(len(e["failures"].get(kind, [])) for e in examples)
                     for kind in FAILURES},
        "n_errors": sum(1 for e in examples if e["error"]),
        "latency_ms": {"p50": lat.get("p50"), "p95": lat.get("p95")},
    }


def score_examples(rows: list[dict[str, Any]], examples: list[dict[str, Any]], extract: bool
                   ) -> dict[str, Any]:
    """Scores every example in place and returns ``overall``, ``by_source`` (first-appearance
    order) and the schema_ids scored without a schema."""
    result, unscored = score_batch([e["output"] for e in examples], rows, extract)
    for i, (row, e) in enumerate(zip(rows, examples)):
        e["scores"] = {k: result["pairs"][k][i] for k in ("parsed", *edgejson_bench.METRICS)}
        parsed = bool(e["scores"]["parsed"])
        value = parse_output(e["output"], parsed, extract)
        e["fields"] = field_results(value, row["expected"], row["schema"], parsed)
        found = failures(value, row["expected"], row["schema"], row["text"]) if parsed else {}
        e["failures"] = {k: v for k, v in found.items() if v}
    by_source: dict[str, list[dict[str, Any]]] = {}
    for e in examples:
        by_source.setdefault(e["source"], []).append(e)
    return {
        "overall": summarize(examples, result["overall"]),
        "by_source": {s: summarize(ex, result["groups"][s]) for s, ex in by_source.items()},
        "schemas_unscored": unscored,
    }


def run_model(model: str, label: str, cfg: Config, rows: list[dict[str, Any]], out_dir: Path
              ) -> dict[str, Any]:
    """Runs one model over every row in its own worker and scores it (``error`` set when the
    worker cannot start)."""
    from tqdm import tqdm

    threads = cfg.threads or physical_cores()
    safe = re.sub(r"[^\w.-]", "_", label)
    worker = EngineWorker(cfg.engine, model, threads, cfg.n_ctx, factory=cfg.factory,
                          start_timeout_s=max(cfg.timeout, 120.0),
                          log_path=out_dir / f"worker_{safe}.log")
    head = {"model": model, "engine": cfg.engine}
    try:
        worker.start()
    except WorkerError as e:
        worker.close()
        print(f"[{label}] skipped: {e}", file=sys.stderr)
        return {**head, "error": str(e)}
    examples: list[dict[str, Any]] = []
    try:
        for row in tqdm(rows, desc=label, unit="ex", file=sys.stderr):
            r = worker.extract(row["text"], row["schema"], cfg.max_tokens, timeout_s=cfg.timeout)
            examples.append({
                "id": row["id"], "source": row["source"], "schema_id": row["schema_id"],
                "output": r.text, "expected": row["expected"], "ms": r.total_ms,
                "n_out": r.n_output_tokens, "n_prompt": r.n_prompt_tokens or None,
                "error": edgejson_bench.example_error(r),
            })
    finally:
        worker.close()
    scored = score_examples(rows, examples, cfg.engine in edgejson_bench.EXTRACT_ENGINES)
    ns = argparse.Namespace(model=model, hf_model=model if cfg.engine == "hf" else None)
    return {**head, **scored, "n": len(examples), "peak_rss_mb": worker.peak_rss_mb,
            "model_load_ms": worker.load_ms, "n_restarts": worker.n_restarts,
            "model_file_mb": edgejson_bench.model_file_mb(ns, cfg.engine),  # type: ignore[arg-type]
            "examples": examples}


# ---- reporting --------------------------------------------------------------------------------


def _groups(report: dict[str, Any]) -> list[str]:
    order: dict[str, None] = {}
    for r in report["models"].values():
        order.update(dict.fromkeys(r.get("by_source", {})))
    return [*order, ALL]


def _group(r: dict[str, Any], group: str) -> dict[str, Any] | None:
    if "error" in r:
        return None
    return r["overall"] if group == ALL else r["by_source"].get(group)


def markdown_tables(report: dict[str, Any]) -> list[str]:
    """The models table, one table per metric (rows: sources and "all"; columns: models) and
    the failure-count table."""
    models = report["models"]
    lines = ["| model | path or name | n | p50 ms | p95 ms | errors | unparsed |",
             "|---|---|---|---|---|---|---|"]
    for label, r in models.items():
        if "error" in r:
            lines.append(f"| {label} | {r['model']} | failed to start: {r['error']} |")
            continue
        o = r["overall"]
        lines.append(f"| {label} | {r['model']} | {o['n']} | "
                     f"{edgejson_bench._fmt(o['latency_ms']['p50'], False)} | "
                     f"{edgejson_bench._fmt(o['latency_ms']['p95'], False)} | "
                     f"{o['n_errors']} | {o['n_unparsed']} |")
    groups = _groups(report)
    for metric in SCORE_METRICS:
        lines += ["", f"### {metric} (percent)", "",
                  "| source | n | " + " | ".join(models) + " |",
                  "|---|---|" + "---|" * len(models)]
        for g in groups:
            cells = [_group(r, g) for r in models.values()]
            n = next((c["n"] for c in cells if c), 0)
            lines.append(f"| {g} | {n} | " + " | ".join(
                edgejson_bench._fmt(c[metric] if c else None) for c in cells) + " |")
    lines += ["", "### Failure counts (string leaves and top-level fields of parsed outputs)", "",
              "| source | model | n | unparsed | errors | " + " | ".join(FAILURES) + " |",
              "|---|---|---|---|---|" + "---|" * len(FAILURES)]
    for g in groups:
        for label, r in models.items():
            c = _group(r, g)
            if c is not None:
                lines.append(f"| {g} | {label} | {c['n']} | {c['n_unparsed']} | "
                             f"{c['n_errors']} | "
                             + " | ".join(str(c["failures"][k]) for k in FAILURES) + " |")
    return lines


def write_markdown(report: dict[str, Any], path: Path, max_fields: int = 12) -> str:
    """Writes report.md and returns the tables printed to stdout (everything but the header and
    the per-field section)."""
    cfg = report["config"]
    tables = "\n".join(markdown_tables(report))
    lines = ["# Out-of-distribution dev benchmark", "",
             " | ".join(f"{k}: {v}" for k, v in report["environment"].items()), "",
             f"rows: {report['n_rows']} from {cfg['rows']} (+{cfg['edgejson_val']} EdgeJSON "
             f"validation), limit per source {cfg['limit_per_source']}, engine {cfg['engine']}, "
             f"max_tokens {cfg['max_tokens']}", "", tables, "",
             f"### Per-field accuracy (percent, rows; the {max_fields} most frequent fields)"]
    models = report["models"]
    for g in _groups(report)[:-1]:  # per source only: "all" pools unrelated schemas
        counts: dict[str, int] = {}
        for r in models.values():
            for p, f in (_group(r, g) or {}).get("fields", {}).items():
                counts[p] = max(counts.get(p, 0), f["n"])
        top = sorted(counts, key=lambda p: (-counts[p], p))[:max_fields]
        if not top:
            continue
        lines += ["", f"#### {g}", "", "| field | " + " | ".join(models) + " |",
                  "|---|" + "---|" * len(models)]
        for p in top:
            cells = []
            for r in models.values():
                f = (_group(r, g) or {}).get("fields", {}).get(p)
                cells.append("-" if f is None else
                             f"{edgejson_bench._fmt(f['accuracy'])} ({f['n']})")
            lines.append(f"| {p} | " + " | ".join(cells) + " |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tables


# ---- command line -----------------------------------------------------------------------------


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [s.strip() for s in text.split(",") if s.strip()]


def parse_args(argv: list[str] | None) -> Config:
    """The run's config from the command line (``--smoke`` caps rows and tokens).

    Raises:
        SystemExit: bad arguments (argparse), or --labels not matching --models.
    """
    d = Config()
    ap = argparse.ArgumentParser(prog="python -m bench.dev",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default=d.rows, help="mixture rows (JSONL)")
    ap.add_argument("--models", default=",".join(d.models),
                    help="comma-separated registry names or GGUF paths")
    ap.add_argument("--labels", default=None, help="comma-separated display names")
    ap.add_argument("--engine", choices=edgejson_bench.ENGINES, default=d.engine)
    ap.add_argument("--edgejson-val", dest="edgejson_val", type=int, default=d.edgejson_val)
    ap.add_argument("--edgejson-root", dest="edgejson_root", default=d.edgejson_root)
    ap.add_argument("--limit-per-source", dest="limit_per_source", type=int,
                    default=d.limit_per_source)
    ap.add_argument("--threads", type=int, default=d.threads)
    ap.add_argument("--max-tokens", dest="max_tokens", type=int, default=d.max_tokens)
    ap.add_argument("--timeout", type=float, default=d.timeout)
    ap.add_argument("--n-ctx", dest="n_ctx", type=int, default=d.n_ctx)
    ap.add_argument("--out", default=d.out)
    ap.add_argument("--factory", default=d.factory,
                    help="engine factory module:callable (custom engines)")
    ap.add_argument("--smoke", action="store_true",
                    help=f"{SMOKE_ROWS} rows per source, {SMOKE_MAX_TOKENS} tokens")
    args = ap.parse_args(argv)
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(Config)}
    values["models"] = _split(args.models) or d.models
    values["labels"] = _split(args.labels)
    if values["labels"] is not None and len(values["labels"]) != len(values["models"]):
        ap.error(f"--labels names {len(values['labels'])} models, --models "
                 f"{len(values['models'])}")
    if args.smoke:
        if values["limit_per_source"] is None:
            values["limit_per_source"] = SMOKE_ROWS
        values["max_tokens"] = min(values["max_tokens"], SMOKE_MAX_TOKENS)
    return Config(**values)


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    labels = cfg.labels or [default_label(m) for m in cfg.models]
    if len(set(labels)) != len(labels):
        print(f"error: model labels must be unique, got {', '.join(labels)} (use --labels)",
              file=sys.stderr)
        return 2
    out_dir = Path(cfg.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=2) + "\n")
    env = edgejson_bench.run_environment(cfg.threads)
    print(format_environment(env))
    try:
        rows = select_rows(cfg)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["source"]] = counts.get(row["source"], 0) + 1
    print(f"rows: {len(rows)} ({', '.join(f'{s} {n}' for s, n in counts.items())}), "
          f"models: {', '.join(labels)}")
    report: dict[str, Any] = {"config": dataclasses.asdict(cfg), "environment": env,
                              "n_rows": len(rows), "rows_per_source": counts, "models": {}}
    for model, label in zip(cfg.models, labels):
        report["models"][label] = run_model(model, label, cfg, rows, out_dir)
    (out_dir / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    print(write_markdown(report, out_dir / "report.md"))
    print(f"wrote {out_dir / 'report.json'}, report.md")
    return 0 if all("error" not in r for r in report["models"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
