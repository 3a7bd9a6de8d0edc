"""LoRA fine-tuning of a micro model on EdgeJSON (or any prompt/completion examples).

Usage:
    python -m train.lora --base MODEL.gguf --out runs/lora [--key value ...]
    python -m train.lora --smoke                 # minutes on a CPU: SmolLM2, 16 rows, 8 steps
    python -m train.lora --config run.json       # values from a JSON file, flags override them
    python -m train.lora --mixture M.jsonl --pack ex.npz     # tokenize once, write, exit
    python -m train.lora --examples ex.npz --out runs/lora   # train on them, no tokenizer

Every field of ``TrainConfig`` (``train/config.py``) is a flag (``--lr 1e-4``, ``--resume
true``). The base is a GGUF file (transformers dequantizes its weights; llama.cpp's tokenizer for
that file tokenizes, so ids match the runtime's exactly) or a checkpoint directory together with
``--tokenizer``, a GGUF of the same vocabulary. Training rows are EdgeJSON's ``train.jsonl`` minus
the validation split, or a mixture (``--mixture``); prompts come from ``maaza_rt.prompt``, the
runtime's own template. ``--pack`` saves the tokenized examples (``train/packed.py``) so that
another machine (a GPU without llama.cpp) trains on exactly those ids with ``--examples``.

Writes to ``--out``: ``adapter/`` (peft adapter), ``config.json`` (the resolved config),
``summary.json`` (steps, final loss, tokens, seconds of this run),
``loss.json`` and ``loss.png`` (per-step loss), ``checkpoints/step-N/`` (adapter + optimizer
state; ``--resume true`` continues from the newest). Then: ``python -m convert.merge``,
``convert.to_gguf``, ``convert.quantize`` or ``convert.adapter_to_gguf`` (see docs/training.md).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import sys
import time
from pathlib import Path
from typing import Any

from .augment import is_variant
from .config import (
    ALL_PROJECTIONS,
    LARGE_MODEL_PARAMS,
    SMOKE,
    ConfigError,
    TrainConfig,
    parse_config,
    parse_repeat,
    resolve_defaults,
    validate,
)
from .data import IGNORE, Example, GGUFTokenizer, collate, epoch_batches
from .packed import load_example_files, save_examples
from .rows import run_examples

__all__ = ["ALL_PROJECTIONS", "LARGE_MODEL_PARAMS", "SMOKE", "ConfigError", "TrainConfig",
           "completion_loss", "lr_at", "main", "parse_config", "parse_repeat", "plot_loss",
           "resolve_defaults", "train", "validate"]

logger = logging.getLogger("maaza_rt.train")


def lr_at(step: float, total: int, peak: float, warmup: float) -> float:
    """Learning rate at optimizer step ``step`` (0-based; fractional for a position in a time
    budget): linear warmup, then cosine to 0."""
    n_warm = math.ceil(total * warmup)  # at least one warmup step when warmup > 0
    if step < n_warm:
        return peak * (step + 1) / n_warm
    progress = (step - n_warm) / max(1, total - n_warm)
    return peak * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def _latest_checkpoint(out: Path) -> Path | None:
    steps = sorted((out / "checkpoints").glob("step-*"), key=lambda p: int(p.name[5:]))
    return steps[-1] if steps else None


def _save_checkpoint(out: Path, model: Any, optimizer: Any, step: int,
                     history: list[dict[str, float]], seconds: float, tokens: int) -> Path:
    """Adapter, optimizer, step, loss history, RNG state, and the training time and tokens so
    far (all segments of a resumed run)."""
    import torch

    path = out / "checkpoints" / f"step-{step}"
    model.save_pretrained(str(path))
    torch.save({"optimizer": optimizer.state_dict(), "step": step, "history": history,
                "rng": torch.get_rng_state(), "seconds": seconds, "tokens": tokens},
               path / "state.pt")
    return path


def plot_loss(history: list[dict[str, float]], path: Path) -> None:
    """Write the per-step training loss as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([h["step"] for h in history], [h["loss"] for h in history], lw=1)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss (completion tokens)")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def completion_loss(model: Any, example: Example, device: Any) -> Any:
    """Mean cross-entropy on ``example``'s targets with the prompt evaluated without gradients.

    The prompt minus its last token runs under ``no_grad`` and leaves its keys and values in a
    cache; the last prompt token and the completion then run with gradients on top of it, so the
    logits that predict every target (the first completion token included) are differentiable,
    while no activations of the prompt are kept for the backward pass.
    """
    import torch

    n_prompt = next((i for i, t in enumerate(example.labels) if t != IGNORE),
                    len(example.labels))
    ids = torch.tensor([example.input_ids], device=device)
    cache = None
    if n_prompt > 1:
        with torch.no_grad():
            # Only the cache is wanted: the output layer runs on the last position alone (with
            # Gemma 3's 262K-token vocabulary it would cost more than the rest of the model).
            cache = model(input_ids=ids[:, : n_prompt - 1], use_cache=True,
                          logits_to_keep=1).past_key_values
    logits = model(input_ids=ids[:, max(n_prompt - 1, 0):], past_key_values=cache,
                   use_cache=cache is not None).logits[0]
    if n_prompt == 0:  # no prompt: the first token is input only, as in the full loss
        logits, targets = logits[:-1], ids[0, 1:]
    else:
        logits, targets = logits[:-1], ids[0, n_prompt:]
    return torch.nn.functional.cross_entropy(logits.float(), targets)


