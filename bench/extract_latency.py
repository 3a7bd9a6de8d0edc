"""Per-example extraction latency on EdgeJSON, with and without jump-forward.

Usage:
    python bench/extract_latency.py [--per-schema 1] [--threads N] [--max-tokens 768]
                                    [--model NAME] [--out bench/out/extract_latency]

Takes a fixed sample of ``../shared/edgejson/train.jsonl`` (per schema, the rows with the
shortest expected output), warms the model up on one extra row, then extracts every sample row
twice, once per decoding mode, alternating the order of the modes between rows. Prints an
environment header, p50/p90/max latency per mode, the speed ratio, the share of forced output
tokens, whether every output validates (``jsonschema``) and whether both modes gave identical
text. Writes JSON and Markdown beside ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import jsonschema
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.append(str(REPO))
sys.path.append(str(REPO / "bench"))

from benchenv import cpu_model, git_commit  # noqa: E402

import maaza_rt  # noqa: E402
from maaza_rt.runtime import physical_cores  # noqa: E402

EDGEJSON = REPO.parent / "shared" / "edgejson"


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


def _header(args: argparse.Namespace, extractor: maaza_rt.Extractor) -> dict:
    import llama_cpp

    return {"cpu": cpu_model(), "cores_physical": physical_cores(), "cpus_logical": os.cpu_count(),
            "threads": extractor.n_threads, "model": extractor.model.resolved.name,
            "model_file": extractor.model.path.name, "llama_cpp_python": llama_cpp.__version__,
            "maaza_rt": maaza_rt.__version__, "commit": git_commit(),
            "python": platform.python_version(),
            "load_1min": os.getloadavg()[0]}


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-schema", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--max-tokens", type=int, default=768)
    parser.add_argument("--model", default=None)
    parser.add_argument("--out", default=str(REPO / "bench" / "out" / "extract_latency"))
    args = parser.parse_args(argv)

    schemas = {p.stem: json.loads(p.read_text()) for p in (EDGEJSON / "schemas").glob("*.json")}
    rows = sample_rows(args.per_schema)
    extractor = maaza_rt.Extractor(args.model, n_threads=args.threads)
    header = _header(args, extractor)
    print("# " + " | ".join(f"{k}={v}" for k, v in header.items()), flush=True)
    # Warm-up on a row outside the sample.
    warm = next(r for r in map(json.loads, open(EDGEJSON / "train.jsonl")) if r not in rows)
    extractor.extract(warm["prompt"], schemas[warm["schema_id"]], max_tokens=args.max_tokens)

    results = []
    for i, row in enumerate(rows):
        schema = schemas[row["schema_id"]]
        record: dict = {"id": row["id"], "schema_id": row["schema_id"]}
        modes = (True, False) if i % 2 == 0 else (False, True)
        for jump in modes:
            key = "jf" if jump else "plain"
            t0 = time.perf_counter_ns()
            try:
                r = extractor.extract(row["prompt"], schema, max_tokens=args.max_tokens,
                                      jump_forward=jump, return_details=True)
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
                           "n_prompt": r.n_prompt_tokens, "n_reused": r.n_prompt_tokens_reused,
                           "prompt_ms": r.prompt_ms, "decode_ms": r.decode_ms,
                           "grammar_ms": r.grammar_ms}
        results.append(record)
        jf, pl = record.get("jf", {}), record.get("plain", {})
        for name, r in (("jf", jf), ("plain", pl)):
            if "error" in r:
                print(f"  {name}: {r['error'][:160]}", flush=True)
        print(f"{row['schema_id']:28s} jf={jf.get('ms', float('nan')):8.0f} ms "
              f"plain={pl.get('ms', float('nan')):8.0f} ms out={jf.get('n_output')} "
              f"forced={jf.get('n_forced')} same={jf.get('text') == pl.get('text')} "
              f"valid={jf.get('valid')}/{pl.get('valid')}", flush=True)

    ok = [r for r in results if "ms" in r.get("jf", {}) and "ms" in r.get("plain", {})]
    jf_ms = [r["jf"]["ms"] for r in ok]
    pl_ms = [r["plain"]["ms"] for r in ok]
    n_out = sum(r["jf"]["n_output"] for r in ok)
    n_forced = sum(r["jf"]["n_forced"] for r in ok)
    summary = {
        "n_rows": len(results), "n_ok": len(ok),
        "n_errors": len(results) - len(ok),
        "valid_share": sum(r["jf"]["valid"] and r["plain"]["valid"] for r in ok) / max(1, len(ok)),
        "identical_share": sum(r["jf"]["text"] == r["plain"]["text"] for r in ok) / max(1, len(ok)),
        "jf_ms": {"p50": _pct(jf_ms, 50), "p90": _pct(jf_ms, 90), "max": max(jf_ms, default=0)},
        "plain_ms": {"p50": _pct(pl_ms, 50), "p90": _pct(pl_ms, 90),
                     "max": max(pl_ms, default=0)},
        "p50_ratio_plain_over_jf": _pct(pl_ms, 50) / _pct(jf_ms, 50) if ok else float("nan"),
        "forced_token_share": n_forced / max(1, n_out),
        "output_tokens": n_out,
        "grammar_ms_per_token": sum(r["jf"]["grammar_ms"] for r in ok) / max(1, n_out),
    }
    print(json.dumps(summary, indent=2))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(
        {"header": header, "config": vars(args), "summary": summary, "rows": results}, indent=1))
    md = ["| mode | p50 ms | p90 ms | max ms |", "|---|---|---|---|"]
    for name, key in (("jump-forward", "jf_ms"), ("plain", "plain_ms")):
        s = summary[key]
        md.append(f"| {name} | {s['p50']:.0f} | {s['p90']:.0f} | {s['max']:.0f} |")
    md.append("")
    md.append(f"forced-token share {summary['forced_token_share']:.3f}, identical "
              f"{summary['identical_share']:.3f}, valid {summary['valid_share']:.3f}, "
              f"rows {summary['n_ok']}/{summary['n_rows']}")
    out.with_suffix(".md").write_text("\n".join(md) + "\n")
    return 0 if summary["n_errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
