"""A corpus on Ray Data: ``extract_dataset`` on a real local Ray instance (two CPUs, started
and stopped by this module) with the default model, and ``maaza-rt extract --ray``. Also:
``import maaza_rt`` does not import Ray."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from maaza_rt.cli import main

sys.path.insert(0, str(Path(__file__).parent))
from bulk_cases import CONTACT, CONTACT_PATH, TEXTS  # noqa: E402


def test_import_maaza_rt_does_not_import_ray(tmp_path: Path) -> None:
    code = ("import sys, maaza_rt, maaza_rt.extractor, maaza_rt.chunking, maaza_rt.workers, "
            "maaza_rt.cli, maaza_rt.bulk; assert 'ray' not in sys.modules, 'ray imported'")
    # Not from the repository root: ``python -c`` puts the working directory first on sys.path,
    # and the source tree's maaza_rt (without its native module when installed) would shadow
    # the installed package.
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)


def test_row_errors_become_the_error_classes() -> None:
    from maaza_rt import GenerationLimitError, MaazaError
    from maaza_rt.bulk import _row_error

    error = _row_error("GenerationLimitError: ran out: 2 tokens")
    assert type(error) is GenerationLimitError and str(error) == "ran out: 2 tokens"
    other = _row_error("TypeError: text must be a str")
    assert type(other) is MaazaError and str(other) == "TypeError: text must be a str"


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local Ray instance for the module: 2 CPUs, no dashboard. Started from an empty
    folder: Ray puts the driver's working directory on every worker's sys.path, and from the
    repository root the source tree's maaza_rt would shadow the installed package."""
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    here = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("ray-driver"))
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    finally:
        os.chdir(here)
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def expected() -> list[Any]:
    """The values one in-process Extractor gives (one thread, as each actor has)."""
    import maaza_rt

    extractor = maaza_rt.Extractor(n_threads=1)
    try:
        return [extractor.extract(text, CONTACT) for text in TEXTS]
    finally:
        extractor.close()


@pytest.mark.model
def test_extract_dataset_keeps_rows_and_order_and_marks_failed_rows(
        local_ray: Any, expected: list[Any]) -> None:
    from maaza_rt.bulk import extract_dataset

    rows: list[dict[str, Any]] = [{"id": 10 + i, "text": t} for i, t in enumerate(TEXTS)]
    rows.insert(2, {"id": 99, "text": None})  # not a text: this row fails, the others go on
    ds = local_ray.data.from_items(rows)
    out = extract_dataset(ds, CONTACT, concurrency=2, num_cpus=1, batch_size=1)
    got = list(out.iter_rows())
    assert [r["id"] for r in got] == [r["id"] for r in rows]
    assert [r["text"] for r in got] == [r["text"] for r in rows]
    failed = got.pop(2)
    assert failed["value"] is None and failed["error"].startswith("TypeError: ")
    assert [r["error"] for r in got] == [None] * len(TEXTS)
    values = [json.loads(r["value"]) for r in got]
    for value in values:
        jsonschema.validate(value, CONTACT)
    assert values == expected


def test_extract_dataset_rejects_bad_schemas_and_options_before_starting(
        local_ray: Any) -> None:
    from maaza_rt import SchemaError
    from maaza_rt.bulk import extract_dataset

    ds = local_ray.data.from_items([{"text": "x"}])
    with pytest.raises(SchemaError):
        extract_dataset(ds, {"not": {"type": "string"}})
    with pytest.raises(ValueError, match="num_cpus"):
        extract_dataset(ds, CONTACT, n_threads=2)
    with pytest.raises(ValueError):
        extract_dataset(ds, CONTACT, num_cpus=0)


@pytest.mark.model
def test_cli_ray_writes_in_order_and_resumes(local_ray: Any, expected: list[Any],
                                             tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS))
    dst = tmp_path / "out.jsonl"
    dst.write_text('{"name": "kept"}\n')  # a previous run wrote the first record
    assert main(["extract", "--schema", str(CONTACT_PATH), "--jsonl", str(src), "--out", str(dst),
                 "--ray", "--workers", "2"]) == 0
    lines = [json.loads(line) for line in dst.read_text().splitlines()]
    assert lines == [{"name": "kept"}] + expected[1:]
    assert local_ray.is_initialized()  # the CLI leaves a Ray it did not start running
