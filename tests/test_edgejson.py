"""maaza_rt.edgejson: loading rows and schemas, complexity labels and the validation split."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from conftest import EDGEJSON

from maaza_rt import edgejson


def test_edgejson_load_rows_and_schemas_real_data() -> None:
    rows = edgejson.load_rows(EDGEJSON / "train.jsonl")
    schemas = edgejson.load_schemas(EDGEJSON / "schemas")
    assert len(rows) == 629
    assert len(schemas) == 25
    assert {r["schema_id"] for r in rows} <= set(schemas)


def test_edgejson_complexity_missing_counts_as_medium() -> None:
    rows = edgejson.load_rows(EDGEJSON / "train.jsonl")
    counts = Counter(edgejson.complexity(r) for r in rows)
    assert counts == {"simple": 350, "medium": 120 + 72, "complex": 87}
    assert edgejson.complexity({"complexity": None}) == "medium"
    assert edgejson.complexity({"complexity": "complex"}) == "complex"


def test_edgejson_validation_split_is_stratified_and_deterministic() -> None:
    rows = edgejson.load_rows(EDGEJSON / "train.jsonl")
    train, val = edgejson.validation_split(rows, fraction=0.2, seed=0)
    assert (train, val) == edgejson.validation_split(rows, fraction=0.2, seed=0)
    ids_train = {r["id"] for r in train}
    ids_val = {r["id"] for r in val}
    assert not ids_train & ids_val
    assert ids_train | ids_val == {r["id"] for r in rows}
    per_schema = Counter(r["schema_id"] for r in rows)
    per_val = Counter(r["schema_id"] for r in val)
    for schema_id, n in per_schema.items():
        assert per_val[schema_id] == min(n - 1, max(1, round(0.2 * n))), schema_id
    # Order is preserved.
    order = {r["id"]: i for i, r in enumerate(rows)}
    assert [order[r["id"]] for r in val] == sorted(order[r["id"]] for r in val)
    # Another seed gives another split of the same sizes.
    _, val1 = edgejson.validation_split(rows, fraction=0.2, seed=1)
    assert {r["id"] for r in val1} != ids_val
    assert len(val1) == len(val)


def test_edgejson_split_of_one_schema_does_not_depend_on_others() -> None:
    rows = edgejson.load_rows(EDGEJSON / "train.jsonl")
    only = [r for r in rows if r["schema_id"] == "rating"]
    _, val_all = edgejson.validation_split(rows)
    _, val_only = edgejson.validation_split(only)
    assert [r["id"] for r in val_all if r["schema_id"] == "rating"] == [r["id"] for r in val_only]


def test_edgejson_split_rejects_bad_fraction() -> None:
    with pytest.raises(ValueError):
        edgejson.validation_split([], fraction=1.0)


def test_edgejson_single_row_schema_stays_in_train() -> None:
    rows = [
        {"id": "a", "schema_id": "s"},
        {"id": "b", "schema_id": "t"},
        {"id": "c", "schema_id": "t"},
    ]
    train, val = edgejson.validation_split(rows, fraction=0.5)
    assert [r["id"] for r in train if r["schema_id"] == "s"] == ["a"]
    assert len(val) == 1 and val[0]["schema_id"] == "t"


def test_edgejson_load_rows_errors_name_the_line(tmp_path: Path) -> None:
    good = {"id": "x", "schema_id": "s", "prompt": "p", "expected_output": {}}
    p = tmp_path / "rows.jsonl"
    p.write_text(json.dumps(good) + "\n\n{not json\n")
    with pytest.raises(ValueError, match=r"rows.jsonl:3"):
        edgejson.load_rows(p)
    p.write_text(json.dumps({"id": "x"}) + "\n")
    with pytest.raises(ValueError, match="missing field"):
        edgejson.load_rows(p)
    p.write_text(json.dumps(good) + "\n" + json.dumps(good) + "\n")
    with pytest.raises(ValueError, match="duplicate id"):
        edgejson.load_rows(p)
    with pytest.raises(FileNotFoundError):
        edgejson.load_rows(tmp_path / "missing.jsonl")


def test_edgejson_load_schemas_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no"):
        edgejson.load_schemas(tmp_path)
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="bad.json"):
        edgejson.load_schemas(tmp_path)
    with pytest.raises(FileNotFoundError):
        edgejson.load_schemas(tmp_path / "nope")
