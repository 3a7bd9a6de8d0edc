"""Tests of train/sources/e2e.py on the staged E2E corpus: valid rows, unique ids, targets equal
to the parsed MR (familyFriendly as a boolean), name/near in the text, split by venue name."""

from __future__ import annotations

import sys
from pathlib import Path

# train/ is a folder of scripts beside the installed package: reach it from the repository root.
sys.path.append(str(Path(__file__).resolve().parent.parent))

import csv
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from train.sources import e2e, in_text

ROOT = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "e2e"


@pytest.fixture(scope="module")
def split_rows() -> dict[str, list[dict[str, Any]]]:
    if not ROOT.is_dir():
        pytest.skip(f"E2E corpus not found at {ROOT}")
    return {split: e2e.rows(ROOT, split) for split in ("train", "dev")}


@pytest.fixture(scope="module")
def records() -> list[dict[str, str]]:
    with open(ROOT / e2e.DATA_FILE, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_parse_mr() -> None:
    assert e2e.parse_mr("name[Alimentum], area[city centre], familyFriendly[no]") == [
        ("name", "Alimentum"), ("area", "city centre"), ("familyFriendly", "no")]
    assert e2e.parse_mr("customer rating[3 out of 5], priceRange[£20-25]") == [
        ("customer rating", "3 out of 5"), ("priceRange", "£20-25")]
    with pytest.raises(ValueError, match="not an MR item"):
        e2e.parse_mr("name[Alimentum], area city centre")


def test_schema_is_valid_and_all_optional() -> None:
    for name in e2e.RATING_NAMES:
        schema = e2e.schema(name)
        Draft202012Validator.check_schema(schema)
        assert "required" not in schema
        assert schema["properties"]["familyFriendly"]["type"] == "boolean"
        assert name in schema["properties"]
        assert all("description" in p for p in schema["properties"].values())
        assert Draft202012Validator(schema).is_valid({})
        assert not Draft202012Validator(schema).is_valid({"familyFriendly": "yes"})


def test_counts_and_ids(split_rows: dict[str, list[dict[str, Any]]]) -> None:
    assert len(split_rows["train"]) == 600
    assert len(split_rows["dev"]) == 100
    all_rows = split_rows["train"] + split_rows["dev"]
    assert len({r["id"] for r in all_rows}) == len(all_rows)
    assert len({(r["text"], str(sorted(r["expected"].items()))) for r in all_rows}) == len(
        all_rows)
    assert {r["schema_id"] for r in all_rows} == {"e2e/restaurant"}
    assert e2e.rows(ROOT, "dev") == split_rows["dev"]


def test_rows_valid_and_match_mr(split_rows: dict[str, list[dict[str, Any]]],
                                 records: list[dict[str, str]]) -> None:
    n_true = n_false = 0
    for row in split_rows["train"] + split_rows["dev"]:
        schema = row["schema"]
        Draft202012Validator(schema).validate(row["expected"])
        record = records[int(row["id"].split("/")[1])]
        assert row["text"] == " ".join(record["ref"].split())
        [rating_name] = set(e2e.RATING_NAMES) & set(schema["properties"])
        mr = dict(e2e.parse_mr(record["mr"]))
        want: dict[str, Any] = {}
        for key, value in mr.items():
            if key == "familyFriendly":
                want[key] = {"yes": True, "no": False}[value]
            else:
                want[rating_name if key == "customer rating" else key] = value
        assert row["expected"] == want
        for key in ("name", "near"):
            if key in want:
                assert in_text(want[key], row["text"]), (row["id"], key)
        if "familyFriendly" in want:
            n_true += want["familyFriendly"] is True
            n_false += want["familyFriendly"] is False
    assert n_true > 50 and n_false > 20


def test_known_row(split_rows: dict[str, list[dict[str, Any]]]) -> None:
    rows = {r["id"]: r for r in split_rows["train"] + split_rows["dev"]}
    row = rows["e2e/0"]
    assert row["text"] == (
        "There is a place in the city centre, Alimentum, that is not family-friendly.")
    assert row["expected"] == {"name": "Alimentum", "area": "city centre",
                               "familyFriendly": False}


def test_split_by_venue_name(split_rows: dict[str, list[dict[str, Any]]]) -> None:
    train_names = {r["expected"]["name"] for r in split_rows["train"]}
    dev_names = {r["expected"]["name"] for r in split_rows["dev"]}
    assert not train_names & dev_names
    assert dev_names == {"Cotto", "Fitzbillies", "Taste of Cambridge", "Wildwood"}
    assert all(e2e.is_dev_name(n) for n in dev_names)
    assert not any(e2e.is_dev_name(n) for n in train_names)


def test_rating_names_vary(split_rows: dict[str, list[dict[str, Any]]]) -> None:
    used = {n for r in split_rows["train"] for n in r["schema"]["properties"]
            if n in e2e.RATING_NAMES}
    assert used == set(e2e.RATING_NAMES)
