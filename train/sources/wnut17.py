"""WNUT-17 social-media sentences as entity-list extraction rows.

WNUT-17 Emerging Entities (``../shared/corpora/wnut17``) tags noisy user text (tweets, Reddit,
YouTube comments, StackOverflow) with six types: person, location, group, corporation, product
and creative-work. A row's text is one detokenized sentence (see :mod:`train.sources.conll`),
handles, URLs and misspellings included; its schema is an object with one required
array-of-strings property for each of 2-6 of the six types; its target lists each type's entity
strings in order of appearance, duplicates removed, ``[]`` where the text has none.

Schemas vary per row, drawn by a generator seeded with the row's id: which types (always one the
sentence contains, when it has entities), their order, the naming style (``creative_work``,
``creativeWork``, ``creative_works``, ...) and whether descriptions are given. ``schema_id`` is
``wnut17/<sorted types>``.

Many sentences have no entity at all; they teach "nothing to extract" (every list empty), so
``train`` keeps one in three of them (every third, in file order) next to every sentence with an
entity. ``dev`` is 150 sentences of ``emerging.dev.conll``, a seeded sample of 75 with entities
and 75 without, kept in file order. Train and dev share the six types, so WNUT-17 dev measures
unseen (and noisier) texts, not unseen schemas.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from . import check_split, make_row
from .conll import (
    NAME_STYLES,
    EntityType,
    conforms,
    entity_expected,
    entity_schema,
    read_conll,
    sentence_entities,
)

SOURCE = "wnut17"
FILES = {"train": "wnut17train.conll", "dev": "emerging.dev.conll"}
DEV_SIZE = 150
# Keep every EMPTY_KEEP-th sentence without entities in train.
EMPTY_KEEP = 3
MIN_TYPES, MAX_TYPES = 2, 6
DESCRIBED = 0.75

__all__ = ["SOURCE", "TYPES", "rows"]

# The six WNUT-17 types: tag, snake_case human names, description.
TYPES: dict[str, EntityType] = {t.raw: t for t in (
    EntityType("person", "person", "people", "Names of people, including user names of people"),
    EntityType("location", "location", "locations", "Places: cities, countries, buildings"),
    EntityType("group", "group", "groups",
               "Groups: bands, sports teams, non-corporate organisations"),
    EntityType("corporation", "corporation", "corporations", "Companies and corporations"),
    EntityType("product", "product", "products", "Products: devices, software, services"),
    EntityType("creative-work", "creative_work", "creative_works",
               "Titles of creative works: songs, films, books, shows, games"),
)}


def _choose_types(rng: random.Random, present: list[str]) -> list[str]:
    """2-6 of the six types in a random order, one of ``present`` among them when any."""
    k = rng.randint(MIN_TYPES, MAX_TYPES)
    chosen = [rng.choice(present)] if present else []
    chosen += rng.sample([t for t in TYPES if t not in chosen], k - len(chosen))
    rng.shuffle(chosen)
    return chosen


def _dev_indices(has_entities: list[bool]) -> set[int]:
    """A seeded sample of sentence indices: half with entities, half without."""
    rng = random.Random(f"{SOURCE}/dev-sample")
    with_ents = [i for i, has in enumerate(has_entities) if has]
    without = [i for i, has in enumerate(has_entities) if not has]
    n_with = min(DEV_SIZE // 2, len(with_ents))
    n_without = min(DEV_SIZE - n_with, len(without))
    return set(rng.sample(with_ents, n_with)) | set(rng.sample(without, n_without))


def rows(root: str | Path, split: str,
         stats: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """WNUT-17 rows of ``split`` (``train``: ``wnut17train.conll``; ``dev``:
    ``emerging.dev.conll``), from the corpus folder ``root``.

    When ``stats`` is given, it receives ``dropped_entities`` (entities not standing as whole
    words in their text), ``dropped_rows`` (targets that did not validate) and
    ``skipped_empty`` (train sentences without entities left out by the 1-in-3 rule).

    Raises:
        ValueError: an unknown split, or an entity type that is not one of the six.
        OSError: the data file cannot be read.
    """
    check_split(split)
    counts = stats if stats is not None else {}
    for name in ("dropped_entities", "dropped_rows", "skipped_empty"):
        counts.setdefault(name, 0)
    sentences = read_conll(Path(root) / FILES[split])
    converted = [sentence_entities(s) for s in sentences]
    keep = _dev_indices([bool(c[1]) for c in converted]) if split == "dev" else None
    out: list[dict[str, Any]] = []
    n_empty = 0
    for index, (text, entities, dropped) in enumerate(converted):
        if keep is not None and index not in keep:
            continue
        if keep is None and not entities:
            n_empty += 1
            if n_empty % EMPTY_KEEP != 1:
                counts["skipped_empty"] += 1
                continue
        counts["dropped_entities"] += dropped
        unknown = {e.type for e in entities} - set(TYPES)
        if unknown:
            raise ValueError(f"{FILES[split]} sentence {index}: unknown types {sorted(unknown)}")
        key = f"{split}/{index}"
        rng = random.Random(f"{SOURCE}/{key}")
        chosen = _choose_types(rng, list(dict.fromkeys(e.type for e in entities)))
        kinds = [TYPES[t] for t in chosen]
        schema, names = entity_schema(kinds, rng.choice(NAME_STYLES), rng.random() < DESCRIBED)
        expected = entity_expected(kinds, names, entities)
        if not conforms(expected, schema):
            counts["dropped_rows"] += 1
            continue
        schema_name = ",".join(sorted(kind.singular for kind in kinds))
        out.append(make_row(SOURCE, key, schema_name, schema, text, expected))
    return out
