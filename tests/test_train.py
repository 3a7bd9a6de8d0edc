"""Unit tests of train/: config parsing, label masking, batching, schedule, tokenization, errors.

No model weights are loaded here; the tokenizer is the SmolLM2 GGUF's, read by llama.cpp with
``vocab_only``. The end-to-end run on a tiny model is in test_pipeline.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

# train/ and convert/ are scripts beside the installed package: reach them from the
# repository root, after site-packages so the installed maaza_rt (with _core) wins.
sys.path.append(str(Path(__file__).resolve().parent.parent))

import json
import subprocess

import pytest

from train.base_model import smollm2_gguf
from train.data import IGNORE, Example, GGUFTokenizer, collate, encode_example, epoch_batches
from train.lora import (
    ConfigError,
    TrainConfig,
    lr_at,
    main,
    parse_config,
    resolve_defaults,
)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tok() -> GGUFTokenizer:
    return GGUFTokenizer(smollm2_gguf())


def test_config_defaults_without_flags() -> None:
    cfg = parse_config([])
    assert cfg == TrainConfig()
    assert cfg.grad_clip == 1.0 and cfg.dropout == 0.05
    assert cfg.targets.split(",") == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                      "up_proj", "down_proj"]


def test_config_flags_override_file_and_smoke(tmp_path: Path) -> None:
    file = tmp_path / "run.json"
    file.write_text(json.dumps({"lr": 1e-3, "batch_size": 4, "seed": 7}))
    cfg = parse_config(["--config", str(file), "--smoke", "--batch-size", "3", "--resume"])
    assert cfg.lr == 1e-3 and cfg.seed == 7  # from the file
    assert cfg.batch_size == 3 and cfg.resume is True  # flags win
    assert cfg.max_steps == 8 and cfg.limit == 16 and cfg.smoke  # the smoke preset


def test_config_bool_flag_takes_explicit_value() -> None:
    assert parse_config(["--resume", "false"]).resume is False
    assert parse_config(["--resume", "yes"]).resume is True


def test_config_rejects_unknown_key_in_file(tmp_path: Path) -> None:
    file = tmp_path / "run.json"
    file.write_text(json.dumps({"learning_rate": 1e-3}))
    with pytest.raises(ConfigError, match="unknown config keys: learning_rate"):
        parse_config(["--config", str(file)])


@pytest.mark.parametrize("flags,message", [
    (["--dtype", "float16"], "dtype"),
    (["--batch-size", "0"], "batch_size"),
    (["--warmup", "1.5"], "warmup"),
    (["--val-fraction", "1"], "val_fraction"),
    (["--targets", " "], "targets"),
])
def test_config_rejects_out_of_range_values(flags: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(flags)


def test_config_rejects_bad_syntax() -> None:
    with pytest.raises(SystemExit) as info:
        parse_config(["--lr", "fast"])
    assert info.value.code == 2


def test_defaults_depend_on_model_size() -> None:
    small = resolve_defaults(TrainConfig(), 134_515_008)
    assert (small.rank, small.alpha, small.lr) == (16, 32.0, 2e-4)
    large = resolve_defaults(TrainConfig(), 268_098_176)
    assert (large.rank, large.alpha, large.lr) == (32, 64.0, 1.5e-4)
    explicit = resolve_defaults(TrainConfig(rank=8, lr=1e-3), 268_098_176)
    assert (explicit.rank, explicit.alpha, explicit.lr) == (8, 16.0, 1e-3)


def test_lr_schedule_warms_up_then_decays_to_zero() -> None:
    lrs = [lr_at(s, 100, 1e-3, 0.1) for s in range(100)]
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:]))
    assert lrs[-1] < 1e-5
    assert lr_at(0, 10, 2e-4, 0.0) == pytest.approx(2e-4)


def test_encode_example_masks_prompt_and_learns_eos(tok: GGUFTokenizer) -> None:
    prompt = tok.encode("<|im_start|>user\nBob is 12.<|im_end|>\n<|im_start|>assistant\n")
    ex = encode_example(tok, prompt, '{"age":12}')
    target = tok.encode('{"age":12}')
    assert ex.input_ids == prompt + target + [tok.eos_id]
    assert ex.labels[: len(prompt)] == [IGNORE] * len(prompt)
    assert ex.labels[len(prompt):] == target + [tok.eos_id]
    assert ex.labels[-1] == tok.eos_id == 2  # <|im_end|> in SmolLM2
    assert ex.n_target == len(target) + 1


def test_tokenizer_matches_llama_cpp_vocab_only(tok: GGUFTokenizer,
                                                edgejson_rows: list[dict]) -> None:
    import llama_cpp

    from train.base_model import _plain_weight_buffers

    with _plain_weight_buffers():
        ref = llama_cpp.Llama(str(smollm2_gguf()), vocab_only=True, verbose=False)
    for row in edgejson_rows[::7]:
        for text in (row["prompt"], json.dumps(row["expected_output"], separators=(",", ":")),
                     f"<|im_start|>user\n{row['prompt']}<|im_end|>\n"):
            assert tok.encode(text) == ref.tokenize(text.encode(), add_bos=False, special=True)
    assert tok.token_text(tok.eos_id) == "<|im_end|>"


def test_collate_pads_right_and_ignores_padding() -> None:
    batch = collate([Example([5, 6, 7], [IGNORE, 6, 7]), Example([8], [8])], pad_id=2)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 2, 2]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[IGNORE, 6, 7], [8, IGNORE, IGNORE]]


def test_epoch_batches_cover_all_and_repeat_per_seed() -> None:
    a = epoch_batches(10, 3, seed=0, epoch=0)
    assert sorted(i for b in a for i in b) == list(range(10))
    assert [len(b) for b in a] == [3, 3, 3, 1]
    assert a == epoch_batches(10, 3, seed=0, epoch=0)
    assert a != epoch_batches(10, 3, seed=0, epoch=1)


def test_main_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "--max-steps" in capsys.readouterr().out


def test_main_reports_missing_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data", str(tmp_path), "--limit", "1"]) == 2
    assert "no train.jsonl" in capsys.readouterr().err


def test_main_reports_non_gguf_tokenizer(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "config.json").write_text("{}")
    assert main(["--base", str(tmp_path)]) == 2
    assert "tokenizer must come from a GGUF" in capsys.readouterr().err


def test_importing_maaza_rt_does_not_import_torch(tmp_path: Path) -> None:
    import os

    import maaza_rt

    # The same maaza_rt this test session imported (installed or built in place).
    env = {**os.environ, "PYTHONPATH": str(Path(maaza_rt.__file__).resolve().parent.parent)}
    code = ("import sys, maaza_rt; "
            "bad = [m for m in ('torch', 'transformers', 'peft') if m in sys.modules]; "
            "sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, env=env)
    assert result.returncode == 0, result.stderr


def test_edgejson_examples_use_runtime_prompt_and_canonical_target(
        tok: GGUFTokenizer, edgejson_rows: list[dict], edgejson_schemas: dict) -> None:
    import jsonschema

    from maaza_rt.prompt import build_prompt
    from train.data import edgejson_examples

    rows = edgejson_rows[:12]
    examples = edgejson_examples(rows, edgejson_schemas, tok)
    for row, ex in zip(rows, examples):
        schema = edgejson_schemas[row["schema_id"]]
        n_prompt = ex.labels.count(IGNORE)
        assert ex.labels[:n_prompt] == [IGNORE] * n_prompt and IGNORE not in ex.labels[n_prompt:]
        prompt = build_prompt(row["prompt"], schema, tok.chat_template, bos_token="<|im_start|>",
                              eos_token="<|im_end|>")
        detok = tok._llm.detokenize
        assert detok(ex.input_ids[:n_prompt], special=True).decode() == (prompt.prefix
                                                                         + prompt.suffix)
        target = detok(ex.input_ids[n_prompt:], special=True).decode()
        assert target.endswith("<|im_end|>")
        value = json.loads(target[: -len("<|im_end|>")])
        assert value == row["expected_output"]
        jsonschema.validate(value, schema)


def test_train_rows_exclude_the_validation_split() -> None:
    from maaza_rt.edgejson import load_rows, validation_split
    from train.rows import train_rows

    data = REPO.parent / "shared" / "edgejson"
    rows = train_rows(data, 0.2, 0)
    _, val = validation_split(load_rows(data / "train.jsonl"), fraction=0.2, seed=0)
    ids = {r["id"] for r in rows}
    assert rows and val and not ids & {r["id"] for r in val}
    assert len(rows) + len(val) == len(load_rows(data / "train.jsonl"))


def test_training_seed_does_not_move_the_validation_split() -> None:
    """--seed orders batches; --split-seed picks the held-out rows. A run with another seed
    (or a stage trained on top of an earlier one) must not train on the benchmark's rows."""
    from maaza_rt.edgejson import load_rows, validation_split
    from train.rows import config_rows

    data = REPO.parent / "shared" / "edgejson"
    _, val = validation_split(load_rows(data / "train.jsonl"), fraction=0.2, seed=0)
    held_out = {r["id"] for r in val}
    for seed in ("0", "1", "7"):
        cfg = parse_config(["--data", str(data), "--seed", seed])
        ids = {r["id"] for r in config_rows(cfg)}
        assert not ids & held_out and len(ids) + len(held_out) == 629, seed
    other = {r["id"] for r in config_rows(parse_config(["--data", str(data),
                                                         "--split-seed", "1"]))}
    assert other & held_out  # another split seed holds out other rows
    limited = config_rows(parse_config(["--data", str(data), "--limit", "5"]))
    assert len(limited) == 5


