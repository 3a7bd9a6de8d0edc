"""Edge latency sweep: models x quantizations x threads x context sizes x engines on EdgeJSON.

Usage:
    python -m bench.pi_latency --quick                      # default model, a few minutes
    python -m bench.pi_latency                              # full sweep on this machine
    python -m bench.pi_latency --models default,gemma3-270m --gguf-dir ~/models \\
        --quants F16,Q8_0,Q4_0,Q4_K_M --threads 1-4 --n-ctx 1024,2048 \\
        --engines maaza,maaza-nolookup,maaza-nojf,llama-gbnf,free --per-complexity 3 \
        --out bench/out/pi

For each configuration (model file, engine, threads, context size) one child process loads the
model (see ``bench/engines.py``) and warms up on one row outside the sample. The engines of one
(model file, threads, context size) group then take turns on each row of a fixed, seeded sample
of EdgeJSON validation rows (so machine load drifting during the run hits them alike):
``--per-complexity`` rows from each complexity (simple/medium/complex, each row from a different
schema). For ``maaza`` each sample row is run three times: once after a different schema
("first": the prompt is evaluated but for the chat template's opening), once right after a
different text with the same schema ("second": the schema part of the prompt comes from the KV
cache) and once with nothing cached ("cold": the whole prompt is evaluated, as in the first
extraction of a process).
The peers get ``--peer-max-tokens`` and a per-extraction timeout (``--peer-timeout``):
llama-gbnf can run away for minutes, and a timed-out extraction counts at the timeout, so a
ratio against it is a bound in the peer's favour.

Measured per configuration: model load time, file size, peak RSS, prompt and decode tokens/s,
latency p50/p95 (first runs), grammar time per output token and its share of decode time,
forced-token and drafted-token (prompt lookup) shares, second/cold and second/first latency.
Printed: an
environment header, one line per configuration, and the ratios the bars are about (maaza /
llama-gbnf median latency per complexity, bar <= 1/3; maaza / free, bar < 1; grammar share of
decode, bar < 2%; second/cold maaza latency, bar <= 0.7). Written beside ``--out``: ``.csv``
(one line per configuration), ``.extractions.csv`` (one line per extraction), ``.json``
(everything, with the config), ``.md`` (summary with the machine's CPU, cores and OS) and two
PNG plots.

On a Raspberry Pi (64-bit OS) the same command works once maaza-rt and llama-cpp-python are
installed; ``--quick`` there takes longer than on a desktop CPU.

This module holds the command line and the run; ``bench/pi_latency_config.py`` the sweep's
config, ``bench/pi_latency_models.py`` the model files and their quantization,
``bench/pi_latency_run.py`` the sample and the runs of one group of configurations,
``bench/pi_latency_report.py`` the summaries, the bars and the writers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from bench.engines import ENGINES
from bench.harness import EDGEJSON, environment, format_environment
from bench.pi_latency_config import QUICK, SweepConfig, parse_int_list, parse_list
from bench.pi_latency_models import discover_models
from bench.pi_latency_report import (
    CONFIG_COLUMNS,
    _fmt,
    bar_lines,
    bar_ratios,
    markdown,
    summarize,
    write_csv,
    write_plots,
)
from bench.pi_latency_run import Setting, plan_size, run_group, sample_rows
from maaza_rt.edgejson import COMPLEXITIES, load_rows, load_schemas

# ---- config parsing ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> SweepConfig:
    """The sweep config from the command line (``--quick`` first, then explicit options).

    Raises:
        SystemExit: bad arguments (argparse's usual behaviour), with a message.
    """
    parser = argparse.ArgumentParser(prog="python -m bench.pi_latency",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="default model, 1 thread, 1 row per complexity, capped peers")
    parser.add_argument("--models", type=parse_list)
    parser.add_argument("--gguf-dir", dest="gguf_dirs", action="append")
    parser.add_argument("--quants", type=lambda s: [q.upper() for q in parse_list(s)])
    parser.add_argument("--threads", type=parse_int_list)
    parser.add_argument("--n-ctx", type=parse_int_list)
    parser.add_argument("--engines", type=parse_list)
    parser.add_argument("--complexities", type=parse_list)
    parser.add_argument("--per-complexity", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--max-tokens", type=int)
    parser.add_argument("--peer-max-tokens", type=int)
    parser.add_argument("--peer-timeout", dest="peer_timeout_s", type=float)
    parser.add_argument("--timeout", dest="timeout_s", type=float)
    parser.add_argument("--reuse-engines", type=parse_list)
    parser.add_argument("--no-warmup", dest="warmup", action="store_false", default=None)
    parser.add_argument("--no-plots", dest="plots", action="store_false", default=None)
    parser.add_argument("--factory", help="engine factory module:callable (custom engines)")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    values: dict[str, Any] = dict(QUICK) if args.quick else {}
    for f in fields(SweepConfig):
        given = getattr(args, f.name, None)
        if given is not None:
            values[f.name] = given
    config = SweepConfig(**values)
    for name in config.engines:
        if name not in ENGINES:
            parser.error(f"unknown engine {name!r}; choose from {', '.join(ENGINES)}")
    for name in config.complexities:
        if name not in COMPLEXITIES:
            parser.error(f"unknown complexity {name!r}; choose from {', '.join(COMPLEXITIES)}")
    if config.per_complexity < 1:
        parser.error("--per-complexity must be at least 1")
    if min(config.max_tokens, config.peer_max_tokens, config.partner_max_tokens) < 1:
        parser.error("token limits must be at least 1")
    return config


# ---- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    t_start = time.perf_counter()
    env = environment(threads=",".join(map(str, config.threads)),
                      packages=("llama_cpp_python",))
    print(format_environment(env), flush=True)
    print("# config " + json.dumps(asdict(config)), flush=True)
    rows = load_rows(EDGEJSON / "train.jsonl")
    schemas = load_schemas(EDGEJSON / "schemas")
    samples, warm = sample_rows(rows, config.complexities, config.per_complexity, config.seed)
    models, notes = discover_models(config)
    for n in notes:
        print(f"# note: {n}", flush=True)
    if not models:
        print("no model file to measure", file=sys.stderr)
        return 2
    settings = [Setting(m, e, t, c) for m in models for c in config.n_ctx
                for t in config.threads for e in config.engines]
    per_engine: dict[str, int] = {}
    for s in settings:
        per_engine[s.engine] = per_engine.get(s.engine, 0) + 1
    total = plan_size(config, per_engine, len(samples))
    print(f"# {len(settings)} configurations x {len(samples)} rows "
          f"({', '.join(s.row['id'] for s in samples)}), {total} extractions", flush=True)

    from tqdm import tqdm

    records: list[dict] = []
    summaries: list[dict] = []
    groups: dict[tuple, list[Setting]] = {}
    for setting in settings:
        groups.setdefault((setting.model.path, setting.threads, setting.n_ctx), []).append(setting)
    base = Path(config.out)
    base.parent.mkdir(parents=True, exist_ok=True)
    # Records are also appended as they come, so a long run that is stopped keeps its data.
    live = open(base.with_suffix(".partial.jsonl"), "w", encoding="utf-8")

    def tick(record: dict) -> None:
        live.write(json.dumps(record) + "\n")
        live.flush()
        bar.update(1)

    with live, tqdm(total=total, unit="ext", dynamic_ncols=True) as bar:
        for group in groups.values():
            g = group[0]
            bar.set_description(f"{g.model.label} {g.model.quant} t={g.threads} ctx={g.n_ctx}")
            results = run_group(group, samples, warm, schemas, config, tick=tick)
            for setting, (recs, facts) in zip(group, results):
                records += recs
                s = summarize(setting, recs, facts, config.complexities)
                summaries.append(s)
                if facts["start_error"]:
                    notes.append(f"{' '.join(map(str, setting.key))}: {facts['start_error']}")
                tqdm.write(
                    f"{s['model']} {s['quant']} {s['engine']:10s} t={s['threads']} "
                    f"ctx={s['n_ctx']} p50={_fmt(s['p50_ms'])} ms p95={_fmt(s['p95_ms'])} ms "
                    f"decode={_fmt(s['decode_tok_s'], 1)} tok/s "
                    f"prompt={_fmt(s['prompt_tok_s'], 1)} tok/s "
                    f"grammar={_fmt(s['grammar_us_per_token'])} us/tok "
                    f"2nd/1st={_fmt(s['second_over_first'], 2)} "
                    f"2nd/cold={_fmt(s['second_over_cold'], 2)} "
                    f"errors={s['n_errors']} timeouts={s['n_timeouts']} "
                    f"valid={s['n_valid']}/{s['n']}")
    ratios = bar_ratios(summaries, config.complexities)
    for line in bar_lines(summaries, ratios):
        print(line)
    wall_s = time.perf_counter() - t_start
    write_csv(base.with_suffix(".csv"), summaries, CONFIG_COLUMNS + tuple(
        f"p50_ms_{cx}" for cx in config.complexities))
    write_csv(base.with_suffix(".extractions.csv"), records)
    base.with_suffix(".json").write_text(json.dumps(
        {"environment": env, "config": asdict(config), "samples": [s.row["id"] for s in samples],
         "summaries": summaries, "ratios": ratios, "records": records, "notes": notes,
         "wall_s": wall_s}, indent=1, default=str))
    base.with_suffix(".md").write_text(markdown(env, config, summaries, ratios, notes, wall_s))
    written = [base.with_suffix(x) for x in (".csv", ".extractions.csv", ".json", ".md")]
    if config.plots and summaries:
        written += write_plots(base, summaries, config.complexities)
    print(f"# wrote {', '.join(str(p) for p in written)} in {wall_s:.0f} s")
    return 0 if all(not s["start_error"] for s in summaries) else 1


if __name__ == "__main__":
    sys.exit(main())
