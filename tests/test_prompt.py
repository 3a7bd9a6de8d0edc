"""The prompt template: schema rendering, prefix/suffix split, token encoding, target text."""

from __future__ import annotations

import json

import jsonschema
import pytest

from maaza_rt.prompt import (
    INSTRUCTION,
    Prompt,
    build_prompt,
    completion_text,
    encode_prompt,
    render_schema,
)

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content']"
    " + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
BOS_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}<start_of_turn>{{ message['role'] }}\n"
    "{{ message['content'] }}<end_of_turn>\n{% endfor %}<start_of_turn>model\n"
)

CONTACT = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "Full name of the person"},
        "email": {"type": "string", "format": "email"},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "status": {"enum": ["active", "inactive"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "address": {"type": "object", "properties": {"city": {"type": "string"}},
                    "required": ["city"]},
    },
    "required": ["name", "email"],
}


def test_render_schema_lists_properties_types_and_requiredness() -> None:
    text = render_schema(CONTACT)
    assert "name: string // Full name of the person" in text
    assert "email: string(email)" in text
    assert "age?: integer 0..150" in text
    assert 'status?: "active"|"inactive"' in text
    assert "tags?: string[]" in text
    assert "address?: {" in text and "city: string" in text


def test_render_schema_shortens_long_descriptions() -> None:
    schema = {"type": "object", "properties": {"x": {"type": "string", "description": "w " * 200}}}
    line = render_schema(schema).splitlines()[1]
    assert len(line) < 100 and line.endswith("...")


def test_render_schema_resolves_refs_and_survives_recursion() -> None:
    schema = {
        "$defs": {"Node": {"type": "object", "properties": {
            "label": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}},
        "$ref": "#/$defs/Node",
    }
    text = render_schema(schema)
    assert "label?: string" in text
    assert "children?: Node[]" in text


def test_render_schema_every_edgejson_schema_is_compact(edgejson_schemas: dict) -> None:
    assert len(edgejson_schemas) == 25
    for schema_id, schema in edgejson_schemas.items():
        text = render_schema(schema)
        for name in schema.get("properties", {}):
            assert f"\n {name}" in text, (schema_id, name)
        # Compact: the rendering is much shorter than the schema's own JSON.
        assert len(text) < 0.6 * len(json.dumps(schema)), schema_id


def test_build_prompt_chat_template_splits_at_the_text() -> None:
    a = build_prompt("Ada Lovelace, ada@example.com", CONTACT, CHATML)
    b = build_prompt("Someone else", CONTACT, CHATML)
    assert a.prefix == b.prefix
    assert a.prefix.startswith("<|im_start|>user\n" + INSTRUCTION)
    assert a.suffix == "Ada Lovelace, ada@example.com<|im_end|>\n<|im_start|>assistant\n"
    assert "Ada" not in a.prefix


def test_build_prompt_plain_template_for_base_models() -> None:
    p = build_prompt("some text", CONTACT)
    assert p.prefix.startswith(INSTRUCTION) and p.prefix.endswith("Text:\n")
    assert p.suffix == "some text\n\nJSON:\n"
    assert build_prompt("", CONTACT).suffix == "\n\nJSON:\n"


def test_build_prompt_renders_bos_token_in_template() -> None:
    p = build_prompt("t", CONTACT, BOS_TEMPLATE, bos_token="<bos>")
    assert p.prefix.startswith("<bos><start_of_turn>user\n")
    # Like Hugging Face's renderer, jinja2 drops the template's final newline.
    assert p.suffix == "t<end_of_turn>\n<start_of_turn>model"


def test_build_prompt_bad_template_raises_value_error() -> None:
    with pytest.raises(ValueError, match="chat template"):
        build_prompt("t", CONTACT, "{% for %}")
    with pytest.raises(ValueError, match="intact"):
        build_prompt("t", CONTACT, "{{ messages[0]['content'][:5] }}")


def test_encode_prompt_adds_bos_once_on_the_prefix_only() -> None:
    calls: list[tuple[str, bool]] = []

    def tokenize(text: str, add_special: bool) -> list[int]:
        calls.append((text, add_special))
        return ([1] if add_special else []) + [ord(c) for c in text]

    ids = encode_prompt(Prompt("ab", "c"), tokenize, add_bos=True)
    assert ids == [1, ord("a"), ord("b"), ord("c")]
    assert calls == [("ab", True), ("c", False)]
    calls.clear()
    encode_prompt(Prompt("<bos>ab", "c"), tokenize, add_bos=True, bos_token="<bos>")
    assert calls == [("<bos>ab", False), ("c", False)]
    calls.clear()
    encode_prompt(Prompt("ab", "c"), tokenize, add_bos=False)
    assert calls == [("ab", False), ("c", False)]


def test_completion_text_orders_keys_like_properties() -> None:
    value = {"tags": ["x"], "email": "a@b.co", "address": {"city": "Paris"}, "name": "Ada"}
    text = completion_text(value, CONTACT)
    assert text == '{"name":"Ada","email":"a@b.co","tags":["x"],"address":{"city":"Paris"}}'
    jsonschema.validate(json.loads(text), CONTACT)


def test_completion_text_orders_nested_array_items_and_keeps_unicode() -> None:
    schema = {"type": "object", "properties": {"items": {"type": "array", "items": {
        "type": "object", "properties": {"b": {"type": "string"}, "a": {"type": "number"}}}}}}
    text = completion_text({"items": [{"a": 1.5, "b": "é"}]}, schema)
    assert text == '{"items":[{"b":"é","a":1.5}]}'


def test_completion_text_round_trips_every_edgejson_row(edgejson_rows: list,
                                                       edgejson_schemas: dict) -> None:
    for row in edgejson_rows:
        schema = edgejson_schemas[row["schema_id"]]
        text = completion_text(row["expected_output"], schema)
        assert json.loads(text) == row["expected_output"]
        order = [k for k in schema["properties"] if k in row["expected_output"]]
        assert list(json.loads(text))[: len(order)] == order, row["id"]
