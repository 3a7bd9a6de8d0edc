"""Extraction engines the benchmarks compare on one GGUF model, and a child process to run them.

Engines (``ENGINES``), all greedy and all given the same prompt tokens (maaza_rt's one prompt
template, rendered with the model's chat template):

- ``maaza``: :class:`maaza_rt.Extractor` with its defaults (grammar-masked decoding with
  jump-forward, prompt lookup and the copy bias).
- ``maaza-nolookup``: jump-forward only (no prompt lookup, so no copy bias): plain greedy output.
- ``maaza-nojf``: plain step-by-step greedy decoding, one forward pass per token (the same output
  as ``maaza-nolookup`` up to llama.cpp's batch rounding).
- ``llama-gbnf``: llama-cpp-python's own JSON-schema mode: ``LlamaGrammar.from_json_schema``
  passed as ``grammar=`` to ``Llama.generate``.
- ``free``: llama-cpp-python without constraints; the first JSON value in the text is parsed.

One more engine (``EXTRA_ENGINES``) runs outside llama.cpp, for the accuracy harness:

- ``hf``: transformers ``generate`` (greedy) on a Hugging Face model id, directory or ``.gguf``
  file (dequantized by transformers), read like ``free``; needs torch and transformers
  (imported when the engine is made).

Every engine returns an :class:`EngineResult` with token counts and the time split into prompt
evaluation, forward passes while decoding, and the rest (grammar and sampling). The llama-cpp
engines read llama.cpp's own performance counters for the forward-pass times.

:class:`bench.engine_worker.EngineWorker` runs one engine in a child process
(``python -m bench.engines --worker``, a :class:`bench.harness.WorkerProcess`) and talks JSON
lines over a pipe: a per-extraction timeout kills a run-away generation, a crash
(llama-cpp-python segfaults on some grammars) becomes an error result instead of ending the
benchmark, an exception in one extraction becomes that extraction's error, and the child's peak
RSS and load time belong to that engine alone. A killed or crashed worker is restarted (the model
reloaded) on the next request. ``bench/pi_latency.py``, ``bench/edgejson.py`` and
``bench/dev.py`` use it; ``bench/engine_worker.py`` also holds :class:`EngineResult` and the
:class:`Engine` protocol.

Usage (the worker side; benchmarks use ``EngineWorker``)::

    python -m bench.engines --worker --engine maaza --model PATH --threads 2 --n-ctx 2048
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.engine_worker import FACTORY, Engine, EngineResult, worker_main
from bench.harness import model_argument, resolve

ENGINES = ("maaza", "maaza-nolookup", "maaza-nojf", "llama-gbnf", "free")
# engine name -> the Extractor.extract options of its decoding mode. The first three are the
# latency sweep's (``ENGINES``); the others switch one part of the decoder off, for the
# accuracy harnesses (bench/edgejson.py, bench/dev.py: "Every part earns its place").
MAAZA_MODES: dict[str, dict[str, Any]] = {
    "maaza": {},
    "maaza-nolookup": {"prompt_lookup": False},
    "maaza-nojf": {"jump_forward": False, "prompt_lookup": False},
    "maaza-nobias": {"copy_bias": 0.0},
    "maaza-nocopy": {"biases": ("layout",)},
    "maaza-nolayout": {"biases": ("copy",)},
    "maaza-nolabels": {"label_drafts": False},
    "maaza-nogrounding": {"grounded": False},
    # The closing bias at two margins (decoding.choosers.ClosingBias; off by default).
    "maaza-absent1": {"absent_bias": 1.0},
    "maaza-absent2": {"absent_bias": 2.0},
}
PART_ENGINES = tuple(name for name in MAAZA_MODES if name not in ENGINES)
EXTRA_ENGINES = ("hf",)  # made by make_engine too, but not part of the latency sweep


def first_json_value(text: str) -> Any:
    """The first JSON object or array in ``text`` (how ``free`` output is read).

    Raises:
        ValueError: no JSON object or array can be decoded from the text.
    """
    decoder = json.JSONDecoder()
    for i, ch in enumerate(text):
        if ch in "{[":
            try:
                return decoder.raw_decode(text, i)[0]
            except ValueError:
                continue
    raise ValueError("no JSON value in the output")


def read_output(text: str, strict: bool, hit_max_tokens: bool) -> tuple[Any, str]:
    """``(value, error)`` for generated text: ``json.loads`` when ``strict`` (grammar engines),
    else :func:`first_json_value`; ``error`` is ``"ParseError: ..."`` when nothing parses."""
    try:
        return (json.loads(text) if strict else first_json_value(text)), ""
    except ValueError as e:
        stop = "max_tokens" if hit_max_tokens else "end of generation"
        return None, f"ParseError: {e} (stopped at {stop})"


# ---- maaza ------------------------------------------------------------------------------------


class MaazaEngine:
    """maaza_rt's Extractor; ``name`` (a key of ``MAAZA_MODES``) selects the decoding mode."""

    def __init__(self, model: str | None, n_threads: int, n_ctx: int, name: str = "maaza"
                 ) -> None:
        from maaza_rt.extractor import Extractor
        from maaza_rt.llama_model import grammar_vocabulary

        self.name = name
        # The benchmarks that run this engine (edgejson, dev, pi_latency) read EdgeJSON and the
        # training mixture built like it, whose date-times carry no time offset: RFC 3339 wants
        # one, so the grammar is told explicitly to let it out.
        self.options = {**MAAZA_MODES[name], "optional_timezone": True}
        self.extractor = Extractor(model, n_threads=n_threads, n_ctx=n_ctx)
        # Everything read once per process belongs to loading, not to the first extraction.
        grammar_vocabulary(self.extractor.model)
        _ = self.extractor.model.pieces
        _ = self.extractor.model.control_tokens
        _ = self.extractor.model.short_tokens
        _ = self.extractor.model.closing_tokens
        self.extractor.model.label_lookup("")  # probes the tokenizer once

    def clear_cache(self) -> None:
        self.extractor.clear_cache()

    def extract(self, text: str, schema: dict, max_tokens: int) -> EngineResult:
        from maaza_rt.errors import MaazaError

        t0 = time.perf_counter_ns()
        try:
            r = self.extractor.extract(text, schema, max_tokens=max_tokens,
                                       return_details=True, **self.options)
        except MaazaError as e:
            # A run that hit max_tokens still tells how far it got (no split of its time).
            return EngineResult(self.name, error=f"{type(e).__name__}: {e}",
                                text=getattr(e, "partial_text", "") or "",
                                n_output_tokens=int(getattr(e, "n_tokens", 0) or 0),
                                total_ms=(time.perf_counter_ns() - t0) / 1e6)
        return EngineResult(
            self.name, value=r.value, text=r.text, n_prompt_tokens=r.n_prompt_tokens,
            n_prompt_eval=r.n_prompt_tokens - r.n_prompt_tokens_reused,
            n_output_tokens=r.n_output_tokens, n_forced_tokens=r.n_forced_tokens,
            n_drafted_tokens=r.n_drafted_tokens, prompt_ms=r.prompt_ms, decode_ms=r.decode_ms,
            grammar_ms=r.grammar_ms,
            total_ms=(time.perf_counter_ns() - t0) / 1e6)


