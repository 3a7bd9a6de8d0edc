"""The training mixture's rules: checks, duplicates, schema-spread sampling, dev leak check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from train import mixture
from train.sources import make_row

SCHEMA = {"type": "object", "properties": {
    "name": {"type": "string", "description": "Full name of the person"},
    "age": {"type": "integer"}}, "required": ["name"], "additionalProperties": False}


def row(key: str, schema_name: str = "s", text: str = "Ada, 36", expected: Any = None,
        source: str = "generator") -> dict[str, Any]:
    return make_row(source, key, schema_name, SCHEMA, text,
                    {"name": "Ada", "age": 36} if expected is None else expected)


def test_check_row_keeps_a_valid_row() -> None:
    assert mixture.check_row(row("a")) is None


@pytest.mark.parametrize("expected, reason", [
    ({"age": 36}, "invalid"),                         # required name missing
    ({"name": "Ada", "age": "36"}, "invalid"),         # wrong type
    ({"name": "string"}, "type_name_value"),
    ({"name": " Full name of the person"}, "description_value"),
])
def test_check_row_names_the_reason_to_drop(expected: dict[str, Any], reason: str) -> None:
    assert mixture.check_row(row("a", expected=expected)) == reason


def test_check_row_checks_formats() -> None:
    schema = {"type": "object", "properties": {"d": {"type": "string", "format": "date"}}}
    bad = make_row("generator", "x", "d", schema, "on 3 March", {"d": "March 3"})
    good = make_row("generator", "y", "d", schema, "on 3 March 2025", {"d": "2025-03-03"})
    assert mixture.check_row(bad) == "invalid"
    assert mixture.check_row(good) is None


def test_row_checker_reports_schemas_the_grammar_refuses() -> None:
    checker = mixture.RowChecker()
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 5,
                                                     "maximum": 1}}}
    refused = make_row("generator", "x", "n", schema, "n", {})
    assert checker(row("ok")) is None
    # A schema the engine cannot enforce is dropped as "grammar" (or found invalid first).
    assert checker(refused) in ("grammar", None)
    assert checker.grammar_error({"type": "object", "properties": {"a": {"type": "bogus"}}})


def test_dedupe_drops_same_schema_text_and_target_and_repeated_ids() -> None:
    rows = [row("a"), row("b"), row("c", text="Bob, 40", expected={"name": "Bob", "age": 40}),
            row("c", text="Eve", expected={"name": "Eve"})]
    kept, dropped = mixture.dedupe(rows)
    assert [r["id"] for r in kept] == ["generator/a", "generator/c"]
    assert dropped == 2


def test_spread_sample_takes_one_row_per_schema_per_round() -> None:
    rows = [row(f"big{i}", "big", text=f"t{i}") for i in range(10)]
    rows += [row(f"s{k}", f"small{k}", text=f"u{k}") for k in range(4)]
    sample = mixture.spread_sample(rows, 6, seed=1)
    schemas = [r["schema_id"] for r in sample]
    assert len(sample) == 6
    assert len(set(schemas[:5])) == 5  # the first round covers every schema once
    assert schemas.count("generator/big") == 2
    assert mixture.spread_sample(rows, 6, seed=1) == sample
    assert len(mixture.spread_sample(rows, 100, seed=1)) == len(rows)


def test_parse_counts_overrides_defaults_and_refuses_bad_items() -> None:
    counts = mixture.parse_counts("bfcl=5, e2e=0", {"bfcl": 1, "e2e": 2, "sgd": 3})
    assert counts == {"bfcl": 5, "sgd": 3}
    for bad in ("nope=3", "bfcl", "bfcl=-1", "bfcl=x"):
        with pytest.raises(mixture.MixtureError):
            mixture.parse_counts(bad, {})


def _fake_sources(monkeypatch: pytest.MonkeyPatch, sources: dict[tuple[str, str], list]) -> None:
    def load(name: str, split: str, **_: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in sources[(name, split)]]

    monkeypatch.setattr(mixture, "load_source", load)


def test_build_counts_drops_and_refuses_leaked_dev_schemas(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    train_rows = [row(f"t{i}", f"s{i % 3}", text=f"Ada {i}") for i in range(6)]
    train_rows.append(row("bad", "s0", expected={"name": "string"}))
    dev_rows = [row("d0", "unseen", text="Bob"), row("d1", "unseen", text="Eve")]
    _fake_sources(monkeypatch, {("generator", "train"): train_rows,
                                ("generator", "dev"): dev_rows})
    train, dev, manifest = mixture.build({"generator": 4}, {"generator": 5}, corpora=tmp_path,
                                         edgejson=tmp_path)
    assert len(train) == 4 and len({r["schema_id"] for r in train}) == 3
    assert len(dev) == 2
    stats = manifest["train"]["generator"]
    assert stats["available"] == 7 and stats["dropped"]["type_name_value"] == 1
    assert stats["taken"] == 4 and manifest["train_rows"] == 4 and manifest["dev_rows"] == 2
    json.dumps(manifest)  # serializable as written

    _fake_sources(monkeypatch, {("generator", "train"): train_rows,
                                ("generator", "dev"): [row("d9", "s1", text="Zed")]})
    with pytest.raises(mixture.MixtureError, match="generator/s1"):
        mixture.build({"generator": 6}, {"generator": 1}, corpora=tmp_path, edgejson=tmp_path)


def test_build_allows_shared_schemas_for_sources_split_by_text(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake_sources(monkeypatch, {("e2e", "train"): [row("t", "r", source="e2e")],
                                ("e2e", "dev"): [row("d", "r", text="Bob", source="e2e",
                                                     expected={"name": "Bob"})]})
    train, dev, _ = mixture.build({"e2e": 1}, {"e2e": 1}, corpora=tmp_path, edgejson=tmp_path)
    assert train[0]["schema_id"] == dev[0]["schema_id"] == "e2e/r"
