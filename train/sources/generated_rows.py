"""What every generated row shares, whatever its schema came from: the row context, the layout
draw and the check a row passes before it is kept.

The generator writes rows for schemas it composes from everyday domains (``generator``) and for
real-world MaskBench schemas (``real_schemas``); both draw a row's values with :func:`_ctx` (a
seeded Faker of a weighted locale, a currency, a base date), pick its layout with
:data:`LAYOUT_WEIGHTS`, and drop it unless :func:`check_row` finds nothing wrong.
"""

from __future__ import annotations

import datetime
import functools
import json
import random
from typing import Any

from jsonschema import Draft202012Validator

from . import in_text
from .values import CURRENCIES, TYPE_NAMES, RowCtx

MAX_TEXT = 900
LAYOUT_WEIGHTS = {"prose": 15, "email": 11, "chat": 10, "ticket": 9, "receipt": 9, "table": 10,
                  "bullets": 10, "kv": 14, "mixed": 12}
LOCALES = {"en_US": 45, "en_GB": 15, "de_DE": 10, "fr_FR": 8, "es_ES": 8, "it_IT": 7, "nl_NL": 7}

__all__ = ["LAYOUT_WEIGHTS", "LOCALES", "MAX_TEXT", "check_row"]


@functools.cache
def _faker(locale: str) -> Any:
    from faker import Faker
    return Faker(locale)


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _ctx(seed: int, currency_codes: tuple[str, ...] | None = None) -> RowCtx:
    rng = random.Random(seed)
    fake = _faker(_weighted(rng, LOCALES))
    fake.seed_instance(seed)
    codes = currency_codes or tuple(CURRENCIES)
    currency = rng.choices(codes, weights=[CURRENCIES[c][1] for c in codes])[0]
    base = datetime.date(2023, 1, 1) + datetime.timedelta(days=rng.randint(0, 3 * 365))
    return RowCtx(rng, fake, currency, base, money_style=rng.random())


# ---- checks -------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def _descriptions(node: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("description"), str):
            out.add(node["description"].strip().lower())
        for value in node.values():
            out |= _descriptions(value)
    elif isinstance(node, list):
        for value in node:
            out |= _descriptions(value)
    return out


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def check_row(schema: dict[str, Any], text: str, expected: Any, grounded: list[str]) -> str:
    """Why a row must be dropped ("" when it is fine): invalid expected value, a grounded string
    missing from the text, a value equal to a description or a JSON type name, a long text."""
    errors = list(_validator(json.dumps(schema, sort_keys=True)).iter_errors(expected))
    if errors:
        return "invalid"
    if any(not in_text(g, text) for g in grounded):
        return "ungrounded"
    descriptions = _descriptions(schema)
    for leaf in _leaves(expected):
        if isinstance(leaf, str) and (leaf.strip().lower() in TYPE_NAMES
                                      or leaf.strip().lower() in descriptions):
            return "description_or_type_value"
    if len(text) > MAX_TEXT:
        return "too_long"
    return ""
