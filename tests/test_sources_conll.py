"""Tests of train/sources/conll.py: the CoNLL BIO reader, spans, detokenization, entity strings
and the shared entity-list schema helpers."""

from __future__ import annotations

import sys
from pathlib import Path

# train/ is a folder of scripts beside the installed package: reach it from the repository root.
sys.path.append(str(Path(__file__).resolve().parent.parent))

import pytest
from jsonschema import Draft202012Validator

from train.sources.conll import (
    NAME_STYLES,
    Entity,
    EntityType,
    Sentence,
    conforms,
    detokenize,
    entity_expected,
    entity_schema,
    parse_conll,
    property_name,
    read_conll,
    sentence_entities,
    spans,
)

SAMPLE = (
    "Parties\tO\nlike\tO\nUnited\tB-politicalparty\nRussia\tI-politicalparty\n,\tO\n"
    "(\tO\nsee\tO\nPutin\tB-politician\n)\tO\n.\tO\n"
    "\n"
    "\t\n"  # a TAB-only separator line, as in WNUT-17
    "Sony\tB-organisation\n'\tO\ns\tO\nQRIO\tB-product\nwo\tO\nn't\tO\nfly\tO\n!\tO\n"
    "\t\n"
    "He\tO\nsaid\tO\n\"\tO\nhi\tO\n\"\tO\nto\tO\nAT&amp;T\tB-corporation\n"
)


def test_read_conll_splits_on_blank_and_tab_lines(tmp_path: Path) -> None:
    path = tmp_path / "sample.conll"
    path.write_text(SAMPLE, encoding="utf-8")
    sentences = read_conll(path)
    assert [len(s.tokens) for s in sentences] == [10, 8, 7]
    assert sentences[0].tokens[:4] == ["Parties", "like", "United", "Russia"]
    assert sentences[0].tags[2:4] == ["B-politicalparty", "I-politicalparty"]
    assert all(len(s.tokens) == len(s.tags) for s in sentences)


def test_parse_conll_rejects_line_without_tag() -> None:
    with pytest.raises(ValueError, match="line 2"):
        parse_conll("a\tO\nlonely\n")


def test_spans_bio_and_stray_inside_tag() -> None:
    tags = ["O", "B-x", "I-x", "B-x", "I-y", "I-y", "O", "B-z"]
    assert spans(tags) == [("x", 1, 3), ("x", 3, 4), ("y", 4, 6), ("z", 7, 8)]
    assert spans([]) == []
    assert spans(["O", "O"]) == []


@pytest.mark.parametrize(("tokens", "text"), [
    (["United", "Russia", ",", "and", "(", "see", "Putin", ")", "."],
     "United Russia, and (see Putin)."),
    (["Sony", "'", "s", "QRIO"], "Sony's QRIO"),
    (["It", "'s", "fine", ";", "I", "'m", "here", ":", "ok", "?", "!"],
     "It's fine; I'm here: ok?!"),
    (["I", "ca", "n't", "go", "..."], "I can't go..."),
    (["I", "wo", "n", "'", "t", "go"], "I won't go"),
    (["They", "don", "’", "t", "care"], "They don’t care"),
    (["He", "said", '"', "hi", "there", '"', "to", "me"], 'He said "hi there" to me'),
    (["Their", "'", "parallel", "'", "distinction"], "Their 'parallel' distinction"),
    (["Henry", "James", "'", "novel"], "Henry James' novel"),
    (["AT&amp;T", "&lt;3"], "AT&T <3"),
])
def test_detokenize_reads_naturally(tokens: list[str], text: str) -> None:
    out, offsets = detokenize(tokens)
    assert out == text
    assert len(offsets) == len(tokens)
    assert all(0 <= a <= b <= len(out) for a, b in offsets)
    assert [a for a, _ in offsets] == sorted(a for a, _ in offsets)


def test_sentence_entities_are_substrings_of_text() -> None:
    sentences = parse_conll(SAMPLE)
    text, entities, dropped = sentence_entities(sentences[0])
    assert text == "Parties like United Russia, (see Putin)."
    assert entities == [Entity("politicalparty", "United Russia"), Entity("politician", "Putin")]
    assert dropped == 0
    text, entities, _ = sentence_entities(sentences[1])
    assert text == "Sony's QRIO won't fly!"
    assert entities == [Entity("organisation", "Sony"), Entity("product", "QRIO")]
    text, entities, _ = sentence_entities(sentences[2])
    assert text == 'He said "hi" to AT&T'
    assert entities == [Entity("corporation", "AT&T")]
    for sentence in sentences:
        text, entities, _ = sentence_entities(sentence)
        assert all(e.text in text for e in entities)


def test_sentence_entities_drops_entity_glued_into_a_word() -> None:
    # A lone "s" tagged as an entity becomes part of "Sony's": not a whole word, dropped.
    sentence = Sentence(["Sony", "'", "s", "robot"], ["B-org", "O", "B-odd", "O"])
    text, entities, dropped = sentence_entities(sentence)
    assert text == "Sony's robot"
    assert entities == [Entity("org", "Sony")]
    assert dropped == 1


PARTY = EntityType("politicalparty", "political_party", "political_parties", "Parties")


def test_property_name_styles() -> None:
    names = {style: property_name(PARTY, style) for style in NAME_STYLES}
    assert names == {"raw": "politicalparty", "snake": "political_party",
                     "camel": "politicalParty", "plural": "political_parties",
                     "camel_plural": "politicalParties"}
    assert property_name(EntityType("creative-work", "creative_work", "creative_works", ""),
                         "raw") == "creative_work"
    with pytest.raises(ValueError, match="unknown name style"):
        property_name(PARTY, "kebab")


def test_entity_schema_and_expected_validate() -> None:
    person = EntityType("person", "person", "people", "People")
    schema, names = entity_schema([PARTY, person], "plural", describe=True)
    assert names == ["political_parties", "people"]
    assert schema["required"] == names
    assert schema["properties"]["people"]["description"] == "People"
    entities = [Entity("person", "Putin"), Entity("politicalparty", "United Russia"),
                Entity("person", "Putin"), Entity("person", "Medvedev")]
    expected = entity_expected([PARTY, person], names, entities)
    assert expected == {"political_parties": ["United Russia"], "people": ["Putin", "Medvedev"]}
    Draft202012Validator.check_schema(schema)
    assert Draft202012Validator(schema).is_valid(expected)
    assert conforms(expected, schema)
    bare, _ = entity_schema([PARTY], "raw", describe=False)
    assert "description" not in bare["properties"]["politicalparty"]


@pytest.mark.parametrize("value", [
    {"a": ["x"]},                 # missing required b
    {"a": ["x"], "b": [], "c": []},  # additional property
    {"a": [1], "b": []},          # item of the wrong type
    {"a": "x", "b": []},          # not an array
])
def test_conforms_agrees_with_jsonschema_on_invalid(value: dict) -> None:
    schema = {"type": "object", "properties": {
        "a": {"type": "array", "items": {"type": "string"}},
        "b": {"type": "array", "items": {"type": "string"}}},
        "required": ["a", "b"], "additionalProperties": False}
    assert not Draft202012Validator(schema).is_valid(value)
    assert not conforms(value, schema)


def test_conforms_enum_and_boolean() -> None:
    schema = {"type": "object", "properties": {
        "food": {"type": "string", "enum": ["Chinese", "English"]},
        "kids": {"type": "boolean"}}}
    assert conforms({"food": "Chinese", "kids": True}, schema)
    assert not conforms({"food": "Thai"}, schema)
    assert not conforms({"kids": "yes"}, schema)
    assert not conforms({"kids": 1}, schema)
