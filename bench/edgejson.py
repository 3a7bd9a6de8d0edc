"""EdgeJSON benchmark harness: extraction engines scored with the exact native metrics.

Usage:
    PYTHONPATH=. python bench/edgejson.py [--data FILE.jsonl] [--schemas DIR] [--model PATH|NAME]
        [--engine maaza|llama-gbnf|free|hf ...] [--out DIR] [--split val|train|all]
        [--limit N] [--threads N] [--max-tokens N] [--timeout S] [--smoke]

Engines (all see the same prompt, built by maaza_rt.prompt from the model's chat template, and
all decode greedily):
    maaza       maaza_rt.Extractor: the grammar engine masks every step (output always valid).
    llama-gbnf  llama-cpp-python's own JSON-schema mode: LlamaGrammar.from_json_schema, the
                grammar `response_format={"type": "json_object", "schema": ...}` builds, applied
                to a completion of the same prompt tokens.
    free        unconstrained generation, scored with the paper's extract-JSON fallback.
    hf          transformers `generate` on --hf-model (needs torch and transformers; scored like
                free).

Each engine runs in its own worker process that loads the model once; an example that crashes
the worker (llama-cpp-python segfaults on some grammars) or runs past --timeout is counted as a
failed example (empty output, scored zero) and the worker is restarted. Peak RSS is the worker's.

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
import os
import platform
import queue
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from maaza_rt import __version__, edgejson, metrics  # noqa: E402

ENGINES = ("maaza", "llama-gbnf", "free", "hf")
EXTRACT_ENGINES = ("free", "hf")  # unconstrained: scored with the paper's fallback
METRICS = ("json_exact", "field_f1", "compliance", "schema_valid", "leaf_f1")


@dataclass
class Config:
    data: str = str(REPO.parent / "shared" / "edgejson" / "train.jsonl")  # EdgeJSON rows
    schemas: str = str(REPO.parent / "shared" / "edgejson" / "schemas")  # <schema_id>.json
    model: str | None = None  # GGUF path or registry name; None: the default model
    hf_model: str | None = None  # Hugging Face id or directory for --engine hf
    engines: list[str] = field(default_factory=lambda: ["maaza"])
    out: str = str(REPO / "bench" / "out" / "edgejson")
    split: str = "val"  # val | train | all
    fraction: float = 0.2  # validation fraction (maaza_rt.edgejson.validation_split)
    seed: int = 0  # validation split seed
    limit: int | None = None  # first N rows of the split
    threads: int | None = None  # CPU threads per engine (default: physical cores)
    max_tokens: int = 512  # generation budget per example
    timeout: float = 300.0  # seconds per example before the worker is killed
    n_ctx: int = 4096  # context of the llama-cpp-python engines


# ---- worker process ---------------------------------------------------------------------------


def _rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _llama_runner(cfg: Config, grammar_mode: bool) -> Callable[[str, Any], dict]:
    import llama_cpp.llama_cpp as llama_low
    from llama_cpp import Llama, LlamaGrammar

    from maaza_rt.models import resolve_model
    from maaza_rt.prompt import build_prompt, encode_prompt

    path = resolve_model(cfg.model).path
    # As maaza_rt.runtime does: no CPU weight repacking, whose kernels some builds pick even
    # where the host CPU cannot run them (SIGILL). Llama() takes no option for it.
    default_params = llama_low.llama_model_default_params

    def model_params() -> Any:
        params = default_params()
        params.use_extra_bufts = False
        return params

    llama_low.llama_model_default_params = model_params
    kwargs: dict[str, Any] = {"n_ctx": cfg.n_ctx, "verbose": False, "seed": 0}
    if cfg.threads:
        kwargs["n_threads"] = cfg.threads
    llm = Llama(model_path=str(path), **kwargs)
    chat_template = llm.metadata.get("tokenizer.chat_template")

    def special(token: int) -> str:
        if token < 0:
            return ""
        return llm.detokenize([token], special=True).decode("utf-8", "replace")

    bos, eos = special(llm.token_bos()), special(llm.token_eos())
    add_bos = bool(llm._model.add_bos_token())

    def tokenize(text: str, add: bool) -> list[int]:
        return llm.tokenize(text.encode("utf-8"), add_bos=add, special=True)

    def run(text: str, schema: Any) -> dict:
        prompt = build_prompt(text, schema if isinstance(schema, dict) else {}, chat_template,
                              bos_token=bos, eos_token=eos)
        tokens = encode_prompt(prompt, tokenize, add_bos=add_bos, bos_token=bos)
        grammar = None
        if grammar_mode:
            grammar = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
        llm.reset()
        out = llm.create_completion(tokens, max_tokens=cfg.max_tokens, temperature=0.0,
                                    top_k=1, grammar=grammar)
        usage = out.get("usage", {})
        return {"text": out["choices"][0]["text"], "n_out": usage.get("completion_tokens", 0),
                "n_prompt": len(tokens), "finish": out["choices"][0].get("finish_reason")}

    return run


def _maaza_runner(cfg: Config) -> Callable[[str, Any], dict]:
    import maaza_rt
    from maaza_rt.errors import GenerationLimitError

    extractor = maaza_rt.Extractor(cfg.model, n_threads=cfg.threads)

    def run(text: str, schema: Any) -> dict:
        try:
            r = extractor.extract(text, schema, max_tokens=cfg.max_tokens, return_details=True)
        except GenerationLimitError as e:
            return {"text": e.partial_text, "n_out": e.n_tokens, "finish": "length",
                    "error": f"GenerationLimitError: {e}"}
        return {"text": r.text, "n_out": r.n_output_tokens, "n_prompt": r.n_prompt_tokens,
                "finish": "stop"}

    return run


def _hf_runner(cfg: Config) -> Callable[[str, Any], dict]:
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as e:
        raise RuntimeError(
            f"the hf engine needs torch and transformers ({e}); install the train extra: "
            "pip install '.[train]'") from e
    from maaza_rt.prompt import build_prompt

    name = cfg.hf_model or cfg.model
    if not name:
        raise RuntimeError("the hf engine needs --hf-model (a Hugging Face id or directory)")
    tokenizer = AutoTokenizer.from_pretrained(name)
    model = AutoModelForCausalLM.from_pretrained(name)
    model.eval()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)

    def run(text: str, schema: Any) -> dict:
        prompt = build_prompt(text, schema if isinstance(schema, dict) else {},
                              getattr(tokenizer, "chat_template", None),
                              bos_token=tokenizer.bos_token or "",
                              eos_token=tokenizer.eos_token or "")
        full = prompt.prefix + prompt.suffix
        add = not (tokenizer.bos_token and full.startswith(tokenizer.bos_token))
        inputs = tokenizer(full, return_tensors="pt", add_special_tokens=add)
        with torch.no_grad():
            out = model.generate(**inputs, max_new_tokens=cfg.max_tokens, do_sample=False,
                                 pad_token_id=tokenizer.eos_token_id)
        new = out[0][inputs["input_ids"].shape[1]:]
        return {"text": tokenizer.decode(new, skip_special_tokens=True), "n_out": len(new),
                "n_prompt": int(inputs["input_ids"].shape[1])}

    return run


def worker_main(engine: str, cfg: Config) -> int:
    """Serves one engine over stdin/stdout JSON lines (the protocol channel is the original
    stdout; anything else written to stdout goes to stderr)."""
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    t0 = time.perf_counter_ns()
    try:
        if engine == "maaza":
            runner = _maaza_runner(cfg)
        elif engine in ("llama-gbnf", "free"):
            runner = _llama_runner(cfg, grammar_mode=engine == "llama-gbnf")
        elif engine == "hf":
            runner = _hf_runner(cfg)
        else:
            raise ValueError(f"unknown engine {engine!r}")
    except Exception as e:  # reported to the parent, which skips the engine
        proto.write(json.dumps({"fatal": f"{type(e).__name__}: {e}"}) + "\n")
        return 2
    proto.write(json.dumps({"ready": True, "load_ms": (time.perf_counter_ns() - t0) / 1e6,
                            "rss_mb": _rss_mb()}) + "\n")
    for line in sys.stdin:
        req = json.loads(line)
        t = time.perf_counter_ns()
        try:
            out = runner(req["text"], req["schema"])
        except Exception as e:  # one failed example, not a failed run
            out = {"text": "", "n_out": 0, "error": f"{type(e).__name__}: {e}"}
        out["ms"] = (time.perf_counter_ns() - t) / 1e6
        out["rss_mb"] = _rss_mb()
        proto.write(json.dumps(out) + "\n")
    return 0


class Worker:
    """The parent's handle on one engine's worker process."""

    def __init__(self, engine: str, cfg: Config, log_path: Path) -> None:
        self.engine, self.cfg = engine, cfg
        self.log = open(log_path, "a", encoding="utf-8")
        self.proc: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.peak_rss_mb = 0.0
        self.load_ms: list[float] = []

    def start(self, timeout: float) -> None:
        cfg_json = json.dumps(dataclasses.asdict(self.cfg))
        env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", self.engine,
             "--worker-config", cfg_json],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True,
            encoding="utf-8", bufsize=1, env=env)
        self.lines = queue.Queue()
        stdout = self.proc.stdout

        def pump() -> None:
            assert stdout is not None
            for line in stdout:
                self.lines.put(line)
            self.lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        msg = self._read(timeout)
        if msg is None or "fatal" in msg or "eof" in msg:
            self.stop()
            reason = (msg or {}).get("fatal", "worker exited or timed out while loading the model")
            raise RuntimeError(f"engine {self.engine}: {reason}")
        self.load_ms.append(msg["load_ms"])
        self.peak_rss_mb = max(self.peak_rss_mb, msg["rss_mb"])

    def _read(self, timeout: float) -> dict | None:
        """The next message; None on timeout; {"eof": True} when the worker closed its output."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return None
        return {"eof": True} if line is None else json.loads(line)

    def request(self, text: str, schema: Any) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.start(max(self.cfg.timeout, 120.0))
        assert self.proc is not None and self.proc.stdin is not None
        t0 = time.perf_counter_ns()
        self.proc.stdin.write(json.dumps({"text": text, "schema": schema}) + "\n")
        self.proc.stdin.flush()
        msg = self._read(self.cfg.timeout)
        if msg is not None and "eof" not in msg:
            self.peak_rss_mb = max(self.peak_rss_mb, msg.get("rss_mb", 0.0))
            return msg
        ms = (time.perf_counter_ns() - t0) / 1e6
        if msg is None:
            self.stop()
            error = f"timeout after {self.cfg.timeout:.0f} s"
        else:
            try:
                code = self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                code = self.proc.wait()
            error = f"worker crashed (exit {code}" + (f", signal {-code})" if code < 0 else ")")
            self.proc = None
        return {"text": "", "n_out": 0, "ms": ms, "error": error, "crashed": True}

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self.proc = None

    def close(self) -> None:
        if self.proc is not None and self.proc.stdin is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.log.close()


