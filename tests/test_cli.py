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


class _FakeExtractor:
    """Stands in for ``Extractor`` in the CLI: returns a fixed value for any text, with spans
    found in the text and made-up confidences, and records the options it was given."""

    calls: list[dict] = []

    def __init__(self, model: object, **kwargs: object) -> None:
        pass

    def extract(self, text: str, schema: object, **options: object) -> object:
        from maaza_rt.extractor import Extraction
        from maaza_rt.spans import leaf_spans

        _FakeExtractor.calls.append(options)
        value = {"name": "Ada <Lovelace>", "email": "ada@example.com"}
        if not options.get("return_details"):
            return value
        return Extraction(value=value, text=json.dumps(value), n_prompt_tokens=1,
                          n_prompt_tokens_reused=0, n_output_tokens=1, n_forced_tokens=0,
                          prompt_ms=0.0, decode_ms=0.0, grammar_ms=0.0, total_ms=0.0,
                          spans=leaf_spans(value, text),
                          confidence={"/name": 0.75, "/email": 0.25})


@pytest.fixture()
def fake_extractor(monkeypatch: pytest.MonkeyPatch) -> type[_FakeExtractor]:
    import maaza_rt.extractor

    _FakeExtractor.calls = []
    monkeypatch.setattr(maaza_rt.extractor, "Extractor", _FakeExtractor)
    return _FakeExtractor


FAKE_TEXT = "Write to Ada <Lovelace> at ada@example.com."


def test_cli_details_print_spans_and_confidence(capsys: pytest.CaptureFixture[str],
                                                fake_extractor: type[_FakeExtractor]) -> None:
    assert main(["extract", "--schema", str(CONTACT_PATH), FAKE_TEXT]) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == {"name": "Ada <Lovelace>", "email": "ada@example.com"}
    assert fake_extractor.calls[-1]["return_details"] is False  # nothing recorded unasked
    assert main(["extract", "--schema", str(CONTACT_PATH), "--details", FAKE_TEXT]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # one JSON line
    record = json.loads(out)
    assert fake_extractor.calls[-1]["return_details"] is True
    assert record["spans"] == {"/name": [9, 23], "/email": [27, 42]}
    assert record["confidence"] == {"/name": 0.75, "/email": 0.25}
    assert FAKE_TEXT[9:23] == "Ada <Lovelace>"


def test_cli_html_writes_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  fake_extractor: type[_FakeExtractor]) -> None:
    page = tmp_path / "report.html"
    assert main(["extract", "--schema", str(CONTACT_PATH), "--html", str(page), FAKE_TEXT]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "Ada <Lovelace>"  # the bare value
    assert fake_extractor.calls[-1]["return_details"] is True
    html = page.read_text(encoding="utf-8")
    assert "Ada &lt;Lovelace&gt;</mark>" in html and "<Lovelace>" not in html
    assert 'title="/name: confidence 75.0%"' in html
    # --jsonl: one page with every record
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": FAKE_TEXT}) + "\n" + json.dumps("ada@example.com") + "\n")
    assert main(["extract", "--schema", str(CONTACT_PATH), "--jsonl", str(src), "--out",
                 str(tmp_path / "out.jsonl"), "--html", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert html.count("<h2>Record") == 2 and html.count("<table>") == 2
    assert main(["extract", "--schema", str(CONTACT_PATH), "--html",
                 str(tmp_path / "no" / "r.html"), FAKE_TEXT]) == 2
    assert "cannot write" in _one_error_line(capsys.readouterr().err)


@pytest.mark.model
def test_cli_details_spans_hold_the_values(capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    assert main(["extract", "--schema", str(CONTACT_PATH), "--details", "--html", str(page),
                 TEXT]) == 0
    record = json.loads(capsys.readouterr().out)
    assert set(record["confidence"]) == {f"/{k}" for k in record["value"]}
    assert all(0.0 < p <= 1.0 for p in record["confidence"].values())
    for pointer, (start, end) in record["spans"].items():
        assert TEXT[start:end] == record["value"][pointer[1:]]
    assert "<mark" in page.read_text(encoding="utf-8")
