"""Field library of the generator: what a field holds, how text writes it, how a schema names it.

A *field* (:class:`FieldSpec`) is one candidate property of a domain of everyday documents
(``invoice_number`` of an invoice, ``temperature`` of a sensor reading). Its *kind* says which
JSON value it holds and how a text writes that value: ``money`` is a JSON number written
``$1,240.50`` or ``1.240,50 €``; ``date`` an ISO date written ``March 3, 2025``; ``enum`` a schema
member written with a synonym (``P1`` for ``high``); ``object`` and ``rows`` are a nested object
and an array of objects. A field also carries the words a schema may name it by (rendered in one
naming style per schema: snake, camel, Pascal, terse, verbose), the labels and prose clauses a
text uses for it (never its property name), and candidate descriptions.

:func:`build_slot` places a field in a schema (name and JSON Schema node); :func:`make_value`
draws a value for a slot and returns a :class:`Value`: the expected JSON value, the surface a text
shows, and the strings that must occur verbatim in the text (grounding). How values are written
(amounts, dates, names) lives in ``values``.
"""

from __future__ import annotations

import datetime
import random
import re
from dataclasses import dataclass, field
from typing import Any

from .values import (
    NUMBER_WORDS,
    TEXT_MAKERS,
    RowCtx,
    as_json_number,
    date_surface,
    email_address,
    fill_pattern,
    format_number,
    fresh,
    join_items,
    money_surface,
)

STYLES = ("snake", "camel", "pascal", "terse", "verbose")
_ABBREV = {"number": "no", "quantity": "qty", "amount": "amt", "address": "addr",
           "description": "desc", "temperature": "temp", "reference": "ref", "customer": "cust",
           "identifier": "id", "minimum": "min", "maximum": "max", "percent": "pct",
           "percentage": "pct", "department": "dept", "telephone": "tel", "phone": "tel",
           "category": "cat", "message": "msg", "organization": "org", "company": "co",
           "invoice": "inv", "order": "ord", "transaction": "txn", "account": "acct",
           "average": "avg", "estimated": "est", "delivery": "dlv", "count": "cnt",
           "date": "dt", "appointment": "appt", "passenger": "pax", "document": "doc",
           "information": "info", "location": "loc", "registration": "reg", "payment": "pmt"}

__all__ = ["KINDS", "STYLES", "FieldSpec", "Slot", "Value", "build_slot", "enum_members", "f",
           "humanize", "make_value", "prop_name", "styled", "text_value"]


@dataclass(frozen=True)
class FieldSpec:
    """One candidate property of a domain.

    Attributes:
        key: canonical snake_case key; unique in its domain.
        kind: value maker name (a key of :data:`KINDS`).
        names: word groups a schema may name the property by ("invoice number", "invoice id").
        labels: how a text labels the value ("Invoice #", "Inv. No.").
        prose: clauses with ``{v}`` where prose embeds the value ("invoice {v} was issued").
        descs: candidate descriptions ("{ex}" is replaced by an example value of the kind).
        neg: for booleans, clauses meaning false; for lists, clauses meaning empty.
        terse, verbose: names for the terse and verbose naming styles ("" derives one).
        group: fields of one group never share a schema or a text (phone and mobile).
        opts: kind parameters (ranges, pools, units, enum members).
        subs: the fields of an ``object`` or of the items of ``rows``.
    """

    key: str
    kind: str
    names: tuple[str, ...]
    labels: tuple[str, ...]
    prose: tuple[str, ...]
    descs: tuple[str, ...]
    neg: tuple[str, ...] = ()
    terse: str = ""
    verbose: str = ""
    group: str = ""
    opts: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    subs: tuple[FieldSpec, ...] = ()

    def opt(self, name: str, default: Any = None) -> Any:
        """The kind parameter ``name`` or ``default``."""
        return self.opts.get(name, default)


