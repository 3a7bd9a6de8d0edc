"""The edge latency sweep's results: summaries, the ratios the bars are about, and the writers.

:func:`summarize` turns one configuration's records into its numbers; :func:`bar_ratios` and
:func:`bar_lines` compare maaza with its peers against the bars; :func:`write_csv`,
:func:`markdown` and :func:`write_plots` write what ``python -m bench.pi_latency`` saves.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.engines import ENGINES
from bench.harness import percentile
from bench.pi_latency_config import PEERS, SweepConfig
from bench.pi_latency_run import Setting

# Bars the product is held to (see bench/pi_latency.py's docstring).
BAR_GBNF_RATIO = 1 / 3
BAR_FREE_RATIO = 1.0
BAR_GRAMMAR_SHARE = 0.02
BAR_SECOND_OVER_FIRST = 0.7


# ---- statistics -------------------------------------------------------------------------------


def _ratio(a: float, b: float) -> float:
    return a / b if b and b == b and a == a else float("nan")


# ---- summaries --------------------------------------------------------------------------------


def summarize(setting: Setting, records: list[dict], facts: dict,
              complexities: Iterable[str]) -> dict:
    """One configuration's numbers from its records (first runs, unless said otherwise)."""
    firsts = [r for r in records if r["phase"] == "first"]
    # Timings count whenever the engine ran to a stop (a peer's unparsable output included);
    # timeouts, crashes and maaza's typed errors carry no split of the time.
    done = [r for r in firsts if r["prompt_ms"] > 0 or r["decode_ms"] > 0]
    lat = [r["total_ms"] for r in firsts]  # timeouts count at their timeout
    prompt_ms = sum(r["prompt_ms"] for r in done)
    decode_ms = sum(r["decode_ms"] for r in done)
    n_out = sum(r["n_output_tokens"] for r in done)
    grammar_ms = sum(r["grammar_ms"] for r in done)
    second_ratios = []
    second_prompt_ratios = []
    cold_ratios = []
    firsts_by_row = {r["row_id"]: r for r in firsts if not r["error"]}
    colds_by_row = {r["row_id"]: r for r in records if r["phase"] == "cold" and not r["error"]}
    for r in records:
        if r["phase"] != "second" or r["error"]:
            continue
        f = firsts_by_row.get(r["row_id"])
        if f is not None:
            second_ratios.append(r["total_ms"] / f["total_ms"])
            second_prompt_ratios.append(_ratio(r["prompt_ms"], f["prompt_ms"]))
        c = colds_by_row.get(r["row_id"])
        if c is not None:
            cold_ratios.append(r["total_ms"] / c["total_ms"])
    s: dict[str, Any] = {
        "model": setting.model.label, "quant": setting.model.quant, "engine": setting.engine,
        "threads": setting.threads, "n_ctx": setting.n_ctx,
        "size_mb": setting.model.size_bytes / (1 << 20),
        "load_ms": facts.get("load_ms", float("nan")),
        "peak_rss_mb": facts.get("peak_rss_mb", float("nan")),
        "n": len(firsts), "n_errors": sum(bool(r["error"]) for r in firsts),
        "n_timeouts": sum(r["timed_out"] for r in firsts),
        "n_valid": sum(r["valid"] for r in firsts),
        "n_hit_max_tokens": sum(r["hit_max_tokens"] for r in firsts),
        "prompt_tok_s": _ratio(sum(r["n_prompt_eval"] for r in done) * 1000.0, prompt_ms),
        "decode_tok_s": _ratio(n_out * 1000.0, decode_ms),
        "p50_ms": percentile(lat, 50), "p95_ms": percentile(lat, 95),
        "grammar_us_per_token": _ratio(grammar_ms * 1000.0, n_out),
        "grammar_share": _ratio(grammar_ms, decode_ms),
        "forced_share": _ratio(sum(r["n_forced_tokens"] for r in done), n_out),
        "drafted_share": _ratio(sum(r.get("n_drafted_tokens", 0) for r in done), n_out),
        "prompt_share": _ratio(prompt_ms, sum(r["total_ms"] for r in done)),
        # Latency per output token, over every first run that produced tokens (runs cut at
        # max_tokens included): comparable between engines whose outputs differ in length.
        "ms_per_output_token": _ratio(
            sum(r["total_ms"] for r in firsts if r["n_output_tokens"] > 0),
            sum(r["n_output_tokens"] for r in firsts)),
        "second_over_first": percentile(second_ratios, 50),
        "second_prompt_over_first": percentile(second_prompt_ratios, 50),
        "second_over_cold": percentile(cold_ratios, 50),
        "cold_p50_ms": percentile((c["total_ms"] for c in colds_by_row.values()), 50),
        "start_error": facts.get("start_error", ""),
    }
    for cx in complexities:
        s[f"p50_ms_{cx}"] = percentile((r["total_ms"] for r in firsts
                                        if r["complexity"] == cx), 50)
    return s


