"""CrossNER sentences as entity-list extraction rows, with an unseen domain for dev.

CrossNER (``../shared/corpora/crossner``) holds entity-dense Wikipedia sentences of five domains,
each with its own entity types. A row's text is one detokenized sentence (see
:mod:`train.sources.conll`); its schema is an object with one required array-of-strings property
for each of 2-5 of the domain's types, and its target lists each type's entity strings in order
of appearance, duplicates removed, ``[]`` when the sentence has none of that type.

Schemas vary per row, drawn by a generator seeded with the row's id: which types (always at least
one the sentence contains), their order, how the properties are named (``politicalparty``,
``political_party``, ``politicalParty``, ``political_parties``, ``politicalParties``) and whether
they carry descriptions. ``schema_id`` is ``crossner/<domain>/<sorted types>``: it names the
choice of types, not the naming variant.

Splits are by domain: ``train`` is ``train.txt`` of politics, science, music and literature;
``dev`` is 150 sentences (a seeded sample, kept in file order) of the **ai** domain's
``dev.txt``, a domain never trained on. Every dev schema holds at least one type that no training
domain has (algorithm, conference, field, metrics, product, programlang, researcher, task), so no
dev schema can equal a training schema even where types such as ``person`` are shared.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from . import check_split, make_row
from .conll import (
    NAME_STYLES,
    EntityType,
    Sentence,
    conforms,
    entity_expected,
    entity_schema,
    read_conll,
    sentence_entities,
)

SOURCE = "crossner"
TRAIN_DOMAINS = ("politics", "science", "music", "literature")
DEV_DOMAIN = "ai"
DEV_SIZE = 150
MIN_TYPES, MAX_TYPES = 2, 5
# Share of rows whose properties carry descriptions.
DESCRIBED = 0.75

__all__ = ["SOURCE", "TRAIN_DOMAINS", "DEV_DOMAIN", "DOMAIN_TYPES", "TYPES", "held_out_types",
           "rows"]


def _t(raw: str, singular: str, plural: str, description: str) -> EntityType:
    return EntityType(raw, singular, plural, description)


# Every CrossNER entity type: its tag, snake_case human names and a short description.
TYPES: dict[str, EntityType] = {t.raw: t for t in (
    _t("academicjournal", "academic_journal", "academic_journals",
       "Academic journals named in the text"),
    _t("album", "album", "albums", "Music albums named in the text"),
    _t("algorithm", "algorithm", "algorithms", "Algorithms and models, e.g. neural networks"),
    _t("astronomicalobject", "astronomical_object", "astronomical_objects",
       "Planets, stars, galaxies and other astronomical objects"),
    _t("award", "award", "awards", "Awards and prizes"),
    _t("band", "band", "bands", "Bands and musical groups"),
    _t("book", "book", "books", "Titles of books and novels"),
    _t("chemicalcompound", "chemical_compound", "chemical_compounds", "Chemical compounds"),
    _t("chemicalelement", "chemical_element", "chemical_elements", "Chemical elements"),
    _t("conference", "conference", "conferences", "Conferences and their proceedings"),
    _t("country", "country", "countries", "Countries and states"),
    _t("discipline", "discipline", "disciplines", "Scientific disciplines and fields of study"),
    _t("election", "election", "elections", "Elections and referendums"),
    _t("enzyme", "enzyme", "enzymes", "Enzymes"),
    _t("event", "event", "events", "Named events: wars, festivals, historical events"),
    _t("field", "field", "fields", "Fields of research, e.g. machine learning"),
    _t("literarygenre", "literary_genre", "literary_genres", "Literary genres"),
    _t("location", "location", "locations", "Places other than countries: cities, regions"),
    _t("magazine", "magazine", "magazines", "Magazines and periodicals"),
    _t("metrics", "metric", "metrics", "Evaluation metrics and measures"),
    _t("misc", "other_entity", "other_entities", "Other named entities of no listed type"),
    _t("musicalartist", "musical_artist", "musical_artists", "Singers, musicians, composers"),
    _t("musicalinstrument", "musical_instrument", "musical_instruments",
       "Musical instruments"),
    _t("musicgenre", "music_genre", "music_genres", "Genres of music"),
    _t("organisation", "organisation", "organisations",
       "Organisations: companies, institutions, agencies"),
    _t("person", "person", "people", "People who are not of a more specific listed type"),
    _t("poem", "poem", "poems", "Titles of poems"),
    _t("politicalparty", "political_party", "political_parties",
       "Political parties named in the text"),
    _t("politician", "politician", "politicians", "Politicians named in the text"),
    _t("product", "product", "products", "Products, software and robots"),
    _t("programlang", "programming_language", "programming_languages",
       "Programming languages"),
    _t("protein", "protein", "proteins", "Proteins"),
    _t("researcher", "researcher", "researchers", "Researchers and scientists of the field"),
    _t("scientist", "scientist", "scientists", "Scientists named in the text"),
    _t("song", "song", "songs", "Song titles"),
    _t("task", "task", "tasks", "Tasks and problems, e.g. speech recognition"),
    _t("theory", "theory", "theories", "Scientific theories, laws and principles"),
    _t("university", "university", "universities", "Universities and colleges"),
    _t("writer", "writer", "writers", "Writers, novelists and poets"),
)}

# The entity types of each domain (the CrossNER paper's label sets).
DOMAIN_TYPES: dict[str, tuple[str, ...]] = {
    "politics": ("country", "election", "event", "location", "misc", "organisation", "person",
                 "politicalparty", "politician"),
    "science": ("academicjournal", "astronomicalobject", "award", "chemicalcompound",
                "chemicalelement", "country", "discipline", "enzyme", "event", "location",
                "misc", "organisation", "person", "protein", "scientist", "theory",
                "university"),
    "music": ("album", "award", "band", "country", "event", "location", "misc",
              "musicalartist", "musicalinstrument", "musicgenre", "organisation", "person",
              "song"),
    "literature": ("award", "book", "country", "event", "literarygenre", "location",
                   "magazine", "misc", "organisation", "person", "poem", "writer"),
    "ai": ("algorithm", "conference", "country", "field", "location", "metrics", "misc",
           "organisation", "person", "product", "programlang", "researcher", "task",
           "university"),
}


def held_out_types() -> tuple[str, ...]:
    """The dev domain's types that no training domain has, sorted."""
    seen = {t for domain in TRAIN_DOMAINS for t in DOMAIN_TYPES[domain]}
    return tuple(sorted(set(DOMAIN_TYPES[DEV_DOMAIN]) - seen))


