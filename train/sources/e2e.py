"""E2E NLG restaurant descriptions as attribute extraction rows (normalized values).

E2E (``../shared/corpora/e2e``) pairs a meaning representation (MR) such as
``name[Alimentum], area[city centre], familyFriendly[no]`` with a crowd-written description of
the venue. The cleaned dev file (``cleaned/devel-fixed.no-ol.csv``; its ``mr`` column was
re-annotated to say what the text says) is read in reverse: the text is ``ref`` and the target
is the parsed MR. The target holds only the attributes the MR lists, so most of the schema's
properties are absent from both text and target (all are optional): the model must leave out
what the text does not give.

Values are normalized rather than quoted: ``familyFriendly`` is a boolean (``yes`` -> ``true``),
and ``food``, ``priceRange``, ``customer rating``, ``eatType`` and ``area`` are enums whose values
the text often paraphrases ("kid friendly", "cheap" for ``less than £20``). ``name`` and ``near``
are free strings and must occur in the text (:func:`train.sources.in_text`); rows where they do
not are dropped. The ``customer rating`` attribute is named by a seeded choice among
:data:`RATING_NAMES` per row, since a space in a property name is awkward.

There is **one schema** (``schema_id`` ``e2e/restaurant``, up to the rating property's name), so
E2E's dev measures unseen texts and unseen venue names, not unseen schemas. Rows are split by
venue name: a name goes to ``dev`` when ``zlib.crc32(name) % 5 == 0``. After dropping duplicate
(mr, ref) pairs, a seeded subsample keeps at most 600 train and 100 dev rows (in file order):
the source has few names and one schema, so it is weighted lightly.
"""

from __future__ import annotations

import csv
import random
import re
import zlib
from pathlib import Path
from typing import Any

from . import check_split, in_text, make_row, normalize_space
from .conll import conforms

SOURCE = "e2e"
DATA_FILE = Path("cleaned") / "devel-fixed.no-ol.csv"
SCHEMA_NAME = "restaurant"
MAX_ROWS = {"train": 600, "dev": 100}
DEV_BUCKETS = 5
# Spellings of the "customer rating" attribute's property name, one drawn per row.
RATING_NAMES = ("customer_rating", "customerRating", "rating")

EAT_TYPES = ("restaurant", "coffee shop", "pub")
FOODS = ("Chinese", "English", "French", "Indian", "Fast food", "Japanese", "Italian")
PRICE_RANGES = ("cheap", "moderate", "high", "less than £20", "£20-25", "more than £30")
RATINGS = ("low", "average", "high", "1 out of 5", "3 out of 5", "5 out of 5")
AREAS = ("city centre", "riverside")

__all__ = ["SOURCE", "RATING_NAMES", "parse_mr", "schema", "is_dev_name", "rows"]

_MR_ITEM = re.compile(r"\s*([^,\[\]]+?)\s*\[([^\]]*)\]\s*(?:,|$)")


def parse_mr(mr: str) -> list[tuple[str, str]]:
    """The ``(attribute, value)`` items of an MR string, in order:
    ``"name[X], area[city centre]"`` -> ``[("name", "X"), ("area", "city centre")]``.

    An attribute may repeat (the cleaned file has e.g. two ``eatType`` items in a few MRs).

    Raises:
        ValueError: the string is not a comma-separated list of ``key[value]`` items.
    """
    out: list[tuple[str, str]] = []
    pos = 0
    text = mr.strip()
    while pos < len(text):
        match = _MR_ITEM.match(text, pos)
        if match is None:
            raise ValueError(f"not an MR item at offset {pos}: {mr!r}")
        out.append((match.group(1), match.group(2).strip()))
        pos = match.end()
    return out


