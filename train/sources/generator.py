"""Generated extraction examples for schemas the model has never seen, with no teacher model.

A *schema* is composed from a domain of everyday documents (invoice, support ticket, sensor
reading, hotel booking, ...; see ``domains_work`` and ``domains_life``): a sampled subset of the
domain's candidate fields, named in one style (snake_case, camelCase, PascalCase, terse
``qty``/``dob``, verbose ``customer_email_address``), with descriptions on about half the
schemas, a ``required`` list of some, all or none of the fields, nested objects and arrays.
Each schema yields a few *rows*: values drawn with Faker (seeded per row) and the generator's word
lists, written in one of nine layouts (prose, email, chat, ticket, OCR-like receipt, table,
bullets, key-value lines, mixed) with other facts of the domain as distractors, optional fields
left out of both text and expected value, and light noise outside values.

About a quarter of the rows come from real-world schemas of MaskBench instead (see
``real_schemas``). Dev rows use :data:`DEV_DOMAINS` only (and MaskBench files of the dev split),
so a dev schema is never trained on. Every row is checked before it is kept: the expected value
validates against the schema (with format checking), every copied string occurs in the text, and
no value equals a description or a JSON type name; rows that fail are dropped and counted
(:func:`last_drops`).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

from . import check_split, make_row
from .domains import Domain
from .domains_dev import DEV_ONLY_DOMAINS
from .domains_life import LIFE_DOMAINS
from .domains_work import WORK_DOMAINS
from .fields import FieldSpec, Slot, Value, build_slot, f, make_value, prop_name
from .generated_rows import (  # MAX_TEXT and check_row: this module's too
    LAYOUT_WEIGHTS,
    MAX_TEXT,  # noqa: F401
    _ctx,
    _weighted,
    check_row,
)
from .layouts import Doc, Piece, render
from .values import join_items

SOURCE = "generator"
ALL_DOMAINS: tuple[Domain, ...] = WORK_DOMAINS + LIFE_DOMAINS + DEV_ONLY_DOMAINS
EVERYDAY_DOMAINS: tuple[str, ...] = tuple(d.name for d in ALL_DOMAINS)
DEV_DOMAINS: tuple[str, ...] = tuple(d.name for d in DEV_ONLY_DOMAINS)
TRAIN_DOMAINS: tuple[str, ...] = tuple(d.name for d in WORK_DOMAINS + LIFE_DOMAINS)
REAL_SHARE = 0.25  # share of rows from MaskBench schemas
MIN_FACTS = 3  # a text states at least this many facts (distractors fill up sparse rows)
STYLE_WEIGHTS = {"snake": 35, "camel": 30, "terse": 15, "verbose": 12, "pascal": 8}
SHARED_ROOT = Path(__file__).resolve().parents[3] / "shared"

__all__ = ["SOURCE", "EVERYDAY_DOMAINS", "DEV_DOMAINS", "TRAIN_DOMAINS", "rows", "last_drops",
           "compose_schema", "domain_rows", "check_row", "ComposedSchema"]

# Distractors that any domain may mention next to a field of the same kind, clearly attributed.
GENERIC_EXTRAS: dict[str, FieldSpec] = {
    "email": f("cc_email", "email", labels="CC|Cc|Copy to", prose="cc'ing {v} on this|"
               "copying {v} for reference"),
    "phone": f("office_phone", "phone", labels="Front desk|Office line|Switchboard",
               prose="our front desk is on {v}|for anything else call the office at {v}"),
    "date": f("sent_date", "date", labels="Sent|Printed on|Letter date", prose="this note was "
              "written on {v}|printed {v}", lo=-60, hi=-45),
    "money": f("earlier_price", "money", labels="Last year|Previous price|Was",
               prose="last year it was {v}|it used to cost {v}|down from {v}", lo=5, hi=900),
}

_drops: Counter[str] = Counter()


def last_drops() -> Counter[str]:
    """Why rows were dropped during the last :func:`rows` call (reason -> count)."""
    return Counter(_drops)


# ---- schemas ------------------------------------------------------------------------------------


class ComposedSchema:
    """A schema composed from a domain: its slots (fields placed in it), the JSON Schema, the
    required names and the schema name ``<domain>/<hash>``."""

    def __init__(self, domain: Domain, slots: list[Slot], schema: dict[str, Any]) -> None:
        self.domain = domain
        self.slots = slots
        self.schema = schema
        self.required = set(schema.get("required", []))
        canonical = json.dumps(schema, sort_keys=True, separators=(",", ":"))
        self.name = f"{domain.name}/{hashlib.sha1(canonical.encode()).hexdigest()[:10]}"


def _description(slot: Slot, rng: random.Random, seed: int) -> str | None:
    descs = list(slot.spec.descs)
    if slot.spec.kind in ("enum", "bool", "list", "object", "rows"):
        descs = [d for d in descs if "{ex}" not in d]
    if not descs:
        return None
    desc = rng.choice(descs)
    if "{ex}" in desc:
        example = make_value(slot, _ctx(seed))
        desc = desc.replace("{ex}", str(example.expected) if slot.spec.kind == "date" else
                            example.surface if isinstance(example.expected, str)
                            else json.dumps(example.expected))
    return desc


def compose_schema(domain: Domain, rng: random.Random) -> ComposedSchema:
    """A schema from ``domain``: a subset of its fields (at most one per group), a naming style,
    descriptions on about half the schemas, and a required list of all, some or no fields."""
    style = _weighted(rng, STYLE_WEIGHTS)
    case = "camel" if style == "camel" or (style in ("terse", "verbose") and rng.random() < 0.4) \
        else ("pascal" if style == "pascal" else "snake")
    k = rng.choices((2, 3, 4, 5, 6, 7, 8), weights=(5, 12, 18, 20, 18, 15, 12))[0]
    pool = list(domain.fields)
    rng.shuffle(pool)
    chosen: list[FieldSpec] = []
    groups: set[str] = set()
    for spec in pool:
        if len(chosen) == k:
            break
        if spec.group and spec.group in groups:
            continue
        chosen.append(spec)
        groups.add(spec.group)
    if rng.random() < 0.6:
        chosen.sort(key=list(domain.fields).index)
    slots: list[Slot] = []
    names: set[str] = set()
    for spec in chosen:
        name = prop_name(spec, style, rng, case)
        if name in names:
            name = spec.key
        if name in names:
            continue
        names.add(name)
        slots.append(build_slot(spec, name, rng, style, case))
    if rng.random() < 0.5:
        rate = rng.choice((0.5, 0.7, 0.9, 1.0))
        for slot in slots:
            if rng.random() < rate:
                desc = _description(slot, rng, rng.getrandbits(32))
                if desc:
                    slot.node["description"] = desc
    mode = rng.choices(("all", "some", "none"), weights=(20, 55, 25))[0]
    required = [s.name for s in slots if mode == "all" or (mode == "some" and rng.random() < 0.5)]
    if mode == "some" and not required:
        required = [rng.choice(slots).name]
    schema: dict[str, Any] = {"type": "object", "properties": {s.name: s.node for s in slots}}
    if required:
        schema["required"] = required
    if rng.random() < 0.8:
        schema["additionalProperties"] = False
    return ComposedSchema(domain, slots, schema)


# ---- rows ---------------------------------------------------------------------------------------


def _piece(spec: FieldSpec, value: Value, rng: random.Random) -> Piece:
    label = rng.choice(spec.labels)
    roll = rng.random()
    label = label.lower() if roll < 0.08 else label.upper() if roll < 0.14 else label
    empty = isinstance(value.expected, list) and not value.expected
    if value.truth is not None:
        clauses = spec.prose if value.truth else (spec.neg or (f"not {spec.labels[0].lower()}",))
    else:
        clauses = spec.neg if empty and spec.neg else spec.prose
    clause = rng.choice(clauses)
    spoken = value.spoken
    if spec.kind == "rows" and value.items:
        spoken = join_items(value.items, rng) if not any("," in i for i in value.items) \
            else "; ".join(value.items)
    if empty and "{v}" in clause:
        clause = f"{spec.labels[0].lower()}: {{v}}"
        spoken = "none"
    return Piece(label, value.surface, spoken, clause, value.items, value.columns, value.cells)


def _extras(cs: ComposedSchema, present: dict[str, Value], rng: random.Random) -> list[FieldSpec]:
    """Facts the text states that the schema does not ask for: unused fields of the domain (no
    group shared with a schema field; enough to state :data:`MIN_FACTS` facts) and, beside a
    present field, a same-kind generic one."""
    used = {s.spec.key for s in cs.slots}
    groups = {s.spec.group for s in cs.slots if s.spec.group}
    kinds = [s.spec.kind for s in cs.slots]
    pool = [spec for spec in cs.domain.fields
            if spec.key not in used and not (spec.group and spec.group in groups)]
    n = max(rng.choices((0, 1, 2, 3), weights=(20, 35, 28, 17))[0], MIN_FACTS - len(present))
    weights = [3 if spec.kind in kinds else 1 for spec in pool]
    out: list[FieldSpec] = []
    while pool and len(out) < n:
        spec = rng.choices(pool, weights=weights)[0]
        i = pool.index(spec)
        pool.pop(i)
        weights.pop(i)
        out.append(spec)
    for kind in sorted(set(kinds) & set(GENERIC_EXTRAS)):
        all_present = all(s.name in present for s in cs.slots if s.spec.kind == kind)
        if all_present and rng.random() < 0.25:
            out.append(GENERIC_EXTRAS[kind])
    return out


def domain_rows(cs: ComposedSchema, count: int, rng: random.Random
                ) -> list[tuple[str, str, dict[str, Any]]]:
    """``count`` candidate rows of ``cs`` as ``(layout, text, {"expected", "grounded"})``, where
    ``grounded`` lists the strings the text must contain; unchecked (see :func:`check_row`)."""
    out = []
    has_currency = any(spec.opt("follows") == "currency" for spec in cs.domain.fields)
    for _ in range(count):
        ctx = _ctx(rng.getrandbits(64), ("USD", "EUR", "GBP") if has_currency else None)
        r = ctx.rng
        sparse = not cs.required and r.random() < 0.4
        p_present = 0.25 if sparse else r.uniform(0.55, 0.85)
        present: dict[str, Value] = {}
        pool = list(cs.domain.fields)
        for slot in sorted(cs.slots, key=lambda s: pool.index(s.spec)):  # names before emails
            if slot.name in cs.required or r.random() < p_present:
                present[slot.name] = make_value(slot, ctx)
        if not present:
            slot = r.choice(cs.slots)
            present[slot.name] = make_value(slot, ctx)
        facts: list[tuple[FieldSpec, Value]] = [(s.spec, present[s.name]) for s in cs.slots
                                                if s.name in present]
        for spec in _extras(cs, present, r):
            slot = build_slot(spec, spec.key, r, "snake", "snake")
            facts.append((spec, make_value(slot, ctx)))
        r.shuffle(facts)
        layout = _weighted(r, LAYOUT_WEIGHTS)
        writer = ""
        for spec, value in facts:
            if spec.key == cs.domain.writer:
                writer = value.surface
                if layout in ("email", "chat") and r.random() < 0.5:
                    facts.remove((spec, value))
                break
        doc = Doc(r.choice(cs.domain.titles), r.choice(cs.domain.subjects),
                  r.choice(cs.domain.openers), r.choice(cs.domain.closers), writer)
        pieces = [_piece(spec, value, r) for spec, value in facts]
        text = render(layout, pieces, doc, r, noise=r.random() < 0.3)
        expected = {s.name: present[s.name].expected for s in cs.slots if s.name in present}
        grounded = [g for s in cs.slots if s.name in present for g in present[s.name].grounded]
        out.append((layout, text, {"expected": expected, "grounded": grounded}))
    return out


# ---- public API ---------------------------------------------------------------------------------


def _domain_part(n: int, rng: random.Random, split: str) -> list[dict[str, Any]]:
    """``n`` checked rows from the domains of ``split``."""
    names = DEV_DOMAINS if split == "dev" else TRAIN_DOMAINS
    domains = [d for d in ALL_DOMAINS if d.name in names]
    out: list[dict[str, Any]] = []
    attempts = 0
    while len(out) < n and attempts < 4 * n + 100:
        cs = compose_schema(rng.choice(domains), random.Random(rng.getrandbits(64)))
        count = min(n - len(out), rng.choice((1, 2, 2, 3, 3, 4)))
        attempts += count
        for layout, text, extra in domain_rows(cs, count, random.Random(rng.getrandbits(64))):
            reason = check_row(cs.schema, text, extra["expected"], extra["grounded"])
            if reason:
                _drops[reason] += 1
                continue
            row = make_row(SOURCE, "", cs.name, cs.schema, text, extra["expected"])
            row["layout"] = layout
            out.append(row)
    return out


def rows(n: int, seed: int, split: str, shared: Path | None = None) -> list[dict[str, Any]]:
    """``n`` generator rows of ``split`` (``train`` or ``dev``), the same for the same arguments.

    About :data:`REAL_SHARE` of them come from MaskBench schemas under ``shared/maskbench``
    (default: the repository's ``../shared``; none when it is absent). Ids are
    ``generator/<split>-<seed>-<index>``; besides the mixture-row keys each row names its
    ``layout``.

    Raises:
        ValueError: an unknown split or a negative ``n``.
    """
    from . import real_schemas

    check_split(split)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    _drops.clear()
    rng = random.Random(f"{SOURCE}/{split}/{seed}")
    root = (shared or SHARED_ROOT) / "maskbench"
    n_real = round(n * REAL_SHARE) if root.is_dir() else 0
    real = real_schemas.rows(root, n_real, random.Random(rng.getrandbits(64)), split, _drops) \
        if n_real else []
    part = _domain_part(n - len(real), rng, split)
    merged = part + real
    rng.shuffle(merged)
    out = []
    for i, row in enumerate(merged[:n]):
        row["id"] = f"{SOURCE}/{split}-{seed}-{i:06d}"
        out.append(row)
    return out