def test_field_dropout_variants_come_from_training_rows_only() -> None:
    from maaza_rt.edgejson import load_rows, load_schemas, validation_split
    from train.augment import is_variant
    from train.lora import ConfigError
    from train.rows import config_rows

    data = REPO.parent / "shared" / "edgejson"
    schemas = load_schemas(data / "schemas")
    _, val = validation_split(load_rows(data / "train.jsonl"), fraction=0.2, seed=0)
    held_out = {r["id"] for r in val}
    plain = config_rows(parse_config(["--data", str(data)]), schemas)
    cfg = parse_config(["--data", str(data), "--field-dropout", "1"])
    rows = config_rows(cfg, schemas)
    assert rows[: len(plain)] == plain
    variants = rows[len(plain):]
    assert variants and all(is_variant(r) for r in variants)
    assert not any(is_variant(r) for r in plain)
    assert not {r["id"].split("~without~")[0] for r in variants} & held_out
    with pytest.raises(ConfigError, match="schemas"):
        config_rows(cfg)
    with pytest.raises(ConfigError, match="field_dropout"):
        parse_config(["--field-dropout", "-1"])


def test_repeat_weighs_rows_by_complexity() -> None:
    from collections import Counter

    from maaza_rt.edgejson import complexity, load_schemas
    from train.augment import is_variant
    from train.lora import ConfigError, parse_repeat
    from train.rows import config_rows

    data = REPO.parent / "shared" / "edgejson"
    schemas = load_schemas(data / "schemas")
    plain = config_rows(parse_config(["--data", str(data)]))
    rows = config_rows(parse_config(["--data", str(data), "--repeat", "complex=3"]))
    by = Counter(complexity(r) for r in plain)
    assert Counter(complexity(r) for r in rows) == {**by, "complex": 3 * by["complex"]}
    assert Counter(r["id"] for r in rows if complexity(r) == "complex") == {
        r["id"]: 3 for r in plain if complexity(r) == "complex"}
    # variants come from the rows before repetition, once each
    cfg = ["--data", str(data), "--field-dropout", "1", "--seed", "3"]
    once = [r for r in config_rows(parse_config(cfg), schemas) if is_variant(r)]
    both = config_rows(parse_config([*cfg, "--repeat", "complex=2"]), schemas)
    assert [r for r in both if is_variant(r)] == once
    assert parse_repeat(" medium=2 , complex=4") == {"medium": 2, "complex": 4}
    assert parse_repeat("") == {}
    for bad in ("complex", "hard=2", "complex=0", "complex=two"):
        with pytest.raises(ConfigError, match="repeat"):
            parse_config(["--repeat", bad])


