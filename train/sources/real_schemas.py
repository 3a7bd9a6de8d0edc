"""Generator rows from real-world schemas: shallow MaskBench schemas with their valid instances
written as text.

MaskBench (``../shared/maskbench``) holds JSON Schemas collected from GitHub, function-calling
sets and schema stores, each with valid test instances. The generator keeps the flat or shallow
ones (an object at the top; primitive, enum and array-of-primitive properties; at most one nested
object level; no patterns, references or combinators; compact JSON under 1,500 characters),
keeps only the keywords the prompt supports, takes a valid instance (replacing placeholder-looking
strings with Faker values of the same sort), leaves some optional properties out, and writes the
instance with humanized labels (``unitPrice`` -> "unit price") in one of the generator's layouts.
Files whose name starts with ``BFCL_`` are skipped (BFCL is its own source with a held-out dev
set). The split is by file: ``crc32(name) % 5 == 0`` is dev. Schema ids are
``generator/maskbench/<file stem>``.
"""

from __future__ import annotations

import datetime
import functools
import json
import random
import re
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from . import make_row
from .fields import humanize
from .generated_rows import LAYOUT_WEIGHTS, _ctx, _weighted, check_row
from .layouts import Doc, Piece, render
from .values import (
    TEXT_MAKERS,
    TYPE_NAMES,
    RowCtx,
    date_surface,
    fill_pattern,
    join_items,
    person_name,
)

__all__ = ["eligible", "rows", "is_dev_file", "clean_schema", "looks_placeholder"]

KEEP = ("type", "properties", "required", "enum", "items", "minItems", "maxItems", "minimum",
        "maximum", "format", "description", "additionalProperties")
REJECT = frozenset({"pattern", "$ref", "oneOf", "allOf", "anyOf", "if", "then", "else", "not",
                    "patternProperties", "dependencies", "dependentSchemas", "additionalItems",
                    "definitions", "$defs", "const", "minLength", "maxLength", "uniqueItems",
                    "prefixItems", "contains", "propertyNames", "minProperties",
                    "maxProperties", "multipleOf", "exclusiveMinimum", "exclusiveMaximum"})
FORMATS = frozenset({"date", "email", "uri", "date-time"})
MAX_SCHEMA = 1500
MAX_FILE = 64_000  # bytes; larger files hold deep schemas or huge instances
_QUICK_REJECT = ('"$ref"', '"oneOf"', '"anyOf"', '"allOf"', '"patternProperties"',
                 '"definitions"', '"$defs"', '"pattern"', '"minLength"', '"maxLength"')
FAMILY_CAP = 6
PLACEHOLDER = re.compile(
    r"(?<![a-z0-9])(your|my|some|example|sample|placeholder|lorem|ipsum|foo|bar|baz|xxx+|todo|"
    r"dummy|test\w*|string|value\d*|n/a|tbd|abc|xyz|something)(?![a-z0-9])|<[^>]*>|^\s*$",
    re.IGNORECASE)
_CLAUSES = ("the {l} is {v}", "{l}: {v}", "{l} {v}", "with {l} {v}", "{l} set to {v}",
            "{v} for {l}")
_BOOLS = (("yes", "no"), ("true", "false"), ("enabled", "disabled"), ("on", "off"))


def is_dev_file(name: str) -> bool:
    """Whether MaskBench file ``name`` belongs to the dev split."""
    return zlib.crc32(name.encode()) % 5 == 0


def _shallow(node: Any, depth: int) -> bool:
    if not isinstance(node, dict) or REJECT & set(node):
        return False
    kind = node.get("type")
    if isinstance(kind, list) or ("format" in node and node["format"] not in FORMATS):
        return False
    if kind in (None, "object") and "properties" in node or kind == "object":
        props = node.get("properties")
        return (depth < 2 and isinstance(props, dict) and bool(props)
                and all(_shallow(v, depth + 1) for v in props.values()))
    if kind == "array":
        items = node.get("items")
        return (isinstance(items, dict) and items.get("type") in ("string", "number", "integer",
                                                                 "boolean")
                and _shallow(items, depth + 1))
    if "enum" in node:
        return all(isinstance(v, str) and v.strip() for v in node["enum"])
    return kind in ("string", "number", "integer", "boolean")