def train(cfg: TrainConfig, model: Any, examples: list[Example], pad_id: int,
          base_name: str) -> dict[str, Any]:
    """Run LoRA training of ``model`` on ``examples`` and write the outputs to ``cfg.out``.

    ``cfg`` must already have its size defaults resolved. Returns a summary (steps, final loss,
    tokens/s, paths).
    """
    import torch
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
    from safetensors.torch import load_file
    from tqdm import tqdm

    if not examples:
        raise ConfigError("no training examples")
    torch.manual_seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = torch.device("cuda" if cfg.device == "cuda" or (
        cfg.device == "auto" and torch.cuda.is_available()) else "cpu")
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)

    lora = LoraConfig(r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout,
                      target_modules=[t.strip() for t in cfg.targets.split(",") if t.strip()],
                      bias="none", task_type="CAUSAL_LM")
    model = get_peft_model(model, lora)
    model.peft_config["default"].base_model_name_or_path = base_name
    model.to(device)
    if cfg.grad_checkpoint:
        model.activation_checkpointing_enable(
            activation_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay,
                                  betas=(0.9, 0.999))

    per_epoch = math.ceil(len(examples) / cfg.batch_size)
    total = cfg.max_steps or max(1, math.ceil(per_epoch * cfg.epochs))
    step, history = 0, []
    prior_seconds, prior_tokens, resumed_from = 0.0, 0, None
    if cfg.resume and (ckpt := _latest_checkpoint(out)) is not None:
        set_peft_model_state_dict(model, load_file(str(ckpt / "adapter_model.safetensors")))
        state = torch.load(ckpt / "state.pt", weights_only=False)
        optimizer.load_state_dict(state["optimizer"])
        step, history = int(state["step"]), list(state["history"])
        torch.set_rng_state(state["rng"])
        # Checkpoints written before these fields existed count their time as unknown (0).
        prior_seconds, prior_tokens = float(state.get("seconds", 0.0)), int(state.get("tokens", 0))
        resumed_from = step
        logger.info("resumed from %s at step %d", ckpt, step)

    config_record = {**dataclasses.asdict(cfg), "base_name": base_name,
                     "n_examples": len(examples), "total_steps": total, "device": str(device)}
    (out / "config.json").write_text(json.dumps(config_record, indent=2) + "\n",
                                     encoding="utf-8")
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.dtype == "bfloat16")
    bar = tqdm(total=total, initial=step, desc="lora", unit="step", dynamic_ncols=True)
    n_tokens, t0 = 0, time.perf_counter()
    stopped_by = "steps"
    while step < total:
        # With a time budget the schedule's position is the steps or the time spent, whichever
        # is further along: the run ends when either is used up, its learning rate run down.
        position: float = step
        if cfg.max_seconds:
            spent = prior_seconds + time.perf_counter() - t0
            position = max(position, total * spent / cfg.max_seconds)
            if position >= total:
                stopped_by = "time"
                break
        epoch, offset = divmod(step, per_epoch)
        batch_ids = epoch_batches(len(examples), cfg.batch_size, cfg.seed, epoch)[offset]
        batch = [examples[i] for i in batch_ids]
        for group in optimizer.param_groups:
            group["lr"] = lr_at(position, total, cfg.lr, cfg.warmup)
        optimizer.zero_grad(set_to_none=True)
        loss_value = 0.0
        n_batch_targets = sum(e.n_target for e in batch)
        micro = cfg.micro_batch or len(batch)
        for start in range(0, len(batch), micro):
            part = batch[start:start + micro]
            if cfg.prompt_grad:
                inputs = {k: v.to(device) for k, v in collate(part, pad_id).items()}
                with autocast:
                    loss = model(**inputs).loss
                n_tokens += int(inputs["attention_mask"].sum())
            else:
                with autocast:
                    loss = completion_loss(model, part[0], device)
                n_tokens += len(part[0].input_ids)
            # Weight by target tokens so micro-batches add up to the whole batch's mean loss.
            loss = loss * (sum(e.n_target for e in part) / n_batch_targets)
            loss.backward()
            loss_value += float(loss.detach())
        grad_norm = float(torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip))
        optimizer.step()
        step += 1
        rate = n_tokens / max(1e-9, time.perf_counter() - t0)
        history.append({"step": step, "loss": loss_value, "lr": optimizer.param_groups[0]["lr"],
                        "grad_norm": grad_norm, "tokens_per_s": rate})
        bar.set_postfix(loss=f"{loss_value:.4f}", tok_s=f"{rate:.0f}")
        bar.update(1)
        if cfg.save_every and step % cfg.save_every == 0 and step < total:
            _save_checkpoint(out, model, optimizer, step, history,
                             prior_seconds + time.perf_counter() - t0, prior_tokens + n_tokens)
    bar.close()

    elapsed = time.perf_counter() - t0
    _save_checkpoint(out, model, optimizer, step, history, prior_seconds + elapsed,
                     prior_tokens + n_tokens)
    model.save_pretrained(str(out / "adapter"))
    (out / "loss.json").write_text(json.dumps(history) + "\n", encoding="utf-8")
    if history:
        plot_loss(history, out / "loss.png")
    # seconds and tokens cover the whole run (every resumed segment); the segment_ fields this
    # process alone.
    summary = {"steps": step, "final_loss": history[-1]["loss"] if history else None,
               "tokens": prior_tokens + n_tokens, "seconds": prior_seconds + elapsed,
               "tokens_per_s": n_tokens / elapsed if elapsed > 0 else 0.0,
               "resumed_from_step": resumed_from, "segment_seconds": elapsed,
               "segment_tokens": n_tokens, "stopped_by": stopped_by,
               "adapter": str(out / "adapter")}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def _packed_examples(cfg: TrainConfig) -> tuple[list[Example], int]:
    """``cfg.examples``'s examples (the first ``cfg.limit`` when set) and their pad id."""
    examples, meta = load_example_files(cfg.examples)
    return (examples[: cfg.limit] if cfg.limit else examples), int(meta["pad_id"])


