"""The edge latency sweep's configuration: what ``python -m bench.pi_latency`` measures.

:class:`SweepConfig` holds every choice (models, quantizations, threads, context sizes, engines,
sample size, token budgets and timeouts) and is saved beside every output; :data:`QUICK` is the
``--quick`` preset and :data:`PEERS` the engines maaza is compared with. :func:`parse_int_list`
and :func:`parse_list` read the list options of the command line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bench.engine_worker import FACTORY
from bench.engines import ENGINES
from bench.harness import OUT, physical_cores
from maaza_rt.edgejson import COMPLEXITIES


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