# ---- llama-cpp-python: JSON-schema grammar and free generation --------------------------------


def _load_llama(path: str, n_ctx: int, n_threads: int, lora_path: str | None = None) -> Any:
    """``llama_cpp.Llama`` with CPU weight repacking off, as maaza_rt loads models.

    ``Llama`` has no option for ``use_extra_bufts``; its model parameters come from
    ``llama_model_default_params``, so that function is wrapped for the duration of the load.
    With repacking on, some llama.cpp builds pick kernels the host CPU cannot run (SIGILL), and
    with it off every engine runs the same matrix kernels.
    """
    import llama_cpp
    import llama_cpp.llama_cpp as low

    original = low.llama_model_default_params

    def no_repack() -> Any:
        params = original()
        params.use_extra_bufts = False
        return params

    low.llama_model_default_params = no_repack
    try:
        return llama_cpp.Llama(path, n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                               lora_path=lora_path, verbose=False)
    finally:
        low.llama_model_default_params = original


class LlamaCppEngine:
    """llama-cpp-python's ``Llama`` with greedy decoding, with or without its JSON-schema grammar.

    The prompt is maaza_rt's template rendered with the model's chat template and tokenized with
    the same special-token handling as maaza_rt, so all engines see the same tokens. Generation
    stops at an end-of-generation token or after ``max_tokens``.
    """

    def __init__(self, model: str, n_threads: int, n_ctx: int, grammar: bool) -> None:
        import llama_cpp

        self.name = "llama-gbnf" if grammar else "free"
        self.use_grammar = grammar
        self._llama_cpp = llama_cpp
        resolved = resolve(model)
        # An adapter model applied at load time: the same adapter on the same base as maaza_rt.
        lora = str(resolved.adapter) if resolved.adapter is not None else None
        self.llm = _load_llama(str(resolved.path), n_ctx, n_threads, lora)
        self.vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
        self.chat_template = self.llm.metadata.get("tokenizer.chat_template")
        self.bos_token = self._special(self.llm.token_bos())
        self.eos_token = self._special(self.llm.token_eos())
        self._grammars: dict[str, Any] = {}

    def _special(self, token: int) -> str:
        if token < 0:
            return ""
        return self.llm.detokenize([token], special=True).decode("utf-8", "replace")

    def prompt_tokens(self, text: str, schema: dict) -> list[int]:
        """The prompt tokens maaza_rt would use for ``text`` and ``schema``."""
        from maaza_rt.prompt import build_prompt, encode_prompt

        prompt = build_prompt(text, schema, self.chat_template, bos_token=self.bos_token,
                              eos_token=self.eos_token)
        # llama_tokenize adds BOS only when the vocabulary asks for it, as in maaza_rt.
        return encode_prompt(
            prompt, lambda s, add: self.llm.tokenize(s.encode("utf-8"), add_bos=add, special=True),
            add_bos=True, bos_token=self.bos_token)

    def clear_cache(self) -> None:
        self.llm.reset()  # its next generate finds no common prefix to keep

    def _grammar(self, schema: dict) -> Any:
        key = json.dumps(schema, sort_keys=True)
        grammar = self._grammars.get(key)
        if grammar is None:
            grammar = self._llama_cpp.LlamaGrammar.from_json_schema(json.dumps(schema),
                                                                   verbose=False)
            self._grammars[key] = grammar
        return grammar

    def extract(self, text: str, schema: dict, max_tokens: int) -> EngineResult:
        lc = self._llama_cpp
        t0 = time.perf_counter_ns()
        tokens = self.prompt_tokens(text, schema)
        grammar = self._grammar(schema) if self.use_grammar else None
        lc.llama_perf_context_reset(self.llm.ctx)
        out: list[int] = []
        error = ""
        try:
            for token in self.llm.generate(tokens, temp=0.0, top_k=1, top_p=1.0, min_p=0.0,
                                           repeat_penalty=1.0, grammar=grammar):
                if lc.llama_vocab_is_eog(self.vocab, token):
                    break
                out.append(token)
                if len(out) >= max_tokens:
                    break
        except Exception as e:  # llama-cpp-python raises plain RuntimeError/ValueError
            error = f"{type(e).__name__}: {e}"
        total_ms = (time.perf_counter_ns() - t0) / 1e6
        perf = lc.llama_perf_context(self.llm.ctx)
        raw = self.llm.detokenize(out).decode("utf-8", "replace")
        value = None
        if not error:
            value, error = read_output(raw, self.use_grammar, len(out) >= max_tokens)
        # Prompt evaluation covers batches of more than one token; generation single tokens.
        prompt_ms = float(perf.t_p_eval_ms)
        decode_ms = float(perf.t_eval_ms)
        return EngineResult(
            self.name, value=value, text=raw, error=error, n_prompt_tokens=len(tokens),
            n_prompt_eval=int(perf.n_p_eval), n_output_tokens=len(out), prompt_ms=prompt_ms,
            decode_ms=decode_ms, grammar_ms=max(0.0, total_ms - prompt_ms - decode_ms),
            total_ms=total_ms, extra={"hit_max_tokens": len(out) >= max_tokens})