def _tokenized_examples(cfg: TrainConfig, base: Path) -> tuple[list[Example], int]:
    """The examples of ``cfg``'s rows, tokenized with its tokenizer (the base by default), and
    the tokenizer's pad id; with ``cfg.pack`` they are also written there."""
    from .base_model import is_gguf

    tok_path = Path(cfg.tokenizer) if cfg.tokenizer else base
    if not is_gguf(tok_path):
        raise ConfigError(f"{tok_path}: the tokenizer must come from a GGUF (set --tokenizer)")
    tok = GGUFTokenizer(tok_path)
    rows, examples = run_examples(cfg, tok)
    kept = [e for e in examples if len(e.input_ids) <= cfg.max_len]
    n_variants = sum(1 for r in rows if is_variant(r))
    logger.info("%d rows (%d of them field-dropout variants), %d examples within "
                "max_len=%d, %d target tokens", len(rows), n_variants, len(kept), cfg.max_len,
                sum(e.n_target for e in kept))
    if cfg.pack:
        save_examples(Path(cfg.pack), kept, {
            "pad_id": tok.pad_id, "eos_id": tok.eos_id, "tokenizer": tok_path.name,
            "vocab_size": tok.vocab_size, "max_len": cfg.max_len,
            "source": cfg.mixture or f"{cfg.data} (EdgeJSON)"})
    return kept, tok.pad_id


def main(argv: list[str] | None = None) -> int:
    from .base_model import ConvertError, load_base_model, smollm2_gguf

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        cfg = parse_config(argv, __doc__)
        base = Path(cfg.base) if cfg.base else smollm2_gguf()
        if cfg.examples:
            kept, pad_id = _packed_examples(cfg)
            kept = [e for e in kept if len(e.input_ids) <= cfg.max_len]
        else:
            kept, pad_id = _tokenized_examples(cfg, base)
        if cfg.pack:
            summary: dict[str, Any] = {
                "packed": cfg.pack, "examples": len(kept),
                "tokens": sum(len(e.input_ids) for e in kept),
                "target_tokens": sum(e.n_target for e in kept)}
        else:
            model = load_base_model(base, "float32")
            n_vocab = model.get_input_embeddings().num_embeddings
            top = max((max(e.input_ids) for e in kept), default=-1)
            if top >= n_vocab:
                raise ConfigError(f"the examples use token id {top}; the base's vocabulary has "
                                  f"{n_vocab} tokens (packed with another tokenizer?)")
            cfg = resolve_defaults(cfg, sum(p.numel() for p in model.parameters()))
            summary = train(cfg, model, kept, pad_id, str(base.resolve()))
    except (ConfigError, ConvertError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
