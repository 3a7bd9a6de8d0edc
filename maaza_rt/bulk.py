"""A corpus on Ray Data: extraction as a ``map_batches`` stage over a pool of actors.

:func:`extract_dataset` adds the extraction to a ``ray.data.Dataset``: each actor of the pool
loads the model once and keeps one :class:`~maaza_rt.Extractor` (its prompt cache stays warm
across the rows of the job) with as many llama.cpp threads as the CPUs the actor reserves. Rows
keep every column they had, and their order; two columns are added: ``value``, the extracted
value as JSON text, and ``error``, None or ``"ErrorType: message"`` for a row that failed (a
text that is not a string, a value cut short by ``max_tokens``...), so that one bad row does
not stop the job. Ray's own scheduling spreads the batches over the cluster; this module adds
no scheduler.

Ray is an optional dependency (``pip install "maaza-rt[ray]"``); ``import maaza_rt`` never
imports it. Every node of a cluster needs maaza-rt and the model installed (the default model
comes with the ``model`` extra).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from . import errors
from .errors import MaazaError
from .models import ModelLike
from .schema_view import SchemaArgument
from .schemas import compile_schema, load_schema

_INIT_OPTIONS = ("n_ctx", "verbose", "use_extra_bufts")
# Rows per batch handed to an actor. A row costs far more than a batch's overhead, and Ray
# Data bundles blocks smaller than a batch into one task for one actor: one row per batch
# keeps small blocks spread over the actors.
DEFAULT_BATCH_SIZE = 1


def _ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as e:
        raise ImportError('maaza_rt.bulk needs Ray: pip install "maaza-rt[ray]"') from e
    return ray


class _ExtractBatch:
    """A Ray Data actor: one Extractor for all the batches it is given."""

    def __init__(self, schema: Any, text_column: str, model: ModelLike, n_threads: int,
                 init: dict[str, Any], options: dict[str, Any]) -> None:
        from .extractor import Extractor

        self.schema = schema
        self.text_column = text_column
        self.options = options
        self.extractor = Extractor(model, n_threads=n_threads, **init)

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        values: list[str | None] = []
        failures: list[str | None] = []
        for text in batch.column(self.text_column).to_pylist():
            try:
                value = self.extractor.extract(text, self.schema, **self.options)
                values.append(json.dumps(value, ensure_ascii=False))
                failures.append(None)
            except (MaazaError, TypeError, ValueError) as e:
                values.append(None)
                failures.append(f"{type(e).__name__}: {e}")
        # The batch's own columns pass through untouched (a pyarrow Table).
        batch = batch.append_column("value", pa.array(values, type=pa.string()))
        return batch.append_column("error", pa.array(failures, type=pa.string()))


def extract_dataset(ds: Any, schema: SchemaArgument, *, text_column: str = "text",
                    model: ModelLike = None, concurrency: int | tuple[int, int] | None = None,
                    num_cpus: int = 1, batch_size: int = DEFAULT_BATCH_SIZE,
                    **options: Any) -> Any:
    """Extracts a value from the ``text_column`` of every row of the Ray dataset ``ds``.

    Returns a lazy ``ray.data.Dataset`` (nothing runs until it is consumed) with the rows of
    ``ds`` in their order and two columns added: ``value`` (JSON text of the value that
    validates against ``schema``, None where the row failed) and ``error`` (None, or
    ``"ErrorType: message"``).

    Args:
        ds: a ``ray.data.Dataset``.
        schema: as for :func:`maaza_rt.extract` (a Pydantic class is used for its JSON Schema;
            the values come back as JSON text either way).
        text_column: the column that holds the texts.
        model: a model name or ``.gguf`` path, resolved on each node (None: the default).
        concurrency: actors in the pool: a number, or ``(min, max)`` for a pool that grows with
            the work; None gives one actor per ``num_cpus`` CPUs of the cluster.
        num_cpus: CPUs each actor reserves, and so its llama.cpp threads.
        batch_size: rows per batch handed to an actor. The actors share the work block by
            block (blocks smaller than a batch are bundled): a dataset of a few large blocks
            keeps only a few of them busy (``ds.repartition(n)`` splits it).
        **options: ``n_ctx``, ``verbose``, ``use_extra_bufts`` (of :class:`~maaza_rt.Extractor`)
            and the options of :meth:`~maaza_rt.Extractor.extract` (``max_tokens``,
            ``chunking``...), except ``return_details``.

    Raises:
        ImportError: Ray is not installed.
        SchemaError: the schema is invalid or cannot be enforced (checked before any actor
            starts).
        ValueError: bad arguments (``n_threads`` is set by ``num_cpus``).
    """
    ray = _ray()
    if num_cpus < 1 or batch_size < 1:
        raise ValueError("num_cpus and batch_size must be at least 1")
    for name in ("n_threads", "return_details"):
        if name in options:
            raise ValueError(f"extract_dataset does not take {name!r}"
                             + (" (num_cpus sets the threads per actor)"
                                if name == "n_threads" else ""))
    value_schema, _ = load_schema(schema)
    compile_schema(value_schema, lenient=options.get("lenient", False),
                   optional_timezone=options.get("optional_timezone", False))
    init = {k: options.pop(k) for k in _INIT_OPTIONS if k in options}
    if concurrency is None:
        n_cpus = int(ray.cluster_resources().get("CPU", 1))
        concurrency = max(1, n_cpus // num_cpus)
    size = (concurrency, concurrency) if isinstance(concurrency, int) else concurrency
    out = ds.map_batches(
        _ExtractBatch, compute=ray.data.ActorPoolStrategy(min_size=size[0], max_size=size[1]),
        fn_constructor_kwargs={"schema": value_schema, "text_column": text_column,
                               "model": model, "n_threads": num_cpus, "init": init,
                               "options": options},
        num_cpus=num_cpus, batch_size=batch_size, batch_format="pyarrow")
    out.context.execution_options.preserve_order = True
    return out


@dataclass(frozen=True)
class RowResult:
    """A record extracted on Ray (the value only: no token counts or timings)."""

    value: Any


def _row_error(text: str) -> MaazaError:
    name, _, message = text.partition(": ")
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, MaazaError):
        return cls(message)
    return MaazaError(text)


def extract_texts(texts: list[str], schema: Any, options: dict[str, Any], *,
                  address: str | None = None, n_actors: int | None = None,
                  model: ModelLike = None, n_threads: int = 1, n_ctx: int | None = None,
                  verbose: bool = False) -> Iterator[Any]:
    """Extracts ``texts`` on Ray and yields, in order, a :class:`RowResult` or the error of
    each (what :func:`maaza_rt.workers.write_jsonl` takes). Connects to the cluster at
    ``address``, or starts a local one when it is None, unless Ray is running in this process
    already (it stops only what it started). ``n_actors`` actors of ``n_threads`` CPUs each
    (None: one per ``n_threads`` CPUs of the cluster); ``options`` are those of
    :meth:`~maaza_rt.Extractor.extract` (``return_details`` is ignored). Ray Data's own
    progress bars and log lines are turned off in this process: the caller shows one bar.

    Raises:
        ImportError: Ray is not installed.
        SchemaError: the schema cannot be enforced.
        MaazaError: the Ray job failed (an actor could not load the model, say).
    """
    ray = _ray()
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.WARNING, configure_logging=True)
    try:
        # One progress bar (the caller's): Ray Data's bars and its log lines stay quiet.
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        data_context = ray.data.DataContext.get_current()
        data_context.enable_progress_bars = False
        data_context.print_on_execution_start = False
        # Parallelism follows blocks: enough small ones that every actor has work to the end,
        # and results stream back (and are written) a block at a time.
        n_cpus = int(ray.cluster_resources().get("CPU", 1))
        n_blocks = max(8 * (n_actors or max(1, n_cpus // n_threads)), len(texts) // 64)
        ds = ray.data.from_items([{"text": text} for text in texts],
                                 override_num_blocks=max(1, min(len(texts), n_blocks)))
        options = {k: v for k, v in options.items() if k != "return_details"}
        if n_ctx is not None:
            options["n_ctx"] = n_ctx
        out = extract_dataset(ds, schema, model=model, concurrency=n_actors,
                              num_cpus=n_threads, verbose=verbose, **options)
        rows = iter(out.iter_rows()) if texts else iter(())
        while True:
            try:
                row = next(rows)
            except StopIteration:
                break
            except Exception as e:  # Ray wraps what failed in its own exception types
                first = (str(e).splitlines() or [type(e).__name__])[0]
                raise MaazaError(f"the Ray job failed: {first}") from e
            if row["error"] is not None:
                yield _row_error(row["error"])
            else:
                yield RowResult(json.loads(row["value"]))
    finally:
        if started:
            ray.shutdown()


__all__ = ["DEFAULT_BATCH_SIZE", "RowResult", "extract_dataset", "extract_texts"]
