"""Write the manifest that ships beside a fine-tuned model's GGUF LoRA adapter.

Usage:
    python -m train.manifest --run RUN_DIR [--run NEXT_RUN_DIR ...] --adapter ADAPTER.gguf \\
        --report REPORT.json --name maaza-mlm-135m [--previous MANIFEST.json] \\
        [--data ../shared/edgejson] [--mixture runs/mixture/manifest.json] \
        [--dev-report bench/out/dev/report.json] [--out ADAPTER.json]

The manifest records what a user needs to trust and reproduce the adapter: its own sha256, the
base model file's sha256 (the adapter is only valid on that base), the training data's sha256 and
the validation split it held out, the training settings (``RUN_DIR/config.json``, written by
``train.lora``) with the wall time and hardware, and the validation scores of the adapter with
the runtime (``REPORT.json``, written by ``bench/edgejson.py``; its first engine is used).

An adapter trained in stages (each run on the model merged with the runs before it, then joined
by ``convert.combine_adapters``) takes one ``--run`` per stage, in training order: ``training``
then lists every stage's settings under ``stages``, with the total time and tokens and the
combined adapter's rank and tensor type. All stages must hold out the same validation split.

A stage trained on a mixture (``train.lora --mixture``) takes ``--mixture``, the mixture's
``manifest.json`` (rows, schemas and tokens per source), and ``--dev-report``, a ``bench/dev.py``
report on the mixture's dev rows (scores per source of its first model).

A stage trained on top of a shipped adapter (on the model merged with it) whose earlier runs are
no longer at hand takes ``--previous MANIFEST.json``, that adapter's manifest: its stages (and
its base model) come first, the ``--run`` directories after them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from maaza_rt import edgejson
from maaza_rt.errors import ModelError
from maaza_rt.models import file_sha256

SCORE_KEYS = ("json_exact", "field_f1", "compliance", "schema_valid", "leaf_f1", "n")


def _scores(group: dict[str, Any]) -> dict[str, Any]:
    return {k: group[k] for k in SCORE_KEYS if k in group}


def _run_config(run: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    summary_path = run / "summary.json"
    summary = (json.loads(summary_path.read_text(encoding="utf-8"))
               if summary_path.is_file() else {})
    return config, summary


def _split_seed(config: dict[str, Any]) -> int:
    """The seed of the run's validation split (runs from before ``split_seed`` existed used
    ``seed`` for it)."""
    return int(config.get("split_seed", config["seed"]))


def _stage(config: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    return {
        **{k: config[k] for k in ("rank", "alpha", "dropout", "targets", "lr", "warmup",
                                  "epochs", "batch_size", "micro_batch", "grad_clip",
                                  "dtype", "seed", "split_seed", "total_steps", "prompt_grad",
                                  "grad_checkpoint", "field_dropout", "repeat", "mixture")
           if k in config},
        "device": config.get("device"), "threads": config.get("threads"),
        "seconds": summary.get("seconds"), "tokens": summary.get("tokens"),
        "final_loss": summary.get("final_loss"),
        # The step a resumed run continued from (None: trained in one go); see
        # docs/training.md for what resuming with more epochs does to the schedule.
        "resumed_from_step": summary.get("resumed_from_step"),
    }


def _previous_stages(previous: dict[str, Any]) -> list[dict[str, Any]]:
    """The stages an earlier manifest records (one dict per stage, with its ``base``)."""
    training = previous.get("training") or {}
    if "stages" in training:
        return [dict(s) for s in training["stages"]]
    stage = {k: v for k, v in training.items() if k != "machine"}
    return [{**stage, "base": previous["base"]["file"]}] if stage else []


def build_manifest(name: str, run: Path | list[Path], adapter: Path, report: dict[str, Any],
                   data: Path, previous: dict[str, Any] | None = None,
                   mixture: dict[str, Any] | None = None,
                   dev_report: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest as a dict (see the module docstring). ``run`` is one train.lora output
    directory, or a list of them for an adapter trained in stages; ``previous`` is the manifest
    of the adapter the first run was trained on top of (its stages come first); ``mixture`` is
    the ``manifest.json`` of the training mixture a stage trained on (rows and tokens per
    source, recorded as ``training_data.mixture``) and ``dev_report`` a ``bench/dev.py``
    report whose first model's scores per source become ``dev``.

    Raises:
        FileNotFoundError: a run's config.json, the adapter or the data is missing.
        ValueError: the report has no engine results, or the stages held out different
            validation splits.
    """
    runs = [run] if isinstance(run, Path) else list(run)
    if not runs:
        raise ValueError("the manifest needs at least one training run")
    stages = [_run_config(r) for r in runs]
    config = stages[0][0]
    split = (config["val_fraction"], _split_seed(config))
    held_out: list[tuple[str, tuple[float, int]]] = []
    if previous:
        prev = previous["training_data"]["validation_split"]
        held_out.append(("the previous manifest", (prev["fraction"], prev["seed"])))
    held_out += [(str(r), (c["val_fraction"], _split_seed(c))) for r, (c, _) in
                 zip(runs[1:], stages[1:], strict=True)]
    for where, other in held_out:
        if other != split:
            raise ValueError(f"{where} held out another validation split (fraction {other[0]}, "
                             f"seed {other[1]}) than {runs[0]} (fraction {split[0]}, seed "
                             f"{split[1]})")
    base = Path(config["base_name"])
    rows_path = data / "train.jsonl"
    rows = edgejson.load_rows(rows_path)
    train_rows, val_rows = edgejson.validation_split(rows, *split)
    engines = report.get("engines") or {}
    if not engines:
        raise ValueError("the benchmark report has no engine results")
    engine, result = next(iter(engines.items()))
    machine = f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs"
    earlier = _previous_stages(previous) if previous else []
    if len(stages) == 1 and not earlier:
        training = {**_stage(*stages[0]), "machine": machine}
    else:
        from maaza_rt.adapter_merge import read_adapter

        lora = read_adapter(adapter)
        ranks = sorted({a.shape[0] for a, _ in lora.pairs.values()})
        every = earlier + [{**_stage(c, s), "base": Path(c["base_name"]).name}
                           for c, s in stages]
        training = {
            "stages": every,
            "combined": {"rule": "convert.combine_adapters", "rank": ranks[-1],
                         "alpha": lora.alpha},
            "seconds": sum(s.get("seconds") or 0.0 for s in every),
            "tokens": sum(s.get("tokens") or 0 for s in every),
            "machine": machine,
        }
    manifest = {
        "name": name,
        "format": "GGUF LoRA adapter (llama.cpp), applied to the base model at load time",
        "adapter": {"file": adapter.name, "sha256": file_sha256(adapter),
                    "bytes": adapter.stat().st_size},
        "base": (dict(previous["base"]) if previous
                 else {"file": base.name, "sha256": file_sha256(base)}),
        "training_data": {
            "file": "edgejson/train.jsonl", "sha256": file_sha256(rows_path), "rows": len(rows),
            "validation_split": {"fraction": config["val_fraction"],
                                 "seed": _split_seed(config),
                                 "rows": len(val_rows),
                                 "rule": "maaza_rt.edgejson.validation_split"},
            "training_rows": len(train_rows), "examples": config.get("n_examples"),
            "max_len": config["max_len"],
        },
        "training": training,
        "validation": {
            "engine": engine, "max_tokens": report.get("config", {}).get("max_tokens"),
            "overall": _scores(result["overall"]),
            "by_complexity": {g: _scores(s) for g, s in result["by_complexity"].items()},
        },
    }
    if mixture is not None:
        manifest["training_data"]["mixture"] = {
            part: {source: {k: v for k, v in stats.items() if k != "dropped"}
                   for source, stats in mixture[part].items()}
            for part in ("train", "dev")}
        manifest["training_data"]["mixture"].update(
            {k: mixture[k] for k in ("train_rows", "train_tokens", "dev_rows", "dev_tokens",
                                     "seed", "schema_split") if k in mixture})
    if dev_report is not None:
        models = dev_report.get("models") or {}
        if not models:
            raise ValueError("the dev report has no model results")
        label, result = next(iter(models.items()))
        manifest["dev"] = {"model": label, "by_source": {
            source: _scores(scores) for source, scores in result["by_source"].items()}}
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.manifest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, action="append",
                        help="train.lora output directory (repeat, in training order, for an "
                        "adapter trained in stages)")
    parser.add_argument("--previous", help="manifest of the adapter the first run was trained "
                        "on top of (its stages and base come first)")
    parser.add_argument("--adapter", required=True, help="the GGUF LoRA adapter file")
    parser.add_argument("--report", required=True, help="bench/edgejson.py report.json")
    parser.add_argument("--name", required=True, help="the model's registry name")
    parser.add_argument("--data", default="../shared/edgejson", help="EdgeJSON directory")
    parser.add_argument("--mixture", help="manifest.json of the training mixture (train.mixture)")
    parser.add_argument("--dev-report", help="bench/dev.py report.json (its first model)")
    parser.add_argument("--out", help="manifest path (default: ADAPTER with .json)")
    args = parser.parse_args(argv)
    adapter = Path(args.adapter)
    try:
        report = json.loads(Path(args.report).read_text(encoding="utf-8"))
        previous = (json.loads(Path(args.previous).read_text(encoding="utf-8"))
                    if args.previous else None)
        mixture, dev_report = (
            json.loads(Path(p).read_text(encoding="utf-8")) if p else None
            for p in (args.mixture, args.dev_report))
        manifest = build_manifest(args.name, [Path(r) for r in args.run], adapter, report,
                                  Path(args.data), previous, mixture, dev_report)
    except (OSError, ValueError, KeyError, ModelError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else adapter.with_suffix(".json")
    out.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