def schema(rating_name: str = RATING_NAMES[0]) -> dict[str, Any]:
    """The restaurant schema, with the customer rating property named ``rating_name``.

    All properties are optional; closed sets are enums, ``familyFriendly`` a boolean.
    """
    def enum(values: tuple[str, ...], description: str) -> dict[str, Any]:
        return {"type": "string", "enum": list(values), "description": description}

    return {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "Name of the restaurant, pub or cafe"},
            "eatType": enum(EAT_TYPES, "Kind of venue"),
            "food": enum(FOODS, "Cuisine served"),
            "priceRange": enum(PRICE_RANGES, "Typical price of a meal"),
            rating_name: enum(RATINGS, "Rating given by customers"),
            "area": enum(AREAS, "Part of town the venue is in"),
            "familyFriendly": {"type": "boolean",
                               "description": "Whether the venue welcomes children"},
            "near": {"type": "string", "description": "Name of a landmark or venue nearby"},
        },
        "additionalProperties": False,
    }


def is_dev_name(name: str) -> bool:
    """Whether venue ``name`` belongs to the dev split (crc32 of its UTF-8 bytes, mod 5, is 0)."""
    return zlib.crc32(name.encode("utf-8")) % DEV_BUCKETS == 0


def _expected(attributes: dict[str, str], rating_name: str) -> dict[str, Any]:
    """The target for parsed MR ``attributes``: keys renamed, ``familyFriendly`` as a boolean.

    Raises:
        ValueError: an unknown attribute or a familyFriendly value other than yes/no.
    """
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if key == "customer rating":
            out[rating_name] = value
        elif key == "familyFriendly":
            if value not in ("yes", "no"):
                raise ValueError(f"familyFriendly must be yes or no, got {value!r}")
            out[key] = value == "yes"
        elif key in ("name", "eatType", "food", "priceRange", "area", "near"):
            out[key] = value
        else:
            raise ValueError(f"unknown E2E attribute {key!r}")
    return out


def rows(root: str | Path, split: str,
         stats: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """E2E rows of ``split`` from the corpus folder ``root`` (it holds ``cleaned/``).

    When ``stats`` is given, it receives ``duplicates`` (repeated (mr, ref) pairs, whole file),
    ``repeated`` (MRs giving one attribute twice, of both splits),
    ``not_in_text`` (rows whose name or near value the text does not contain), ``invalid``
    (targets that did not validate) and ``subsampled_out`` (rows of the split beyond the cap).

    Raises:
        ValueError: an unknown split, a malformed MR, an unknown attribute or a familyFriendly
            value other than yes/no.
        OSError: the data file cannot be read.
    """
    check_split(split)
    counts = stats if stats is not None else {}
    for name in ("duplicates", "repeated", "not_in_text", "invalid", "subsampled_out"):
        counts.setdefault(name, 0)
    with open(Path(root) / DATA_FILE, encoding="utf-8", newline="") as f:
        records = list(csv.DictReader(f))
    seen: set[tuple[str, str]] = set()
    candidates: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        mr, text = record["mr"].strip(), normalize_space(record["ref"])
        if (mr, text) in seen:
            counts["duplicates"] += 1
            continue
        seen.add((mr, text))
        items = parse_mr(mr)
        attributes = dict(items)
        if len(attributes) != len(items):
            counts["repeated"] += 1  # two values for one single-valued property
            continue
        name = attributes.get("name")
        if name is None or is_dev_name(name) != (split == "dev"):
            continue
        if not all(in_text(attributes[k], text) for k in ("name", "near") if k in attributes):
            counts["not_in_text"] += 1
            continue
        rating_name = random.Random(f"{SOURCE}/{index}").choice(RATING_NAMES)
        row_schema = schema(rating_name)
        expected = _expected(attributes, rating_name)
        if not conforms(expected, row_schema):
            counts["invalid"] += 1
            continue
        candidates.append(make_row(SOURCE, str(index), SCHEMA_NAME, row_schema, text, expected))
    cap = MAX_ROWS[split]
    if len(candidates) > cap:
        counts["subsampled_out"] += len(candidates) - cap
        keep = set(random.Random(f"{SOURCE}/{split}-sample").sample(range(len(candidates)), cap))
        candidates = [row for i, row in enumerate(candidates) if i in keep]
    return candidates
