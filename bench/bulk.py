"""Bulk extraction: documents per second over worker layouts, memory per worker, a long
document, and what a cluster would take, from the numbers measured in the same run.

Usage:
    python -m bench.bulk [--rows 44] [--schema-id user_profile] [--max-tokens 512]
                         [--layouts 1x1,1x2,2x1,ray:2x1] [--rounds 2] [--long-chars 100000]
                         [--long-threads 2] [--long-n-ctx N] [--nodes 100] [--node-cores 16]
                         [--docs 10000000] [--out bench/out/bulk] [--smoke]

Layouts are ``WxT`` (W local worker processes of T llama.cpp threads each, through
:func:`maaza_rt.workers.extract_local`, as ``maaza-rt extract --workers W --threads T`` runs
them) or ``ray:WxT`` (W actors of T CPUs on a local Ray instance of W*T CPUs, through
:func:`maaza_rt.bulk.extract_texts`, as ``--ray --workers W`` runs them). Every layout extracts
the same EdgeJSON rows of one schema (``prompt`` as the text), in the same order, and must give
the same values. Throughput is measured by difference: each layout also runs a job of one
document per worker (start: process start, model load, the first document), and the rate is the
extra documents of the full job over its extra wall time, so start-up cancels out and the order
in which results arrive (input order: a worker that started late holds back a burst of results)
does not matter. ``wall_s`` includes the start. The layouts run in turn, ``--rounds`` times, and
each reports the median of its rounds (the machine's load drifts). Local workers start in
sessions of their own, as Ray's do: where Linux shares the CPUs among sessions first
(``sched_autogroup``, in the header), workers kept in the bench's session would share one
session's part of a busy machine, and Ray's would not. Memory: the peak resident set of each
worker process (sampled every 0.2 s with psutil). The long document (:func:`long_document`,
three labelled facts far apart) runs in a process of its own, whose peak RSS (``ru_maxrss``) is
reported with its time, chunks and whether the value is exact. The projection scales the
measured one-worker rate by the measured two-worker efficiency and the Ray/local ratio.

Writes ``bulk.json`` (config, environment, numbers) and ``bulk.md`` (tables) to ``--out``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import multiprocessing
import os
import random
import resource
import statistics
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import environment, format_environment

REPO = Path(__file__).resolve().parent.parent
EDGEJSON = REPO.parent / "shared" / "edgejson"


@dataclass
class Config:
    rows: int = 44  # EdgeJSON rows per layout (user_profile has 46)
    schema_id: str = "user_profile"  # the schema whose rows are extracted (the most rows)
    max_tokens: int = 512
    layouts: str = "1x1,1x2,2x1,ray:2x1"
    rounds: int = 2  # each layout runs once per round, the layouts in turn (load drifts)
    long_chars: int = 100_000  # the long document's size (0: skip it)
    long_threads: int = 2
    long_n_ctx: int | None = None  # the long document's context (None: the model's)
    nodes: int = 100  # the projection's cluster
    node_cores: int = 16
    docs: int = 10_000_000
    out: str = "bench/out/bulk"


SMOKE: dict[str, Any] = {"rows": 8, "layouts": "1x1,2x1", "rounds": 1,
                         "long_chars": 20_000, "long_n_ctx": 2048}


# ---- the long document (tests/test_chunking.py uses it too) ------------------------------------

FILLER = [
    "The company was founded by two brothers who sold seed from a wooden cart.",
    "Its first warehouse stood beside the river and flooded twice in ten years.",
    "Over the decades the firm moved into fertiliser and later into garden tools.",
    "The annual picnic became a town tradition that families still talk about.",
    "A small museum in the old office now shows the ledgers of the early years.",
    "The founders believed that a handshake mattered more than a signed paper.",
    "Trade fairs in the north brought new customers and a few famous visitors.",
    "The brass band formed by the staff played at every opening of a new shop.",
    "During hard winters the delivery vans carried bread to outlying farms.",
    "The archive keeps letters from customers who wrote to thank the drivers.",
    "Several of the original recipes for plant food are still kept in a safe.",
    "The local school named its garden after the family in recognition of gifts.",
    "Old photographs show the market square crowded on the first spring sale.",
    "Many of the staff stayed for their whole working lives and trained others.",
    "The clock above the main door was rebuilt after a storm damaged its face.",
    "Visitors often ask about the painted sign that hangs above the counter.",
]
LONG_SCHEMA = {"type": "object", "properties": {
    "report_number": {"type": "string", "description": "Report number"},
    "inspector": {"type": "string", "description": "Name of the inspector"},
    "site": {"type": "string", "description": "Site name"}}, "additionalProperties": False}
LONG_FACTS = ((0.05, "Report number: MR-4471-B"), (0.4, "Inspector: Helena Marsh"),
              (0.83, "Site: Kestrel Quarry"))
LONG_EXPECTED = {"report_number": "MR-4471-B", "inspector": "Helena Marsh",
                 "site": "Kestrel Quarry"}
_PARAGRAPH_CHARS = 430  # about what one filler paragraph of six sentences holds


def long_document(n_chars: int = 20_000, seed: int = 0) -> str:
    """Filler paragraphs (six sentences each, fixed seed) of at least ``n_chars`` characters
    in all, with the three labelled lines of ``LONG_FACTS`` at 5%, 40% and 83% of the
    paragraphs; ``LONG_SCHEMA`` extracts ``LONG_EXPECTED`` from it."""
    rng = random.Random(seed)
    n_paragraphs = max(8, -(-n_chars // _PARAGRAPH_CHARS))
    while True:
        at = {round(f * n_paragraphs): fact for f, fact in LONG_FACTS}
        paragraphs: list[str] = []
        for i in range(n_paragraphs):
            paragraphs.append(" ".join(rng.choice(FILLER) for _ in range(6)))
            if i in at:
                paragraphs.append(at[i])
        text = "\n\n".join(paragraphs)
        if len(text) >= n_chars:
            return text
        n_paragraphs += 1
        rng = random.Random(seed)


def _long_run(n_chars: int, threads: int, n_ctx: int | None) -> dict[str, Any]:
    """Runs in a process of its own: the long document, its time and the peak RSS."""
    import maaza_rt

    text = long_document(n_chars)
    extractor = maaza_rt.Extractor(n_threads=threads, n_ctx=n_ctx)
    t0 = time.perf_counter()
    details = extractor.extract(text, LONG_SCHEMA, max_tokens=64, return_details=True)
    seconds = time.perf_counter() - t0
    return {"chars": len(text), "threads": threads, "n_ctx": extractor.session.n_ctx_limit,
            "n_chunks": details.n_chunks, "seconds": round(seconds, 1),
            "n_prompt_tokens": details.n_prompt_tokens, "exact": details.value == LONG_EXPECTED,
            "value": details.value,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


# ---- throughput --------------------------------------------------------------------------------


class _PeakRss:
    """Samples the resident set of the worker processes (``pick(process)``) every 0.2 s."""

    def __init__(self, pick: Any) -> None:
        self.pick = pick
        self.peak: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            for proc in self.pick(psutil):
                try:
                    rss = proc.memory_info().rss
                except psutil.Error:
                    continue
                self.peak[proc.pid] = max(self.peak.get(proc.pid, 0), rss)
            self._stop.wait(0.2)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _local_workers(psutil: Any) -> list[Any]:
    return psutil.Process().children(recursive=True)


def _ray_actors(psutil: Any) -> list[Any]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if any("MapWorker" in part for part in (proc.info["cmdline"] or [])):
            found.append(proc)
    return found


def _timed(outcomes: Iterable[Any]) -> Iterator[tuple[float, Any]]:
    for outcome in outcomes:
        yield time.perf_counter(), outcome


def _autogroup() -> str:
    try:
        return Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip()
    except OSError:
        return "unknown"


def run_layout(layout: str, texts: list[str], schema: Any, cfg: Config) -> dict[str, Any]:
    """Extracts ``texts`` with one layout; returns its numbers and values."""
    from maaza_rt.bulk import extract_texts
    from maaza_rt.workers import WorkerConfig, extract_local

    on_ray = layout.startswith("ray:")
    workers, threads = (int(n) for n in layout.removeprefix("ray:").split("x"))
    options = {"max_tokens": cfg.max_tokens, "return_details": not on_ray}
    load_before = round(os.getloadavg()[0], 2)
    t0 = time.perf_counter()
    if on_ray:
        import ray

        ray.init(num_cpus=workers * threads, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.WARNING)
        t0 = time.perf_counter()
        outcomes: Iterable[Any] = extract_texts(texts, schema, options, n_actors=workers,
                                                n_threads=threads)
    else:
        outcomes = extract_local(texts, WorkerConfig(schema, options, None, threads), workers,
                                 own_sessions=True)
    try:
        with _PeakRss(_ray_actors if on_ray else _local_workers) as rss:
            timed = list(_timed(outcomes))
    finally:
        if on_ray:
            ray.shutdown()
    times = [t for t, _ in timed]
    values = [getattr(o, "value", None) for _, o in timed]
    per_worker = sorted(rss.peak.values(), reverse=True)[:workers]
    return {"layout": layout, "workers": workers, "threads": threads, "ray": on_ray,
            "load_1min_before": load_before, "docs": len(texts),
            "wall_s": round(times[-1] - t0, 2),
            "first_result_s": round(times[0] - t0, 1),
            "peak_rss_mb_per_worker": [round(b / 2**20) for b in per_worker],
            "errors": sum(1 for v in values if v is None), "values": values}


def summarize(runs: list[dict[str, Any]], reference: list[Any]) -> dict[str, Any]:
    """One layout's rounds: the median rate and wall time, every round's rate and load, the
    largest RSS per worker, and whether every round gave the reference values."""
    out = {k: v for k, v in runs[0].items() if k != "values"}
    out.update(docs_per_s=round(statistics.median(r["docs_per_s"] for r in runs), 3),
               docs_per_s_rounds=[r["docs_per_s"] for r in runs],
               load_1min_before=[r["load_1min_before"] for r in runs],
               wall_s=round(statistics.median(r["wall_s"] for r in runs), 1),
               first_result_s=round(statistics.median(r["first_result_s"] for r in runs), 1),
               start_wall_s=round(statistics.median(r["start_wall_s"] for r in runs), 1),
               peak_rss_mb_per_worker=[max(col) for col in zip(
                   *(r["peak_rss_mb_per_worker"] for r in runs))],
               errors=sum(r["errors"] for r in runs),
               same_values_as_first=all(r["values"] == reference for r in runs))
    return out


def projection(results: dict[str, dict[str, Any]], cfg: Config) -> dict[str, Any]:
    """The cluster arithmetic from the measured rates (see the module docstring)."""
    one = results.get("1x1", {}).get("docs_per_s")
    two = results.get("2x1", {}).get("docs_per_s")
    if not one or not two:
        return {}
    efficiency = two / (2 * one)
    ray = results.get("ray:2x1", {}).get("docs_per_s")
    ray_factor = ray / two if ray else 1.0
    node_rate = cfg.node_cores * one * efficiency * ray_factor
    cluster_rate = cfg.nodes * node_rate
    rss = max(results["2x1"]["peak_rss_mb_per_worker"] or [0])
    return {"docs_per_s_per_core": one, "two_worker_efficiency": round(efficiency, 3),
            "ray_over_local": round(ray_factor, 3), "node_cores": cfg.node_cores,
            "node_docs_per_s": round(node_rate, 1), "nodes": cfg.nodes,
            "cluster_docs_per_s": round(cluster_rate, 1), "docs": cfg.docs,
            "hours": round(cfg.docs / cluster_rate / 3600, 2),
            "node_memory_gb": round(cfg.node_cores * rss / 1024, 1)}


def _markdown(env: dict[str, Any], results: dict[str, dict[str, Any]],
              long: dict[str, Any] | None, plan: dict[str, Any]) -> str:
    lines = [format_environment(env), "",
             "| layout | docs/s (median) | vs 1x1 | rounds docs/s | load before | wall s | "
             "start s | peak RSS per worker MB | same values |",
             "|---|---|---|---|---|---|---|---|---|"]
    base = results.get("1x1", {}).get("docs_per_s")
    for r in results.values():
        ratio = f"{r['docs_per_s'] / base:.2f}x" if base else "-"
        lines.append(f"| {r['layout']} | {r['docs_per_s']:.2f} | {ratio} | "
                     f"{r['docs_per_s_rounds']} | {r['load_1min_before']} | {r['wall_s']} | "
                     f"{r['start_wall_s']} | {r['peak_rss_mb_per_worker']} | "
                     f"{r['same_values_as_first']} |")
    if long:
        lines += ["", "| long document chars | threads | n_ctx | chunks | prompt tokens | s | "
                      "exact | peak RSS MB |", "|---|---|---|---|---|---|---|---|",
                  f"| {long['chars']} | {long['threads']} | {long['n_ctx']} | "
                  f"{long['n_chunks']} | {long['n_prompt_tokens']} | {long['seconds']} | "
                  f"{long['exact']} | {long['peak_rss_mb']} |"]
    if plan:
        lines += ["", f"Projection: {plan['nodes']} nodes x {plan['node_cores']} cores, one "
                      f"worker of one thread per core: {plan['docs_per_s_per_core']:.2f} docs/s "
                      f"per core x {plan['two_worker_efficiency']} (two-worker efficiency) x "
                      f"{plan['ray_over_local']} (Ray/local) = {plan['node_docs_per_s']} docs/s "
                      f"per node, {plan['cluster_docs_per_s']} docs/s in all: {plan['docs']:,} "
                      f"documents in {plan['hours']} hours; {plan['node_memory_gb']} GB of "
                      f"worker memory per node."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bulk",
                                 description=__doc__.split("\n\n")[0])
    for f in dataclasses.fields(Config):
        kind = int if f.name in ("rows", "max_tokens", "rounds", "long_chars", "long_threads",
                                 "nodes", "node_cores", "docs", "long_n_ctx") else str
        ap.add_argument("--" + f.name.replace("_", "-"), type=kind, default=None)
    ap.add_argument("--smoke", action="store_true", help=f"a quick run: {SMOKE}")
    args = ap.parse_args(argv)
    cfg = Config(**(SMOKE if args.smoke else {}))
    for f in dataclasses.fields(Config):
        if getattr(args, f.name) is not None:
            setattr(cfg, f.name, getattr(args, f.name))
    from maaza_rt.edgejson import load_rows
    from maaza_rt.models import resolve_model

    resolve_model(None)  # the merge of the default model, once, before any worker starts
    schema = json.loads((EDGEJSON / "schemas" / f"{cfg.schema_id}.json").read_text())
    rows = [r for r in load_rows(EDGEJSON / "train.jsonl") if r["schema_id"] == cfg.schema_id]
    texts = [r["prompt"] for r in rows[:cfg.rows]]
    env = environment(threads=cfg.layouts, packages=("llama_cpp_python", "ray"),
                      model="default", rows=len(texts), schema_id=cfg.schema_id,
                      sched_autogroup=_autogroup())
    print(format_environment(env), flush=True)
    runs: dict[str, list[dict[str, Any]]] = {}
    for _ in range(cfg.rounds):
        for layout in cfg.layouts.split(","):
            n_workers = int(layout.removeprefix("ray:").split("x")[0])
            start = run_layout(layout, texts[:n_workers], schema, cfg)
            r = run_layout(layout, texts, schema, cfg)
            r["start_wall_s"] = start["wall_s"]
            r["docs_per_s"] = round((len(texts) - n_workers) / (r["wall_s"] - start["wall_s"]),
                                    3)
            runs.setdefault(layout, []).append(r)
            print(f"{layout}: {r['docs_per_s']:.2f} docs/s, wall {r['wall_s']} s, peak RSS per "
                  f"worker {r['peak_rss_mb_per_worker']} MB, errors {r['errors']}, load before "
                  f"{r['load_1min_before']}", flush=True)
    reference = next(iter(runs.values()))[0]["values"]
    results = {layout: summarize(rs, reference) for layout, rs in runs.items()}
    long = None
    if cfg.long_chars:
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(1) as pool:
            long = pool.apply(_long_run, (cfg.long_chars, cfg.long_threads, cfg.long_n_ctx))
        print(f"long document: {long}", flush=True)
    plan = projection(results, cfg)
    report = _markdown(env, results, long, plan)
    print(report)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bulk.json").write_text(json.dumps(
        {"config": dataclasses.asdict(cfg), "environment": env, "layouts": results,
         "long_document": long, "projection": plan}, indent=1) + "\n")
    (out / "bulk.md").write_text(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
