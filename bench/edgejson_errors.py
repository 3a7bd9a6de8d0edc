"""What the misses of an EdgeJSON run look like: differences by kind, and the rows no extractor
could get exactly right from the text.

Usage:
    python -m bench.edgejson_errors REPORT.json [--engine maaza]
        [--data FILE.jsonl] [--schemas DIR] [--rows N]

REPORT.json is what bench/edgejson.py wrote (every example's output text is in it). For each
example the output is compared with the expected value, path by path:

    missing   a property of the expected object is absent from the output
    extra     the output has a property the expected object lacks
    value     a scalar differs (the metrics' equality: 1 == 1.0, true != 1)
    type      the value has another JSON type (an object for an array, a string for a number)
    length    an array has another number of items (its common prefix is compared item by item)

A row is *ambiguous* when the expected value cannot be read off the prompt as the EdgeJSON
templates render it ("Label: value" lines, array items one after another with no separator):

    empty item      an array holds an empty object, which renders as nothing at all
    item boundary   an array item's first property comes after the previous item's last one in
                    the schema's property order, so nothing in the text shows where the new item
                    starts

The ceiling is the share of rows that are not ambiguous. The check knows only the template
rendering; rows written in prose (ids with ``_qwen_``) are judged by the same rule.

Prints Markdown: a table by complexity (rows, exact, missed, missed and ambiguous, missed by a
single difference, missed only by properties missing or extra, ceiling, and the number of missed
rows with each kind of difference) and the first --rows missed rows with their first
differences.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import EDGEJSON
from maaza_rt import edgejson
from maaza_rt.metrics_reference import equal_reference, json_type

KINDS = ("missing", "extra", "value", "type", "length")
DEFAULT_DATA = EDGEJSON / "train.jsonl"
DEFAULT_SCHEMAS = EDGEJSON / "schemas"


@dataclass(frozen=True)
class Difference:
    """One place where an output differs from the expected value."""

    kind: str  # one of KINDS
    pointer: str  # JSON pointer (RFC 6901) into the expected value
    got: Any = None
    expected: Any = None


def _pointer(parent: str, key: str | int) -> str:
    return parent + "/" + str(key).replace("~", "~0").replace("/", "~1")


def differences(got: Any, expected: Any, pointer: str = "") -> list[Difference]:
    """Every difference between ``got`` and ``expected`` (loaded JSON), in document order."""
    if isinstance(got, dict) and isinstance(expected, dict):
        out: list[Difference] = []
        for key, value in expected.items():
            p = _pointer(pointer, key)
            if key in got:
                out += differences(got[key], value, p)
            else:
                out.append(Difference("missing", p, None, value))
        out += [Difference("extra", _pointer(pointer, k), v, None)
                for k, v in got.items() if k not in expected]
        return out
    if isinstance(got, list) and isinstance(expected, list):
        out = []
        if len(got) != len(expected):
            out.append(Difference("length", pointer, len(got), len(expected)))
        for i, (g, e) in enumerate(zip(got, expected)):
            out += differences(g, e, _pointer(pointer, i))
        return out
    if json_type(got) != json_type(expected):
        return [Difference("type", pointer, got, expected)]
    if equal_reference(got, expected):
        return []
    return [Difference("value", pointer, got, expected)]


def _properties(schema: Any) -> dict[str, Any]:
    if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
        return schema["properties"]
    return {}


def ambiguity(expected: Any, schema: Any, pointer: str = "") -> tuple[str, str] | None:
    """Why ``expected`` cannot be read off its template rendering: ``(reason, pointer)`` for the
    first place found ("empty item" or "item boundary"), or None when it can."""
    if isinstance(expected, dict):
        props = _properties(schema)
        for key, value in expected.items():
            found = ambiguity(value, props.get(key, {}), _pointer(pointer, key))
            if found:
                return found
        return None
    if not isinstance(expected, list):
        return None
    items = schema.get("items", {}) if isinstance(schema, dict) else {}
    order = {k: i for i, k in enumerate(_properties(items))}
    last: int | None = None
    for i, item in enumerate(expected):
        p = _pointer(pointer, i)
        if isinstance(item, dict):
            if not item:
                return ("empty item", p)
            ranks = [order.get(k, len(order)) for k in item]
            if last is not None and ranks[0] > last:
                return ("item boundary", p)
            last = ranks[-1]
        found = ambiguity(item, items, p)
        if found:
            return found
    return None


def analyse(examples: list[dict], rows: dict[str, dict], schemas: dict[str, Any]) -> list[dict]:
    """One record per example: id, complexity, exact, ambiguity and differences."""
    out = []
    for e in examples:
        row = rows[e["id"]]
        expected = row["expected_output"]
        if isinstance(expected, str):
            expected = json.loads(expected)
        try:
            got = json.loads(e["text"])
            diffs = differences(got, expected)
        except (TypeError, ValueError):
            diffs = [Difference("type", "", e["text"], expected)]
        out.append({"id": e["id"], "complexity": e["complexity"],
                    "exact": bool(e["scores"]["json_exact"]),
                    "ambiguity": ambiguity(expected, schemas[row["schema_id"]]),
                    "differences": diffs})
    return out


def summary_table(records: list[dict]) -> list[str]:
    """Markdown table by complexity and overall."""
    head = ("| group | rows | exact | missed | missed, ambiguous | missed by one difference "
            "| missed by presence only | ceiling | " + " | ".join(KINDS) + " |")
    lines = [head, "|---" * (8 + len(KINDS)) + "|"]
    order = [c for c in edgejson.COMPLEXITIES if any(r["complexity"] == c for r in records)]
    for group in [*order, "all"]:
        rs = [r for r in records if group in ("all", r["complexity"])]
        missed = [r for r in rs if not r["exact"]]
        kinds = Counter(k for r in missed for k in {d.kind for d in r["differences"]})
        clear = sum(1 for r in rs if not r["ambiguity"])
        lines.append(
            f"| {group} | {len(rs)} | {sum(r['exact'] for r in rs)} | {len(missed)} | "
            f"{sum(1 for r in missed if r['ambiguity'])} | "
            f"{sum(1 for r in missed if len(r['differences']) == 1)} | "
            f"{sum(1 for r in missed if _presence_only(r))} | "
            f"{100 * clear / len(rs):.1f}% | "
            + " | ".join(str(kinds[k]) for k in KINDS) + " |")
    return lines


def _presence_only(record: dict) -> bool:
    return all(d.kind in ("missing", "extra") for d in record["differences"])


def _short(v: Any) -> str:
    text = json.dumps(v, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def row_lines(records: list[dict], limit: int, per_row: int = 4) -> list[str]:
    lines = []
    for r in [r for r in records if not r["exact"]][:limit]:
        amb = f" (ambiguous: {r['ambiguity'][0]} at {r['ambiguity'][1]})" if r["ambiguity"] else ""
        lines.append(f"- {r['id']} [{r['complexity']}], {len(r['differences'])} "
                     f"difference(s){amb}")
        for d in r["differences"][:per_row]:
            where = f"  - {d.kind} {d.pointer or '/'}"
            if d.kind == "missing":
                lines.append(f"{where}: expected {_short(d.expected)}")
            elif d.kind == "extra":
                lines.append(f"{where}: got {_short(d.got)}")
            else:
                lines.append(f"{where}: got {_short(d.got)}, expected {_short(d.expected)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.edgejson_errors",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("report", help="report.json written by bench/edgejson.py")
    ap.add_argument("--engine", default="maaza")
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--schemas", default=str(DEFAULT_SCHEMAS))
    ap.add_argument("--rows", type=int, default=0, help="list the first N missed rows")
    args = ap.parse_args(argv)
    report = json.loads(Path(args.report).read_text(encoding="utf-8"))
    engine = report.get("engines", {}).get(args.engine)
    if engine is None or "examples" not in engine:
        ap.error(f"{args.report} has no examples for engine {args.engine!r} "
                 f"(engines: {', '.join(report.get('engines', {})) or 'none'})")
    rows = {r["id"]: r for r in edgejson.load_rows(args.data)}
    unknown = [e["id"] for e in engine["examples"] if e["id"] not in rows]
    if unknown:
        ap.error(f"{len(unknown)} example id(s) of the report are not in {args.data}, "
                 f"e.g. {unknown[0]}")
    records = analyse(engine["examples"], rows, edgejson.load_schemas(args.schemas))
    print("\n".join(summary_table(records)))
    if args.rows:
        print()
        print("\n".join(row_lines(records, args.rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
