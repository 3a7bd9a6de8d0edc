"""bench.harness, what the benchmarks share: percentiles against numpy, the environment header,
worker processes (replies, timeouts, crashes, the protocol channel, the import path) and model
lookup through the runtime's registry. No model is loaded."""

from __future__ import annotations

import json
import math
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench import harness
from maaza_rt.errors import ModelError

# ---- percentiles ------------------------------------------------------------------------------


def test_bench_harness_percentile_matches_numpy_on_random_data() -> None:
    rng = random.Random(7)
    for n in (1, 2, 3, 4, 10, 101, 1000):
        xs = [rng.uniform(-500.0, 1500.0) for _ in range(n)]
        qs = [0, 1, 5, 25, 50, 75, 90, 95, 99, 99.9, 100] + [rng.uniform(0, 100) for _ in range(5)]
        for q in qs:
            expected = float(np.percentile(np.asarray(xs), q))
            assert harness.percentile(xs, q) == pytest.approx(expected, rel=1e-12, abs=1e-9), (n, q)


def test_bench_harness_percentile_integers_ties_and_iterables() -> None:
    assert harness.percentile([3, 1, 2], 50) == 2.0
    assert harness.percentile([0, 10], 95) == pytest.approx(9.5)
    assert harness.percentile([5, 5, 5, 9], 50) == 5.0
    assert harness.percentile((x for x in [4.0, 1.0]), 100) == 4.0  # a generator, read once
    assert harness.percentile([7.5], 0) == harness.percentile([7.5], 100) == 7.5
    assert isinstance(harness.percentile([1, 2], 50), float)


def test_bench_harness_percentile_empty_is_nan_and_q_is_checked() -> None:
    assert math.isnan(harness.percentile([], 50))
    assert math.isnan(harness.percentile(iter(()), 0))
    for q in (-0.1, 100.5, 1000, float("nan")):
        with pytest.raises(ValueError, match="outside 0..100"):
            harness.percentile([1.0, 2.0], q)
    with pytest.raises(ValueError):
        harness.percentile([], 101)  # checked even without values


def test_bench_harness_percentiles_summary() -> None:
    rng = random.Random(11)
    xs = [rng.expovariate(0.01) for _ in range(257)]
    s = harness.percentiles(xs)
    assert list(s) == ["n", "p50", "p90", "p99", "max"]
    assert s["n"] == 257 and s["max"] == max(xs)
    for q in (50, 90, 99):
        assert s[f"p{q}"] == pytest.approx(float(np.percentile(xs, q)))
    custom = harness.percentiles(xs, (50, 95, 99.9))
    assert list(custom) == ["n", "p50", "p95", "p99.9", "max"]
    assert custom["p99.9"] == pytest.approx(float(np.percentile(xs, 99.9)))
    assert harness.percentiles([]) == {}
    assert harness.percentiles([2.0]) == {"n": 1, "p50": 2.0, "p90": 2.0, "p99": 2.0, "max": 2.0}
    with pytest.raises(ValueError):
        harness.percentiles([1.0], (50, 120))


# ---- the environment header -------------------------------------------------------------------

HEADER_KEYS = ["cpu", "cpu_flags", "cores_physical", "cpus_logical", "threads", "memory_gb", "os",
               "python", "maaza_rt"]


