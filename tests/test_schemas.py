"""Schema arguments: what :func:`load_schema` accepts and the errors it raises, and the
grammars :func:`compile_schema` compiles and caches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maaza_rt import GrammarMatcher, SchemaError, Vocabulary
from maaza_rt.schemas import compile_schema, load_schema

SCHEMA = {"type": "object", "properties": {"name": {"type": "string"},
                                           "email": {"type": "string"},
                                           "phone": {"type": "string"}},
          "required": ["name", "email"]}


def test_load_schema_accepts_dict_text_and_paths(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(SCHEMA))
    assert load_schema(SCHEMA) == (SCHEMA, None)
    assert load_schema(json.dumps(SCHEMA)) == (SCHEMA, None)
    assert load_schema(str(path)) == (SCHEMA, None)
    assert load_schema(path) == (SCHEMA, None)
    assert load_schema(True) == (True, None)


def test_load_schema_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="cannot read schema file .*absent.json"):
        load_schema(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(SchemaError, match="broken.json is not valid JSON"):
        load_schema(broken)
    with pytest.raises(SchemaError, match="not valid JSON"):
        load_schema('{"type": ')
    with pytest.raises(SchemaError, match="object or boolean"):
        load_schema("[1, 2]")
    with pytest.raises(SchemaError, match="unsupported schema argument"):
        load_schema(42)


def test_compile_schema_caches_per_schema_and_options() -> None:
    grammar = compile_schema(SCHEMA)
    # Equal schemas (key order aside) share one compiled grammar; other options do not.
    assert compile_schema(dict(reversed(list(SCHEMA.items())))) is grammar
    assert compile_schema(SCHEMA, lenient=True) is not grammar
    assert compile_schema({**SCHEMA, "required": ["name"]}) is not grammar
    # Compact whitespace: the shortest value has none.
    assert GrammarMatcher(grammar, Vocabulary([bytes([b]) for b in range(256)] + [b""], [256])
                          ).shortest_completion() == b'{"name":"","email":""}'


def test_compile_schema_rejects_what_it_cannot_enforce() -> None:
    with pytest.raises(SchemaError) as info:
        compile_schema({"not": {"type": "string"}})
    assert info.value.keyword == "not"
    assert compile_schema({"not": {"type": "string"}}, lenient=True).ignored
