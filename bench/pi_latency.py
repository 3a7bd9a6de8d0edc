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
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

from bench.engines import ENGINES, FACTORY, EngineResult, EngineWorker, WorkerError
from bench.harness import (
    EDGEJSON,
    OUT,
    environment,
    format_environment,
    percentile,
    physical_cores,
    resolve,
)
from maaza_rt.edgejson import (
    COMPLEXITIES,
    complexity,
    load_rows,
    load_schemas,
    validation_split,
)

# Bars the product is held to (see the module docstring).
BAR_GBNF_RATIO = 1 / 3
BAR_FREE_RATIO = 1.0
BAR_GRAMMAR_SHARE = 0.02
BAR_SECOND_OVER_FIRST = 0.7

QUANT_NAMES = ("F32", "F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q5_0", "Q5_1",
               "Q4_K_M", "Q4_K_S", "Q4_0", "Q4_1", "Q3_K_M", "Q3_K_S", "Q2_K")
# llama.cpp's LLAMA_FTYPE values, for files whose name does not say the quantization.
_FTYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
           10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
           17: "Q5_K_M", 18: "Q6_K", 32: "BF16"}


@dataclass
class SweepConfig:
    """Everything that decides what the sweep measures (saved beside every output)."""

    # Models: "default", registry names (maaza_rt.models.MODELS) or GGUF paths.
    models: list[str] = field(default_factory=lambda: ["default", "gemma3-270m"])
    # Directories searched for more *.gguf files (e.g. other quantizations of the models).
    gguf_dirs: list[str] = field(default_factory=list)
    # Quantizations kept from --gguf-dir files (files named in --models are always kept).
    quants: list[str] = field(default_factory=lambda: ["F16", "Q8_0", "Q4_0", "Q4_K_M"])
    threads: list[int] = field(default_factory=lambda: list(range(1, physical_cores() + 1)))
    n_ctx: list[int] = field(default_factory=lambda: [2048])
    engines: list[str] = field(default_factory=lambda: list(ENGINES))
    complexities: list[str] = field(default_factory=lambda: list(COMPLEXITIES))
    per_complexity: int = 3  # sample rows per complexity, each from a different schema
    seed: int = 0
    max_tokens: int = 768  # maaza engines
    peer_max_tokens: int = 768  # llama-gbnf and free
    peer_timeout_s: float = 120.0  # per extraction, llama-gbnf and free
    timeout_s: float = 600.0  # per extraction, maaza engines (a guard, not expected to trigger)
    reuse_engines: list[str] = field(default_factory=lambda: ["maaza"])  # second-run check
    partner_max_tokens: int = 4  # the run that fills the cache only needs the prompt
    warmup: bool = True
    # module:callable(engine, model, threads, n_ctx) building the engines in the worker.
    factory: str = FACTORY
    plots: bool = True
    out: str = str(OUT / "pi_latency")


# One thread: on a shared 2-core machine two llama.cpp threads wait on each other whenever
# another process holds a core. The same token budget for every engine keeps runs that never
# close their JSON (arrays repeated until max_tokens) comparable.
PEERS = ("llama-gbnf", "free", "maaza-nolookup", "maaza-nojf")  # what maaza is compared with
QUICK = {"models": ["default"], "threads": [1], "n_ctx": [2048], "per_complexity": 1,
         "max_tokens": 384, "peer_max_tokens": 384, "peer_timeout_s": 60.0}


# ---- config parsing ---------------------------------------------------------------------------


def parse_int_list(text: str) -> list[int]:
    """``"1,2,4"``, ``"1-4"`` or a mix (``"1-2,8"``) as a sorted list without duplicates.

    Raises:
        ValueError: an item is not a positive integer or a ``lo-hi`` range with lo <= hi.
    """
    out: set[int] = set()
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", item)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if lo < 1 or hi < lo:
                raise ValueError(f"bad range {item!r}: need 1 <= lo <= hi")
            out.update(range(lo, hi + 1))
        elif item.isdigit() and int(item) >= 1:
            out.add(int(item))
        else:
            raise ValueError(f"not a positive integer or range: {item!r}")
    if not out:
        raise ValueError(f"empty list: {text!r}")
    return sorted(out)


