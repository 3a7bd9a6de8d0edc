"""JSONL jobs over several processes: local worker processes, or a Ray cluster, in input order.

``maaza-rt extract --jsonl IN --out OUT --workers N`` starts N worker processes (``spawn``, so no
llama.cpp state is inherited); each loads the model once and keeps one
:class:`~maaza_rt.Extractor` for the whole job, with ``n_threads`` threads (by default the
machine's cores divided among the workers). The parent hands out records a few at a time, takes
the results back in input order and writes each line as soon as every record before it is
written. ``--ray [ADDRESS]`` runs the same job through :mod:`maaza_rt.bulk`.

Both resume: OUT holds one line per input record, in order, so a rerun with the same OUT counts
its complete lines (dropping a last line cut short), skips that many records and appends the
rest. A record that fails with :class:`~maaza_rt.errors.InputTooLongError` or
:class:`~maaza_rt.errors.GenerationLimitError` is written as ``{"error": {...}}`` and the job
goes on; any other error (a model that cannot be loaded, say) stops it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from .errors import GenerationLimitError, InputTooLongError, MaazaError

# A record's outcome: an Extraction (or any object with ``.value``), or the error it raised.
Outcome = Any
_RECORD_ERRORS = (InputTooLongError, GenerationLimitError)
_IN_FLIGHT_PER_WORKER = 4  # records handed out ahead, per worker


@dataclass(frozen=True)
class WorkerConfig:
    """What every worker process builds its Extractor from (pickled to each worker once).

    Attributes:
        schema: the loaded schema (a dict or boolean, as :func:`~maaza_rt.schemas.load_schema`
            returns it).
        options: keyword options of :meth:`~maaza_rt.Extractor.extract`.
        model: a model name, a ``.gguf`` path, or None for the default.
        n_threads: llama.cpp threads per worker.
        n_ctx: the largest context (None: the model's).
        verbose: forward llama.cpp's log.
    """

    schema: Any
    options: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
    n_threads: int = 1
    n_ctx: int | None = None
    verbose: bool = False


def default_threads(n_workers: int) -> int:
    """Threads per worker when ``n_workers`` share this machine: its cores divided among them."""
    try:
        n_cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n_cpus = os.cpu_count() or 1
    return max(1, n_cpus // max(1, n_workers))


# ---- the worker process ------------------------------------------------------------------------

_worker: dict[str, Any] = {}  # this worker process's config and Extractor


def _init_worker(config: WorkerConfig, own_session: bool) -> None:
    if own_session:
        os.setsid()
    _worker["config"] = config


def _extract_one(text: str) -> tuple[str, Any]:
    """Runs in a worker: ``("ok", Extraction)``, ``("error", the record's error)`` or
    ``("fatal", an error that stops the job)``. Exceptions pickle with their attributes."""
    config: WorkerConfig = _worker["config"]
    try:
        extractor = _worker.get("extractor")
        if extractor is None:
            from .extractor import Extractor

            extractor = Extractor(config.model, n_threads=config.n_threads, n_ctx=config.n_ctx,
                                  verbose=config.verbose)
            _worker["extractor"] = extractor
        return "ok", extractor.extract(text, config.schema, **config.options)
    except _RECORD_ERRORS as e:
        return "error", e
    except (MaazaError, TypeError, ValueError) as e:
        return "fatal", e


# ---- the parent --------------------------------------------------------------------------------


def extract_local(texts: Iterable[str], config: WorkerConfig, n_workers: int, *,
                  own_sessions: bool = False) -> Iterator[Outcome]:
    """Extracts ``texts`` in ``n_workers`` worker processes and yields the outcomes in input
    order: an Extraction, or the InputTooLongError / GenerationLimitError of that record.

    ``own_sessions`` starts each worker in a session of its own, as Ray starts its workers.
    Where the kernel shares the CPUs among sessions first (Linux's autogroup), the workers then
    compete for them as separate jobs, as Ray's actors do, rather than as one (the default, which
    also keeps them in the terminal's process group, so that Ctrl-C reaches them).

    Raises:
        ValueError: ``n_workers`` is below 1.
        MaazaError, TypeError, ValueError: a worker's error that stops the job (the pool is shut
            down and records not yet started are dropped); MaazaError also when a worker
            process dies (killed, out of memory).
    """
    if n_workers < 1:
        raise ValueError("--workers must be at least 1")
    pool = ProcessPoolExecutor(max_workers=n_workers, mp_context=multiprocessing.get_context(
        "spawn"), initializer=_init_worker, initargs=(config, own_sessions))
    pending: deque[Future[tuple[str, Any]]] = deque()
    source = iter(texts)
    try:
        for text in islice(source, n_workers * _IN_FLIGHT_PER_WORKER):
            pending.append(pool.submit(_extract_one, text))
        while pending:
            try:
                kind, payload = pending.popleft().result()
            except BrokenProcessPool as e:
                raise MaazaError(f"a worker process died ({e})") from e
            for text in islice(source, 1):
                pending.append(pool.submit(_extract_one, text))
            if kind == "fatal":
                raise payload
            yield payload
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def resume_point(path: str | os.PathLike[str]) -> int:
    """The number of complete lines in ``path`` (0 when it does not exist). A last line without
    its newline (a run stopped while writing it) is cut off the file."""
    try:
        with open(path, "rb+") as f:
            data = f.read()
            complete = data.rfind(b"\n") + 1
            if complete < len(data):
                f.truncate(complete)
    except FileNotFoundError:
        return 0
    return data.count(b"\n", 0, complete)


def _progress(total: int, initial: int) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, file=sys.stderr, unit="rec", disable=None)


def error_record(error: BaseException) -> dict[str, Any]:
    """The line written for a record that failed."""
    return {"error": {"type": type(error).__name__, "message": str(error)}}


def write_jsonl(path: str | os.PathLike[str], texts: list[str],
                run: Callable[[list[str]], Iterable[Outcome]],
                record: Callable[[Outcome], Any]) -> MaazaError | None:
    """Writes one JSON line per text to ``path`` in input order, resuming after the lines a
    previous run wrote (:func:`resume_point`), with one progress bar on stderr (when ``tqdm`` is
    installed). ``run(todo)`` yields the outcomes of the texts still to do, in order (it is
    not called when none are left); ``record(outcome)`` turns a success into the JSON value of
    its line. Each line is flushed as soon as it is written, so a stopped run loses at most the
    records in flight.

    Returns the first per-record error of this run, or None.

    Raises:
        OSError: ``path`` cannot be written.
        The errors of ``run`` that stop the job.
    """
    done = min(resume_point(path), len(texts))
    first_error: MaazaError | None = None
    bar = _progress(len(texts), done)
    try:
        with open(path, "a", encoding="utf-8") as out:
            for outcome in run(texts[done:]) if done < len(texts) else ():
                if isinstance(outcome, MaazaError):
                    line = error_record(outcome)
                    first_error = first_error or outcome
                else:
                    line = record(outcome)
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                out.flush()
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return first_error


def run_job(texts: list[str], out: str, config: WorkerConfig, record: Callable[[Outcome], Any],
            *, n_workers: int | None, ray_address: str | None) -> MaazaError | None:
    """Runs a JSONL job into ``out``: on a Ray cluster when ``ray_address`` is not None (``""``
    starts a local one; ``n_workers`` actors, or one per CPU of the cluster), else in
    ``n_workers`` local processes. See :func:`write_jsonl` for the returned error.

    Raises:
        ModelError: the model cannot be found (checked here, before any worker starts; a merge
            that the default model needs is made here once).
        The errors of :func:`extract_local` and :func:`maaza_rt.bulk.extract_texts`.
    """
    from .models import resolve_model

    resolve_model(config.model)
    if ray_address is not None:
        from .bulk import extract_texts

        return write_jsonl(out, texts, lambda todo: extract_texts(
            todo, config.schema, config.options, address=ray_address or None,
            n_actors=n_workers, model=config.model, n_threads=config.n_threads,
            n_ctx=config.n_ctx, verbose=config.verbose), record)
    return write_jsonl(out, texts, lambda todo: extract_local(todo, config, n_workers or 1),
                       record)


__all__ = [
    "WorkerConfig",
    "default_threads",
    "error_record",
    "extract_local",
    "resume_point",
    "run_job",
    "write_jsonl",
]
