"""The edge latency sweep's runs: the sample of EdgeJSON rows and one group of configurations.

:func:`sample_rows` draws the fixed, seeded sample (with a partner row per sample row that fills
the KV cache for the "second" run); :func:`run_group` runs the engines of one (model file,
threads, context size) group in their worker processes, row by row, and :func:`record_of` turns
each extraction into a flat record.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Callable

from bench.engine_worker import EngineResult, EngineWorker, WorkerError
from bench.pi_latency_config import SweepConfig
from bench.pi_latency_models import ModelFile
from maaza_rt.edgejson import complexity, validation_split

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
