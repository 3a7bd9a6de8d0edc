"""JSONL jobs in worker processes: resuming after the lines already written, input order, one
line per record, per-record errors, and ``maaza-rt extract --workers`` with the default model
against the single-process output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from maaza_rt.cli import main
from maaza_rt.errors import GenerationLimitError, InputTooLongError
from maaza_rt.workers import default_threads, error_record, resume_point, write_jsonl

sys.path.insert(0, str(Path(__file__).parent))
from bulk_cases import CONTACT, CONTACT_PATH, TEXTS  # noqa: E402


def test_resume_point_counts_complete_lines_and_cuts_a_partial_one(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    assert resume_point(path) == 0
    path.write_text('{"a": 1}\n{"a": 2}\n')
    assert resume_point(path) == 2
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": ')
    assert resume_point(path) == 2
    assert path.read_text() == '{"a": 1}\n{"a": 2}\n'
    path.write_text("")
    assert resume_point(path) == 0


class _Result:
    def __init__(self, value: Any) -> None:
        self.value = value


def _upper(todo: list[str]) -> Any:
    for text in todo:
        if text == "long":
            yield InputTooLongError("input too long", 9, 8, 1)
        elif text == "cut":
            yield GenerationLimitError("ran out")
        else:
            yield _Result(text.upper())


def test_write_jsonl_writes_in_order_and_resumes(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    texts = ["a", "long", "b", "cut", "c"]
    seen: list[list[str]] = []

    def run(todo: list[str]) -> Any:
        seen.append(list(todo))
        return _upper(todo)

    error = write_jsonl(path, texts, run, lambda r: {"v": r.value})
    assert isinstance(error, InputTooLongError)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines == [{"v": "A"}, error_record(InputTooLongError("input too long")), {"v": "B"},
                     error_record(GenerationLimitError("ran out")), {"v": "C"}]
    # A run stopped after two records and in the middle of the third line: the rerun does the
    # rest only, and keeps what was written (the first line says so: it is not what runs give).
    path.write_text('{"v": "kept"}\n{"v": "kept too"}\n{"v": "B')
    assert write_jsonl(path, texts, run, lambda r: {"v": r.value}) is not None
    assert seen[-1] == ["b", "cut", "c"]
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[:2] == [{"v": "kept"}, {"v": "kept too"}] and lines[2] == {"v": "B"}
    assert len(lines) == 5
    # Nothing left to do: no record is run again (and no worker is started).
    assert write_jsonl(path, texts, run, lambda r: {"v": r.value}) is None
    assert len(seen) == 2 and len(path.read_text().splitlines()) == 5


def test_default_threads_share_the_cores() -> None:
    assert default_threads(1) >= default_threads(2) >= 1
    assert default_threads(10_000) == 1


def test_cli_workers_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("Ada, ada@example.com\n")
    base = ["extract", "--schema", str(CONTACT_PATH), "--jsonl", str(src)]
    assert main(base + ["--workers", "2"]) == 2  # no --out
    assert "--out" in capsys.readouterr().err
    assert main(base + ["--out", str(tmp_path / "o.jsonl"), "--workers", "0"]) == 2
    assert main(base + ["--out", str(tmp_path / "o.jsonl"), "--ray", "--details"]) == 2
    # A model that cannot be found stops the job before any worker starts.
    assert main(base + ["--out", str(tmp_path / "o.jsonl"), "--workers", "2",
                        "--model", str(tmp_path / "missing.gguf")]) == 3
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.model
def test_cli_workers_match_one_process_and_resume(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": t, "id": i}) + "\n" for i, t in enumerate(TEXTS)))
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    common = ["extract", "--schema", str(CONTACT_PATH), "--jsonl", str(src), "--threads", "1"]
    assert main(common + ["--out", str(one)]) == 0
    assert main(common + ["--out", str(two), "--workers", "2"]) == 0
    expected = one.read_text().splitlines()
    assert two.read_text().splitlines() == expected and len(expected) == len(TEXTS)
    for line in expected:
        jsonschema.validate(json.loads(line), CONTACT)
    # Resume: a first line that no model wrote stays, a cut second line is redone.
    two.write_text('{"name": "kept"}\n{"name": "Gra')
    assert main(common + ["--out", str(two), "--workers", "2"]) == 0
    assert two.read_text().splitlines() == ['{"name": "kept"}'] + expected[1:]
    # --details through the workers: the record of each line, token counts included.
    details = tmp_path / "details.jsonl"
    assert main(common + ["--out", str(details), "--workers", "2", "--details"]) == 0
    records = [json.loads(line) for line in details.read_text().splitlines()]
    assert [json.dumps(r["value"], ensure_ascii=False) for r in records] == expected
    assert all(r["n_output_tokens"] > 0 and r["n_chunks"] == 1 for r in records)
