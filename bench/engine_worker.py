"""The contract between a benchmark and an extraction engine, and the child process that runs one.

An engine (:class:`Engine`) extracts a JSON value from a text under a schema and returns an
:class:`EngineResult` (token counts and the time split into prompt evaluation, forward passes
while decoding, and the rest). :class:`EngineWorker` runs one engine in a child process
(``python -m bench.engines --worker``, a :class:`bench.harness.WorkerProcess`; the child serves
requests with :func:`worker_main`) and talks JSON lines over a pipe: a per-extraction timeout kills
a run-away generation, a crash becomes an error result instead of ending the benchmark, an
exception in one extraction becomes that extraction's error, and the child's peak RSS and load
time belong to that engine alone. A killed or crashed worker is restarted (the model reloaded) on
the next request. The engines themselves are ``bench/engines.py``'s.
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from bench.harness import WorkerProcess, protocol_output, worker_command, worker_env

FACTORY = "bench.engines:make_engine"  # the engine factory workers run by default


@dataclass
class EngineResult:
    """One extraction by one engine.

    Attributes:
        engine: the engine name.
        value: the parsed JSON value (None when ``error`` is set).
        text: the generated text.
        error: empty on success, else ``"<ErrorType>: <message>"``, ``"timeout"`` or ``"crash"``.
        n_prompt_tokens: tokens in the prompt.
        n_prompt_eval: prompt tokens evaluated (the rest came from the KV cache).
        n_output_tokens: generated tokens (end-of-generation not counted).
        n_forced_tokens: output tokens that came from grammar jump-forward (maaza only).
        n_drafted_tokens: output tokens that came from prompt lookup (maaza only).
        prompt_ms: prompt evaluation.
        decode_ms: forward passes while generating.
        grammar_ms: grammar and sampling work (maaza: measured; llama-cpp engines: the rest of
            the generation time after forward passes).
        total_ms: the whole extraction as the caller sees it.
    """

    engine: str
    value: Any = None
    text: str = ""
    error: str = ""
    n_prompt_tokens: int = 0
    n_prompt_eval: int = 0
    n_output_tokens: int = 0
    n_forced_tokens: int = 0
    n_drafted_tokens: int = 0
    prompt_ms: float = 0.0
    decode_ms: float = 0.0
    grammar_ms: float = 0.0
    total_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.error


class Engine(Protocol):
    """What a benchmark needs from an engine living in one process."""

    name: str

    def extract(self, text: str, schema: dict, max_tokens: int) -> EngineResult: ...

    def clear_cache(self) -> None:
        """Forgets every prompt evaluated so far (the next one is evaluated whole)."""


# ---- worker process ---------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1 << 20) if sys.platform == "darwin" else rss / 1024


def _load_factory(spec: str) -> Callable[[str, str, int, int], Engine]:
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


def worker_main(args: argparse.Namespace) -> int:
    """Serves extraction requests, one JSON line in and one JSON line out, until EOF."""
    proto = protocol_output()  # stray native prints go to stderr, the worker's log
    t0 = time.perf_counter_ns()
    try:
        engine = _load_factory(args.factory)(args.engine, args.model, args.threads, args.n_ctx)
    except Exception as e:
        proto.write(json.dumps({"ready": False, "error": f"{type(e).__name__}: {e}"}) + "\n")
        return 1
    load_ms = (time.perf_counter_ns() - t0) / 1e6
    proto.write(json.dumps({"ready": True, "load_ms": load_ms, "peak_rss_mb": peak_rss_mb()})
                + "\n")
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        t_req = time.perf_counter_ns()
        try:
            if req.get("cold"):
                engine.clear_cache()
                t_req = time.perf_counter_ns()
            result = engine.extract(req["text"], req["schema"], int(req["max_tokens"]))
        except Exception as e:  # one failed extraction, not a failed worker
            result = EngineResult(engine.name, error=f"{type(e).__name__}: {e}",
                                  total_ms=(time.perf_counter_ns() - t_req) / 1e6)
        reply = asdict(result)
        reply["peak_rss_mb"] = peak_rss_mb()
        proto.write(json.dumps(reply, ensure_ascii=False) + "\n")
    return 0


class WorkerError(RuntimeError):
    """A worker process could not load its engine."""


class EngineWorker:
    """One engine in a child process, restarted after a timeout or a crash.

    Attributes:
        load_ms: load times of every start of the child (the model is reloaded after a kill).
        peak_rss_mb: the largest peak RSS any child of this worker reported.

    The child imports what this process imports (:func:`bench.harness.worker_env`), so
    ``factory`` may name any module importable here. Not thread-safe; close it (or use it as a
    context manager) to end the child.
    """

    def __init__(self, engine: str, model: str, n_threads: int, n_ctx: int, *,
                 factory: str = FACTORY, start_timeout_s: float = 600.0,
                 log_path: str | Path | None = None) -> None:
        self.engine = engine
        self.model = model
        self.n_threads = n_threads
        self.n_ctx = n_ctx
        self.factory = factory
        self.start_timeout_s = start_timeout_s
        self.log_path = log_path  # the child's stderr is appended there (else discarded)
        self.load_ms: list[float] = []
        self.peak_rss_mb = 0.0
        self.n_restarts = 0
        self._child: WorkerProcess | None = None

    def __enter__(self) -> EngineWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Starts the child now (else the first extraction does); a no-op while it runs.

        Raises:
            WorkerError: the child cannot load its engine.
        """
        if self._child is None or not self._child.running():
            if self.load_ms:
                self.n_restarts += 1
            self._kill()
            self._start()

    def _start(self) -> None:
        cmd = worker_command("bench.engines", "--worker", "--engine", self.engine, "--model",
                             self.model, "--threads", str(self.n_threads), "--n-ctx",
                             str(self.n_ctx), "--factory", self.factory)
        self._child = WorkerProcess(cmd, env=worker_env(), log_path=self.log_path)
        reply = self._child.read(self.start_timeout_s)
        if reply is None or not reply.get("ready"):
            why = reply.get("error", "") if reply else "no answer"
            self._kill()
            raise WorkerError(f"engine {self.engine} on {self.model} did not start: {why}")
        self.load_ms.append(float(reply["load_ms"]))
        self.peak_rss_mb = max(self.peak_rss_mb, float(reply["peak_rss_mb"]))

    def _kill(self) -> None:
        child, self._child = self._child, None
        if child is not None:
            child.kill()

    def extract(self, text: str, schema: dict, max_tokens: int,
                timeout_s: float | None = None, cold: bool = False) -> EngineResult:
        """Runs one extraction in the child; a timeout or crash gives an error result.

        With ``cold`` the engine first forgets the prompts it has cached (untimed), so the
        extraction evaluates its whole prompt, as the first one of a process does.

        Raises:
            WorkerError: the child cannot (re)load its engine.
        """
        self.start()
        child = self._child
        assert child is not None
        t0 = time.perf_counter_ns()
        request = {"text": text, "schema": schema, "max_tokens": max_tokens, "cold": cold}
        child.send((json.dumps(request) + "\n").encode())
        reply = child.read(timeout_s if timeout_s is not None else 1e9)
        wall_ms = (time.perf_counter_ns() - t0) / 1e6
        if reply is None:
            error = "timeout"
            if child.eof:  # the child closed its end: it died; wait for its status
                try:
                    code = child.wait(timeout_s=30)
                    error = (f"crash: signal {-code}" if code < 0 else f"crash: exit code {code}")
                except subprocess.TimeoutExpired:
                    error = "crash: closed its output"
            self._kill()
            return EngineResult(self.engine, error=error, total_ms=wall_ms)
        self.peak_rss_mb = max(self.peak_rss_mb, float(reply.pop("peak_rss_mb")))
        return EngineResult(**reply)

    def close(self) -> None:
        """Ends the child process (it gets 10 s to finish on its own)."""
        child, self._child = self._child, None
        if child is not None:
            child.close(grace_s=10.0)
