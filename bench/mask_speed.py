"""Mask speed of the grammar engine on EdgeJSON rows, with llguidance measured in the same run.

Usage:
    python -m bench.mask_speed [--rows 60] [--seed 0] [--whitespace compact|python]
        [--gguf PATH] [--no-llguidance] [--out bench/out/mask_speed] [--smoke]

For a fixed-seed sample of EdgeJSON rows, each row's expected output is serialised in the chosen
whitespace style with keys in the schema's `properties` order (the order the grammar enforces),
tokenized once with SmolLM2's tokenizer (llama.cpp, vocab only), and replayed token by token: a
mask is computed and timed before every token, the token must be allowed and accepted, and EOS
must be allowed at the end. Each schema is compiled once; its matcher is reset between rows, as a
server would reuse a compiled schema. Prints an environment header, p50/p90/p99/max per mask for
every engine, the ratio to llguidance, and any disagreement (a token of a valid output not
allowed), then writes JSON.
A second replay of each row times maaza's shortest-completion query (``completion_distance``,
the runtime's per-token budget check) before every token.
A third replay times grounded masks (``maaza-grounded``: the schema compiled with grounding, the
matcher bound to the row's text) on the rows whose expected output the text grounds (every
grounded value written in it); the plain masks of the same rows are summarised beside it
(``maaza-same-rows``) with the ratio.
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

import numpy as np

from bench.harness import (
    EDGEJSON,
    OUT,
    environment,
    format_environment,
    percentiles,
    tokenizer_gguf,
)
from maaza_rt import Grammar, GrammarMatcher, SchemaError, Vocabulary


@dataclasses.dataclass
class Config:
    rows: int = 60  # EdgeJSON rows sampled (fixed seed)
    seed: int = 0
    whitespace: str = "compact"  # compact or python separators, as the grammar is compiled
    llguidance: bool = True  # measure llguidance in the same run
    gguf: str = ""  # model whose tokenizer is used; "" = the registry's smollm2-135m-instruct
    edgejson: str = str(EDGEJSON)
    out: str = str(OUT / "mask_speed")


class LlamaTokenizer:
    """llama.cpp's tokenizer over a vocab-only model load."""

    def __init__(self, path: Path) -> None:
        import llama_cpp

        self.lib = llama_cpp
        # Silence llama.cpp; the callback object must outlive the model.
        self._log_cb = llama_cpp.llama_log_callback(lambda level, text, data: None)
        llama_cpp.llama_log_set(self._log_cb, ctypes.c_void_p())
        llama_cpp.llama_backend_init()
        params = llama_cpp.llama_model_default_params()
        params.vocab_only = True
        self.model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
        self.vocab = llama_cpp.llama_model_get_vocab(self.model)

    def tokenize(self, text: bytes) -> list[int]:
        buf = (self.lib.llama_token * (len(text) + 8))()
        n = self.lib.llama_tokenize(self.vocab, text, len(text), buf, len(buf), False, False)
        if n < 0:
            raise RuntimeError("tokenize buffer too small")
        return list(buf[:n])


def ordered(value: Any, schema: Any, root: Any) -> Any:
    """The value with object keys in the schema's `properties` order (local $ref followed)."""
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        node: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            if part and isinstance(node, dict):
                node = node.get(part, {})
        schema = node
    if isinstance(value, dict) and isinstance(schema, dict):
        props = schema.get("properties", {})
        keys = [k for k in props if k in value] + [k for k in value if k not in props]
        return {k: ordered(value[k], props.get(k, {}), root) for k in keys}
    if isinstance(value, list) and isinstance(schema, dict):
        return [ordered(v, schema.get("items", {}), root) for v in value]
    return value


def replay(
    fill: Any, accept: Any, eos_ok: Any, tokens: list[int], n_words: int
) -> tuple[list[float], int]:
    """Times fill() before every token; returns the times (µs) and the number of disagreements."""
    mask = np.zeros(n_words, dtype=np.uint32)
    times: list[float] = []
    bad = 0
    for t in tokens:
        t0 = time.perf_counter_ns()
        fill(mask)
        times.append((time.perf_counter_ns() - t0) / 1000)
        if not (mask[t >> 5] >> (t & 31)) & 1 or not accept(t):
            return times, bad + 1
    t0 = time.perf_counter_ns()
    fill(mask)
    times.append((time.perf_counter_ns() - t0) / 1000)
    if not eos_ok(mask):
        bad += 1
    return times, bad


