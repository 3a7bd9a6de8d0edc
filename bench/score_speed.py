"""Scoring speed: the native EdgeJSON scorer against the pure-Python reference, same pairs.

Generates --n prediction/expected pairs (fixed --seed) from the EdgeJSON expected outputs:
exact copies re-serialised (key order, whitespace, escapes), mutated values (changed leaf,
missing key, extra key, type change, int/float swap) and broken text (truncated, prose around the
JSON). Each pair carries its schema and its complexity group. Both scorers run on the same pairs
in the same process, with and without schema validation; the aggregates must agree exactly.

Usage:
    python -m bench.score_speed [--n 100000] [--seed 0] [--data ../shared/edgejson]
        [--repeats 3] [--out results.json]

The last line printed is `ratio: <N>x`: reference CPU time / native CPU time, with schemas
(process CPU time, single thread; wall times are printed too).
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import EDGEJSON, environment, format_environment
from maaza_rt import edgejson, metrics, metrics_reference


def _mutate(value: dict, rng: random.Random) -> Any:
    v = copy.deepcopy(value)
    k = rng.choice(list(v))
    kind = rng.randrange(5)
    if kind == 0:  # changed leaf
        x = v[k]
        v[k] = (
            (not x) if isinstance(x, bool)
            else x + 1 if isinstance(x, (int, float))
            else x + " " if isinstance(x, str)
            else None
        )
    elif kind == 1:  # missing key
        del v[k]
    elif kind == 2:  # extra key
        v["note"] = "extra"
    elif kind == 3:  # type change
        v[k] = json.dumps(v[k])
    else:  # int/float swap everywhere
        v = json.loads(json.dumps(v), parse_int=float)
    return v


def make_pairs(rows: list[dict], n: int, seed: int) -> tuple[list[str], list[str], list[int]]:
    rng = random.Random(seed)
    preds: list[str] = []
    exps: list[str] = []
    which: list[int] = []
    for _ in range(n):
        i = rng.randrange(len(rows))
        value = rows[i]["expected_output"]
        exp = json.dumps(value, ensure_ascii=False)
        r = rng.random()
        if r < 0.4:
            items = list(value.items())
            rng.shuffle(items)
            pred = json.dumps(dict(items), ensure_ascii=rng.random() < 0.5,
                              indent=rng.choice([None, 2]))
        elif r < 0.9:
            pred = json.dumps(_mutate(value, rng), ensure_ascii=False)
        elif r < 0.95:
            pred = exp[: rng.randrange(1, len(exp))]
        else:
            pred = "Here is the JSON you asked for: " + exp + " Hope it helps!"
        preds.append(pred)
        exps.append(exp)
        which.append(i)
    return preds, exps, which


def timed(fn: Any, repeats: int) -> tuple[float, float, Any]:
    """Median wall seconds and median process CPU seconds over `repeats` runs, and the result.

    CPU time is what the ratio uses: on a shared machine, wall time also counts the time the
    process waited for a core, which varies from run to run.
    """
    walls, cpus = [], []
    result = None
    for _ in range(repeats):
        t0, c0 = time.perf_counter_ns(), time.process_time_ns()
        result = fn()
        cpus.append((time.process_time_ns() - c0) / 1e9)
        walls.append((time.perf_counter_ns() - t0) / 1e9)
    return statistics.median(walls), statistics.median(cpus), result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.score_speed",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="number of pairs")
    ap.add_argument("--seed", type=int, default=0, help="generator seed")
    ap.add_argument("--data", type=Path, default=EDGEJSON,
                    help="EdgeJSON directory (train.jsonl, schemas/)")
    ap.add_argument("--repeats", type=int, default=3, help="native runs (median reported)")
    ap.add_argument("--out", type=Path, default=None, help="write the numbers as JSON here")
    args = ap.parse_args(argv)

    env = environment(threads=1, packages=("jsonschema",))
    print(format_environment(env))

    rows = edgejson.load_rows(args.data / "train.jsonl")
    schemas = edgejson.load_schemas(args.data / "schemas")
    preds, exps, which = make_pairs(rows, args.n, args.seed)
    pair_schemas = [schemas[rows[i]["schema_id"]] for i in which]
    groups = [edgejson.complexity(rows[i]) for i in which]
    n_bytes = sum(len(p) + len(e) for p, e in zip(preds, exps))
    print(f"pairs: {args.n} (seed {args.seed}), {n_bytes / args.n:.0f} bytes per pair, "
          f"{len({id(s) for s in pair_schemas})} schemas")

    # Warm-up: imports, schema compilation caches, jsonschema validator construction.
    metrics.score(preds[:1000], exps[:1000], pair_schemas[:1000], groups[:1000])
    metrics_reference.score_reference(preds[:1000], exps[:1000], pair_schemas[:1000], groups[:1000])

    def run_native(with_schema: bool) -> Any:
        return metrics.score(preds, exps, pair_schemas if with_schema else None, groups)

    def run_reference(with_schema: bool) -> Any:
        return metrics_reference.score_reference(
            preds, exps, pair_schemas if with_schema else None, groups
        )

    results: dict[str, Any] = {"env": env, "n": args.n, "seed": args.seed}
    for with_schema in (False, True):
        label = "with schemas" if with_schema else "no schemas"
        w_native, t_native, out_native = timed(lambda w=with_schema: run_native(w), args.repeats)
        w_ref, t_ref, out_ref = timed(lambda w=with_schema: run_reference(w), 1)
        agree = out_native == out_ref
        ratio = t_ref / t_native
        print(f"native    ({label}): cpu {t_native * 1e3:9.1f} ms  "
              f"{t_native / args.n * 1e6:7.2f} us/pair   wall {w_native * 1e3:9.1f} ms  "
              f"(median of {args.repeats})")
        print(f"reference ({label}): cpu {t_ref * 1e3:9.1f} ms  "
              f"{t_ref / args.n * 1e6:7.2f} us/pair   wall {w_ref * 1e3:9.1f} ms")
        print(f"aggregates agree ({label}): {'yes' if agree else 'NO'}")
        print(f"ratio ({label}, cpu): {ratio:.1f}x   (wall: {w_ref / w_native:.1f}x)")
        results[label] = {"native_cpu_s": t_native, "reference_cpu_s": t_ref,
                          "native_wall_s": w_native, "reference_wall_s": w_ref,
                          "ratio_cpu": ratio, "ratio_wall": w_ref / w_native,
                          "agree": agree, "overall": out_native["overall"]}
        if not agree:
            print("native and reference aggregates differ:", out_native["overall"],
                  out_ref["overall"], file=sys.stderr)
    o = results["with schemas"]["overall"]
    print(f"scores: json_exact {o['json_exact']:.4f}  field_f1 {o['field_f1']:.4f}  "
          f"compliance {o['compliance']:.4f}  schema_valid {o['schema_valid']:.4f}  "
          f"leaf_f1 {o['leaf_f1']:.4f}  unparsed {o['n_unparsed']}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    ok = results["with schemas"]["agree"] and results["no schemas"]["agree"]
    print(f"ratio: {results['with schemas']['ratio_cpu']:.1f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
