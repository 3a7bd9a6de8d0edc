"""Tests of the generator source: rows for arbitrary schemas, composed from everyday domains and
MaskBench schemas, checked by jsonschema with format checking."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from train.sources import generator, in_text
from train.sources.domains_dev import DEV_ONLY_DOMAINS
from train.sources.values import NUMBER_WORDS, TYPE_NAMES

SHARED = Path(__file__).resolve().parents[2] / "shared"
REPO = Path(__file__).resolve().parents[1]
SEED = 1


def _shared() -> Path:
    if not (SHARED / "maskbench").is_dir():
        pytest.skip("../shared/maskbench is absent")
    return SHARED


_CACHE: dict[tuple[int, int, str], list[dict[str, Any]]] = {}


def _rows(n: int, seed: int, split: str) -> list[dict[str, Any]]:
    key = (n, seed, split)
    if key not in _CACHE:
        _CACHE[key] = generator.rows(n, seed, split, shared=_shared())
    return _CACHE[key]


def _domain_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if not r["schema_id"].startswith("generator/maskbench/")]


def _walk(value: Any, node: dict[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
    """(leaf, schema node) pairs of ``value``."""
    if isinstance(value, dict):
        props = node.get("properties", {})
        return [p for k, v in value.items() for p in _walk(v, props.get(k, {}))]
    if isinstance(value, list):
        return [p for v in value for p in _walk(v, node.get("items", {}))]
    return [(value, node)]


def _descriptions(node: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("description"), str):
            out.add(node["description"].strip().lower())
        for v in node.values():
            out |= _descriptions(v)
    elif isinstance(node, list):
        for v in node:
            out |= _descriptions(v)
    return out


def test_generator_rows_validate_with_format_checking() -> None:
    for split, n in (("train", 500), ("dev", 200)):
        rows = _rows(n, SEED, split)
        assert len(rows) == n
        for row in rows:
            validator = Draft202012Validator(row["schema"],
                                             format_checker=Draft202012Validator.FORMAT_CHECKER)
            errors = [e.message for e in validator.iter_errors(row["expected"])]
            assert not errors, (row["id"], errors, row["text"])
            assert row["schema"]["type"] == "object"
            assert row["source"] == "generator"
            assert row["id"].startswith(f"generator/{split}-{SEED}-")


def test_generator_ids_unique_and_schema_ids_shaped() -> None:
    rows = _rows(500, SEED, "train")
    assert len({r["id"] for r in rows}) == len(rows)
    pattern = re.compile(r"^generator/(maskbench/.+|[a-z_]+/[0-9a-f]{10})$")
    assert all(pattern.match(r["schema_id"]) for r in rows)
    # a few rows per schema, and many schemas
    counts = Counter(r["schema_id"] for r in _domain_rows(rows))
    assert len(counts) > 0.3 * sum(counts.values())
    assert max(counts.values()) <= 4


def test_generator_deterministic_and_seed_dependent() -> None:
    a = generator.rows(60, 7, "train", shared=_shared())
    b = generator.rows(60, 7, "train", shared=_shared())
    c = generator.rows(60, 8, "train", shared=_shared())
    assert a == b
    assert [r["text"] for r in a] != [r["text"] for r in c]


def test_generator_deterministic_across_hash_seeds() -> None:
    code = ("import hashlib, json; from train.sources import generator; "
            "print(hashlib.sha1(json.dumps(generator.rows(80, 3, 'train'), sort_keys=True)"
            ".encode()).hexdigest())")
    digests = set()
    for hash_seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True,
                             capture_output=True, text=True, timeout=60)
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_generator_values_are_never_descriptions_or_type_names() -> None:
    for row in _rows(500, SEED, "train") + _rows(200, SEED, "dev"):
        descriptions = _descriptions(row["schema"])
        for leaf, _ in _walk(row["expected"], row["schema"]):
            if isinstance(leaf, str):
                assert leaf.strip().lower() not in TYPE_NAMES, row["id"]
                assert leaf.strip().lower() not in descriptions, row["id"]


def test_generator_copied_strings_occur_in_text() -> None:
    for row in _rows(500, SEED, "train") + _rows(200, SEED, "dev"):
        for leaf, node in _walk(row["expected"], row["schema"]):
            if isinstance(leaf, str) and "enum" not in node and node.get("format") != "date":
                assert in_text(leaf, row["text"]), (row["id"], leaf, row["text"])


def test_generator_expected_keys_follow_schema_order() -> None:
    for row in _rows(500, SEED, "train"):
        order = list(row["schema"]["properties"])
        keys = list(row["expected"])
        assert keys == [k for k in order if k in keys], row["id"]


def test_generator_dev_domains_disjoint_from_train() -> None:
    assert len(generator.DEV_DOMAINS) == 5
    assert set(generator.DEV_DOMAINS) == {d.name for d in DEV_ONLY_DOMAINS}
    assert not set(generator.DEV_DOMAINS) & set(generator.TRAIN_DOMAINS)
    assert len(generator.EVERYDAY_DOMAINS) >= 25
    assert len(generator.TRAIN_DOMAINS) >= 20
    train = {r["schema_id"].split("/")[1] for r in _domain_rows(_rows(500, SEED, "train"))}
    dev = {r["schema_id"].split("/")[1] for r in _domain_rows(_rows(200, SEED, "dev"))}
    assert train <= set(generator.TRAIN_DOMAINS) and len(train) >= 15
    assert dev == set(generator.DEV_DOMAINS)
    # MaskBench files are split by crc32 of the file name; BFCL never appears
    for split, rows in (("train", _rows(500, SEED, "train")), ("dev", _rows(200, SEED, "dev"))):
        for row in rows:
            if row["schema_id"].startswith("generator/maskbench/"):
                stem = row["schema_id"].split("/", 2)[2]
                names = [stem + ".json", stem]
                assert not stem.startswith("BFCL_")
                files = [n for n in names if (SHARED / "maskbench" / n).exists()]
                assert files, stem
                assert (zlib.crc32(files[0].encode()) % 5 == 0) == (split == "dev")


def test_generator_real_schema_share_about_a_quarter() -> None:
    rows = _rows(500, SEED, "train")
    share = sum(r["schema_id"].startswith("generator/maskbench/") for r in rows) / len(rows)
    assert 0.2 <= share <= 0.3


def _renderings(x: float) -> set[str]:
    out = set()
    for dec in (0, 1, 2):
        if dec == 0 and not float(x).is_integer():
            continue
        plain = f"{x:.{dec}f}"
        grouped = f"{x:,.{dec}f}"
        out |= {plain, grouped, grouped.replace(",", "_").replace(".", ",").replace("_", ".")}
    if float(x).is_integer() and 0 <= x < len(NUMBER_WORDS):
        out.add(NUMBER_WORDS[int(x)])
    return out


def test_generator_numbers_normalized_from_their_written_form() -> None:
    seen_currency = 0
    for row in _domain_rows(_rows(500, SEED, "train")):
        for leaf, node in _walk(row["expected"], row["schema"]):
            if isinstance(leaf, bool) or not isinstance(leaf, (int, float)):
                continue
            if node.get("type") == "integer":
                assert isinstance(leaf, int), (row["id"], leaf)
            assert any(r in row["text"] for r in _renderings(abs(leaf))), (row["id"], leaf,
                                                                           row["text"])
            for symbol in ("$", "€", "£", "USD", "EUR", "GBP"):
                if float(leaf) >= 1000 and not float(leaf).is_integer() and symbol in row["text"]:
                    seen_currency += 1
    assert seen_currency > 5


def test_generator_known_currency_row() -> None:
    """A row whose text writes an amount with a currency sign and thousands separator maps it to
    the plain JSON number."""
    found = 0
    for row in _domain_rows(_rows(500, SEED, "train")):
        for match in re.finditer(r"\$(\d{1,3}(?:,\d{3})+\.\d{2})", row["text"]):
            number = float(match.group(1).replace(",", ""))
            leaves = [leaf for leaf, _ in _walk(row["expected"], row["schema"])
                      if isinstance(leaf, (int, float)) and not isinstance(leaf, bool)]
            if number in leaves:
                found += 1
    assert found >= 3


def test_generator_optional_fields_absent_in_some_rows() -> None:
    rows = _domain_rows(_rows(500, SEED, "train"))
    missing = [r for r in rows if set(r["schema"]["properties"]) - set(r["expected"])]
    assert 0.3 * len(rows) < len(missing) < 0.95 * len(rows)
    for row in missing:
        required = set(row["schema"].get("required", []))
        assert required <= set(row["expected"])
    sparse = [r for r in rows if not r["schema"].get("required")
              and len(r["expected"]) <= len(r["schema"]["properties"]) / 2]
    assert len(sparse) >= 10


def test_generator_arrays_of_objects_vary_in_length() -> None:
    lengths = Counter()
    for row in _domain_rows(_rows(500, SEED, "train")):
        for key, value in row["expected"].items():
            node = row["schema"]["properties"][key]
            if node.get("type") == "array" and node.get("items", {}).get("type") == "object":
                lengths[min(len(value), 2)] += 1
                if not value:  # an empty list is stated, not guessed
                    assert re.search(r"\b(no|none|empty)\b", row["text"], re.I), row["text"]
    assert lengths[0] >= 3 and lengths[1] >= 5 and lengths[2] >= 5


def test_generator_layouts_naming_styles_and_descriptions_vary() -> None:
    rows = _rows(500, SEED, "train")
    assert len({r["layout"] for r in rows}) >= 8
    names = [n for r in _domain_rows(rows) for n in r["schema"]["properties"]]
    assert any(re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", n) for n in names)
    assert any(re.fullmatch(r"[a-z]+([A-Z][a-z0-9]+)+", n) for n in names)
    assert any(re.fullmatch(r"([A-Z][a-z0-9]+){2,}", n) for n in names)
    schemas = {r["schema_id"]: r["schema"] for r in _domain_rows(rows)}
    described = sum(any("description" in p for p in s["properties"].values())
                    for s in schemas.values())
    assert 0.3 < described / len(schemas) < 0.7


def test_generator_texts_short() -> None:
    rows = _domain_rows(_rows(500, SEED, "train"))
    lengths = sorted(len(r["text"]) for r in rows)
    assert lengths[-1] <= generator.MAX_TEXT
    assert 90 <= lengths[len(lengths) // 2] <= 400


def test_generator_check_row_rejects_bad_rows() -> None:
    schema = {"type": "object", "properties": {
        "city": {"type": "string", "description": "City where the event happens"},
        "day": {"type": "string", "format": "date"}}}
    assert generator.check_row(schema, "in Lyon on May 3", {"city": "Lyon"}, ["Lyon"]) == ""
    assert generator.check_row(schema, "x", {"city": "City where the event happens"}, []) \
        == "description_or_type_value"
    assert generator.check_row(schema, "x", {"city": "string"}, []) \
        == "description_or_type_value"
    assert generator.check_row(schema, "in Lyon", {"city": "Paris"}, ["Paris"]) == "ungrounded"
    assert generator.check_row(schema, "x", {"day": "May 3"}, []) == "invalid"
    assert generator.check_row(schema, "x", {"day": 3}, []) == "invalid"


def test_generator_compose_schema_respects_groups_and_required() -> None:
    rng = random.Random(0)
    for domain in generator.ALL_DOMAINS:
        for _ in range(5):
            cs = generator.compose_schema(domain, rng)
            groups = [s.spec.group for s in cs.slots if s.spec.group]
            assert len(groups) == len(set(groups))
            assert set(cs.schema.get("required", [])) <= set(cs.schema["properties"])
            assert cs.name.startswith(domain.name + "/")
            Draft202012Validator.check_schema(cs.schema)


def test_generator_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        generator.rows(3, 0, "test")
    with pytest.raises(ValueError):
        generator.rows(-1, 0, "train")
    assert generator.rows(0, 0, "train") == []


def test_generator_speed() -> None:
    _shared()
    start = time.perf_counter()
    rows = generator.rows(500, 99, "train")
    assert len(rows) == 500
    assert time.perf_counter() - start < 10


def test_generator_layout_weights_cover_layouts() -> None:
    from train.sources.layouts import LAYOUTS

    assert set(generator.LAYOUT_WEIGHTS) == set(LAYOUTS)


def test_generator_rows_json_serializable() -> None:
    for row in _rows(200, SEED, "dev"):
        assert json.loads(json.dumps(row)) == row