def time_distance(m: Any, tokens: list[int]) -> list[float]:
    """Times completion_distance() before every token of a replay (µs)."""
    times: list[float] = []
    m.reset()
    for t in tokens:
        t0 = time.perf_counter_ns()
        m.completion_distance()
        times.append((time.perf_counter_ns() - t0) / 1000)
        if not m.accept_token(t):
            break
    return times


def main(argv: list[str] | None = None) -> int:
    cfg = Config()
    p = argparse.ArgumentParser(
        prog="python -m bench.mask_speed",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--rows", type=int, default=cfg.rows)
    p.add_argument("--seed", type=int, default=cfg.seed)
    p.add_argument("--whitespace", choices=["compact", "python"], default=cfg.whitespace)
    p.add_argument("--no-llguidance", action="store_true")
    p.add_argument("--gguf", default=cfg.gguf)
    p.add_argument("--out", default=cfg.out)
    p.add_argument("--smoke", action="store_true", help="10 rows")
    a = p.parse_args(argv)
    cfg.rows = 10 if a.smoke else a.rows
    cfg.seed, cfg.whitespace, cfg.llguidance, cfg.out = (
        a.seed,
        a.whitespace,
        not a.no_llguidance,
        a.out,
    )

    cfg.gguf = a.gguf
    gguf = tokenizer_gguf(cfg.gguf or None)
    tok = LlamaTokenizer(gguf)
    vocab = Vocabulary.from_gguf(gguf)
    n_words = (vocab.n_vocab + 31) // 32
    eos = vocab.eos_ids
    sep = (",", ":") if cfg.whitespace == "compact" else (", ", ": ")
    edge = Path(cfg.edgejson)
    rows = [json.loads(line) for line in (edge / "train.jsonl").read_text().splitlines() if line]
    rng = random.Random(cfg.seed)
    rows = rng.sample(rows, min(cfg.rows, len(rows)))
    schemas = {p.stem: json.loads(p.read_text()) for p in (edge / "schemas").glob("*.json")}
    env = environment(threads=1, packages=("llama_cpp_python", "llguidance"),
                      vocab=f"{gguf.name} ({vocab.n_vocab})", rows=len(rows),
                      whitespace=cfg.whitespace)
    print(format_environment(env), flush=True)

    llg = None
    if cfg.llguidance:
        import llguidance
        import llguidance.llamacpp

        llg = llguidance
        llg_tok = llguidance.llamacpp.lltokenizer_from_vocab(tok.vocab, eos_token=eos[0])
        llg_opts = {
            "whitespace_flexible": False,
            "item_separator": sep[0],
            "key_separator": sep[1],
        }

    engines: dict[str, dict[str, Any]] = {
        name: {"times": [], "bad": 0, "skipped": 0, "compile_us": []}
        for name in ("maaza", "maaza-grounded", "maaza-same-rows")
    }
    distance_times: list[float] = []
    if llg is not None:
        engines["llguidance"] = {"times": [], "bad": 0, "skipped": 0, "compile_us": []}
    compiled: dict[str, dict[str, Any]] = {}
    for row in rows:
        sid = row["schema_id"]
        schema = schemas[sid]
        text = json.dumps(
            ordered(row["expected_output"], schema, schema), separators=sep, ensure_ascii=False
        ).encode()
        tokens = tok.tokenize(text)
        if sid not in compiled:
            compiled[sid] = {}
            t0 = time.perf_counter_ns()
            try:
                # EdgeJSON's date-times carry no time offset (RFC 3339 wants one).
                g = Grammar.from_json_schema(schema, whitespace=cfg.whitespace,
                                             optional_timezone=True)
                compiled[sid]["maaza"] = GrammarMatcher(g, vocab)
                compiled[sid]["maaza-grounded"] = GrammarMatcher(Grammar.from_json_schema(
                    schema, whitespace=cfg.whitespace, optional_timezone=True, grounded=True),
                    vocab)
            except SchemaError as e:
                compiled[sid]["maaza"] = compiled[sid]["maaza-grounded"] = None
                print(f"maaza: {sid}: {e}")
            engines["maaza"]["compile_us"].append((time.perf_counter_ns() - t0) / 1000)
            if llg is not None:
                t0 = time.perf_counter_ns()
                grammar = llg.LLMatcher.grammar_from_json_schema(schema, defaults=llg_opts)
                m = llg.LLMatcher(llg_tok, grammar, log_level=0)
                compiled[sid]["llguidance"] = None if m.is_error() else m
                if m.is_error():
                    print(f"llguidance: {sid}: {m.get_error()}")
                engines["llguidance"]["compile_us"].append((time.perf_counter_ns() - t0) / 1000)
        grounded = compiled[sid].get("maaza-grounded")
        if grounded is not None:
            grounded.bind_text(row["prompt"])
            ok = grounded.accept_bytes(text) and grounded.is_complete()
            grounded.reset()
            if not ok:
                engines["maaza-grounded"]["skipped"] += 1
                grounded = None
        for name, m in compiled[sid].items():
            e = engines[name]
            if name == "maaza-grounded" and grounded is None:
                continue
            if m is None:
                e["skipped"] += 1
                continue
            m.reset()
            if name.startswith("maaza"):
                times, bad = replay(
                    m.fill_mask,
                    m.accept_token,
                    lambda mk: any((mk[i >> 5] >> (i & 31)) & 1 for i in eos),
                    tokens,
                    n_words,
                )
                if name == "maaza":
                    distance_times += time_distance(m, tokens)
            else:

                def fill(mk: np.ndarray, m: Any = m) -> None:
                    m.unsafe_compute_mask_ptr(mk.ctypes.data, mk.nbytes)

                times, bad = replay(
                    fill,
                    lambda t, m=m: m.consume_token(t) and not m.is_error(),
                    lambda mk: any((mk[i >> 5] >> (i & 31)) & 1 for i in eos),
                    tokens,
                    n_words,
                )
            e["times"] += times
            e["bad"] += bad
            if name == "maaza" and grounded is not None:
                # The plain masks of the rows the grounded replay runs, from the same replay.
                engines["maaza-same-rows"]["times"] += times
            if bad:
                print(f"{name}: {row['id']}: output rejected")

    summary: dict[str, Any] = {}
    for name, e in engines.items():
        s = percentiles(e["times"])
        c = percentiles(e["compile_us"])
        summary[name] = {
            "mask_us": s,
            "compile_us": c,
            "rejected_outputs": e["bad"],
            "rows_skipped": e["skipped"],
        }
        print(
            f"{name:11s} mask µs p50 {s.get('p50', 0):8.1f}  p90 {s.get('p90', 0):8.1f}  "
            f"p99 {s.get('p99', 0):9.1f}  max {s.get('max', 0):9.1f}  (n={s.get('n', 0)})  "
            f"compile p50 {c.get('p50', 0):8.1f} µs  rejected {e['bad']}  skipped {e['skipped']}"
        )
    d = percentiles(distance_times)
    summary["maaza"]["completion_distance_us"] = d
    print(
        f"maaza completion_distance µs p50 {d.get('p50', 0):.2f}  p90 {d.get('p90', 0):.2f}  "
        f"p99 {d.get('p99', 0):.2f}  max {d.get('max', 0):.2f}  (n={d.get('n', 0)})"
    )
    if summary["maaza-same-rows"]["mask_us"]:
        grounded_us, plain_us = (summary[k]["mask_us"] for k in ("maaza-grounded",
                                                                 "maaza-same-rows"))
        g50 = grounded_us["p50"] / plain_us["p50"]
        g99 = grounded_us["p99"] / plain_us["p99"]
        print(f"ratio grounded/plain (same rows): p50 {g50:.2f}  p99 {g99:.2f}")
        summary["grounded_ratio_p50"], summary["grounded_ratio_p99"] = g50, g99
    if "llguidance" in summary and summary["llguidance"]["mask_us"]:
        r50 = summary["maaza"]["mask_us"]["p50"] / summary["llguidance"]["mask_us"]["p50"]
        r99 = summary["maaza"]["mask_us"]["p99"] / summary["llguidance"]["mask_us"]["p99"]
        print(f"ratio maaza/llguidance: p50 {r50:.2f}  p99 {r99:.2f}")
        summary["ratio_p50"], summary["ratio_p99"] = r50, r99
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "mask_speed.json").write_text(
        json.dumps(
            {"config": dataclasses.asdict(cfg), "environment": env, "summary": summary},
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