# ---- transformers ------------------------------------------------------------------------------


def hf_source(model: str) -> tuple[str, dict[str, str]]:
    """``from_pretrained`` arguments for ``model``: a Hugging Face id or directory as is, a
    ``.gguf`` file as its directory plus ``gguf_file=`` (transformers dequantizes it to torch), or
    a maaza_rt registry name as its resolved GGUF file (the default model's merged file)."""
    from maaza_rt.models import MODELS

    if model in MODELS:
        resolved = resolve(model)
        if resolved.adapter is not None:
            raise ValueError(f"the hf engine cannot apply {model}'s runtime adapter; use the "
                             "merged model or a merged GGUF file")
        model = str(resolved.path)
    path = Path(model)
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise FileNotFoundError(f"no GGUF file at {path}")
        return str(path.resolve().parent), {"gguf_file": path.name}
    return model, {}


class HFEngine:
    """transformers ``generate``, greedy, on a Hugging Face model id, directory or GGUF file.

    The prompt is maaza_rt's template rendered with the tokenizer's chat template; its output is
    read like ``free``'s. Only the total time is measured (no prompt/decode split). ``n_ctx`` is
    not applied: the model's own context limit holds.
    """

    def __init__(self, model: str, n_threads: int) -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as e:
            raise RuntimeError(
                f"the hf engine needs torch and transformers ({e}); install the train extra: "
                "pip install '.[train]'") from e
        if not model or model == "default":
            raise ValueError("the hf engine needs a Hugging Face model id, directory or GGUF file")
        self.name = "hf"
        self._torch = torch
        source, kwargs = hf_source(model)
        self.tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        self.model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
        self.model.eval()
        torch.set_num_threads(n_threads)

    def clear_cache(self) -> None:
        pass  # generate keeps no cache between calls

    def extract(self, text: str, schema: dict, max_tokens: int) -> EngineResult:
        from maaza_rt.prompt import build_prompt

        t0 = time.perf_counter_ns()
        tok = self.tokenizer
        prompt = build_prompt(text, schema, getattr(tok, "chat_template", None),
                              bos_token=tok.bos_token or "", eos_token=tok.eos_token or "")
        full = prompt.prefix + prompt.suffix
        add = not (tok.bos_token and full.startswith(tok.bos_token))
        inputs = tok(full, return_tensors="pt", add_special_tokens=add)
        n_prompt = int(inputs["input_ids"].shape[1])
        with self._torch.no_grad():
            out = self.model.generate(**inputs, max_new_tokens=max_tokens, do_sample=False,
                                      pad_token_id=tok.eos_token_id)
        new = out[0][n_prompt:]
        raw = tok.decode(new, skip_special_tokens=True)
        n_out = len(new)
        if n_out and int(new[-1]) == tok.eos_token_id:
            n_out -= 1  # end-of-generation is not an output token
        value, error = read_output(raw, False, n_out >= max_tokens)
        return EngineResult(self.name, value=value, text=raw, error=error,
                            n_prompt_tokens=n_prompt, n_prompt_eval=n_prompt,
                            n_output_tokens=n_out,
                            total_ms=(time.perf_counter_ns() - t0) / 1e6,
                            extra={"hit_max_tokens": n_out >= max_tokens})


