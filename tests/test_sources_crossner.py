"""Tests of train/sources/crossner.py on the staged CrossNER corpus: valid rows, unique ids,
known sentences converted to known entity lists, and dev held to the unseen ai domain."""

from __future__ import annotations

import json
import sys
from pathlib import Path

# train/ is a folder of scripts beside the installed package: reach it from the repository root.
sys.path.append(str(Path(__file__).resolve().parent.parent))

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from train.sources import crossner
from train.sources.conll import NAME_STYLES, property_name

ROOT = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "crossner"


@pytest.fixture(scope="module")
def split_rows() -> dict[str, list[dict[str, Any]]]:
    if not ROOT.is_dir():
        pytest.skip(f"CrossNER corpus not found at {ROOT}")
    return {split: crossner.rows(ROOT, split) for split in ("train", "dev")}


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
    """The row's target keyed by entity type (read back from its schema_id and names)."""
    types = row["schema_id"].split("/")[-1].split(",")
    out: dict[str, list[str]] = {}
    for t in types:
        names = {property_name(crossner.TYPES[t], s) for s in NAME_STYLES}
        [name] = names & set(row["schema"]["properties"])
        out[t] = row["expected"][name]
    return out


def test_row_counts(split_rows: dict[str, list[dict[str, Any]]]) -> None:
    assert len(split_rows["train"]) == 200 + 200 + 100 + 100
    assert len(split_rows["dev"]) == crossner.DEV_SIZE


def test_every_row_valid_and_ids_unique(split_rows: dict[str, list[dict[str, Any]]]) -> None:
    all_rows = split_rows["train"] + split_rows["dev"]
    assert len({r["id"] for r in all_rows}) == len(all_rows)
    for row in all_rows:
        assert row["source"] == "crossner"
        assert row["id"].startswith("crossner/") and row["schema_id"].startswith("crossner/")
        validator(row["schema"]).validate(row["expected"])
        props = row["schema"]["properties"]
        assert 2 <= len(props) <= 5
        assert row["schema"]["required"] == list(props) == list(row["expected"])
        assert all(p == {"type": "array", "items": {"type": "string"}} | (
            {"description": p["description"]} if "description" in p else {})
            for p in props.values())


def test_entities_in_text_without_duplicates(
        split_rows: dict[str, list[dict[str, Any]]]) -> None:
    for row in split_rows["train"] + split_rows["dev"]:
        assert any(row["expected"].values()), row["id"]  # a present type is always asked for
        for values in row["expected"].values():
            assert len(values) == len(set(values))
            assert all(v and v in row["text"] for v in values), (row["id"], values)


def test_known_sentences(split_rows: dict[str, list[dict[str, Any]]]) -> None:
    rows = {r["id"]: r for r in split_rows["train"] + split_rows["dev"]}
    first = rows["crossner/politics/train/0"]
    assert first["text"] == (
        "Parties with mainly Eurosceptic views are the ruling United Russia, and opposition "
        "parties the Communist Party of the Russian Federation and Liberal Democratic Party of "
        "Russia.")
    assert by_type(first)["politicalparty"] == [
        "United Russia", "Communist Party of the Russian Federation",
        "Liberal Democratic Party of Russia"]
    second = by_type(rows["crossner/politics/train/1"])
    assert second["politicalparty"][-1] == "Serbian People's Party"
    assert second.get("politician", ["Nenad Popović"]) == ["Nenad Popović"]
    dev = rows["crossner/ai/dev/0"]
    assert dev["text"] == "Here, accuracy is measured by error rate, which is defined as:"
    assert by_type(dev)["metrics"] == ["accuracy", "error rate"]


def test_dev_is_unseen_domain_with_held_out_types(
        split_rows: dict[str, list[dict[str, Any]]]) -> None:
    held = set(crossner.held_out_types())
    assert held == {"algorithm", "conference", "field", "metrics", "product", "programlang",
                    "researcher", "task"}
    train_domains = {r["schema_id"].split("/")[1] for r in split_rows["train"]}
    assert train_domains == set(crossner.TRAIN_DOMAINS)
    train_types = {t for r in split_rows["train"] for t in by_type(r)}
    assert not train_types & held
    train_schemas = {r["schema_id"] for r in split_rows["train"]}
    train_texts = {r["text"] for r in split_rows["train"]}
    for row in split_rows["dev"]:
        assert row["schema_id"].startswith("crossner/ai/")
        assert row["schema_id"] not in train_schemas
        assert set(by_type(row)) & held
        assert row["text"] not in train_texts


def test_schemas_vary_and_are_deterministic(
        split_rows: dict[str, list[dict[str, Any]]]) -> None:
    train = split_rows["train"]
    assert len({r["schema_id"] for r in train}) > 300
    styles = set()
    for row in train:
        for t in by_type(row):
            for style in NAME_STYLES:
                if property_name(crossner.TYPES[t], style) in row["schema"]["properties"]:
                    styles.add(style)
    assert styles == set(NAME_STYLES)
    described = sum("description" in next(iter(r["schema"]["properties"].values()))
                    for r in train)
    assert 0.5 * len(train) < described < 0.95 * len(train)
    assert crossner.rows(ROOT, "dev") == split_rows["dev"]


def test_unknown_split_raises() -> None:
    with pytest.raises(ValueError, match="split"):
        crossner.rows(ROOT, "test")
