"""Check a converted model: llama.cpp's logits on a prompt against a reference.

Usage:
    python -m convert.verify MODEL.gguf --reference MERGED_DIR [--lora ADAPTER.gguf]
    python -m convert.verify BASE.gguf --lora ADAPTER.gguf --reference MERGED.gguf

The reference is a checkpoint directory (run by transformers in fp32) or another GGUF (run by
llama.cpp). Prints the largest logit difference (absolute and relative to the largest logit),
how often the top token agrees, and the correlation; exits 1 when the relative difference
exceeds ``--tolerance``. Use an F32/F16 GGUF for a tight check; quantized models differ by design.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from .common import ConvertError, is_gguf, llama_logits, load_base_model, open_llama

DEFAULT_TEXT = ("<|im_start|>user\nExtract name and age as JSON: Bob is 12 years old."
                "<|im_end|>\n<|im_start|>assistant\n")


def compare(model: str | Path, reference: str | Path, *, lora: str | Path | None = None,
            text: str = DEFAULT_TEXT, n_ctx: int = 512) -> dict[str, float]:
    """Logit agreement of ``model`` (+ ``lora``) with ``reference`` on ``text``.

    Raises:
        ConvertError: a file cannot be loaded, or the vocabularies differ in size.
    """
    llm = open_llama(model, lora_path=lora, n_ctx=n_ctx)
    ids = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
    got = llama_logits(llm, ids)
    if is_gguf(reference):
        ref = llama_logits(open_llama(reference, n_ctx=n_ctx), ids)
    else:
        import torch

        with torch.no_grad():
            ref = load_base_model(reference)(torch.tensor([ids])).logits[0].float().numpy()
    if got.shape != ref.shape:
        raise ConvertError(f"logit shapes differ: {got.shape} vs {ref.shape}")
    diff = float(np.abs(got - ref).max())
    return {
        "n_tokens": float(len(ids)),
        "max_abs_diff": diff,
        "max_rel_diff": diff / max(1.0, float(np.abs(ref).max())),
        "top1_agreement": float((got.argmax(-1) == ref.argmax(-1)).mean()),
        "correlation": float(np.corrcoef(got.ravel(), ref.ravel())[0, 1]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convert.verify", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="GGUF model run by llama.cpp")
    parser.add_argument("--reference", required=True, help="checkpoint directory or GGUF")
    parser.add_argument("--lora", help="GGUF LoRA adapter applied to the model")
    parser.add_argument("--text", default=DEFAULT_TEXT, help="prompt (special tokens parsed)")
    parser.add_argument("--tolerance", type=float, default=2e-3,
                        help="max relative logit difference (default 2e-3)")
    args = parser.parse_args(argv)
    try:
        result = compare(args.model, args.reference, lora=args.lora, text=args.text)
    except ConvertError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0 if result["max_rel_diff"] <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
