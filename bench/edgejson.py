"""EdgeJSON benchmark harness: extraction engines scored with the exact native metrics.

Usage:
    python -m bench.edgejson [--data FILE.jsonl] [--schemas DIR] [--model PATH|NAME]
        [--engine maaza|maaza-nolookup|maaza-nojf|llama-gbnf|free|hf ...] [--out DIR]
        [--split val|train|all]
        [--limit N] [--threads N] [--max-tokens N] [--timeout S] [--n-ctx N]
        [--factory MODULE:CALLABLE] [--smoke]

Engines (all see the same prompt, built by maaza_rt.prompt from the model's chat template, and
all decode greedily):
    maaza       maaza_rt.Extractor: the grammar engine masks every step (output always valid);
                jump-forward and prompt lookup feed forced and copied tokens in batches, and
                the copy bias prefers near-tied copies from the text.
    maaza-nolookup  jump-forward only: plain greedy output.
    maaza-nojf  plain step-by-step greedy decoding (one forward pass per output token).
    llama-gbnf  llama-cpp-python's own JSON-schema mode: LlamaGrammar.from_json_schema, the
                grammar `response_format={"type": "json_object", "schema": ...}` builds, applied
                to a completion of the same prompt tokens.
    free        unconstrained generation, scored with the paper's extract-JSON fallback.
    hf          transformers `generate` on --hf-model (needs torch and transformers; scored like
                free).

The engines and their worker processes are bench/engines.py's (the same code the latency sweep
runs); the environment header is bench/harness.py's. Each engine runs in its own worker process
that loads the model once; an example that crashes the worker (llama-cpp-python segfaults on some
grammars) or runs past --timeout is counted as a failed example (empty output, scored zero) and
the worker is restarted. Peak RSS is the worker's. --factory module:callable builds custom
engines in the worker (as in pi_latency.py).

Writes to --out: report.json (config, environment, per-engine scores overall / by complexity /
by schema, latency p50/p95, output tokens/s, peak RSS, model file size and every example),
report.md (tables), accuracy_by_complexity.png, latency.png, config.json and one worker log per
engine. --split val (default) is maaza_rt.edgejson.validation_split(rows, 0.2, seed 0)'s
held-out part.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.engine_worker import FACTORY, EngineResult, EngineWorker, WorkerError
from bench.engines import hf_source
from bench.harness import (
    EDGEJSON,
    OUT,
    environment,
    format_environment,
    percentiles,
    physical_cores,
    resolve,
)
from maaza_rt import edgejson, metrics

# engines.make_engine names
ENGINES = ("maaza", "maaza-nolookup", "maaza-nojf", "llama-gbnf", "free", "hf",
           "maaza-nobias", "maaza-nocopy", "maaza-nolayout", "maaza-nolabels",
           "maaza-nogrounding", "maaza-absent1", "maaza-absent2")
EXTRACT_ENGINES = ("free", "hf")  # unconstrained: scored with the paper's fallback
METRICS = ("json_exact", "field_f1", "compliance", "schema_valid", "leaf_f1")


@dataclass
class Config:
    data: str = str(EDGEJSON / "train.jsonl")  # EdgeJSON rows
    schemas: str = str(EDGEJSON / "schemas")  # <schema_id>.json
    model: str | None = None  # GGUF path or registry name; None: the default model
    hf_model: str | None = None  # Hugging Face id, directory or .gguf for --engine hf
    engines: list[str] = field(default_factory=lambda: ["maaza"])
    out: str = str(OUT / "edgejson")
    split: str = "val"  # val | train | all
    fraction: float = 0.2  # validation fraction (maaza_rt.edgejson.validation_split)
    seed: int = 0  # validation split seed
    limit: int | None = None  # first N rows of the split
    threads: int | None = None  # CPU threads per engine (default: physical cores)
    max_tokens: int = 512  # generation budget per example
    timeout: float = 300.0  # seconds per example before the worker is killed
    n_ctx: int = 4096  # context of the llama.cpp engines (maaza's is a limit)
    factory: str = FACTORY  # module:callable building the engines in the worker


# ---- parent: running, scoring, reporting --------------------------------------------------------


def select_rows(cfg: Config) -> tuple[list[dict], dict[str, Any]]:
    rows = edgejson.load_rows(cfg.data)
    schemas = edgejson.load_schemas(cfg.schemas)
    if cfg.split != "all":
        train, val = edgejson.validation_split(rows, cfg.fraction, cfg.seed)
        rows = val if cfg.split == "val" else train
    if cfg.limit is not None:
        rows = rows[: cfg.limit]
    missing = sorted({r["schema_id"] for r in rows} - set(schemas))
    if missing:
        raise ValueError(f"no schema file for schema_id(s) {', '.join(missing)} in {cfg.schemas}")
    return rows, schemas


def model_file_mb(cfg: Config, engine: str) -> float | None:
    try:
        if engine == "hf":
            source, kwargs = hf_source(cfg.hf_model or cfg.model or "")
            p = Path(source)
            if "gguf_file" in kwargs:
                return (p / kwargs["gguf_file"]).stat().st_size / 2**20
            if p.is_dir():
                return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) / 2**20
            return None  # a hub id: nothing on disk to measure
        return resolve(cfg.model).path.stat().st_size / 2**20
    except Exception:  # an unresolvable model is reported by the worker itself
        return None


def example_error(result: EngineResult) -> str | None:
    """What failed in one extraction: a crash, a timeout, a load or generation error (maaza's
    GenerationLimitError included); None when the engine produced its text, parseable or not
    (parsing is the metrics' part: ``scores.parsed`` and the unparsed count)."""
    if not result.error or result.error.startswith("ParseError"):
        return None
    return result.error


def run_engine(engine: str, cfg: Config, rows: list[dict], schemas: dict[str, Any],
               out_dir: Path) -> dict:
    from tqdm import tqdm

    model = (cfg.hf_model or cfg.model) if engine == "hf" else cfg.model
    if engine == "hf" and not model:
        error = "the hf engine needs --hf-model (a Hugging Face id, directory or .gguf file)"
        print(f"[{engine}] skipped: {error}", file=sys.stderr)
        return {"engine": engine, "error": error}
    threads = cfg.threads or physical_cores()
    worker = EngineWorker(engine, model or "default", threads, cfg.n_ctx, factory=cfg.factory,
                          start_timeout_s=max(cfg.timeout, 120.0),
                          log_path=out_dir / f"worker_{engine}.log")
    examples: list[dict] = []
    try:
        worker.start()
    except WorkerError as e:
        worker.close()
        print(f"[{engine}] skipped: {e}", file=sys.stderr)
        return {"engine": engine, "error": str(e)}
    try:
        for row in tqdm(rows, desc=engine, unit="ex", file=sys.stderr):
            r = worker.extract(row["prompt"], schemas[row["schema_id"]], cfg.max_tokens,
                               timeout_s=cfg.timeout)
            examples.append({
                "id": row["id"], "schema_id": row["schema_id"],
                "complexity": edgejson.complexity(row), "text": r.text, "ms": r.total_ms,
                "n_out": r.n_output_tokens, "n_prompt": r.n_prompt_tokens or None,
                "n_prompt_eval": r.n_prompt_eval, "n_forced": r.n_forced_tokens,
                "n_drafted": r.n_drafted_tokens,
                "prompt_ms": r.prompt_ms, "decode_ms": r.decode_ms, "grammar_ms": r.grammar_ms,
                "error": example_error(r),
            })
    finally:
        worker.close()

    expected = [json.dumps(row["expected_output"], ensure_ascii=False) for row in rows]
    texts = [e["text"] for e in examples]
    pair_schemas = [schemas[row["schema_id"]] for row in rows]
    extract = engine in EXTRACT_ENGINES
    by_complexity = metrics.score(texts, expected, pair_schemas,
                                  [e["complexity"] for e in examples], extract, return_pairs=True)
    by_schema = metrics.score(texts, expected, pair_schemas, [e["schema_id"] for e in examples],
                              extract)
    for i, e in enumerate(examples):
        e["scores"] = {k: by_complexity["pairs"][k][i] for k in ("parsed", *METRICS)}
    ms = [e["ms"] for e in examples if e["ms"] is not None]
    lat = percentiles(ms, (50, 95))
    n_out = sum(e["n_out"] or 0 for e in examples)
    errors: dict[str, int] = {}
    for e in examples:
        if e["error"]:
            kind = e["error"].split(":")[0].split(" (")[0]
            errors[kind] = errors.get(kind, 0) + 1
    order = {c: i for i, c in enumerate(edgejson.COMPLEXITIES)}
    return {
        "engine": engine,
        "extract_json": extract,
        "n": len(examples),
        "overall": by_complexity["overall"],
        "by_complexity": dict(sorted(by_complexity["groups"].items(),
                                     key=lambda kv: order.get(kv[0], 99))),
        "by_schema": dict(sorted(by_schema["groups"].items())),
        "latency_ms": {"p50": lat.get("p50"), "p95": lat.get("p95"),
                       "mean": sum(ms) / len(ms) if ms else None, "max": max(ms, default=None)},
        "output_tokens": n_out,
        "output_tokens_per_s": n_out / (sum(ms) / 1000) if ms and sum(ms) > 0 else None,
        "peak_rss_mb": worker.peak_rss_mb,
        "model_load_ms": worker.load_ms,
        "n_restarts": worker.n_restarts,
        "model_file_mb": model_file_mb(cfg, engine),
        "n_errors": sum(1 for e in examples if e["error"]),
        "errors": errors,
        "examples": examples,
    }


def run_environment(threads: int | None) -> dict[str, Any]:
    """The environment header of a run with ``threads`` per engine (None: physical cores)."""
    return environment(threads=threads or "physical cores", packages=("llama_cpp_python",),
                       decoding="greedy")


def _fmt(v: Any, pct: bool = True) -> str:
    if v is None:
        return "-"
    return f"{100 * v:.1f}" if pct else f"{v:.0f}"


def write_markdown(report: dict, path: Path) -> None:
    env = report["environment"]
    lines = ["# EdgeJSON benchmark", "",
             " | ".join(f"{k}: {v}" for k, v in env.items()), "",
             f"rows: {report['n_rows']} (split {report['config']['split']}, "
             f"limit {report['config']['limit']}), max_tokens {report['config']['max_tokens']}",
             "", "## Overall (percent; latency per example)", "",
             "| engine | n | JSONExact | field F1 | compliance | schema valid | leaf F1 | unparsed "
             "| errors | p50 ms | p95 ms | out tok/s | peak RSS MB | model MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in report["engines"].items():
        if "error" in r:
            lines.append(f"| {name} | failed to start: {r['error']} |")
            continue
        o, lat = r["overall"], r["latency_ms"]
        tps = "-" if r["output_tokens_per_s"] is None else f"{r['output_tokens_per_s']:.1f}"
        size = "-" if r["model_file_mb"] is None else f"{r['model_file_mb']:.1f}"
        lines.append(
            f"| {name} | {o['n']} | " + " | ".join(_fmt(o[m]) for m in METRICS)
            + f" | {o['n_unparsed']} | {r['n_errors']} | {_fmt(lat['p50'], False)} | "
            f"{_fmt(lat['p95'], False)} | {tps} | {r['peak_rss_mb']:.0f} | {size} |")
    for title, key in (("By complexity", "by_complexity"), ("By schema", "by_schema")):
        lines += ["", f"## {title} (JSONExact / field F1 / compliance / schema valid / leaf F1)",
                  "", "| engine | group | n | " + " | ".join(METRICS) + " |",
                  "|---|---|---|" + "---|" * len(METRICS)]
        for name, r in report["engines"].items():
            for group, t in r.get(key, {}).items():
                lines.append(f"| {name} | {group} | {t['n']} | "
                             + " | ".join(_fmt(t[m]) for m in METRICS) + " |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_charts(report: dict, out_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    engines = {k: v for k, v in report["engines"].items() if "error" not in v}
    if not engines:
        return
    groups = [c for c in edgejson.COMPLEXITIES
              if any(c in r["by_complexity"] for r in engines.values())]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.8 / len(engines)
    for ax, metric in zip(axes, ("json_exact", "field_f1")):
        for i, (name, r) in enumerate(engines.items()):
            vals = [r["by_complexity"].get(g, {}).get(metric) or 0.0 for g in groups]
            ax.bar([x + i * width for x in range(len(groups))], vals, width, label=name)
        ax.set_xticks([x + width * (len(engines) - 1) / 2 for x in range(len(groups))])
        ax.set_xticklabels(groups)
        ax.set_ylim(0, 1)
        ax.set_title(f"{metric} by complexity")
        ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "accuracy_by_complexity.png", dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    data = [[e["ms"] for e in r["examples"] if e["ms"] is not None] or [0.0]
            for r in engines.values()]
    ax.boxplot(data)
    ax.set_xticks(range(1, len(engines) + 1))
    ax.set_xticklabels(list(engines))
    ax.set_ylabel("latency per example (ms)")
    ax.set_title("Latency distribution")
    fig.tight_layout()
    fig.savefig(out_dir / "latency.png", dpi=120)
    plt.close(fig)


def parse_args(argv: list[str] | None) -> tuple[Config, argparse.Namespace]:
    d = Config()
    ap = argparse.ArgumentParser(prog="python -m bench.edgejson",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=d.data)
    ap.add_argument("--schemas", default=d.schemas)
    ap.add_argument("--model", default=d.model)
    ap.add_argument("--hf-model", dest="hf_model", default=d.hf_model)
    ap.add_argument("--engine", dest="engines", action="append", choices=ENGINES)
    ap.add_argument("--out", default=d.out)
    ap.add_argument("--split", choices=("val", "train", "all"), default=d.split)
    ap.add_argument("--fraction", type=float, default=d.fraction)
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--limit", type=int, default=d.limit)
    ap.add_argument("--threads", type=int, default=d.threads)
    ap.add_argument("--max-tokens", dest="max_tokens", type=int, default=d.max_tokens)
    ap.add_argument("--timeout", type=float, default=d.timeout)
    ap.add_argument("--n-ctx", dest="n_ctx", type=int, default=d.n_ctx)
    ap.add_argument("--factory", default=d.factory,
                    help="engine factory module:callable (custom engines)")
    ap.add_argument("--smoke", action="store_true", help="3 rows, 64 tokens: a quick check")
    args = ap.parse_args(argv)
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(Config)}
    values["engines"] = args.engines or d.engines
    if args.smoke:
        values["limit"] = 3 if args.limit is None else args.limit
        values["max_tokens"] = min(values["max_tokens"], 64)
    return Config(**values), args


def main(argv: list[str] | None = None) -> int:
    cfg, _ = parse_args(argv)
    out_dir = Path(cfg.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=2) + "\n")
    env = run_environment(cfg.threads)
    print(format_environment(env))
    rows, schemas = select_rows(cfg)
    print(f"rows: {len(rows)} (split {cfg.split}), engines: {', '.join(cfg.engines)}")
    report: dict[str, Any] = {"config": dataclasses.asdict(cfg), "environment": env,
                              "n_rows": len(rows), "engines": {}}
    for engine in cfg.engines:
        r = run_engine(engine, cfg, rows, schemas, out_dir)
        report["engines"][engine] = r
        if "error" in r:
            continue
        o, lat = r["overall"], r["latency_ms"]
        print(f"{engine:10s} json_exact {o['json_exact']:.3f}  field_f1 {o['field_f1']:.3f}  "
              f"compliance {o['compliance']:.3f}  schema_valid {o['schema_valid']:.3f}  "
              f"leaf_f1 {o['leaf_f1']:.3f}  unparsed {o['n_unparsed']}  errors {r['n_errors']}  "
              f"p50 {lat['p50']:.0f} ms  p95 {lat['p95']:.0f} ms  "
              f"peak RSS {r['peak_rss_mb']:.0f} MB")
    (out_dir / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    write_markdown(report, out_dir / "report.md")
    write_charts(report, out_dir)
    print(f"wrote {out_dir / 'report.json'}, report.md, accuracy_by_complexity.png, latency.png")
    return 0 if all("error" not in r for r in report["engines"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