def test_lr_schedule_short_runs_still_warm_up() -> None:
    assert lr_at(0, 13, 1e-3, 0.05) == pytest.approx(1e-3)  # one warmup step of one
    assert lr_at(1, 13, 1e-3, 0.05) == pytest.approx(1e-3)  # cosine starts at the peak
    assert lr_at(0, 40, 1e-3, 0.05) == pytest.approx(0.5e-3)  # two warmup steps


def test_lr_schedule_takes_fractional_positions() -> None:
    """A time budget puts the schedule between steps: the rate lies between its neighbours'."""
    assert lr_at(50, 100, 1e-3, 0.1) > lr_at(50.5, 100, 1e-3, 0.1) > lr_at(51, 100, 1e-3, 0.1)
    assert lr_at(100.0, 100, 1e-3, 0.1) == pytest.approx(0.0)


def test_config_refuses_a_negative_time_budget() -> None:
    with pytest.raises(ConfigError, match="max_seconds"):
        parse_config(["--max-seconds", "-1"])
    assert parse_config(["--max-seconds", "90.5"]).max_seconds == 90.5


def _manifest_inputs(tmp_path: Path) -> tuple[Path, Path, dict]:
    base = tmp_path / "base.gguf"
    base.write_bytes(b"GGUF base weights")
    run = tmp_path / "run"
    run.mkdir()
    cfg = {"base_name": str(base), "val_fraction": 0.2, "seed": 0, "max_len": 3072, "rank": 16,
           "alpha": 32.0, "lr": 1e-3, "epochs": 2.0, "n_examples": 496, "device": "cpu"}
    (run / "config.json").write_text(json.dumps(cfg))
    (run / "summary.json").write_text(json.dumps({"seconds": 12.5, "tokens": 1000,
                                                  "final_loss": 0.01}))
    adapter = tmp_path / "m-lora.gguf"
    adapter.write_bytes(b"GGUF adapter")
    scores = {"json_exact": 0.8, "field_f1": 0.9, "n": 126, "compliance": 0.95}
    report = {"config": {"max_tokens": 1024},
              "engines": {"maaza": {"overall": scores, "by_complexity": {"simple": scores}}}}
    return run, adapter, report


