"""MaskBench's worker side: the one tokenizer, the grammar engines and the per-schema check.

:class:`LlamaVocab` reads SmolLM2's vocabulary through llama.cpp; each :class:`Engine` compiles a
schema into a handle that computes masks into a ``np.uint32`` bitmask (bit set = allowed),
accepts tokens and resets. :func:`run_case` checks one schema's instances token by token and
times every mask; :func:`worker_main` is the loop of the worker subprocess that
``python -m bench.maskbench --worker ENGINE`` runs (one case per stdin line, one result per line on
the protocol channel).
"""

from __future__ import annotations

import ctypes
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

from bench.harness import protocol_output

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