def bar_ratios(summaries: list[dict], complexities: Iterable[str]) -> list[dict]:
    """Per (model, quant, threads, n_ctx) and complexity: the ratios the bars are about."""
    groups: dict[tuple, dict[str, dict]] = {}
    for s in summaries:
        groups.setdefault((s["model"], s["quant"], s["threads"], s["n_ctx"]), {})[s["engine"]] = s
    out = []
    for (model, quant, threads, n_ctx), by_engine in groups.items():
        ours = by_engine.get("maaza")
        if ours is None:
            continue
        for cx in complexities:
            row: dict[str, Any] = {"model": model, "quant": quant, "threads": threads,
                                   "n_ctx": n_ctx, "complexity": cx,
                                   "maaza_p50_ms": ours[f"p50_ms_{cx}"]}
            for peer in PEERS:
                other = by_engine.get(peer)
                value = other[f"p50_ms_{cx}"] if other else float("nan")
                row[f"{peer}_p50_ms"] = value
                row[f"maaza_over_{peer}"] = _ratio(ours[f"p50_ms_{cx}"], value)
            out.append(row)
    return out


def _fmt(x: Any, digits: int = 0) -> str:
    if isinstance(x, float):
        if x != x:
            return "-"
        return f"{x:.{digits}f}"
    return str(x)


def _verdict(value: float, bar: float, strict: bool = False) -> str:
    if value != value:
        return "n/a"
    ok = value < bar if strict else value <= bar
    return "meets" if ok else f"misses by {value / bar:.2f}x"


def bar_lines(summaries: list[dict], ratios: list[dict]) -> list[str]:
    """Human-readable lines on every bar, one per group and complexity."""
    lines = []
    for r in ratios:
        where = f"{r['model']} {r['quant']} t={r['threads']} ctx={r['n_ctx']} {r['complexity']}"
        lines.append(f"{where}: maaza/llama-gbnf {_fmt(r['maaza_over_llama-gbnf'], 3)} "
                     f"(bar <= {BAR_GBNF_RATIO:.3f}: "
                     f"{_verdict(r['maaza_over_llama-gbnf'], BAR_GBNF_RATIO)}), "
                     f"maaza/free {_fmt(r['maaza_over_free'], 3)} (bar < 1: "
                     f"{_verdict(r['maaza_over_free'], BAR_FREE_RATIO, strict=True)}), "
                     f"maaza/maaza-nolookup {_fmt(r['maaza_over_maaza-nolookup'], 3)}, "
                     f"maaza/maaza-nojf {_fmt(r['maaza_over_maaza-nojf'], 3)}")
    for s in summaries:
        if s["engine"] != "maaza":
            continue
        where = f"{s['model']} {s['quant']} t={s['threads']} ctx={s['n_ctx']}"
        lines.append(f"{where}: grammar/decode time per token {_fmt(s['grammar_share'] * 100, 2)}%"
                     f" (bar < 2%: {_verdict(s['grammar_share'], BAR_GRAMMAR_SHARE, True)}), "
                     f"second/first extraction of a process {_fmt(s['second_over_cold'], 3)} "
                     f"(bar <= {BAR_SECOND_OVER_FIRST}: "
                     f"{_verdict(s['second_over_cold'], BAR_SECOND_OVER_FIRST)}), "
                     f"second/first with that schema after another "
                     f"{_fmt(s['second_over_first'], 3)}")
    return lines


