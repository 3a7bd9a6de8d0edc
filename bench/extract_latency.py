"""Per-example extraction latency on EdgeJSON in each decoding mode.

Modes: the default (jump-forward and prompt lookup), jump-forward only, and plain step-by-step
decoding.

Usage:
    python -m bench.extract_latency [--per-schema 1] [--threads N] [--max-tokens 768]
                                    [--model NAME] [--out bench/out/extract_latency]

Takes a fixed sample of ``../shared/edgejson/train.jsonl`` (per schema, the rows with the
shortest expected output), warms the model up on one extra row, then extracts every sample row
once per decoding mode (each evaluating the whole prompt), rotating the order of the modes
between rows. Prints an environment header, p50/p90/max latency per mode, the speed ratios, the
shares of forced and drafted output tokens, whether every output validates (``jsonschema``) and
whether all modes gave identical text. Writes JSON and Markdown beside ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import jsonschema

import maaza_rt
from bench.engines import MAAZA_MODES
from bench.harness import EDGEJSON, OUT, environment, format_environment, percentile

# mode -> Extractor.extract options, as the benchmark engines of the same modes run them
MODES = {"default": MAAZA_MODES["maaza"], "jf": MAAZA_MODES["maaza-nolookup"],
         "plain": MAAZA_MODES["maaza-nojf"]}
MODE_NAMES = {"default": "jump-forward + prompt lookup (default)", "jf": "jump-forward only",
              "plain": "plain step-by-step"}


def sample_rows(per_schema: int) -> list[dict]:
    """Per schema, the ``per_schema`` rows with the shortest expected output (ties: file order)."""
    rows = [json.loads(line) for line in open(EDGEJSON / "train.jsonl", encoding="utf-8")]
    by_schema: dict[str, list[dict]] = {}
    for row in rows:
        by_schema.setdefault(row["schema_id"], []).append(row)
    out = []
    for schema_id in sorted(by_schema):
        group = sorted(by_schema[schema_id], key=lambda r: len(json.dumps(r["expected_output"])))
        out.extend(group[:per_schema])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.extract_latency",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--per-schema", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--max-tokens", type=int, default=768)
    parser.add_argument("--model", default=None)
    parser.add_argument("--out", default=str(OUT / "extract_latency"))
    args = parser.parse_args(argv)

    schemas = {p.stem: json.loads(p.read_text()) for p in (EDGEJSON / "schemas").glob("*.json")}
    rows = sample_rows(args.per_schema)
    extractor = maaza_rt.Extractor(args.model, n_threads=args.threads)
    header = environment(threads=extractor.n_threads, packages=("llama_cpp_python",),
                         model=extractor.model.resolved.name, model_file=extractor.model.path.name)
    print(format_environment(header), flush=True)
    # Warm-up on a row outside the sample.
    warm = next(r for r in map(json.loads, open(EDGEJSON / "train.jsonl")) if r not in rows)
    # EdgeJSON's date-times carry no time offset (RFC 3339 wants one): optional_timezone.
    extractor.extract(warm["prompt"], schemas[warm["schema_id"]], max_tokens=args.max_tokens,
                      optional_timezone=True)

    results = []
    names = list(MODES)
    for i, row in enumerate(rows):
        schema = schemas[row["schema_id"]]
        record: dict = {"id": row["id"], "schema_id": row["schema_id"]}
        order = names[i % len(names):] + names[:i % len(names)]  # rotate who goes first
        for key in order:
            # Every mode evaluates the whole prompt: none inherits another's cached prefix.
            extractor.session.truncate(0)
            t0 = time.perf_counter_ns()
            try:
                r = extractor.extract(row["prompt"], schema, max_tokens=args.max_tokens,
                                      optional_timezone=True, return_details=True,
                                      **MODES[key])
            except maaza_rt.MaazaError as e:
                record[key] = {"error": f"{type(e).__name__}: {e}"}
                continue
            ms = (time.perf_counter_ns() - t0) / 1e6
            try:
                jsonschema.validate(r.value, schema)
                valid = True
            except jsonschema.ValidationError:
                valid = False
            record[key] = {"ms": ms, "text": r.text, "valid": valid,
                           "n_output": r.n_output_tokens, "n_forced": r.n_forced_tokens,
                           "n_drafted": r.n_drafted_tokens,
                           "n_prompt": r.n_prompt_tokens, "n_reused": r.n_prompt_tokens_reused,
                           "prompt_ms": r.prompt_ms, "decode_ms": r.decode_ms,
                           "grammar_ms": r.grammar_ms}
        results.append(record)
        for name in names:
            if "error" in record[name]:
                print(f"  {name}: {record[name]['error'][:160]}", flush=True)
        d = record["default"]
        print(f"{row['schema_id']:28s} "
              + " ".join(f"{n}={record[n].get('ms', float('nan')):7.0f} ms" for n in names)
              + f" out={d.get('n_output')} forced={d.get('n_forced')} "
              f"drafted={d.get('n_drafted')} "
              f"same={len({record[n].get('text') for n in names}) == 1} "
              f"valid={'/'.join(str(record[n].get('valid')) for n in names)}", flush=True)

    ok = [r for r in results if all("ms" in r[n] for n in names)]
    n_out = sum(r["default"]["n_output"] for r in ok)
    summary: dict = {
        "n_rows": len(results), "n_ok": len(ok),
        "n_errors": len(results) - len(ok),
        "valid_share": sum(all(r[n]["valid"] for n in names) for r in ok) / max(1, len(ok)),
        "identical_share": sum(len({r[n]["text"] for n in names}) == 1 for r in ok)
        / max(1, len(ok)),
        "forced_token_share": sum(r["default"]["n_forced"] for r in ok) / max(1, n_out),
        "drafted_token_share": sum(r["default"]["n_drafted"] for r in ok) / max(1, n_out),
        "output_tokens": n_out,
        "grammar_ms_per_token": sum(r["default"]["grammar_ms"] for r in ok) / max(1, n_out),
    }
    for n in names:
        ms = [r[n]["ms"] for r in ok]
        summary[f"{n}_ms"] = {"p50": percentile(ms, 50), "p90": percentile(ms, 90),
                              "max": max(ms, default=0)}
    for n in names[1:]:
        summary[f"p50_ratio_{n}_over_default"] = (
            summary[f"{n}_ms"]["p50"] / summary["default_ms"]["p50"] if ok else float("nan"))
    print(json.dumps(summary, indent=2))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(
        {"header": header, "config": vars(args), "summary": summary, "rows": results}, indent=1))
    md = ["| mode | p50 ms | p90 ms | max ms |", "|---|---|---|---|"]
    for n in names:
        s = summary[f"{n}_ms"]
        md.append(f"| {MODE_NAMES[n]} | {s['p50']:.0f} | {s['p90']:.0f} | {s['max']:.0f} |")
    md.append("")
    md.append(f"forced-token share {summary['forced_token_share']:.3f}, drafted-token share "
              f"{summary['drafted_token_share']:.3f}, identical {summary['identical_share']:.3f}, "
              f"valid {summary['valid_share']:.3f}, rows {summary['n_ok']}/{summary['n_rows']}")
    out.with_suffix(".md").write_text("\n".join(md) + "\n")
    return 0 if summary["n_errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
