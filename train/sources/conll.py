"""CoNLL BIO files: sentences, entity spans and readable text.

CrossNER and WNUT-17 ship named-entity data as one ``token<TAB>tag`` line per token, with BIO
tags (``B-person``, ``I-person``, ``O``) and a blank line (in WNUT-17 sometimes a line holding a
single TAB) between sentences. An extraction row needs the sentence as text a user would write,
not as space-separated tokens, and the entity strings exactly as they read in that text.

:func:`detokenize` joins tokens with spaces but glues punctuation the way prose writes it
(``Russia ,`` -> ``Russia,``, ``( 1990 )`` -> ``(1990)``, ``Sony ' s`` -> ``Sony's``,
``ca n't`` -> ``can't``, paired quotes hug what they quote) and records each token's character
span. :func:`sentence_entities` then cuts every entity string out of that same text, from its
first token's start to its last token's end, so an entity is always written exactly as the text
writes it; an entity that does not stand as a whole word in the text is dropped and counted.

The NER converters (``crossner``, ``wnut17``) share the row shape built here: a schema with one
required array-of-strings property per chosen entity type, the property named in one of
:data:`NAME_STYLES` (``politicalparty``, ``political_party``, ``politicalParty``,
``political_parties``, ``politicalParties``), and a target listing each type's entity strings in
order of appearance without duplicates (``[]`` when the text has none). :func:`conforms` checks a
value against such schemas (and ``e2e``'s) with ``jsonschema``, so converters can drop a row
whose target would not validate.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from train.sources import in_text

__all__ = ["Sentence", "Entity", "EntityType", "NAME_STYLES", "parse_conll", "read_conll",
           "spans", "detokenize", "sentence_entities", "property_name", "entity_schema",
           "entity_expected", "conforms"]

# Tokens written without a space before them: punctuation runs ("," "..." "?!") and closers.
_TRAILING_CHARS = frozenset(",.;:!?…")
_CLOSERS = frozenset({")", "]"})
_OPENERS = frozenset({"(", "["})
# Contractions split off by the tokenizer ("It 's", "ca n't"); compared in lower case with the
# typographic apostrophe folded to "'".
_CLITICS = frozenset({"'s", "'m", "'re", "'ve", "'ll", "'d", "'t", "n't"})
# What follows a lone apostrophe token when it is a contraction ("Sony ' s", "I ’ ve").
_BARE_CLITICS = frozenset({"s", "t", "m", "re", "ve", "ll", "d"})
_APOSTROPHES = frozenset({"'", "’"})


class Sentence(NamedTuple):
    """One sentence of a CoNLL file: its tokens and their BIO tags, position by position."""

    tokens: list[str]
    tags: list[str]


class Entity(NamedTuple):
    """An entity of a sentence: its type (the tag without ``B-``/``I-``) and its text."""

    type: str
    text: str


def parse_conll(content: str) -> list[Sentence]:
    """The sentences of a CoNLL BIO document given as a string.

    A line is ``token<TAB>tag``; a line that is empty or whitespace only (WNUT-17 uses a lone
    TAB) ends the sentence. Empty sentences are skipped.

    Raises:
        ValueError: a non-blank line without a tag.
    """
    sentences: list[Sentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    for lineno, raw in enumerate(content.splitlines(), start=1):
        if not raw.strip():
            if tokens:
                sentences.append(Sentence(tokens, tags))
                tokens, tags = [], []
            continue
        fields = raw.split("\t")
        if len(fields) < 2:
            fields = raw.split()
        if len(fields) < 2 or not fields[0].strip() or not fields[-1].strip():
            raise ValueError(f"line {lineno}: expected 'token<TAB>tag', got {raw!r}")
        tokens.append(fields[0].strip())
        tags.append(fields[-1].strip())
    if tokens:
        sentences.append(Sentence(tokens, tags))
    return sentences


def read_conll(path: str | Path) -> list[Sentence]:
    """The sentences of the CoNLL BIO file at ``path`` (UTF-8), in file order.

    Raises:
        OSError: the file cannot be read.
        ValueError: a non-blank line without a tag.
    """
    return parse_conll(Path(path).read_text(encoding="utf-8"))


def spans(tags: Iterable[str]) -> list[tuple[str, int, int]]:
    """Entity spans ``(type, start, end)`` (token indices, ``end`` exclusive) in order.

    ``B-x`` starts an entity; ``I-x`` continues an entity of type ``x`` and starts one when the
    previous tag is not of type ``x`` (a stray ``I-`` is read as a ``B-``); ``O`` or any other
    tag ends it.
    """
    found: list[tuple[str, int, int]] = []
    current: str | None = None
    start = 0
    n = 0
    for n, tag in enumerate(tags):
        prefix, _, kind = tag.partition("-")
        if prefix == "I" and kind and kind == current:
            continue
        if current is not None:
            found.append((current, start, n))
            current = None
        if prefix in ("B", "I") and kind:
            current, start = kind, n
    if current is not None:
        found.append((current, start, n + 1))
    return found


def _fold(token: str) -> str:
    """``token`` in lower case with the typographic apostrophe folded to ``'``."""
    return token.lower().replace("’", "'")