def clean_schema(node: Any) -> Any:
    """``node`` with only the keywords the prompt supports (:data:`KEEP`), recursively."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key in KEEP:
        if key not in node:
            continue
        value = node[key]
        if key == "properties":
            value = {k: clean_schema(v) for k, v in value.items()}
        elif key == "items":
            value = clean_schema(value)
        elif key == "additionalProperties" and not isinstance(value, bool):
            continue
        elif key == "description" and (not isinstance(value, str) or not value.strip()):
            continue
        out[key] = value
    if "properties" in out and "type" not in out:
        out["type"] = "object"
    if isinstance(out.get("required"), list):
        names = [r for r in out["required"] if r in out.get("properties", {})]
        if names:
            out["required"] = names
        else:
            del out["required"]
    return out


def looks_placeholder(value: str, name: str = "") -> bool:
    """Whether a string reads like a placeholder or a type name rather than data; with the
    property ``name``, also a value that repeats it ("Scientific Name", "trait1")."""
    text = value.strip().lower()
    if text in TYPE_NAMES or PLACEHOLDER.search(value) is not None:
        return True
    words = humanize(name).split()
    if not words:
        return False
    bare = re.sub(r"[\d_\-\s]+", " ", text).strip()
    singular = [w[:-1] if w.endswith("s") else w for w in words]
    return (bare in (" ".join(words), " ".join(singular))
            or (len(text.split()) <= 3 and words[-1] in text.split()))


def _family(name: str) -> str:
    stem = name[:-5] if name.endswith(".json") else name
    if stem.startswith("Glaiveai2K---"):
        return stem.rsplit("_", 1)[0]
    return stem


@functools.lru_cache(maxsize=4)
def eligible(root: Path) -> tuple[tuple[str, dict[str, Any], tuple[dict[str, Any], ...]], ...]:
    """``(file name, cleaned schema, valid instances)`` of every usable MaskBench file under
    ``root``, sorted by name, at most :data:`FAMILY_CAP` per function family."""
    out = []
    per_family: Counter[str] = Counter()
    for path in sorted(root.iterdir()):
        if path.name.startswith("BFCL_") or path.suffix == ".md" or not path.is_file():
            continue
        if path.stat().st_size > MAX_FILE:
            continue
        try:
            raw = path.read_text(encoding="utf-8")
            if any(marker in raw for marker in _QUICK_REJECT):  # skips most files unparsed
                continue
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            continue
        schema = data.get("schema") if isinstance(data, dict) else None
        if not isinstance(schema, dict) or schema.get("type") != "object":
            continue
        if not _shallow(schema, 0):
            continue
        cleaned = clean_schema(schema)
        if len(json.dumps(cleaned, separators=(",", ":"))) >= MAX_SCHEMA:
            continue
        validator = Draft202012Validator(cleaned,
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        instances = tuple(t["data"] for t in data.get("tests", [])
                          if t.get("valid") and isinstance(t.get("data"), dict) and t["data"]
                          and validator.is_valid(t["data"]))
        family = _family(path.name)
        if instances and per_family[family] < FAMILY_CAP:
            per_family[family] += 1
            out.append((path.name, cleaned, instances))
    return tuple(out)


# ---- values -------------------------------------------------------------------------------------


def _replacement(name: str, node: dict[str, Any], ctx: RowCtx) -> str:
    """A realistic string for property ``name`` (by its words and format)."""
    words = set(humanize(name).split())
    fake, rng = ctx.fake, ctx.rng
    if node.get("format") == "date" or "date" in words:
        return (ctx.base + datetime.timedelta(days=rng.randint(-300, 300))).isoformat()
    if node.get("format") == "email" or "email" in words or "mail" in words:
        return fake.user_name() + "@" + fake.free_email_domain()
    if node.get("format") == "uri" or words & {"url", "link", "website", "homepage", "href"}:
        return "https://" + fake.domain_name()
    if words & {"name", "author", "owner", "user", "person", "contact"}:
        return person_name(ctx)
    if words & {"city", "town"}:
        return TEXT_MAKERS["city"](ctx)
    if "country" in words:
        return fake.country()
    if words & {"phone", "tel", "mobile"}:
        return fill_pattern("+1 ###-###-####", rng)
    if words & {"company", "organization", "org", "vendor"}:
        return fake.company()
    if words & {"id", "key", "code", "token", "ref", "sku", "number"}:
        return fill_pattern(rng.choice(("@@-####", "#######", "@##@##", "x" * 8)), rng)
    if words & {"description", "comment", "message", "text", "note", "summary", "content"}:
        return fake.sentence(nb_words=6).rstrip(".")
    return ""


def _instance(name: str, schema: dict[str, Any], data: dict[str, Any], ctx: RowCtx
              ) -> dict[str, Any] | None:
    """``data`` with placeholder strings replaced and some optional properties left out."""
    required = set(schema.get("required", []))
    out: dict[str, Any] = {}
    keys = [k for k in schema["properties"] if k in data]
    keep = ctx.rng.choice(keys) if keys else ""
    for key, node in schema["properties"].items():
        if key not in data:
            continue
        if key not in required and key != keep and ctx.rng.random() < 0.3:
            continue
        value = data[key]
        if isinstance(value, dict):
            value = _instance(key, node, value, ctx)
            if value is None:
                return None
        elif isinstance(value, str) and "enum" not in node and looks_placeholder(value, key):
            value = _replacement(key, node, ctx)
        elif isinstance(value, list):
            items = node.get("items", {})
            value = [_replacement(key, items, ctx) if isinstance(v, str) and "enum" not in items
                     and looks_placeholder(v, key) else v for v in value]
            if any(v == "" for v in value):
                return None
        if value is None or value == "":
            return None
        out[key] = value
    return out


def _surface(value: Any, node: dict[str, Any], rng: random.Random) -> str:
    if isinstance(value, bool):
        return rng.choice(_BOOLS)[0 if value else 1]
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, list):
        items = [_surface(v, node.get("items", {}), rng) for v in value]
        return join_items(items, rng) if items else "none"
    if node.get("format") == "date":
        try:
            return date_surface(datetime.date.fromisoformat(value), rng)
        except ValueError:
            return value
    return str(value)


def _grounded(value: Any, node: dict[str, Any]) -> list[str]:
    if isinstance(value, dict):
        props = node.get("properties", {})
        return [g for k, v in value.items() for g in _grounded(v, props.get(k, {}))]
    if isinstance(value, list):
        return [g for v in value for g in _grounded(v, node.get("items", {}))]
    if isinstance(value, str) and node.get("format") != "date":
        return [value]
    return []


def _pieces(value: dict[str, Any], schema: dict[str, Any], rng: random.Random,
            prefix: str = "") -> list[Piece]:
    out = []
    for key, item in value.items():
        node = schema["properties"][key]
        label = (prefix + " " + humanize(key)).strip()
        if isinstance(item, dict) and rng.random() < 0.5:
            out += _pieces(item, node, rng, label)
            continue
        if isinstance(item, dict):
            surface = ", ".join(f"{humanize(k)} {_surface(v, node['properties'][k], rng)}"
                                for k, v in item.items())
        else:
            surface = _surface(item, node, rng)
        shown = rng.choice((label.capitalize(), label.title(), label, label.upper()))
        items = [_surface(v, node.get("items", {}), rng) for v in item] \
            if isinstance(item, list) else None
        clause = rng.choice(_CLAUSES).replace("{l}", label)
        out.append(Piece(shown, surface, surface, clause, items))
    return out


def rows(root: Path, n: int, rng: random.Random, split: str, drops: Counter[str]
         ) -> list[dict[str, Any]]:
    """Up to ``n`` rows of ``split`` from the MaskBench files under ``root``; rows that fail a
    check are dropped and counted in ``drops``."""
    files = [e for e in eligible(Path(root)) if is_dev_file(e[0]) == (split == "dev")]
    out: list[dict[str, Any]] = []
    attempts = 0
    while files and len(out) < n and attempts < 3 * n + 50:
        attempts += 1
        name, schema, instances = rng.choice(files)
        ctx = _ctx(rng.getrandbits(64))
        r = ctx.rng
        expected = _instance(name, schema, r.choice(instances), ctx)
        if not expected:
            drops["real_placeholder"] += 1
            continue
        pieces = _pieces(expected, schema, r)
        r.shuffle(pieces)
        stem = name[:-5] if name.endswith(".json") else name
        title = r.choice(("Details", "Record", "Settings", "Summary", "Request"))
        if stem.startswith("Glaiveai2K---"):  # a function name: calculate_area
            title = humanize(_family(name).split("---")[-1]).capitalize()
        doc = Doc(title, title, r.choice(("Here are the details.", "Details below.",
                                          "Please use the following settings.", "Summary:")),
                  r.choice(("Thanks.", "That's all.", "Let me know if you need more.")))
        layout = _weighted(r, LAYOUT_WEIGHTS)
        text = render(layout, pieces, doc, r, noise=r.random() < 0.2)
        reason = check_row(schema, text, expected, _grounded(expected, schema))
        if reason:
            drops["real_" + reason] += 1
            continue
        row = make_row("generator", "", f"maskbench/{stem}", schema, text, expected)
        row["layout"] = layout
        out.append(row)
    return out