def test_manifest_records_hashes_split_settings_and_scores(tmp_path: Path) -> None:
    from maaza_rt.models import file_sha256
    from train.manifest import build_manifest

    run, adapter, report = _manifest_inputs(tmp_path)
    data = REPO.parent / "shared" / "edgejson"
    m = build_manifest("m", run, adapter, report, data)
    assert m["adapter"] == {"file": "m-lora.gguf", "sha256": file_sha256(adapter),
                            "bytes": len(b"GGUF adapter")}
    assert m["base"]["sha256"] == file_sha256(tmp_path / "base.gguf")
    assert m["training_data"]["sha256"] == file_sha256(data / "train.jsonl")
    split = m["training_data"]["validation_split"]
    assert split["rows"] + m["training_data"]["training_rows"] == m["training_data"]["rows"]
    assert m["training"]["lr"] == 1e-3 and m["training"]["seconds"] == 12.5
    assert m["validation"]["overall"]["json_exact"] == 0.8
    assert m["validation"]["by_complexity"]["simple"]["n"] == 126


def test_manifest_command_writes_json_and_reports_errors(tmp_path: Path, capsys) -> None:
    from train.manifest import main as manifest_main

    run, adapter, report = _manifest_inputs(tmp_path)
    report_path = tmp_path / "report.json"
    report_path.write_text(json.dumps(report))
    data = str(REPO.parent / "shared" / "edgejson")
    args = ["--run", str(run), "--adapter", str(adapter), "--name", "m", "--data", data]
    assert manifest_main([*args, "--report", str(report_path)]) == 0
    written = json.loads(adapter.with_suffix(".json").read_text())
    assert written["name"] == "m"
    report_path.write_text(json.dumps({"engines": {}}))
    assert manifest_main([*args, "--report", str(report_path)]) == 2
    assert "no engine results" in capsys.readouterr().err