def parse_list(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


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


# ---- models and quantizations -----------------------------------------------------------------


@dataclass(frozen=True)
class ModelFile:
    """One GGUF file to sweep: ``model`` is what the engines are given (a name or a path)."""

    label: str
    model: str
    path: str
    quant: str
    size_bytes: int


def quant_from_name(name: str) -> str | None:
    """The quantization named in a GGUF file name (``...Q4_K_M.gguf`` -> ``Q4_K_M``), or None."""
    stem = Path(name).name.upper()
    for quant in sorted(QUANT_NAMES, key=len, reverse=True):
        if re.search(rf"(?<![A-Z0-9]){re.escape(quant)}(?![A-Z0-9])", stem):
            return quant
    return None


def quant_of(path: Path) -> str:
    """The quantization of a GGUF file: from its name, else its ``general.file_type``."""
    named = quant_from_name(path.name)
    if named is not None:
        return named
    try:
        import gguf

        reader = gguf.GGUFReader(str(path))
        f = reader.fields.get("general.file_type")
        if f is not None:
            return _FTYPES.get(int(f.parts[f.data[0]][0]), "unknown")
    except Exception:  # an unreadable header only loses the label
        pass
    return "unknown"


def discover_models(config: SweepConfig) -> tuple[list[ModelFile], list[str]]:
    """The model files to sweep, and a note for every model that could not be found."""
    from maaza_rt.errors import ModelError

    found: list[ModelFile] = []
    notes: list[str] = []
    seen: set[str] = set()

    def add(label: str, model: str, path: Path) -> None:
        key = str(path.resolve())
        if key in seen:
            return
        seen.add(key)
        found.append(ModelFile(label, model, str(path), quant_of(path), path.stat().st_size))

    for model in config.models:
        try:
            resolved = resolve(model)
        except ModelError as e:
            notes.append(f"{model}: skipped ({e})")
            continue
        add(resolved.name, model if resolved.spec is not None else str(resolved.path),
            resolved.path)
    wanted = {q.upper() for q in config.quants}
    for directory in config.gguf_dirs:
        d = Path(directory).expanduser()
        if not d.is_dir():
            notes.append(f"{directory}: not a directory")
            continue
        for path in sorted(d.glob("*.gguf")):
            if not wanted or quant_of(path) in wanted:
                add(path.stem, str(path), path)
    return found, notes


# ---- sample -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """A measured row and a partner row with the same schema (fills the KV cache for "second")."""

    row: dict
    partner: dict

    @property
    def complexity(self) -> str:
        return complexity(self.row)


def sample_rows(rows: list[dict], complexities: Iterable[str], per_complexity: int,
                seed: int) -> tuple[list[Sample], dict]:
    """A fixed, seeded sample of validation rows and a warm-up row outside it.

    Per complexity, ``per_complexity`` rows from as many different schemas (fewer when the
    complexity has fewer schemas with a partner); rows are interleaved across complexities so
    consecutive rows never share a schema. Partners come from any split (they are not measured).

    Raises:
        ValueError: a complexity has no row with a partner.
    """
    _, val = validation_split(rows, seed=seed)
    by_schema: dict[str, list[dict]] = {}
    for row in rows:
        by_schema.setdefault(row["schema_id"], []).append(row)
    rng = random.Random(f"pi_latency/{seed}")
    per: dict[str, list[Sample]] = {}
    used: set[str] = set()
    for cx in complexities:
        candidates = sorted((r for r in val if complexity(r) == cx
                             and len(by_schema[r["schema_id"]]) > 1), key=lambda r: r["id"])
        if not candidates:
            raise ValueError(f"no EdgeJSON validation row of complexity {cx!r} with a partner")
        rng.shuffle(candidates)
        chosen: list[Sample] = []
        schemas: set[str] = set()
        for row in candidates:
            if len(chosen) == per_complexity:
                break
            if row["schema_id"] in schemas:
                continue
            schemas.add(row["schema_id"])
            others = sorted((r for r in by_schema[row["schema_id"]] if r["id"] != row["id"]),
                            key=lambda r: r["id"])
            chosen.append(Sample(row, rng.choice(others)))
            used.update((row["id"], chosen[-1].partner["id"]))
        per[cx] = chosen
    samples: list[Sample] = []
    for i in range(max(len(v) for v in per.values())):
        for cx in per:
            if i < len(per[cx]):
                samples.append(per[cx][i])
    for a, b in zip(samples, samples[1:]):
        if a.row["schema_id"] == b.row["schema_id"]:
            raise ValueError("consecutive sample rows share a schema")  # cannot happen: checked
    sampled_schemas = {s.row["schema_id"] for s in samples}
    warm_pool = sorted((r for r in rows if r["id"] not in used
                        and r["schema_id"] not in sampled_schemas),
                       key=lambda r: (len(json.dumps(r["expected_output"])), r["id"]))
    warm = warm_pool[0] if warm_pool else rows[0]
    return samples, warm


# ---- statistics -------------------------------------------------------------------------------


def _ratio(a: float, b: float) -> float:
    return a / b if b and b == b and a == a else float("nan")


# ---- running one configuration ----------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    model: ModelFile
    engine: str
    threads: int
    n_ctx: int

    @property
    def key(self) -> tuple[str, str, str, int, int]:
        return (self.model.label, self.model.quant, self.engine, self.threads, self.n_ctx)


def _is_peer(engine: str) -> bool:
    return not engine.startswith("maaza")


def _valid(value: Any, schema: dict) -> bool:
    import jsonschema

    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError:
        return False
    except jsonschema.SchemaError:
        return False
    return True


_TEXT_HEAD = 240  # characters of each output kept in the records, to see what ran away


def record_of(setting: Setting, sample_row: dict, phase: str, result: EngineResult,
              schema: dict) -> dict:
    """One extraction as a flat record (the value itself is replaced by its validity)."""
    rec: dict[str, Any] = {
        "model": setting.model.label, "quant": setting.model.quant, "engine": setting.engine,
        "threads": setting.threads, "n_ctx": setting.n_ctx, "phase": phase,
        "row_id": sample_row["id"], "schema_id": sample_row["schema_id"],
        "complexity": complexity(sample_row), "error": result.error,
        "timed_out": result.error == "timeout",
        "valid": bool(result.ok and _valid(result.value, schema)),
        "hit_max_tokens": bool(result.extra.get("hit_max_tokens", False)
                               or result.error.startswith("GenerationLimitError")),
        "text_head": result.text[:_TEXT_HEAD],
    }
    for name in ("n_prompt_tokens", "n_prompt_eval", "n_output_tokens", "n_forced_tokens",
                 "n_drafted_tokens", "prompt_ms", "decode_ms", "grammar_ms", "total_ms"):
        rec[name] = getattr(result, name)
    return rec


def plan_size(config: SweepConfig, n_settings_per_engine: dict[str, int], n_samples: int) -> int:
    """How many extractions the sweep will request (for the progress bar)."""
    total = 0
    for engine, n in n_settings_per_engine.items():
        per = n_samples * (4 if engine in config.reuse_engines else 1) + int(config.warmup)
        total += n * per
    return total


def run_group(settings: list[Setting], samples: list[Sample], warm: dict,
              schemas: dict[str, dict], config: SweepConfig,
              tick: Callable[[dict], None] | None = None) -> list[tuple[list[dict], dict]]:
    """Runs the engines of one (model, threads, context) group, row by row.

    Each engine lives in its own worker process for the whole group; per row the engines take
    turns (the order rotates from row to row), so a change in machine load during the run falls
    on every engine alike. ``tick`` is called with each record as it is made. Returns, per
    setting, its records and process facts (load time of its first start, peak RSS, restarts,
    start error).
    """
    workers = [EngineWorker(s.engine, s.model.model, s.threads, s.n_ctx, factory=config.factory)
               for s in settings]
    records: list[list[dict]] = [[] for _ in settings]
    errors = ["" for _ in settings]

    def run(i: int, row: dict, phase: str, limit: int) -> None:
        setting = settings[i]
        peer = _is_peer(setting.engine)
        timeout = config.peer_timeout_s if peer else config.timeout_s
        schema = schemas[row["schema_id"]]
        try:
            result = workers[i].extract(row["prompt"], schema, limit, timeout_s=timeout,
                                        cold=phase == "cold")
        except WorkerError as e:
            errors[i] = str(e)
            result = EngineResult(setting.engine, error=f"WorkerError: {e}")
        records[i].append(record_of(setting, row, phase, result, schema))
        if tick is not None:
            tick(records[i][-1])

    def limit_of(i: int) -> int:
        return config.peer_max_tokens if _is_peer(settings[i].engine) else config.max_tokens

    try:
        for i in range(len(settings)):
            if config.warmup:
                run(i, warm, "warmup", limit_of(i))
        for k, sample in enumerate(samples):
            for j in range(len(settings)):
                i = (j + k) % len(settings)
                if errors[i]:
                    continue
                run(i, sample.row, "first", limit_of(i))
                if settings[i].engine in config.reuse_engines:
                    run(i, sample.partner, "partner", config.partner_max_tokens)
                    run(i, sample.row, "second", limit_of(i))
                    run(i, sample.row, "cold", limit_of(i))
    finally:
        for w in workers:
            w.close()
    out = []
    for i, w in enumerate(workers):
        facts: dict[str, Any] = {"load_ms": w.load_ms[0] if w.load_ms else float("nan"),
                                 "peak_rss_mb": w.peak_rss_mb if w.load_ms else float("nan"),
                                 "n_restarts": w.n_restarts, "start_error": errors[i]}
        out.append((records[i], facts))
    return out


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


# ---- environment and writers ------------------------------------------------------------------


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
