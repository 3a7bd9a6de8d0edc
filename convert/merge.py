"""Merge a LoRA adapter into its base model and save a Hugging Face checkpoint (safetensors).

Usage:
    python -m convert.merge ADAPTER_DIR OUT_DIR [--base BASE.gguf|BASE_DIR]

The base defaults to the one the adapter records (``base_model_name_or_path``, which
``train.lora`` sets to the GGUF or directory it trained on). When the base is a GGUF, its path is
written to ``OUT_DIR/maaza_source.json`` so ``convert.to_gguf`` copies that tokenizer by default.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .common import ConvertError, is_gguf, load_base_model, run_step


def read_adapter_config(adapter: str | Path) -> dict[str, Any]:
    """The ``adapter_config.json`` of a peft LoRA adapter directory.

    Raises:
        ConvertError: missing, or not a plain LoRA adapter this project can convert.
    """
    path = Path(adapter) / "adapter_config.json"
    if not path.is_file():
        raise ConvertError(f"{adapter}: not a LoRA adapter (no adapter_config.json)")
    config: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if config.get("peft_type", "LORA") != "LORA":
        raise ConvertError(f"{adapter}: unsupported adapter type {config.get('peft_type')!r}")
    for flag in ("use_dora", "use_rslora"):
        if config.get(flag):
            raise ConvertError(f"{adapter}: {flag} adapters are not supported")
    if config.get("rank_pattern") or config.get("alpha_pattern"):
        raise ConvertError(f"{adapter}: per-module rank or alpha patterns are not supported")
    if config.get("modules_to_save"):
        raise ConvertError(f"{adapter}: modules_to_save (fully trained modules) is not supported")
    return config


def resolve_base(adapter: str | Path, base: str | Path | None) -> Path:
    """The base model path: ``base`` if given, else the one the adapter records.

    Raises:
        ConvertError: no base given and none recorded, or the path does not exist.
    """
    if base is None:
        recorded = read_adapter_config(adapter).get("base_model_name_or_path")
        if not recorded:
            raise ConvertError(f"{adapter}: no base recorded; pass --base")
        base = recorded
    p = Path(base)
    if not p.exists():
        raise ConvertError(f"base model {p} does not exist")
    return p


def merge_model(base: str | Path, adapter: str | Path) -> Any:
    """Load ``base``, apply ``adapter`` and return the merged transformers model.

    Raises:
        ConvertError: unsupported adapter, or an adapter that does not fit this base (missing
            modules or different shapes).
    """
    from peft import PeftModel

    read_adapter_config(adapter)
    model = load_base_model(base)
    try:
        peft_model = PeftModel.from_pretrained(model, str(adapter))
    except (RuntimeError, ValueError, KeyError) as e:
        raise ConvertError(f"adapter {adapter} does not match base {base}: "
                           f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from e
    return peft_model.merge_and_unload()


def merge(adapter: str | Path, out: str | Path, base: str | Path | None = None) -> Path:
    """Merge ``adapter`` into ``base`` and save the result at ``out``; return ``out``.

    Raises:
        ConvertError: as ``merge_model`` and ``resolve_base``.
    """
    base_path = resolve_base(adapter, base)
    merged = merge_model(base_path, adapter)
    out_path = Path(out)
    out_path.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(str(out_path), safe_serialization=True)
    source = {"base": str(base_path.resolve()), "adapter": str(Path(adapter).resolve()),
              "vocab_from": str(base_path.resolve()) if is_gguf(base_path) else None}
    (out_path / "maaza_source.json").write_text(json.dumps(source, indent=2) + "\n",
                                                encoding="utf-8")
    return out_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convert.merge", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("adapter", help="peft LoRA adapter directory")
    parser.add_argument("out", help="directory for the merged checkpoint")
    parser.add_argument("--base", help="base GGUF file or checkpoint directory")
    args = parser.parse_args(argv)
    return run_step(lambda: merge(args.adapter, args.out, args.base))


if __name__ == "__main__":
    sys.exit(main())