def make_engine(name: str, model: str, n_threads: int, n_ctx: int) -> Engine:
    """An engine by name (see ``ENGINES`` and ``EXTRA_ENGINES``); ``model`` is a registry name, a
    path or "default" (for ``hf``: a Hugging Face id, directory or .gguf file).

    Raises:
        ValueError: unknown engine name, or ``hf`` without a model.
        RuntimeError: ``hf`` without torch or transformers.
        maaza_rt.ModelError: the model cannot be found or loaded.
    """
    if name in MAAZA_MODES:
        return MaazaEngine(model_argument(model), n_threads, n_ctx, name)
    if name in ("llama-gbnf", "free"):
        return LlamaCppEngine(model, n_threads, n_ctx, grammar=name == "llama-gbnf")
    if name == "hf":
        return HFEngine(model, n_threads)
    raise ValueError(f"unknown engine {name!r}; choose from "
                     f"{', '.join(ENGINES + PART_ENGINES + EXTRA_ENGINES)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engines",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help="serve requests on stdin/stdout")
    parser.add_argument("--engine", choices=None, default="maaza")
    parser.add_argument("--model", default="default")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--factory", default=FACTORY,
                        help="module:callable(engine, model, threads, n_ctx) -> engine")
    args = parser.parse_args(argv)
    if not args.worker:
        parser.print_help()
        return 2
    return worker_main(args)


if __name__ == "__main__":
    sys.exit(main())