def test_bench_harness_environment_keys_and_values() -> None:
    import importlib.metadata
    import platform

    import maaza_rt

    env = harness.environment(threads=3, packages=("jsonschema", "no-such-distribution-xyz"),
                              model="m.gguf", decoding="greedy")
    assert list(env) == HEADER_KEYS + ["jsonschema", "no_such_distribution_xyz", "git_commit",
                                       "load_1min", "date_utc", "model", "decoding"]
    assert env["cpu"] and env["os"] and env["threads"] == 3
    assert 1 <= env["cores_physical"] <= env["cpus_logical"]
    assert env["python"] == platform.python_version()
    assert env["maaza_rt"] == maaza_rt.__version__
    assert env["jsonschema"] == importlib.metadata.version("jsonschema")
    assert env["no_such_distribution_xyz"] == "not installed"
    assert set(env["cpu_flags"].split()) <= set(harness.SIMD_FLAGS)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", env["date_utc"])
    assert env["model"] == "m.gguf" and env["decoding"] == "greedy"
    assert env["memory_gb"] is None or env["memory_gb"] > 0
    head = subprocess.run(["git", "-C", str(harness.REPO), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert env["git_commit"] in (head, head + "-dirty")


def test_bench_harness_cpu_flags_read_proc_cpuinfo() -> None:
    info = harness.read_text("/proc/cpuinfo")
    if not info:
        pytest.skip("no /proc/cpuinfo")
    line = re.search(r"^(?:flags|Features)\s*:\s*(.*)$", info, re.MULTILINE)
    listed = set(line.group(1).split()) if line else set()
    assert harness.cpu_flags().split() == [f for f in harness.SIMD_FLAGS if f in listed]


def test_bench_harness_format_environment_prints_one_line_per_key() -> None:
    text = harness.format_environment({"cpu": "X", "threads": 2, "versions": {"a": "1"}})
    assert text.splitlines() == ["# cpu: X", "# threads: 2", "# versions: {'a': '1'}"]


# ---- worker processes -------------------------------------------------------------------------

# A worker that answers each line with its length, sleeps on "sleep", dies on "die" and writes
# non-protocol noise to its stdout (which protocol_output sends to stderr).
ECHO_WORKER = """
import os, signal, sys, time
from bench.harness import protocol_output
proto = protocol_output()
print("noise from a native library", flush=True)
proto.write('{"ready": true}\\n')
for line in sys.stdin:
    word = line.strip()
    if word == "sleep":
        time.sleep(60)
    if word == "die":
        os.kill(os.getpid(), signal.SIGSEGV)
    proto.write('{"n": %d}\\n' % len(word))
"""


def _echo(tmp_path: Path) -> harness.WorkerProcess:
    log = tmp_path / "worker.log"
    child = harness.WorkerProcess([sys.executable, "-c", ECHO_WORKER], env=harness.worker_env(),
                                  log_path=log)
    assert child.read(30) == {"ready": True}
    return child


def test_bench_harness_worker_replies_and_logs_stray_output(tmp_path: Path) -> None:
    child = _echo(tmp_path)
    try:
        assert child.send(b"abc\n") and child.send(b"hello\n")
        assert child.read(30) == {"n": 3}
        assert child.read(30) == {"n": 5}
        assert child.running() and not child.eof
    finally:
        child.close()
    assert not child.running() and child.wait() == 0  # finished on its own after stdin closed
    assert "noise from a native library" in (tmp_path / "worker.log").read_text()


def test_bench_harness_worker_timeout_and_crash(tmp_path: Path) -> None:
    child = _echo(tmp_path)
    child.send(b"sleep\n")
    assert child.read(0.3) is None and not child.eof  # timed out, still running
    child.kill()
    assert not child.running()
    assert child.send(b"x\n") is False  # its pipes are closed

    child = _echo(tmp_path)
    child.send(b"die\n")
    assert child.read(30) is None and child.eof  # it closed its output: it died
    assert child.wait(30) == -11  # SIGSEGV
    child.kill()  # a no-op on a dead child, closes the pipes


def test_bench_harness_worker_imports_what_this_process_imports(tmp_path: Path) -> None:
    """From another working directory, a child started with worker_env finds the same bench
    and maaza_rt packages as this process."""
    import maaza_rt

    code = ("import json, bench, maaza_rt; "
            "print(json.dumps([bench.__file__, maaza_rt.__file__]))")
    cmd = harness.worker_command("json.tool", "--help")
    assert cmd[:3] == [sys.executable, "-m", "json.tool"] and cmd[3:] == ["--help"]
    assert harness.worker_command("x", python="/bin/py")[0] == "/bin/py"
    env = harness.worker_env(OMP_NUM_THREADS="1")
    assert env["PYTHONSAFEPATH"] == "1" and env["OMP_NUM_THREADS"] == "1"
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path,
                         capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [harness.__file__.replace("harness.py", "__init__.py"),
                               maaza_rt.__file__]
    only_repo = harness.worker_env([str(harness.REPO)])
    assert only_repo["PYTHONPATH"] == str(harness.REPO)


# ---- models -----------------------------------------------------------------------------------


def test_bench_harness_model_lookup_goes_through_the_registry(tmp_path: Path) -> None:
    from maaza_rt.models import MODELS, resolve_model

    assert harness.model_argument("default") is None and harness.model_argument(None) is None
    assert harness.model_argument("x.gguf") == "x.gguf"
    expected = resolve_model(harness.TOKENIZER_MODEL).path
    assert harness.tokenizer_gguf() == expected
    assert expected.name == MODELS[harness.TOKENIZER_MODEL].filename
    assert harness.resolve(harness.TOKENIZER_MODEL).path == expected
    assert harness.tokenizer_gguf(str(expected)) == expected
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a gguf")
    with pytest.raises(ModelError, match="bad magic"):
        harness.tokenizer_gguf(junk)
    with pytest.raises(ModelError, match="unknown model"):
        harness.resolve("no-such-model")