def _stage_run(tmp_path: Path, name: str, base: Path, seed: int, seconds: float) -> Path:
    run = tmp_path / name
    run.mkdir()
    cfg = {"base_name": str(base), "val_fraction": 0.2, "seed": seed, "max_len": 6144,
           "rank": 16, "alpha": 32.0, "lr": 5e-4, "epochs": 1.0, "prompt_grad": True,
           "grad_checkpoint": True, "field_dropout": 1}
    (run / "config.json").write_text(json.dumps(cfg))
    (run / "summary.json").write_text(json.dumps({"seconds": seconds, "tokens": 100}))
    return run


def test_manifest_of_an_adapter_trained_in_stages(tmp_path: Path, capsys, write_lora) -> None:
    import numpy as np

    from maaza_rt.models import file_sha256
    from train.manifest import build_manifest
    from train.manifest import main as manifest_main

    first, _, report = _manifest_inputs(tmp_path)
    merged = tmp_path / "merged-f16.gguf"
    second = _stage_run(tmp_path, "stage2", merged, 0, 30.0)
    adapter = write_lora(tmp_path / "combined.gguf", 32.0, {
        "blk.0.attn_q.weight": (np.ones((32, 64)), np.ones((64, 32)))})
    data = REPO.parent / "shared" / "edgejson"
    m = build_manifest("m", [first, second], adapter, report, data)
    assert m["base"]["sha256"] == file_sha256(tmp_path / "base.gguf")  # the first stage's base
    t = m["training"]
    assert [s["lr"] for s in t["stages"]] == [1e-3, 5e-4]
    assert [s["base"] for s in t["stages"]] == ["base.gguf", "merged-f16.gguf"]
    assert t["stages"][1]["prompt_grad"] is True and t["stages"][1]["grad_checkpoint"] is True
    assert t["stages"][1]["field_dropout"] == 1 and "field_dropout" not in t["stages"][0]
    assert t["seconds"] == 42.5 and t["tokens"] == 1100
    assert t["combined"] == {"rule": "convert.combine_adapters", "rank": 32, "alpha": 32.0}
    # A stage that held out another validation split could have trained on its rows. Runs from
    # before split_seed existed held out the split of their seed.
    reseeded = _stage_run(tmp_path, "stage2s", merged, 1, 30.0)
    config = json.loads((reseeded / "config.json").read_text())
    (reseeded / "config.json").write_text(json.dumps({**config, "split_seed": 0}))
    assert len(build_manifest("m", [first, reseeded], adapter, report, data)["training"]
               ["stages"]) == 2
    other = _stage_run(tmp_path, "stage2b", merged, 1, 30.0)
    with pytest.raises(ValueError, match="another validation split"):
        build_manifest("m", [first, other], adapter, report, data)
    report_path = tmp_path / "report.json"
    report_path.write_text(json.dumps(report))
    args = ["--adapter", str(adapter), "--name", "m", "--data", str(data), "--report",
            str(report_path)]
    assert manifest_main(["--run", str(first), "--run", str(second), *args]) == 0
    assert len(json.loads(adapter.with_suffix(".json").read_text())["training"]["stages"]) == 2
    assert manifest_main(["--run", str(first), "--run", str(other), *args]) == 2
    assert "another validation split" in capsys.readouterr().err


