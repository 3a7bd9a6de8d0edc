"""The ``maaza-rt`` command line: output, JSONL mode, the model list and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from maaza_rt.cli import main

REPO = Path(__file__).resolve().parent.parent
CONTACT_PATH = REPO / "examples" / "contact.json"
CONTACT = json.loads(CONTACT_PATH.read_text())
TEXT = "Reach Ada Lovelace at ada@example.com or +44 20 7946 0000."


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("maaza-rt: error: ")
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.model
def test_cli_extract_prints_schema_valid_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", "--schema", str(CONTACT_PATH), TEXT]) == 0
    out = capsys.readouterr().out
    jsonschema.validate(json.loads(out), CONTACT)


@pytest.mark.model
def test_cli_extract_details_and_stdin(capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(TEXT))
    assert main(["extract", "--schema", str(CONTACT_PATH), "--details", "-"]) == 0
    record = json.loads(capsys.readouterr().out)
    jsonschema.validate(record["value"], CONTACT)
    assert record["n_output_tokens"] > 0 and record["total_ms"] > 0
    assert json.loads(record["text"]) == record["value"]


@pytest.mark.model
def test_cli_jsonl_writes_one_record_per_line(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": TEXT, "id": 1}) + "\n\nGrace Hopper, grace@navy.mil\n"
                   + json.dumps("Charles Babbage, charles@example.com") + "\n")
    dst = tmp_path / "out.jsonl"
    assert main(["extract", "--schema", str(CONTACT_PATH), "--jsonl", str(src),
                 "--out", str(dst)]) == 0
    lines = dst.read_text().splitlines()
    assert len(lines) == 3
    for line in lines:
        jsonschema.validate(json.loads(line), CONTACT)
    assert main(["extract", "--schema", str(CONTACT_PATH), "--jsonl", str(src)]) == 0
    assert capsys.readouterr().out.splitlines() == lines


@pytest.mark.model
def test_cli_jsonl_reports_failed_records_and_exit_code(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(TEXT + "\n")
    dst = tmp_path / "out.jsonl"
    rc = main(["extract", "--schema", str(CONTACT_PATH), "--jsonl", str(src), "--out", str(dst),
               "--max-tokens", "2"])
    assert rc == 5
    record = json.loads(dst.read_text())
    assert record["error"]["type"] == "GenerationLimitError"


def test_cli_models_lists_known_models(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "maaza-mlm-135m (default)\t" in out
    assert "smollm2-135m-instruct\tpresent" in out
    assert "maaza-mlm-135m-lora\tpresent" in out and "+ adapter" in out
    assert "gemma3-270m" in out


def test_cli_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main([]) == 2
    _one_error_line(capsys.readouterr().err)
    assert main(["extract", TEXT]) == 2  # --schema missing
    _one_error_line(capsys.readouterr().err)
    assert main(["extract", "--schema", str(tmp_path / "absent.json"), TEXT]) == 2
    assert "absent.json" in _one_error_line(capsys.readouterr().err)
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": {"type": "string"}}')
    assert main(["extract", "--schema", str(bad), TEXT]) == 2
    assert "'not'" in _one_error_line(capsys.readouterr().err)
    assert main(["extract", "--schema", str(CONTACT_PATH), "--copy-bias", "1",
                 "--no-prompt-lookup", TEXT]) == 2
    assert "copy_bias" in _one_error_line(capsys.readouterr().err)


def test_cli_model_error_exits_3(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fake = tmp_path / "fake.gguf"
    fake.write_text("hello")
    assert main(["extract", "--schema", str(CONTACT_PATH), "--model", str(fake), TEXT]) == 3
    assert str(fake) in _one_error_line(capsys.readouterr().err)
    assert main(["extract", "--schema", str(CONTACT_PATH), "--model", "nope", TEXT]) == 3
    _one_error_line(capsys.readouterr().err)


@pytest.mark.model
def test_cli_input_too_long_exits_4(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["extract", "--schema", str(CONTACT_PATH), "--n-ctx", "64", "--max-tokens", "8",
               TEXT])
    assert rc == 4
    assert "tokens over the context window" in _one_error_line(capsys.readouterr().err)


@pytest.mark.model
def test_cli_generation_limit_exits_5(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["extract", "--schema", str(CONTACT_PATH), "--max-tokens", "3", TEXT])
    assert rc == 5
    assert "max_tokens=3" in _one_error_line(capsys.readouterr().err)


@pytest.mark.model
def test_cli_console_entry_runs_as_a_process(tmp_path: Path) -> None:
    # The package under test (installed, or the in-place development build): run outside the
    # repository so `-m` cannot pick up an unbuilt source tree from the working directory.
    import maaza_rt

    package_root = Path(maaza_rt.__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "-m", "maaza_rt.cli", "extract", "--schema", str(CONTACT_PATH), TEXT],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env={"PYTHONPATH": str(package_root), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    jsonschema.validate(json.loads(proc.stdout), CONTACT)
