"""MaskBench's results: per-engine summaries, ratios to the reference engine and the report text.

:func:`summarize` counts compile errors, crashes, timeouts, validation and invalidation errors and
the timing percentiles of one engine; :func:`common_mask_ratio` compares mask times with
llguidance's on the schemas both pass; :func:`markdown` and :func:`summary_line` write what
``python -m bench.maskbench`` prints and saves.
"""

from __future__ import annotations

from typing import Any

from bench.harness import percentiles

REFERENCE_ENGINE = "llguidance"


def summarize(engine: str, results: dict[str, dict]) -> dict:
    """Counts and timing percentiles of one engine over all its schema results."""
    s: dict[str, Any] = {"schemas": len(results), "compiled": 0, "compile_errors": 0,
                         "exceptions": 0, "crashes": 0, "timeouts": 0, "worker_errors": 0,
                         "passing": 0, "valid_instances": 0, "invalid_instances": 0,
                         "validation_errors": 0, "invalidation_errors": 0}
    ttfm: list[float] = []
    masks: list[float] = []
    key = {"compile_error": "compile_errors", "exception": "exceptions", "crash": "crashes",
           "timeout": "timeouts", "worker_error": "worker_errors"}
    for res in results.values():
        status = res.get("status")
        if status in key:
            s[key[status]] += 1
            if status != "compile_error" and "ttfm_ns" not in res:
                continue
        if "ttfm_ns" in res:
            s["compiled"] += 1
            ttfm.append(res["ttfm_ns"])
            masks.extend(res.get("mask_ns", []))
        if status != "ok":
            continue
        ok = True
        for inst in res.get("instances", []):
            if inst["valid"]:
                s["valid_instances"] += 1
                if not inst["accepted"]:
                    s["validation_errors"] += 1
                    ok = False
            else:
                s["invalid_instances"] += 1
                if inst["accepted"]:
                    s["invalidation_errors"] += 1
                    ok = False
        s["passing"] += ok
    s["wall_s"] = sum(res.get("wall_s", 0.0) for res in results.values())
    s["ttfm_us"] = {k: (v / 1e3 if k != "n" else v) for k, v in percentiles(ttfm).items()}
    s["mask_us"] = {k: (v / 1e3 if k != "n" else v) for k, v in percentiles(masks).items()}
    return s


def schema_passes(res: dict) -> bool:
    """A schema passes when it compiled and every instance got the right verdict."""
    return res.get("status") == "ok" and all(
        inst["accepted"] == inst["valid"] for inst in res.get("instances", [])
    )


def common_mask_ratio(results: dict[str, dict[str, dict]], engine: str) -> float | None:
    """Mask p50 of `engine` over llguidance's, on schemas both passed."""
    if REFERENCE_ENGINE not in results or engine not in results:
        return None
    ours, ref = [], []
    for name, res in results[engine].items():
        other = results[REFERENCE_ENGINE].get(name)
        if other is not None and schema_passes(res) and schema_passes(other):
            ours.extend(res.get("mask_ns", []))
            ref.extend(other.get("mask_ns", []))
    if not ours or not ref:
        return None
    return percentiles(ours)["p50"] / percentiles(ref)["p50"]


def _fmt(v: float | None, digits: int = 1) -> str:
    if v is None:
        return "-"
    if v >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def markdown(report: dict) -> str:
    env = report["environment"]
    lines = [
        "## MaskBench",
        "",
        f"CPU: {env['cpu']} ({env['cores_physical']} cores, {env['cpus_logical']} logical "
        f"CPUs, 1 thread per engine); "
        f"Python {env['python']}; commit {env['git_commit']}; tokenizer: {env['tokenizer']}; "
        f"whitespace: {env['whitespace']}; schemas: {report['n_schemas']}; "
        f"instances: {report['n_valid']} valid, {report['n_invalid']} invalid.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()),
        "",
        "| engine | compiled | compile err | crash | timeout | passing | validation err "
        "| invalidation err | TTFM p50 / p90 / p99 (µs) | mask p50 / p90 / p99 / max (µs) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in report["engines"].items():
        if "unavailable" in s:
            lines.append(f"| {name} | unavailable: {s['unavailable']} |||||||||")
            continue
        t, m = s["ttfm_us"], s["mask_us"]
        lines.append(
            f"| {name} | {s['compiled']} | {s['compile_errors']} | "
            f"{s['crashes'] + s['exceptions']} | {s['timeouts']} | {s['passing']} | "
            f"{s['validation_errors']} | {s['invalidation_errors']} | "
            f"{_fmt(t.get('p50'))} / {_fmt(t.get('p90'))} / {_fmt(t.get('p99'))} | "
            f"{_fmt(m.get('p50'))} / {_fmt(m.get('p90'))} / {_fmt(m.get('p99'))} / "
            f"{_fmt(m.get('max'))} |"
        )
    ratios = report.get("ratios_to_llguidance", {})
    if ratios:
        lines += ["", "Ratios to llguidance (engine / llguidance; below 1 is faster):", "",
                  "| engine | TTFM p50 | mask p50 | mask p99 | mask p50, schemas both pass |",
                  "|---|---|---|---|---|"]
        for name, r in ratios.items():
            lines.append(f"| {name} | {_fmt(r.get('ttfm_p50'), 2)} | {_fmt(r.get('mask_p50'), 2)}"
                         f" | {_fmt(r.get('mask_p99'), 2)} | {_fmt(r.get('mask_p50_common'), 2)} |")
    lines.append("")
    return "\n".join(lines)


def summary_line(report: dict) -> str:
    parts = []
    for name, s in report["engines"].items():
        if "unavailable" in s:
            parts.append(f"{name}: unavailable")
            continue
        p50 = s["mask_us"].get("p50")
        parts.append(f"{name}: {s['passing']}/{s['schemas']} pass, "
                     f"{s['invalidation_errors']} invalidation err, "
                     f"mask p50 {_fmt(p50)} µs")
    return f"maskbench {report['n_schemas']} schemas | " + " | ".join(parts)