def _split(text: str | tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(text, tuple):
        return text
    return tuple(part.strip() for part in text.split("|") if part.strip())


def f(key: str, kind: str, names: str = "", labels: str = "", prose: str = "", descs: str = "",
      neg: str = "", terse: str = "", verbose: str = "", group: str = "",
      subs: tuple[FieldSpec, ...] = (), **opts: Any) -> FieldSpec:
    """A :class:`FieldSpec` from ``|``-separated strings; ``names`` always starts with ``key``."""
    words = key.replace("_", " ")
    name_list = (words,) + tuple(n for n in _split(names) if n != words)
    return FieldSpec(key, kind, name_list, _split(labels) or (words.capitalize(),),
                     _split(prose) or (f"the {words} is {{v}}",), _split(descs), _split(neg),
                     terse, verbose, group, dict(opts), subs)


# ---- naming -------------------------------------------------------------------------------------


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[\s_\-]+", name.strip()) if w]


def styled(words: list[str], style: str) -> str:
    """``words`` joined in ``style`` (snake, camel, pascal); anything else is snake."""
    words = [w.lower() for w in words]
    if style == "camel":
        return words[0] + "".join(w.capitalize() for w in words[1:])
    if style == "pascal":
        return "".join(w.capitalize() for w in words)
    return "_".join(words)


def prop_name(spec: FieldSpec, style: str, rng: random.Random, case: str = "snake") -> str:
    """A property name for ``spec`` in naming ``style``; ``case`` joins terse/verbose words."""
    if style == "terse":
        if spec.terse:
            return styled(_words(spec.terse), case)
        words = _words(min(spec.names, key=len))
        return styled([_ABBREV.get(w, w) for w in words], case)
    if style == "verbose":
        words = _words(spec.verbose or max(spec.names, key=len))
        return styled(words, case)
    pick = spec.names[0] if rng.random() < 0.55 else rng.choice(spec.names)
    return styled(_words(pick), style)


def humanize(name: str) -> str:
    """A property name as words: ``unitPrice`` and ``unit_price`` become ``unit price``."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    text = re.sub(r"[_\-.]+", " ", text)
    return " ".join(text.split()).lower()


# ---- values -------------------------------------------------------------------------------------


@dataclass
class Value:
    """A drawn value: what extraction must return and how the text shows it.

    Attributes:
        expected: the JSON value.
        surface: how tables and key-value lines write it.
        spoken: how prose, chat and emails write it (often ``surface``).
        grounded: strings that must occur verbatim in the text.
        items: surfaces of list items (arrays), or row texts (arrays of objects).
        columns, cells: column labels and cell surfaces of an array of objects.
        truth: for booleans, the value; selects ``prose`` or ``neg`` clauses.
    """

    expected: Any
    surface: str
    spoken: str = ""
    grounded: list[str] = field(default_factory=list)
    items: list[str] | None = None
    columns: list[str] | None = None
    cells: list[list[str]] | None = None
    truth: bool | None = None

    def __post_init__(self) -> None:
        self.spoken = self.spoken or self.surface


def text_value(spec: FieldSpec, ctx: RowCtx) -> str:
    """A string for ``spec``: from its ``pool``, ``pattern``s, or a named :data:`TEXT_MAKERS`;
    a person's name is remembered under the field key, an email may be made from the name of
    its ``owner`` field."""
    rng = ctx.rng
    if spec.opt("pool"):
        return fresh(ctx, lambda: rng.choice(spec.opt("pool")))
    if spec.opt("pattern"):
        return fresh(ctx, lambda: fill_pattern(rng.choice(_split(spec.opt("pattern"))), rng))
    maker = spec.opt("maker", spec.kind)
    if maker == "email":
        return email_address(ctx, ctx.people.get(spec.opt("owner", ""), ""))
    value = TEXT_MAKERS[maker](ctx)
    if maker == "person":
        ctx.people[spec.key] = value
    return value


# ---- schema nodes and values per kind -----------------------------------------------------------


def enum_members(spec: FieldSpec) -> list[tuple[str, tuple[str, ...]]]:
    """``(member, synonyms)`` pairs of an enum field (``opts["members"]``: ``"high=P1/urgent"``)."""
    out = []
    for item in _split(spec.opt("members", "")):
        member, _, syn = item.partition("=")
        out.append((member.strip(), tuple(s.strip() for s in syn.split("/") if s.strip())))
    return out


def _enum_case(member: str, case: str) -> str:
    if case == "upper":
        return member.upper().replace(" ", "_").replace("-", "_")
    if case == "title":
        return member.title()
    if case == "snake":
        return member.replace(" ", "_").replace("-", "_")
    return member


@dataclass
class Slot:
    """A field placed in a schema: its spec, property name, schema node and, for ``object`` and
    ``rows``, the slots of its subfields (in schema order)."""

    spec: FieldSpec
    name: str
    node: dict[str, Any]
    subs: list[Slot] = field(default_factory=list)


def build_slot(spec: FieldSpec, name: str, rng: random.Random, style: str, case: str) -> Slot:
    """The :class:`Slot` of ``spec`` named ``name`` (node without description), with random
    schema-level choices: enum casing, bounds, the subset and order of nested subfields."""
    kind = spec.kind
    node: dict[str, Any] = {"type": "string"}
    subs: list[Slot] = []
    if kind == "enum":
        enum_case = rng.choice(("lower", "lower", "title", "upper", "snake"))
        node = {"type": "string", "enum": [_enum_case(m, enum_case) for m, _ in enum_members(spec)]}
    elif kind in ("money", "measure"):
        integer = spec.opt("integer", False) or (kind == "measure" and spec.opt("dec", 1) == 0)
        node = {"type": "integer" if integer else "number"}
        if rng.random() < 0.15 and spec.opt("lo", 0) >= 0:
            node["minimum"] = 0
    elif kind == "int":
        node = {"type": "integer"}
        if rng.random() < 0.15:
            node["minimum"] = spec.opt("lo", 1)
    elif kind == "bool":
        node = {"type": "boolean"}
    elif kind == "date":
        node = {"type": "string", "format": "date"}
    elif kind == "email" and rng.random() < 0.7:
        node = {"type": "string", "format": "email"}
    elif kind == "url" and rng.random() < 0.5:
        node = {"type": "string", "format": "uri"}
    elif kind == "list":
        node = {"type": "array", "items": {"type": "string"}}
    elif kind in ("object", "rows"):
        all_subs = list(spec.subs)
        keep = [s for s in all_subs if s.opt("core")] or all_subs[:1]
        rest = [s for s in all_subs if s not in keep]
        chosen = keep + rng.sample(rest, rng.randint(min(1, len(rest)), len(rest)))
        chosen.sort(key=all_subs.index)
        if rng.random() < 0.3:
            rng.shuffle(chosen)
        names: set[str] = set()
        for sub in chosen:
            sub_name = prop_name(sub, style, rng, case)
            sub_name = sub_name if sub_name not in names else sub.key
            names.add(sub_name)
            subs.append(build_slot(sub, sub_name, rng, style, case))
        obj: dict[str, Any] = {"type": "object",
                               "properties": {s.name: s.node for s in subs}}
        if rng.random() < 0.6:
            obj["required"] = [s.name for s in subs]
        if rng.random() < 0.7:
            obj["additionalProperties"] = False
        node = obj if kind == "object" else {"type": "array", "items": obj}
    return Slot(spec, name, node, subs)


def _units(spec: FieldSpec, key: str) -> list[str]:
    """Unit suffixes of ``opts[key]`` with their leading spaces kept (``" kg|kg"``); ``[""]``
    when none."""
    return spec.opt(key, "").split("|") if spec.opt(key) else [""]


def _int_value(spec: FieldSpec, ctx: RowCtx) -> Value:
    rng = ctx.rng
    n = rng.randint(spec.opt("lo", 1), spec.opt("hi", 10))
    digits = str(n) if spec.opt("nosep") else format_number(n, 0, rng)
    unit = rng.choice(_units(spec, "units"))
    surface = f"{digits}{unit}"
    spoken = surface
    if n < len(NUMBER_WORDS) and not unit and rng.random() < 0.35:
        spoken = NUMBER_WORDS[n] + unit
    return Value(n, surface, spoken)


def _measure_value(spec: FieldSpec, node: dict[str, Any], ctx: RowCtx) -> Value:
    rng = ctx.rng
    dec = spec.opt("dec", 1)
    step = spec.opt("step", 0)
    x = round(rng.uniform(spec.opt("lo", 0), spec.opt("hi", 100)), dec)
    if step:
        x = round(round(x / step) * step, dec)
    if node.get("minimum") == 0 and x < 0:
        x = -x
    surface = format_number(x, dec, rng) + rng.choice(_units(spec, "units"))
    spoken = surface
    if spec.opt("spoken"):
        spoken = format_number(x, dec, rng) + rng.choice(_units(spec, "spoken"))
    return Value(as_json_number(x, node["type"] == "integer"), surface, spoken)


def make_value(slot: Slot, ctx: RowCtx) -> Value:
    """A value for ``slot`` that is valid against its node."""
    spec, node = slot.spec, slot.node
    rng, kind = ctx.rng, spec.kind
    if kind == "money":
        whole = node["type"] == "integer" or rng.random() < 0.2
        lo, hi = spec.opt("lo", 5), spec.opt("hi", 2000)
        x = float(rng.randint(lo, hi)) if whole else round(rng.uniform(lo, hi), 2)
        return Value(as_json_number(x, node["type"] == "integer"),
                     money_surface(x, ctx.currency, whole, rng,
                                   ctx.money_style if rng.random() < 0.85 else None))
    if kind == "int":
        return _int_value(spec, ctx)
    if kind == "measure":
        return _measure_value(spec, node, ctx)
    if kind == "bool":
        truth = rng.random() < 0.5
        yes = _split(spec.opt("yes", "yes|Yes|Y|[x]|true"))
        no = _split(spec.opt("no", "no|No|N|[ ]|false"))
        return Value(truth, rng.choice(yes if truth else no), truth=truth)
    if kind == "enum":
        members = enum_members(spec)
        index = rng.randrange(len(node["enum"]))
        if spec.opt("follows") == "currency" and ctx.currency in [m for m, _ in members]:
            index = [m for m, _ in members].index(ctx.currency)
        member, synonyms = members[index]
        pool = [member] + ([member.capitalize()] if member.islower() else []) + list(synonyms) * 2
        return Value(node["enum"][index], rng.choice(pool))
    if kind == "date":
        lo, hi = spec.opt("lo", -30), spec.opt("hi", 30)
        d = ctx.base + datetime.timedelta(days=rng.randint(lo, hi))
        return Value(d.isoformat(), date_surface(d, rng))
    if kind == "list":
        return _list_value(spec, ctx)
    if kind == "object":
        return _object_value(slot, ctx)
    if kind == "rows":
        return _rows_value(slot, ctx)
    text = text_value(spec, ctx)
    return Value(text, text, grounded=[text])


def _list_value(spec: FieldSpec, ctx: RowCtx) -> Value:
    rng = ctx.rng
    n = rng.choices((0, 1, 2, 3, 4), weights=(12, 28, 30, 20, 10))[0]
    sub = FieldSpec(spec.key, spec.opt("item", "text"), (), (), (), (), opts=spec.opts)
    items = [text_value(sub, ctx) for _ in range(n)]
    items = list(dict.fromkeys(items))
    return Value(items, join_items(items, rng) if items else "none", grounded=list(items),
                 items=items)


def _sub_values(slot: Slot, ctx: RowCtx) -> list[tuple[Slot, Value]]:
    """Values of the subfields of ``slot`` in natural order (street before city)."""
    order = list(slot.spec.subs)
    ordered = sorted(slot.subs, key=lambda s: order.index(s.spec))
    return [(sub, make_value(sub, ctx)) for sub in ordered]


def _ordered(slot: Slot, parts: list[tuple[Slot, Value]]) -> dict[str, Any]:
    values = {sub.name: v.expected for sub, v in parts}
    return {sub.name: values[sub.name] for sub in slot.subs}


def _object_value(slot: Slot, ctx: RowCtx) -> Value:
    parts = _sub_values(slot, ctx)
    if slot.spec.opt("row"):
        surface = _row_text(slot.spec, parts, ctx.rng, spoken=False)
    else:
        surface = ", ".join(v.surface for _, v in parts)
    grounded = [g for _, v in parts for g in v.grounded]
    return Value(_ordered(slot, parts), surface, grounded=grounded)


def _rows_value(slot: Slot, ctx: RowCtx) -> Value:
    rng = ctx.rng
    n = rng.choices((0, 1, 2, 3, 4), weights=(15, 28, 28, 18, 11))[0]
    rows, cells, texts, grounded = [], [], [], []
    order = sorted(slot.subs, key=lambda s: list(slot.spec.subs).index(s.spec))
    columns = [rng.choice(sub.spec.labels) for sub in order]
    for _ in range(n):
        parts = _sub_values(slot, ctx)
        rows.append(_ordered(slot, parts))
        cells.append([v.surface for _, v in parts])
        texts.append(_row_text(slot.spec, parts, rng))
        grounded += [g for _, v in parts for g in v.grounded]
    return Value(rows, "none", grounded=grounded, items=texts, columns=columns, cells=cells)


def _row_text(spec: FieldSpec, parts: list[tuple[Slot, Value]], rng: random.Random,
              spoken: bool = True) -> str:
    """One row of an array of objects as prose: a template of ``opts["row"]`` whose keys are
    exactly the drawn subfields, else ``label value`` pairs."""
    words = {sub.spec.key: v.spoken if spoken else v.surface for sub, v in parts}
    fits = [t for t in _split(spec.opt("row", "")) if set(re.findall(r"{(\w+)}", t)) == set(words)]
    if fits:
        return rng.choice(fits).format(**words)
    return " ".join(f"{sub.spec.labels[0].lower()} {words[sub.spec.key]}" if i
                    else words[sub.spec.key] for i, (sub, _) in enumerate(parts))


KINDS = frozenset({"text", "person", "first_name", "last_name", "company", "email", "phone",
                   "street", "city", "postcode", "job", "url", "time", "doctor", "money",
                   "int", "measure", "bool", "enum", "date", "list", "object", "rows"})