def test_manifest_of_a_stage_on_top_of_a_shipped_adapter(tmp_path: Path, write_lora) -> None:
    """--previous: the earlier adapter's manifest gives the first stages and the base."""
    import numpy as np

    from maaza_rt.models import file_sha256
    from train.manifest import build_manifest
    from train.manifest import main as manifest_main

    first, _, report = _manifest_inputs(tmp_path)
    data = REPO.parent / "shared" / "edgejson"
    one = build_manifest("m", first, tmp_path / "m-lora.gguf", report, data)
    merged = tmp_path / "shipped-merged-f16.gguf"
    merged.write_bytes(b"not the base")
    later = _stage_run(tmp_path, "stage-next", merged, 0, 30.0)
    adapter = write_lora(tmp_path / "combined.gguf", 32.0, {
        "blk.0.attn_q.weight": (np.ones((32, 64)), np.ones((64, 32)))})
    m = build_manifest("m", later, adapter, report, data, previous=one)
    assert m["base"] == {"file": "base.gguf", "sha256": file_sha256(tmp_path / "base.gguf")}
    t = m["training"]
    assert [s["base"] for s in t["stages"]] == ["base.gguf", "shipped-merged-f16.gguf"]
    assert [s["lr"] for s in t["stages"]] == [1e-3, 5e-4]
    assert t["seconds"] == 42.5 and t["tokens"] == 1100
    # chained once more: the stages accumulate
    again = build_manifest("m", later, adapter, report, data, previous=m)
    assert len(again["training"]["stages"]) == 3
    # the new stage must hold out the same split as the earlier ones
    other = _stage_run(tmp_path, "stage-other", merged, 1, 30.0)
    with pytest.raises(ValueError, match="previous manifest"):
        build_manifest("m", other, adapter, report, data, previous=one)
    prev = tmp_path / "prev.json"
    prev.write_text(json.dumps(one))
    report_path = tmp_path / "report.json"
    report_path.write_text(json.dumps(report))
    assert manifest_main(["--run", str(later), "--previous", str(prev), "--adapter",
                          str(adapter), "--name", "m", "--data", str(data), "--report",
                          str(report_path)]) == 0
    assert len(json.loads(adapter.with_suffix(".json").read_text())["training"]["stages"]) == 2


def test_mixture_examples_match_edgejson_examples_on_the_same_rows(
        tok: GGUFTokenizer, edgejson_rows: list[dict], edgejson_schemas: dict) -> None:
    from train.data import edgejson_examples, mixture_examples
    from train.sources import make_row

    rows = edgejson_rows[:6]
    mixed = [make_row("edgejson", r["id"], r["schema_id"], edgejson_schemas[r["schema_id"]],
                      r["prompt"], r["expected_output"]) for r in rows]
    assert mixture_examples(mixed, tok) == edgejson_examples(rows, edgejson_schemas, tok)


