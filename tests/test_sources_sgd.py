"""Tests of the SGD converter (train/sources/sgd.py) on the staged corpus beside the repo: every
row validates, dev services are unseen in train, targets hold only what the text states, and
known turns convert to known values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from train.sources import in_text, sgd

SGD = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "sgd"


@pytest.fixture(scope="module")
def converted() -> dict[str, list[dict[str, Any]]]:
    """Rows of both splits, converted once for the module."""
    if not SGD.is_dir():
        pytest.skip(f"SGD corpus not staged at {SGD}")
    return {split: sgd.rows(SGD, split) for split in ("train", "dev")}


@pytest.fixture(scope="module")
def by_id(converted: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """All rows of both splits by id."""
    return {r["id"]: r for rows in converted.values() for r in rows}


def test_sgd_rows_validate_against_their_schema(converted) -> None:
    assert len(converted["train"]) > 3000 and len(converted["dev"]) > 200
    for split, rows in converted.items():
        # Each row's schema is a subset of its service's full schema, which is checked once
        # (checking thousands of row schemas is slow).
        full = {}
        for service in json.loads((SGD / split / "schema.json").read_text(encoding="utf-8")):
            full[service["service_name"]] = sgd.service_schema(service)["properties"]
            Draft202012Validator.check_schema(sgd.service_schema(service))
        for row in rows:
            schema = row["schema"]
            props = full[row["schema_id"].removeprefix("sgd/")]
            for name, node in schema["properties"].items():
                assert node in (props[name], {k: v for k, v in props[name].items()
                                              if k != "description"}), (row["id"], name)
            errors = list(Draft202012Validator(schema).iter_errors(row["expected"]))
            assert not errors, (row["id"], errors[0].message)
            assert schema["type"] == "object" and schema["additionalProperties"] is False
            assert "required" not in schema
            assert row["source"] == "sgd" and row["text"] and len(row["text"]) <= 800


def test_sgd_ids_unique_and_dev_services_unseen(converted) -> None:
    ids = [r["id"] for rows in converted.values() for r in rows]
    assert len(ids) == len(set(ids))
    train = {r["schema_id"] for r in converted["train"]}
    dev = {r["schema_id"] for r in converted["dev"]}
    assert not train & dev
    assert dev == {f"sgd/{name}" for name in sgd.dev_services(SGD)}
    assert len(dev) == 8 and len(train) == 26
    for rows in converted.values():
        for row in rows:
            dialogue, turn, service = row["id"].removeprefix("sgd/").split("/")
            assert row["schema_id"] == f"sgd/{service}" and int(turn) % 2 == 0


def test_sgd_string_values_occur_in_text(converted) -> None:
    for rows in converted.values():
        for row in rows:
            for name, value in row["expected"].items():
                node = row["schema"]["properties"][name]
                if isinstance(value, str) and "enum" not in node:
                    assert in_text(value, row["text"]), (row["id"], name, value)


def test_sgd_some_targets_are_empty(converted) -> None:
    for rows in converted.values():
        empty = sum(not r["expected"] for r in rows)
        assert 0.05 * len(rows) < empty < 0.4 * len(rows)


def test_sgd_schemas_vary(converted) -> None:
    rows = converted["train"]
    schemas = {json.dumps(r["schema"], sort_keys=True) for r in rows}
    assert len(schemas) > 1000
    bare = sum(all("description" not in p for p in r["schema"]["properties"].values())
               for r in rows)
    assert 0.2 < bare / len(rows) < 0.4
    contexts = sum(r["text"].startswith("User: ") for r in rows)
    assert 0.15 < contexts / len(rows) < 0.45
    services = {s["service_name"]: len(s["slots"]) for s in
                json.loads((SGD / "train" / "schema.json").read_text(encoding="utf-8"))}
    for row in rows:
        n_props = len(row["schema"]["properties"])
        assert n_props >= min(3, services[row["schema_id"].removeprefix("sgd/")])


def test_sgd_single_utterance_turn(by_id) -> None:
    # "economical" is the user's INFORM of the categorical price_range "moderate".
    row = by_id["sgd/1_00000/12/Restaurants_1"]
    assert row["text"] == ("Do you have another restaurant matching my needs? For example a "
                           "restaurant which is economical and is located in Palo Alto.")
    assert row["expected"] == {"price_range": "moderate", "city": "Palo Alto"}
    assert row["schema"]["properties"]["price_range"]["enum"] == [
        "inexpensive", "moderate", "expensive", "very expensive"]


def test_sgd_context_turn_takes_latest_stated_values(by_id) -> None:
    # The user changes 1 pm to 7:30 in the evening and today to tomorrow; the system's
    # confirmation states the restaurant, the city and the party size.
    row = by_id["sgd/2_00048/8/Restaurants_1"]
    assert row["text"].startswith("User: Let's say 1 pm, please.\nSystem: No problem.")
    assert row["expected"] == {"restaurant_name": "Aato", "date": "tomorrow",
                               "time": "7:30 in the evening", "party_size": "2",
                               "city": "San Francisco"}


def test_sgd_context_turn_ignores_values_the_user_did_not_take(by_id) -> None:
    # The system names "2g Japanese Brasserie" but the state does not hold it; the cuisine
    # "Sushi" is two user turns back, outside the text.
    row = by_id["sgd/2_00000/6/Restaurants_1"]
    assert "2g Japanese Brasserie" in row["text"]
    assert row["expected"] == {"serves_alcohol": True, "price_range": "moderate",
                               "city": "San Francisco"}


def test_sgd_boolean_slot_and_dev_turn(by_id) -> None:
    row = by_id["sgd/1_00112/4/Restaurants_1"]
    assert row["schema"]["properties"]["serves_alcohol"]["type"] == "boolean"
    assert row["expected"] == {"serves_alcohol": True}
    dev = by_id["sgd/1_00000/2/Restaurants_2"]
    assert dev["expected"] == {"restaurant_name": "Sino", "time": "half past 11 in the morning",
                               "number_of_seats": "2", "location": "San Jose"}


def test_sgd_rows_are_deterministic(converted) -> None:
    assert sgd.rows(SGD, "dev") == converted["dev"]


def test_sgd_rejects_unknown_split() -> None:
    with pytest.raises(ValueError):
        sgd.rows(SGD, "test")