def _glue_flags(tokens: list[str]) -> list[bool]:
    """For each token, whether it is written without a space before it."""
    n = len(tokens)
    glue = [False] * n
    quote_open = {'"': False, "'": False}
    for i, tok in enumerate(tokens):
        prev = tokens[i - 1] if i else ""
        nxt = _fold(tokens[i + 1]) if i + 1 < n else ""
        if _fold(tok) in _CLITICS or (tok and set(tok) <= _TRAILING_CHARS) or tok in _CLOSERS:
            glue[i] = True
        elif prev in _OPENERS:
            glue[i] = True
        if tok in _APOSTROPHES:
            if nxt in _BARE_CLITICS:
                # "Sony ' s" -> "Sony's"; "wo n ' t" -> "won't".
                glue[i] = True
                glue[i + 1] = True
                if nxt == "t" and prev.lower() == "n" and i >= 2:
                    glue[i - 1] = True
            elif quote_open["'"]:
                glue[i] = True
                quote_open["'"] = False
            elif i and prev[-1:] in ("s", "S") and prev.isalpha():
                glue[i] = True  # plural possessive: "Catullus ' Furius" -> "Catullus' Furius"
            else:
                quote_open["'"] = True
                if i + 1 < n:
                    glue[i + 1] = True
        elif tok == '"':
            if quote_open['"']:
                glue[i] = True
                quote_open['"'] = False
            else:
                quote_open['"'] = True
                if i + 1 < n:
                    glue[i + 1] = True
    if n:
        glue[0] = False
    return glue


