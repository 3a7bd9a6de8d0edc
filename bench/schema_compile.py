"""Schema compile time: JSON Schema -> grammar (and -> matcher), with llguidance in the same run.

Usage:
    python -m bench.schema_compile [--repeat 20] [--maskbench 500] [--seed 0]
        [--no-llguidance] [--out bench/out/schema_compile] [--smoke]

Corpora: the 25 EdgeJSON schemas (each compiled `repeat` times after one warm-up) and a
fixed-seed sample of MaskBench schemas (each compiled once). For every schema it times
`Grammar.from_json_schema` alone and `Grammar.from_json_schema` + `GrammarMatcher(...)` under the
SmolLM2 vocabulary; for llguidance, `grammar_from_json_schema` + `LLMatcher(...)` under the same
vocabulary. Prints an environment header, p50/p90/p99/max in microseconds per corpus and engine,
the ratio to llguidance at p50, how many schemas each engine refused, and writes JSON + Markdown
under --out.
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import json
import random
import time
from pathlib import Path
from typing import Any

from bench.harness import (
    EDGEJSON,
    MASKBENCH,
    OUT,
    environment,
    format_environment,
    percentiles,
    tokenizer_gguf,
)
from maaza_rt import Grammar, GrammarMatcher, MaazaError, Vocabulary


@dataclasses.dataclass
class Config:
    repeat: int = 20  # timed compiles per EdgeJSON schema (after one warm-up)
    maskbench: int = 500  # MaskBench schemas sampled (fixed seed), each compiled once
    seed: int = 0
    llguidance: bool = True  # measure llguidance in the same run
    edgejson: str = str(EDGEJSON)
    maskbench_dir: str = str(MASKBENCH)
    out: str = str(OUT / "schema_compile")


def llguidance_setup(path: Path) -> Any:
    import llama_cpp
    import llguidance.llamacpp

    cb = llama_cpp.llama_log_callback(lambda level, text, data: None)
    llama_cpp.llama_log_set(cb, ctypes.c_void_p())
    llama_cpp.llama_backend_init()
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
    vocab = llama_cpp.llama_model_get_vocab(model)
    eos = llama_cpp.llama_vocab_eos(vocab)
    tok = llguidance.llamacpp.lltokenizer_from_vocab(vocab, eos_token=eos)
    return (tok, model, cb)


def time_corpus(
    schemas: list[tuple[str, Any]], repeat: int, vocab: Vocabulary, llg: Any
) -> dict[str, Any]:
    res: dict[str, Any] = {"grammar": [], "grammar+matcher": [], "llguidance": []}
    refused = {"maaza": 0, "llguidance": 0}
    for _name, schema in schemas:
        text = json.dumps(schema)
        try:
            Grammar.from_json_schema(text)  # warm-up, and refusal check
        except MaazaError:
            refused["maaza"] += 1
        else:
            for _ in range(repeat):
                t0 = time.perf_counter_ns()
                g = Grammar.from_json_schema(text)
                t1 = time.perf_counter_ns()
                GrammarMatcher(g, vocab)
                t2 = time.perf_counter_ns()
                res["grammar"].append((t1 - t0) / 1000)
                res["grammar+matcher"].append((t2 - t0) / 1000)
        if llg is not None:
            import llguidance

            opts = {"whitespace_flexible": False}
            ok = True
            for _ in range(repeat):
                t0 = time.perf_counter_ns()
                try:
                    grammar = llguidance.LLMatcher.grammar_from_json_schema(text, defaults=opts)
                    m = llguidance.LLMatcher(llg[0], grammar, log_level=0)
                    ok = not m.is_error()
                except Exception:
                    ok = False
                t1 = time.perf_counter_ns()
                if not ok:
                    break
                res["llguidance"].append((t1 - t0) / 1000)
            if not ok:
                refused["llguidance"] += 1
    return {
        "us": {k: percentiles(v) for k, v in res.items()},
        "refused": refused,
        "n": len(schemas),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.schema_compile",
                                description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--repeat", type=int, default=Config.repeat)
    p.add_argument("--maskbench", type=int, default=Config.maskbench)
    p.add_argument("--seed", type=int, default=Config.seed)
    p.add_argument("--no-llguidance", action="store_true")
    p.add_argument("--out", default=Config.out)
    p.add_argument("--smoke", action="store_true", help="repeat 2, 50 MaskBench schemas")
    a = p.parse_args(argv)
    cfg = Config(repeat=a.repeat, maskbench=a.maskbench, seed=a.seed, out=a.out)
    cfg.llguidance = not a.no_llguidance
    if a.smoke:
        cfg.repeat, cfg.maskbench = 2, 50

    header = environment(threads=1, packages=("llama_cpp_python", "llguidance"))
    print("# schema compile time")
    print(format_environment(header))
    print(f"# config: {dataclasses.asdict(cfg)}")

    model = tokenizer_gguf()
    vocab = Vocabulary.from_gguf(model)
    llg = llguidance_setup(model) if cfg.llguidance else None

    edge = [
        (p.stem, json.loads(p.read_text(encoding="utf-8")))
        for p in sorted(Path(cfg.edgejson, "schemas").glob("*.json"))
    ]
    files = sorted(Path(cfg.maskbench_dir).glob("*.json"))
    random.Random(cfg.seed).shuffle(files)
    mask = [
        (f.stem, json.loads(f.read_text(encoding="utf-8"))["schema"])
        for f in files[: cfg.maskbench]
    ]

    results = {
        "edgejson": time_corpus(edge, cfg.repeat, vocab, llg),
        "maskbench": time_corpus(mask, 1, vocab, llg),
    }
    lines = [
        "| corpus | engine | n | p50 µs | p90 µs | p99 µs | max µs | refused |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for corpus, r in results.items():
        for engine, pc in r["us"].items():
            if not pc:
                continue
            ref = r["refused"]["llguidance" if engine == "llguidance" else "maaza"]
            lines.append(
                f"| {corpus} | {engine} | {pc['n']} | {pc['p50']:.0f} | {pc['p90']:.0f} | "
                f"{pc['p99']:.0f} | {pc['max']:.0f} | {ref}/{r['n']} |"
            )
        us = r["us"]
        if us.get("llguidance") and us.get("grammar+matcher"):
            ratio = us["grammar+matcher"]["p50"] / us["llguidance"]["p50"]
            lines.append(
                f"| {corpus} | ratio maaza (grammar+matcher) / llguidance, p50 | | {ratio:.2f} "
                "| | | | |"
            )
    table = "\n".join(lines)
    print(table)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(
        json.dumps({"env": header, "config": dataclasses.asdict(cfg), "results": results}, indent=1)
    )
    (out / "results.md").write_text("# Schema compile time\n\n" + table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