# ---- writers ----------------------------------------------------------------------------------


CONFIG_COLUMNS = ("model", "quant", "engine", "threads", "n_ctx", "size_mb", "load_ms",
                  "peak_rss_mb", "n", "n_errors", "n_timeouts", "n_valid", "n_hit_max_tokens",
                  "prompt_tok_s", "decode_tok_s", "p50_ms", "p95_ms", "grammar_us_per_token",
                  "grammar_share", "forced_share", "drafted_share", "prompt_share",
                  "ms_per_output_token",
                  "second_over_first",
                  "second_prompt_over_first", "second_over_cold", "cold_p50_ms")


def write_csv(path: Path, rows: list[dict], columns: Iterable[str] | None = None) -> None:
    """Rows as CSV; columns default to the keys of the first row."""
    rows = list(rows)
    cols = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (f"{v:.4g}" if isinstance(v, float) else v)
                             for k, v in r.items()})


def markdown(env: dict, config: SweepConfig, summaries: list[dict], ratios: list[dict],
             notes: list[str], wall_s: float) -> str:
    """The Markdown summary of a sweep."""
    out = ["### Machine", "",
           f"- CPU: {env['cpu']} ({env['cores_physical']} physical cores, "
           f"{env['cpus_logical']} logical CPUs), memory {env['memory_gb']} GB",
           f"- OS: {env['os']}",
           f"- llama-cpp-python {env['llama_cpp_python']}, maaza-rt {env['maaza_rt']} "
           f"(commit {env['git_commit']}), Python {env['python']}",
           f"- 1-minute load average at start: {env['load_1min']}; run took {wall_s:.0f} s "
           f"({env['date_utc']} UTC)", ""]
    out += ["### Configurations", "",
            "Latency = one extraction, first run (schema not in the KV cache); peers capped at "
            f"{config.peer_max_tokens} tokens and {config.peer_timeout_s:.0f} s "
            "(a timeout counts at the cap). 2nd/1st: median ratio of the second run of a row "
            "(schema part of the prompt cached) to its first run (the chat template's opening "
            "cached from another schema); in brackets the same for prompt time. Cold: the row "
            "run with nothing cached, as the first extraction of a process; 2nd/cold: second "
            "run over cold run (the prefix-reuse bar, <= 0.7).", "",
            "| model | quant | engine | thr | ctx | MB | load ms | RSS MB | prompt tok/s | "
            "decode tok/s | p50 ms | p95 ms | grammar us/tok | grammar % of decode | forced % | "
            "drafted % | prompt % | ms/out tok | 2nd/1st (prompt) | cold p50 ms | 2nd/cold | "
            "errors (timeouts) | cut at max | valid |",
            "|" + "---|" * 24]
    for s in summaries:
        out.append(
            f"| {s['model']} | {s['quant']} | {s['engine']} | {s['threads']} | {s['n_ctx']} | "
            f"{_fmt(s['size_mb'])} | {_fmt(s['load_ms'])} | {_fmt(s['peak_rss_mb'])} | "
            f"{_fmt(s['prompt_tok_s'], 1)} | {_fmt(s['decode_tok_s'], 1)} | {_fmt(s['p50_ms'])} | "
            f"{_fmt(s['p95_ms'])} | {_fmt(s['grammar_us_per_token'])} | "
            f"{_fmt(s['grammar_share'] * 100, 2)} | {_fmt(s['forced_share'] * 100, 1)} | "
            f"{_fmt(s['drafted_share'] * 100, 1)} | {_fmt(s['prompt_share'] * 100, 0)} | "
            f"{_fmt(s['ms_per_output_token'], 1)} | "
            f"{_fmt(s['second_over_first'], 2)} ({_fmt(s['second_prompt_over_first'], 2)}) | "
            f"{_fmt(s['cold_p50_ms'])} | {_fmt(s['second_over_cold'], 2)} | "
            f"{s['n_errors']} ({s['n_timeouts']}) | {s['n_hit_max_tokens']} | "
            f"{s['n_valid']}/{s['n']} |")
    out += ["", "### Median latency by complexity (ms) and the bars", "",
            "| model | quant | thr | ctx | complexity | maaza | maaza-nolookup | maaza-nojf | "
            "llama-gbnf | free | maaza/llama-gbnf (bar <= 0.333) | maaza/free (bar < 1) |",
            "|" + "---|" * 12]
    for r in ratios:
        out.append(
            f"| {r['model']} | {r['quant']} | {r['threads']} | {r['n_ctx']} | {r['complexity']} "
            f"| {_fmt(r['maaza_p50_ms'])} | {_fmt(r['maaza-nolookup_p50_ms'])} | "
            f"{_fmt(r['maaza-nojf_p50_ms'])} | "
            f"{_fmt(r['llama-gbnf_p50_ms'])} | {_fmt(r['free_p50_ms'])} | "
            f"{_fmt(r['maaza_over_llama-gbnf'], 3)} | {_fmt(r['maaza_over_free'], 3)} |")
    out += ["", "### Bars", ""] + [f"- {line}" for line in bar_lines(summaries, ratios)]
    if notes:
        out += ["", "### Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(out) + "\n"


def write_plots(base: Path, summaries: list[dict], complexities: list[str]) -> list[Path]:
    """latency vs threads per quantization, and latency per engine by complexity."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    fig, ax = plt.subplots(figsize=(7, 4.5))
    lines: dict[tuple, list[tuple[int, float]]] = {}
    for s in summaries:
        lines.setdefault((s["model"], s["quant"], s["engine"], s["n_ctx"]), []).append(
            (s["threads"], s["p50_ms"]))
    for (model, quant, engine, n_ctx), pts in sorted(lines.items()):
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o",
                label=f"{model} {quant} {engine} ctx={n_ctx}")
    ax.set_xlabel("threads")
    ax.set_ylabel("p50 latency per extraction (ms)")
    ax.set_title("Latency vs threads")
    ax.legend(fontsize=6)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    paths.append(base.with_suffix(".threads.png"))
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    # One panel per model file at its largest thread count and first context size.
    picks: dict[tuple[str, str], dict[str, dict]] = {}
    best: dict[tuple[str, str], tuple[int, int]] = {}
    for s in summaries:
        key = (s["model"], s["quant"])
        rank = (s["threads"], -s["n_ctx"])
        if key not in best or rank > best[key]:
            best[key] = rank
    for s in summaries:
        key = (s["model"], s["quant"])
        if (s["threads"], -s["n_ctx"]) == best[key]:
            picks.setdefault(key, {})[s["engine"]] = s
    fig, axes = plt.subplots(1, max(1, len(picks)), figsize=(5 * max(1, len(picks)), 4.5),
                             squeeze=False)
    for ax, ((model, quant), by_engine) in zip(axes[0], sorted(picks.items())):
        engines = [e for e in ENGINES if e in by_engine]
        width = 0.8 / max(1, len(engines))
        for i, engine in enumerate(engines):
            ys = [by_engine[engine][f"p50_ms_{cx}"] for cx in complexities]
            ax.bar([j + i * width for j in range(len(complexities))], ys, width, label=engine)
        ax.set_xticks([j + width * (len(engines) - 1) / 2 for j in range(len(complexities))])
        ax.set_xticklabels(complexities)
        s0 = next(iter(by_engine.values()))
        ax.set_title(f"{model} {quant}, {s0['threads']} threads", fontsize=9)
        ax.set_ylabel("p50 latency (ms)")
        ax.legend(fontsize=7)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    paths.append(base.with_suffix(".engines.png"))
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    return paths