def detokenize(tokens: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """The tokens as readable text, and each token's ``(start, end)`` character span in it.

    HTML escapes in tokens (``&amp;``, ``&lt;``) are unescaped. Tokens are separated by one
    space except where prose writes none: before ``, . ; : ! ? ) ]`` and runs of them
    (``...``), after ``( [``, around contractions (``It's``, ``can't``, ``Sony's``), and inside
    paired quotes (``"like this"``).
    """
    words = [html.unescape(t) for t in tokens]
    glue = _glue_flags(words)
    parts: list[str] = []
    offsets: list[tuple[int, int]] = []
    pos = 0
    for i, word in enumerate(words):
        if i and not glue[i]:
            parts.append(" ")
            pos += 1
        offsets.append((pos, pos + len(word)))
        parts.append(word)
        pos += len(word)
    return "".join(parts), offsets


def _stands_alone(text: str, begin: int, stop: int) -> bool:
    """Whether ``text[begin:stop]`` is not glued to a word: a word character at its edge has no
    word character beside it, nor before it an apostrophe that follows a word (``Sony's``; an
    opening quote as in ``'Grease'`` is fine)."""
    if text[begin].isalnum() and begin > 0:
        before = text[begin - 1]
        if before.isalnum() or (before in _APOSTROPHES and begin > 1
                                and text[begin - 2].isalnum()):
            return False
    return not (text[stop - 1].isalnum() and stop < len(text) and text[stop].isalnum())


def sentence_entities(sentence: Sentence) -> tuple[str, list[Entity], int]:
    """The sentence's text, its entities in order of appearance, and how many were dropped.

    Each entity's text is the slice of the detokenized sentence from its first token to its
    last, so it is written exactly as the text writes it. An entity is dropped (and counted)
    when that slice is glued to a neighbouring word at its place (a lone ``s`` tagged in
    ``Sony's``) or is not found as a whole word by :func:`train.sources.in_text`.
    """
    text, offsets = detokenize(sentence.tokens)
    entities: list[Entity] = []
    dropped = 0
    for kind, start, end in spans(sentence.tags):
        begin, stop = offsets[start][0], offsets[end - 1][1]
        value = text[begin:stop]
        if value and _stands_alone(text, begin, stop) and in_text(value, text):
            entities.append(Entity(kind, value))
        else:
            dropped += 1
    return text, entities, dropped


class EntityType(NamedTuple):
    """How an entity type is named and described in a schema.

    ``raw`` is the corpus tag (``politicalparty``); ``singular`` and ``plural`` are snake_case
    human names (``political_party``, ``political_parties``); ``description`` is a short phrase
    for the property's ``description``.
    """

    raw: str
    singular: str
    plural: str
    description: str


# How a row names its properties; one style per row, drawn by the row's seeded generator.
NAME_STYLES = ("raw", "snake", "camel", "plural", "camel_plural")


def _camel(snake: str) -> str:
    """``political_party`` -> ``politicalParty``."""
    head, *rest = snake.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def property_name(kind: EntityType, style: str) -> str:
    """The property name of entity type ``kind`` in naming ``style`` (one of NAME_STYLES).

    Raises:
        ValueError: an unknown style.
    """
    if style == "raw":
        return kind.raw.replace("-", "_")
    if style == "snake":
        return kind.singular
    if style == "camel":
        return _camel(kind.singular)
    if style == "plural":
        return kind.plural
    if style == "camel_plural":
        return _camel(kind.plural)
    raise ValueError(f"unknown name style {style!r}; expected one of {', '.join(NAME_STYLES)}")


def entity_schema(kinds: list[EntityType], style: str,
                  describe: bool) -> tuple[dict[str, Any], list[str]]:
    """An object schema with one required array-of-strings property per type in ``kinds``.

    Properties come in the order of ``kinds``, named in ``style``, with the type's description
    when ``describe``. Returns the schema and the property names (parallel to ``kinds``).

    Raises:
        ValueError: an unknown style, or two types that get the same property name.
    """
    names = [property_name(kind, style) for kind in kinds]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate property names in {names}")
    properties: dict[str, Any] = {}
    for kind, name in zip(kinds, names):
        prop: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
        if describe:
            prop["description"] = kind.description
        properties[name] = prop
    schema = {"type": "object", "properties": properties, "required": list(names),
              "additionalProperties": False}
    return schema, names


def entity_expected(kinds: list[EntityType], names: list[str],
                    entities: list[Entity]) -> dict[str, list[str]]:
    """The target: for each property, its type's entity strings in order, duplicates removed."""
    expected: dict[str, list[str]] = {}
    for kind, name in zip(kinds, names):
        values: list[str] = []
        for entity in entities:
            if entity.type == kind.raw and entity.text not in values:
                values.append(entity.text)
        expected[name] = values
    return expected


def conforms(value: Any, schema: dict[str, Any]) -> bool:
    """Whether ``value`` is valid against ``schema`` (``jsonschema``, draft 2020-12)."""
    from jsonschema import Draft202012Validator

    return bool(Draft202012Validator(schema).is_valid(value))