def test_mixture_rows_read_a_mixture_file_and_report_bad_lines(tmp_path: Path) -> None:
    from train.rows import mixture_rows

    good = [{"id": f"g/{i}", "source": "g", "schema_id": "g/s", "schema": {"type": "object"},
             "text": "t", "expected": {}} for i in range(2)]
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps(good[0]) + "\n\n" + json.dumps(good[1]) + "\n",
                    encoding="utf-8")
    assert mixture_rows(path) == good
    assert mixture_rows(path, limit=1) == good[:1]
    with pytest.raises(ConfigError, match="no such mixture"):
        mixture_rows(tmp_path / "missing.jsonl")
    path.write_text('{"id": "x", "text": "t"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=":1: missing field"):
        mixture_rows(path)
    path.write_text("{oops\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=":1: not valid JSON"):
        mixture_rows(path)


def test_config_refuses_edgejson_only_options_with_a_mixture() -> None:
    with pytest.raises(ConfigError, match="EdgeJSON rows only"):
        parse_config(["--mixture", "m.jsonl", "--field-dropout", "1"])
    assert parse_config(["--mixture", "m.jsonl"]).mixture == "m.jsonl"


def test_manifest_records_the_mixture_and_dev_scores(tmp_path: Path) -> None:
    from train.manifest import build_manifest

    run, adapter, report = _manifest_inputs(tmp_path)
    data = REPO.parent / "shared" / "edgejson"
    mixture = {"train": {"bfcl": {"available": 9, "dropped": {"invalid": 1}, "taken": 5,
                                  "schemas": 4, "prompt_tokens": 50, "target_tokens": 7}},
               "dev": {"bfcl": {"available": 3, "dropped": {}, "taken": 2, "schemas": 2}},
               "train_rows": 5, "train_tokens": 57, "dev_rows": 2, "seed": 0}
    scores = {"json_exact": 0.5, "field_f1": 0.75, "n": 2, "unrelated": 1}
    dev = {"models": {"new": {"overall": scores, "by_source": {"bfcl": scores}}}}
    m = build_manifest("m", run, adapter, report, data, mixture=mixture, dev_report=dev)
    recorded = m["training_data"]["mixture"]
    assert recorded["train"]["bfcl"] == {"available": 9, "taken": 5, "schemas": 4,
                                         "prompt_tokens": 50, "target_tokens": 7}
    assert recorded["train_tokens"] == 57 and recorded["dev_rows"] == 2
    assert m["dev"] == {"model": "new", "by_source": {"bfcl": {"json_exact": 0.5,
                                                               "field_f1": 0.75, "n": 2}}}
    with pytest.raises(ValueError, match="dev report"):
        build_manifest("m", run, adapter, report, data, dev_report={"models": {}})


def test_packed_examples_round_trip(tmp_path: Path) -> None:
    from train.packed import PACKED_FORMAT, load_examples, save_examples

    examples = [Example([5, 6, 7, 8], [IGNORE, IGNORE, 7, 8]), Example([9], [9]),
                Example([70000, 3], [IGNORE, IGNORE])]
    path = tmp_path / "sub" / "ex.npz"
    save_examples(path, examples, {"pad_id": 2, "source": "s"})
    loaded, meta = load_examples(path)
    assert loaded == examples
    assert meta == {"format": PACKED_FORMAT, "pad_id": 2, "source": "s"}


@pytest.mark.parametrize("examples, meta, message", [
    ([], {"pad_id": 2}, "no examples"),
    ([Example([1, 2], [IGNORE, 2])], {}, "pad_id"),
    ([Example([1, 2], [1, IGNORE])], {"pad_id": 2}, "masked prompt"),
    ([Example([1, 2], [IGNORE, 5])], {"pad_id": 2}, "masked prompt"),
    ([Example([-1, 2], [IGNORE, 2])], {"pad_id": 2}, "must fit"),
])
def test_packing_refuses_what_it_cannot_store(tmp_path: Path, examples: list, meta: dict,
                                              message: str) -> None:
    from train.packed import save_examples

    with pytest.raises(ConfigError, match=message):
        save_examples(tmp_path / "ex.npz", examples, meta)


def test_loading_packed_examples_reports_bad_files(tmp_path: Path) -> None:
    import numpy as np

    from train.packed import load_examples

    with pytest.raises(ConfigError, match="no such packed examples file"):
        load_examples(tmp_path / "missing.npz")
    (tmp_path / "text.npz").write_text("not an archive")
    with pytest.raises(ConfigError, match="not a packed examples file"):
        load_examples(tmp_path / "text.npz")

    def archive(name: str, **arrays: np.ndarray) -> Path:
        path = tmp_path / name
        with open(path, "wb") as f:
            np.savez(f, **arrays)
        return path

    ok = {"tokens": np.array([1, 2, 3], dtype=np.uint32), "lengths": np.array([3], np.uint32),
          "prompt_lengths": np.array([1], np.uint32),
          "meta": np.asarray(json.dumps({"format": "maaza-rt-examples-1", "pad_id": 0}))}
    assert len(load_examples(archive("ok.npz", **ok))[0]) == 1
    with pytest.raises(ConfigError, match="no prompt_lengths"):
        load_examples(archive("a.npz", **{k: v for k, v in ok.items() if k != "prompt_lengths"}))
    with pytest.raises(ConfigError, match="format 'other'"):
        load_examples(archive("b.npz", **{**ok, "meta": np.asarray('{"format": "other"}')}))
    with pytest.raises(ConfigError, match="do not agree"):
        load_examples(archive("c.npz", **{**ok, "lengths": np.array([2], np.uint32)}))
    with pytest.raises(ConfigError, match="a prompt of 4 tokens in an example of 3"):
        load_examples(archive("d.npz", **{**ok, "prompt_lengths": np.array([4], np.uint32)}))
    with pytest.raises(ConfigError, match="not JSON"):
        load_examples(archive("e.npz", **{**ok, "meta": np.asarray("{oops")}))


def test_pack_writes_the_run_examples_and_loads_no_model(tmp_path: Path, tok: GGUFTokenizer,
                                                         capsys) -> None:
    from train.packed import load_examples
    from train.rows import run_examples

    data = REPO.parent / "shared" / "edgejson"
    path = tmp_path / "ex.npz"
    assert main(["--data", str(data), "--limit", "6", "--max-len", "400",
                 "--pack", str(path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    loaded, meta = load_examples(path)
    _, examples = run_examples(parse_config(["--data", str(data), "--limit", "6"]), tok)
    within = [e for e in examples if len(e.input_ids) <= 400]
    assert 0 < len(within) < len(examples)  # the limit left some out: the test can tell
    assert loaded == within
    assert summary == {"packed": str(path), "examples": len(within),
                       "tokens": sum(len(e.input_ids) for e in within),
                       "target_tokens": sum(e.n_target for e in within)}
    assert meta["pad_id"] == tok.pad_id and meta["vocab_size"] == 49152
    assert meta["tokenizer"] == smollm2_gguf().name and meta["max_len"] == 400


@pytest.mark.parametrize("flags, message", [
    (["--pack", "a.npz", "--examples", "b.npz"], "exclude each other"),
    (["--examples", "b.npz", "--mixture", "m.jsonl"], "fixed when packing"),
    (["--examples", "b.npz", "--field-dropout", "1"], "fixed when packing"),
])
def test_config_refuses_options_packing_fixed(flags: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(flags)


def test_main_reports_a_missing_packed_file(tmp_path: Path, capsys) -> None:
    assert main(["--examples", str(tmp_path / "none.npz")]) == 2
    assert "no such packed examples file" in capsys.readouterr().err


def test_packed_files_are_read_one_after_another(tmp_path: Path) -> None:
    from train.packed import load_example_files, save_examples

    a, b = [Example([1, 2], [IGNORE, 2])], [Example([3, 4, 5], [IGNORE, 4, 5])]
    save_examples(tmp_path / "a.npz", a, {"pad_id": 2, "tokenizer": "t.gguf", "source": "a"})
    save_examples(tmp_path / "b.npz", b, {"pad_id": 2, "tokenizer": "t.gguf", "source": "b"})
    examples, meta = load_example_files(f"{tmp_path / 'a.npz'}, {tmp_path / 'b.npz'},"
                                        f"{tmp_path / 'b.npz'}")
    assert examples == a + b + b and meta["source"] == "a"
    save_examples(tmp_path / "c.npz", b, {"pad_id": 0, "tokenizer": "t.gguf"})
    with pytest.raises(ConfigError, match="pad_id 0 differs from the first file's 2"):
        load_example_files(f"{tmp_path / 'a.npz'},{tmp_path / 'c.npz'}")
    save_examples(tmp_path / "d.npz", b, {"pad_id": 2, "tokenizer": "other.gguf"})
    with pytest.raises(ConfigError, match="tokenizer 'other.gguf' differs"):
        load_example_files(f"{tmp_path / 'a.npz'},{tmp_path / 'd.npz'}")
    with pytest.raises(ConfigError, match="no file named"):
        load_example_files(" , ")
