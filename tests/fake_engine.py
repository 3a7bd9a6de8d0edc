"""A model-free engine factory for the benchmark worker tests (``tests.fake_engine:make_engine``).

Each engine answers every extraction at once with the expected output of the row whose prompt it
was given (as its value and its text) and fixed timings per engine, so the sweep's arithmetic can
be checked exactly. Texts that start with ``SLEEP`` or ``CRASH`` make the worker hang or die, to
test timeouts and crash recovery; ``RAISE`` makes the extraction raise. Loading prints a line to
stdout, which the worker must send to its log, not into the protocol.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from bench import engines

EDGEJSON = Path(__file__).resolve().parent.parent.parent / "shared" / "edgejson"

# engine -> (prompt_ms, decode_ms, grammar_ms, total_ms); tokens: 100 prompt, 50 output.
TIMINGS = {
    "maaza": (20.0, 50.0, 0.5, 100.0),
    "maaza-nolookup": (20.0, 60.0, 0.5, 110.0),
    "maaza-nojf": (20.0, 80.0, 0.5, 130.0),
    "llama-gbnf": (20.0, 60.0, 300.0, 400.0),
    "free": (20.0, 160.0, 0.0, 200.0),
}


class FakeEngine:
    def __init__(self, name: str) -> None:
        self.name = name
        self.expected: dict[str, object] = {}
        with open(EDGEJSON / "train.jsonl", encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                self.expected[row["prompt"]] = row["expected_output"]
        self.seen_schemas: set[str] = set()
        self.cleared = False
        print(f"fake engine {name} loaded")

    def clear_cache(self) -> None:
        self.seen_schemas.clear()
        self.cleared = True

    def extract(self, text: str, schema: dict, max_tokens: int) -> engines.EngineResult:
        if text.startswith("SLEEP"):
            time.sleep(60)
        if text.startswith("CRASH"):
            os.kill(os.getpid(), signal.SIGSEGV)
        if text.startswith("RAISE"):
            raise ValueError("fake failure")
        prompt_ms, decode_ms, grammar_ms, total_ms = TIMINGS[self.name]
        key = json.dumps(schema, sort_keys=True)
        reused = key in self.seen_schemas
        cold, self.cleared = self.cleared, False
        self.seen_schemas.add(key)
        if reused:  # the schema part of the prompt came from the cache: half the prompt time
            prompt_ms /= 2
            total_ms -= prompt_ms
        elif cold:  # after clear_cache not even the template is cached: 10 ms more
            prompt_ms += 10.0
            total_ms += 10.0
        value = self.expected.get(text)
        return engines.EngineResult(
            self.name, value=value, text="" if value is None else json.dumps(value),
            n_prompt_tokens=100,
            n_prompt_eval=50 if reused else 100, n_output_tokens=min(50, max_tokens),
            n_forced_tokens=10 if self.name.startswith("maaza") else 0,
            n_drafted_tokens=15 if self.name == "maaza" else 0, prompt_ms=prompt_ms,
            decode_ms=decode_ms, grammar_ms=grammar_ms, total_ms=total_ms)


def make_engine(name: str, model: str, n_threads: int, n_ctx: int) -> FakeEngine:
    if model == "FAIL":
        raise RuntimeError("cannot load FAIL")
    return FakeEngine(name)
