"""Tests of train/sources/wnut17.py on the staged WNUT-17 corpus: valid rows, unique ids, known
sentences converted to known entity lists, the 1-in-3 rule for empty sentences and the dev mix."""

from __future__ import annotations

import json
import sys
from pathlib import Path

# train/ is a folder of scripts beside the installed package: reach it from the repository root.
sys.path.append(str(Path(__file__).resolve().parent.parent))

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from train.sources import wnut17
from train.sources.conll import NAME_STYLES, property_name, read_conll

ROOT = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "wnut17"


@pytest.fixture(scope="module")
def split_rows() -> dict[str, list[dict[str, Any]]]:
    if not ROOT.is_dir():
        pytest.skip(f"WNUT-17 corpus not found at {ROOT}")
    return {split: wnut17.rows(ROOT, split) for split in ("train", "dev")}


_VALIDATORS: dict[str, Draft202012Validator] = {}


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A checked validator for ``schema``, one per distinct schema up to property order (rows
    repeat schemas; checking each against the metaschema would be slow)."""
    key = json.dumps({**schema, "required": sorted(schema.get("required", []))}, sort_keys=True)
    if key not in _VALIDATORS:
        Draft202012Validator.check_schema(schema)
        _VALIDATORS[key] = Draft202012Validator(schema)
    return _VALIDATORS[key]


def by_type(row: dict[str, Any]) -> dict[str, list[str]]:
    """The row's target keyed by WNUT-17 tag (read back from the property names)."""
    out: dict[str, list[str]] = {}
    for tag, kind in wnut17.TYPES.items():
        names = {property_name(kind, s) for s in NAME_STYLES} & set(row["schema"]["properties"])
        if names:
            [name] = names
            out[tag] = row["expected"][name]
    return out


def test_every_row_valid_and_ids_unique(split_rows: dict[str, list[dict[str, Any]]]) -> None:
    all_rows = split_rows["train"] + split_rows["dev"]
    assert len({r["id"] for r in all_rows}) == len(all_rows)
    for row in all_rows:
        assert row["source"] == "wnut17"
        validator(row["schema"]).validate(row["expected"])
        props = row["schema"]["properties"]
        assert 2 <= len(props) <= 6
        assert row["schema"]["required"] == list(props) == list(row["expected"])
        assert row["schema"]["additionalProperties"] is False
        kinds = by_type(row)
        assert len(kinds) == len(props)
        expected_id = ",".join(sorted(wnut17.TYPES[t].singular for t in kinds))
        assert row["schema_id"] == f"wnut17/{expected_id}"
        for values in row["expected"].values():
            assert len(values) == len(set(values))
            assert all(v and v in row["text"] for v in values), (row["id"], values)


def test_known_sentences(split_rows: dict[str, list[dict[str, Any]]]) -> None:
    rows = {r["id"]: r for r in split_rows["train"] + split_rows["dev"]}
    first = rows["wnut17/train/0"]
    assert first["text"] == (
        "@paulwalk It's the view from where I'm living for two weeks. Empire State Building = "
        "ESB. Pretty bad storm here last evening.")
    assert by_type(first)["location"] == ["Empire State Building", "ESB"]
    assert not any(v for t, v in by_type(first).items() if t != "location")
    dev = rows["wnut17/dev/31"]
    assert dev["text"].startswith("That moment lil wayne get on the hook")
    assert by_type(dev)["person"] == ["lil wayne"]


def test_train_keeps_one_in_three_empty(split_rows: dict[str, list[dict[str, Any]]]) -> None:
    sentences = read_conll(ROOT / wnut17.FILES["train"])
    with_ents = sum(any(t != "O" for t in s.tags) for s in sentences)
    empty = len(sentences) - with_ents
    train = split_rows["train"]
    n_empty = sum(not any(r["expected"].values()) for r in train)
    assert len(train) - n_empty == with_ents == 1228
    assert n_empty == (empty + 2) // 3
    for row in train:
        if any(row["expected"].values()):
            continue
        assert all(v == [] for v in row["expected"].values())


def test_dev_half_with_entities(split_rows: dict[str, list[dict[str, Any]]]) -> None:
    dev = split_rows["dev"]
    assert len(dev) == wnut17.DEV_SIZE
    assert sum(any(r["expected"].values()) for r in dev) == wnut17.DEV_SIZE // 2
    indices = [int(r["id"].rsplit("/", 1)[1]) for r in dev]
    assert indices == sorted(indices)
    assert wnut17.rows(ROOT, "dev") == dev


def test_schemas_vary(split_rows: dict[str, list[dict[str, Any]]]) -> None:
    train = split_rows["train"]
    assert len({r["schema_id"] for r in train}) == 57  # every subset of 2-6 of the 6 types
    names = {n for r in train for n in r["schema"]["properties"]}
    assert {"creative_work", "creativeWork", "creative_works", "people", "person"} <= names
    assert "creative-work" not in names