# ---- parent: running, scoring, reporting --------------------------------------------------------


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


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
            p = Path(cfg.hf_model or cfg.model or "")
            if p.is_dir():
                return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) / 2**20
            return None
        from maaza_rt.models import resolve_model

        return resolve_model(cfg.model).path.stat().st_size / 2**20
    except Exception:  # an unresolvable model is reported by the worker itself
        return None


def run_engine(engine: str, cfg: Config, rows: list[dict], schemas: dict[str, Any],
               out_dir: Path) -> dict:
    from tqdm import tqdm

    worker = Worker(engine, cfg, out_dir / f"worker_{engine}.log")
    examples: list[dict] = []
    try:
        worker.start(max(cfg.timeout, 120.0))
    except RuntimeError as e:
        worker.close()
        print(f"[{engine}] skipped: {e}", file=sys.stderr)
        return {"engine": engine, "error": str(e)}
    try:
        for row in tqdm(rows, desc=engine, unit="ex", file=sys.stderr):
            r = worker.request(row["prompt"], schemas[row["schema_id"]])
            examples.append({
                "id": row["id"], "schema_id": row["schema_id"],
                "complexity": edgejson.complexity(row), "text": r.get("text", ""),
                "ms": r.get("ms"), "n_out": r.get("n_out", 0), "n_prompt": r.get("n_prompt"),
                "error": r.get("error"),
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
        "latency_ms": {"p50": _percentile(ms, 50), "p95": _percentile(ms, 95),
                       "mean": sum(ms) / len(ms) if ms else None, "max": max(ms, default=None)},
        "output_tokens": n_out,
        "output_tokens_per_s": n_out / (sum(ms) / 1000) if ms and sum(ms) > 0 else None,
        "peak_rss_mb": worker.peak_rss_mb,
        "model_load_ms": worker.load_ms,
        "model_file_mb": model_file_mb(cfg, engine),
        "n_errors": sum(1 for e in examples if e["error"]),
        "errors": errors,
        "examples": examples,
    }


def environment(cfg: Config) -> dict[str, Any]:
    import importlib.metadata

    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    return {
        "cpu": cpu, "cpus_logical": os.cpu_count(), "threads": cfg.threads or "physical cores",
        "python": platform.python_version(), "platform": platform.platform(),
        "maaza_rt": __version__, "llama_cpp_python": version("llama_cpp_python"),
        "git_commit": commit or "unknown", "decoding": "greedy",
        "load_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


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
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
    ap.add_argument("--smoke", action="store_true", help="3 rows, 64 tokens: a quick check")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--worker-config", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return Config(**json.loads(args.worker_config)), args
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(Config)}
    values["engines"] = args.engines or d.engines
    if args.smoke:
        values["limit"] = 3 if args.limit is None else args.limit
        values["max_tokens"] = min(values["max_tokens"], 64)
    return Config(**values), args


def main(argv: list[str] | None = None) -> int:
    cfg, args = parse_args(argv)
    if args.worker:
        return worker_main(args.worker, cfg)
    out_dir = Path(cfg.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=2) + "\n")
    env = environment(cfg)
    for k, v in env.items():
        print(f"# {k}: {v}")
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