def _choose_types(rng: random.Random, domain_types: tuple[str, ...], present: list[str],
                  must_pick_from: tuple[str, ...]) -> list[str]:
    """2-5 of ``domain_types`` in a random order: one of ``present`` (when any), one of
    ``must_pick_from`` (when given; one that is present if possible), the rest at random with
    a lean towards present types."""
    k = rng.randint(MIN_TYPES, min(MAX_TYPES, len(domain_types)))
    chosen: list[str] = []
    if must_pick_from:
        present_held = [t for t in present if t in must_pick_from]
        chosen.append(rng.choice(present_held or list(must_pick_from)))
    if present and not set(chosen) & set(present):
        chosen.append(rng.choice(present))
    while len(chosen) < k:
        # Half the remaining slots favour types the sentence has, so rows fill several fields.
        pool = [t for t in present if t not in chosen]
        if not pool or rng.random() < 0.5:
            pool = [t for t in domain_types if t not in chosen]
        chosen.append(rng.choice(pool))
    rng.shuffle(chosen)
    return chosen


def _domain_rows(sentences: list[Sentence], domain: str, split: str, keep: set[int] | None,
                 stats: dict[str, int]) -> list[dict[str, Any]]:
    """Rows from the sentences of one domain's file, only indices in ``keep`` when given."""
    domain_types = DOMAIN_TYPES[domain]
    must = held_out_types() if split == "dev" else ()
    out: list[dict[str, Any]] = []
    for index, sentence in enumerate(sentences):
        if keep is not None and index not in keep:
            continue
        text, entities, dropped = sentence_entities(sentence)
        stats["dropped_entities"] += dropped
        unknown = {e.type for e in entities} - set(domain_types)
        if unknown:
            raise ValueError(f"{domain} {split} sentence {index}: unknown types {sorted(unknown)}")
        key = f"{domain}/{split}/{index}"
        rng = random.Random(f"{SOURCE}/{key}")
        present = list(dict.fromkeys(e.type for e in entities))
        chosen = _choose_types(rng, domain_types, present, must)
        kinds = [TYPES[t] for t in chosen]
        style = rng.choice(NAME_STYLES)
        describe = rng.random() < DESCRIBED
        schema, names = entity_schema(kinds, style, describe)
        expected = entity_expected(kinds, names, entities)
        if not conforms(expected, schema):
            stats["dropped_rows"] += 1
            continue
        out.append(make_row(SOURCE, key, f"{domain}/{','.join(sorted(chosen))}", schema, text,
                            expected))
    return out


def rows(root: str | Path, split: str,
         stats: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """CrossNER rows of ``split``: ``train`` from four domains, ``dev`` from the unseen ai domain.

    ``root`` is the corpus folder (it holds ``ner_data/``). When ``stats`` is given, it receives
    ``dropped_entities`` (entities not standing as whole words in their text) and
    ``dropped_rows`` (targets that did not validate).

    Raises:
        ValueError: an unknown split, or an entity type outside its domain's label set.
        OSError: a data file cannot be read.
    """
    check_split(split)
    root = Path(root)
    counts = stats if stats is not None else {}
    counts.setdefault("dropped_entities", 0)
    counts.setdefault("dropped_rows", 0)
    if split == "train":
        out: list[dict[str, Any]] = []
        for domain in TRAIN_DOMAINS:
            sentences = read_conll(root / "ner_data" / domain / "train.txt")
            out += _domain_rows(sentences, domain, split, None, counts)
        return out
    sentences = read_conll(root / "ner_data" / DEV_DOMAIN / "dev.txt")
    n = len(sentences)
    keep = set(random.Random(f"{SOURCE}/dev-sample").sample(range(n), min(DEV_SIZE, n)))
    return _domain_rows(sentences, DEV_DOMAIN, split, keep, counts)
