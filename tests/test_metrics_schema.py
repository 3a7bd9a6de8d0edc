"""maaza_rt.metrics: schema validation against a table, the reference and jsonschema (EdgeJSON
schemas and the MaskBench corpus), schema and argument errors, and groups mixing pairs with and
without a schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import MASKBENCH

from maaza_rt import metrics
from maaza_rt.errors import JsonError, SchemaError
from maaza_rt.metrics_reference import schema_valid_reference

# ---- schema validation ---------------------------------------------------------------------------

SCHEMA_CASES: list[tuple[dict, Any, bool]] = [
    ({"type": "integer"}, 1, True),
    ({"type": "integer"}, 1.0, True),
    ({"type": "integer"}, 1.5, False),
    ({"type": "integer"}, True, False),
    ({"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"}, 1.0, False),
    ({"$schema": "http://json-schema.org/draft-04/schema#", "minimum": 2,
      "exclusiveMinimum": True}, 2, False),
    ({"type": "number"}, False, False),
    ({"type": ["string", "null"]}, None, True),
    ({"type": ["string", "null"]}, 3, False),
    ({"properties": {"a": {"type": "string"}}, "required": ["a"]}, {"a": "x"}, True),
    ({"properties": {"a": {"type": "string"}}, "required": ["a"]}, {"b": "x"}, False),
    ({"properties": {"a": {}}, "additionalProperties": False}, {"a": 1, "b": 2}, False),
    ({"additionalProperties": {"type": "integer"}}, {"a": 1, "b": 2}, True),
    ({"patternProperties": {"^x": {"type": "integer"}}, "additionalProperties": False},
     {"x1": 1}, True),
    ({"patternProperties": {"^x": {"type": "integer"}}, "additionalProperties": False},
     {"y1": 1}, False),
    ({"items": {"type": "integer"}}, [1, 2, "3"], False),
    ({"prefixItems": [{"type": "string"}], "items": {"type": "integer"}}, ["a", 1], True),
    ({"prefixItems": [{"type": "string"}], "items": {"type": "integer"}}, ["a", "b"], False),
    ({"$schema": "http://json-schema.org/draft-07/schema#", "items": [{"type": "string"}],
      "additionalItems": False}, ["a", 1], False),
    # 2019-09: prefixItems is not a keyword yet (found by the schema fuzzer's oracle), and
    # array-form items with additionalItems is the tuple.
    ({"$schema": "https://json-schema.org/draft/2019-09/schema", "type": "array",
      "prefixItems": [{"type": "object"}]}, [18], True),
    ({"$schema": "https://json-schema.org/draft/2019-09/schema", "items": [{"type": "string"}],
      "additionalItems": False}, ["a", 1], False),
    ({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "array",
      "prefixItems": [{"type": "object"}]}, [18], False),
    ({"minItems": 2, "maxItems": 3}, [1], False),
    ({"minItems": 2, "maxItems": 3}, [1, 2, 3], True),
    ({"uniqueItems": True}, [1, 1.0], False),
    ({"uniqueItems": True}, [1, True], True),
    ({"uniqueItems": True}, [{"a": 1}, {"a": 2}], True),
    ({"enum": ["a", 1]}, 1.0, True),
    ({"enum": ["a", 1]}, True, False),
    ({"const": {"a": [1]}}, {"a": [1.0]}, True),
    ({"anyOf": [{"type": "string"}, {"minimum": 3}]}, 2, False),
    ({"oneOf": [{"type": "integer"}, {"minimum": 3}]}, 5, False),
    ({"oneOf": [{"type": "integer"}, {"minimum": 3}]}, 4.5, True),
    ({"allOf": [{"minimum": 1}, {"maximum": 2}]}, 3, False),
    ({"not": {"type": "null"}}, None, False),
    ({"$defs": {"p": {"type": "integer"}}, "properties": {"a": {"$ref": "#/$defs/p"}}},
     {"a": "x"}, False),
    ({"definitions": {"p": {"type": "integer"}}, "items": {"$ref": "#/definitions/p"}}, [1], True),
    ({"properties": {"next": {"$ref": "#"}}, "type": "object", "required": ["v"]},
     {"v": 1, "next": {"v": 2, "next": {}}}, False),
    ({"$schema": "http://json-schema.org/draft-07/schema#",
      "definitions": {"s": {"type": "string"}}, "$ref": "#/definitions/s", "minLength": 5},
     "abc", True),  # draft-07: siblings of $ref are ignored
    ({"definitions": {"s": {"type": "string"}}, "$ref": "#/definitions/s", "minLength": 5},
     "abc", False),  # 2020-12: they apply
    ({"minLength": 2, "maxLength": 3}, "\U0001f600\U0001f600", True),  # code points
    ({"maxLength": 1}, "é", True),
    ({"pattern": "^[+]?[0-9\\-\\s()]+$"}, "+1 (555) 010-9999", True),
    ({"pattern": "^[+]?[0-9\\-\\s()]+$"}, "555-CALL", False),
    ({"pattern": "b"}, "abc", True),  # search semantics
    # ECMA-262 control escapes: \cA is U+0001; an escaped backslash leaves "cA" literal.
    ({"pattern": "^\\cA$"}, "\u0001", True),
    ({"pattern": "^\\cA$"}, "cA", False),
    ({"pattern": "^[\\ca-\\cc]$"}, "\u0002", True),
    ({"pattern": "^\\\\cA$"}, "\\cA", True),
    ({"minimum": 0, "exclusiveMaximum": 10}, 10, False),
    ({"exclusiveMinimum": 0}, 0.0, False),
    ({"maximum": 10**30}, 10**30, True),
    ({"maximum": 10**30}, 10**30 + 1, False),
    ({"minimum": 1.5}, 1, False),
    ({"multipleOf": 0.25}, 0.75, True),
    ({"multipleOf": 0.01}, 0.07, False),  # float division, as jsonschema: 7.000000000000001
    ({"multipleOf": 3}, 9.0, True),
    ({"multipleOf": 3}, 10**25, False),
    ({"multipleOf": 3}, 3 * 10**25, True),
    ({"minProperties": 1}, {}, False),
    ({"maxProperties": 1}, {"a": 1, "b": 2}, False),
    ({"format": "date-time"}, "2012-02-29T18:46:41.361024", True),
    ({"format": "date-time"}, "2013-02-29T18:46:41", False),
    ({"format": "date-time"}, "2012-02-29T18:46:41+02:00", True),
    ({"format": "date"}, "2000-02-29", True),
    ({"format": "date"}, "1900-02-29", False),
    ({"format": "email"}, "ada@example.com", True),
    ({"format": "email"}, "ada@localhost", False),
    ({"format": "email"}, "a..b@example.com", False),
    ({"format": "uuid"}, "32440f07-0ae2-43e0-ae66-3c0ac1e0a4a1", True),
    ({"format": "ipv4"}, "192.168.01.1", False),
    ({"format": "ipv4"}, "192.168.1.255", True),
    ({"format": "uri"}, "https://example.com/a?b=c%20d", True),
    ({"format": "uri"}, "example.com/a b", False),
    ({"format": "time"}, "24:00:00", False),
    ({"format": "unknown-format"}, "anything", True),
    ({"format": "email"}, 5, True),  # formats only apply to strings
    (True, {"anything": 1}, True),
    (False, 1, False),
    ({"properties": {"a": False}}, {"a": 1}, False),
]


@pytest.mark.parametrize(("schema", "instance", "valid"), SCHEMA_CASES)
def test_metrics_schema_valid_table(schema: Any, instance: Any, valid: bool) -> None:
    text = json.dumps(instance)
    assert metrics.schema_valid(text, schema) is valid
    assert schema_valid_reference(instance, schema) is valid


def test_metrics_schema_valid_uses_jsonschema_as_oracle(edgejson_schemas: dict[str, dict]) -> None:
    # Plain jsonschema (no format checks) must agree wherever formats are not involved.
    schema = edgejson_schemas["contact_info"]
    for instance, valid in [
        ({"name": "A", "email": "a@b.co", "phone": "+1 555"}, True),
        ({"name": "A", "email": "a@b.co", "phone": "call me"}, False),
        ({"name": "A", "email": "a@b.co"}, False),
        ({"name": "A", "email": "a@b.co", "phone": "1", "x": 1}, False),
    ]:
        assert jsonschema.Draft7Validator(schema).is_valid(instance) is valid
        assert metrics.schema_valid(json.dumps(instance), schema) is valid


@pytest.mark.parametrize(
    ("schema", "keyword"),
    [
        ({"$ref": "http://example.com/s.json"}, "$ref"),
        ({"$ref": "#/definitions/missing"}, "$ref"),
        ({"pattern": "(unclosed"}, "pattern"),
        ({"type": "decimal"}, "type"),
        ({"minLength": "3"}, "minLength"),
        ({"properties": {"a": 3}}, ""),
    ],
)
def test_metrics_bad_schema_raises_schema_error(schema: dict, keyword: str) -> None:
    with pytest.raises(SchemaError) as info:
        metrics.score_pair("{}", "{}", schema)
    assert info.value.keyword == keyword


def test_metrics_bad_expected_raises_json_error_with_index() -> None:
    with pytest.raises(JsonError, match=r"expected\[1\]"):
        metrics.score(["{}", "{}"], ["{}", "{oops"])


def test_metrics_bad_arguments_raise() -> None:
    with pytest.raises(ValueError):
        metrics.score(["{}"], ["{}", "{}"])
    with pytest.raises(TypeError):
        metrics.score([{"a": 1}], ["{}"])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        metrics.score(["{}"], ["{}"], groups=["a", "b"])


def test_metrics_ref_cycle_is_refused_not_a_crash() -> None:
    with pytest.raises(SchemaError) as e:
        metrics.schema_valid("1", {"$ref": "#"})
    assert e.value.keyword == "$ref"


def test_metrics_groups_and_schema_mix() -> None:
    out = metrics.score(
        ['{"a":1}', '{"a":2}', "oops"],
        ['{"a":1}', '{"a":1}', '{"a":1}'],
        schemas=[{"properties": {"a": {"const": 1}}}, None, '{"type":"object"}'],
        groups=["s", "c", "s"],
    )
    assert out["overall"]["n_with_schema"] == 2
    assert out["overall"]["schema_valid"] == 0.5
    assert out["overall"]["n_unparsed"] == 1
    assert out["groups"]["s"]["json_exact"] == 0.5
    assert out["groups"]["c"]["schema_valid"] is None
    assert out["groups"]["c"]["field_f1"] == 0.0


# ---- MaskBench corpus: native validator against jsonschema with the reference formats ------------

_SUPPORTED = {
    "type", "properties", "patternProperties", "additionalProperties", "required", "items",
    "prefixItems", "additionalItems", "minItems", "maxItems", "uniqueItems", "enum", "const",
    "anyOf", "oneOf", "allOf", "not", "$ref", "$defs", "definitions", "minLength", "maxLength",
    "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "multipleOf", "minProperties", "maxProperties", "title", "description", "default",
    "examples", "$schema", "$comment", "readOnly", "writeOnly", "deprecated",
}


_NAME_MAPS = {"properties", "patternProperties", "$defs", "definitions"}


def _only_supported(schema: Any) -> bool:
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, dict):
        return False
    for k, v in schema.items():
        if k not in _SUPPORTED:
            return False
        if k in _NAME_MAPS:
            if not isinstance(v, dict) or not all(_only_supported(s) for s in v.values()):
                return False
        elif k in ("items", "additionalItems", "additionalProperties", "not"):
            subs = v if isinstance(v, list) else [v]
            if not all(_only_supported(s) for s in subs):
                return False
        elif k in ("anyOf", "oneOf", "allOf", "prefixItems"):
            if not isinstance(v, list) or not all(_only_supported(s) for s in v):
                return False
        elif k in ("pattern",) or (k == "$ref" and not str(v).startswith("#")):
            if k == "$ref":
                return False
    return True


@pytest.mark.slow
def test_metrics_maskbench_validator_agrees_with_jsonschema() -> None:
    files = sorted(MASKBENCH.glob("*.json"))[::10]
    checked = 0
    for path in files:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        schema = data["schema"]
        if not _only_supported(schema):
            continue
        for test in data.get("tests", []):
            text = json.dumps(test["data"])
            try:
                native = metrics.schema_valid(text, schema)
            except SchemaError:
                break  # a pattern std::regex does not accept: refused, as documented
            ref = schema_valid_reference(test["data"], schema)
            assert native is ref, f"{path.name}: {text[:200]}"
            checked += 1
    assert checked > 200


@pytest.mark.parametrize("schema", [
    {"oneOf": [True, {"$ref": "#"}, {"$ref": "#"}]},
    {"$defs": {"a": {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/b"}]},
               "b": {"allOf": [{"not": {"$ref": "#/$defs/a"}}]}},
     "$ref": "#/$defs/a"},
])
def test_metrics_refuses_a_schema_that_refers_to_itself_in_place(schema: Any) -> None:
    """A schema that reaches itself through `$ref` and allOf/anyOf/oneOf/not without descending
    into the instance has no terminating validation (two such oneOf branches made 2^2000 calls:
    the schema fuzzer's timeout,
    fuzz/regressions/schema/timeout-validator-self-reference-in-one-of). It is refused at once;
    recursion through properties and items stays valid."""
    with pytest.raises(SchemaError) as e:
        metrics.schema_valid("null", json.dumps(schema))
    assert e.value.keyword == "$ref"
    tree = {"$defs": {"n": {"type": "object", "properties": {
        "c": {"type": "array", "items": {"$ref": "#/$defs/n"}}}}}, "$ref": "#/$defs/n"}
    assert metrics.schema_valid('{"c":[{"c":[]}]}', json.dumps(tree))
    assert not metrics.schema_valid('{"c":[1]}', json.dumps(tree))


def _ref_chain(length: int, keyword: str) -> dict[str, Any]:
    """``a0 .. a{length}``: each level holds ``keyword`` of two references to the next, the
    last level ``{"type": "integer"}``: 2^length paths to the last level."""
    defs: dict[str, Any] = {f"a{i}": {keyword: [{"$ref": f"#/$defs/a{i + 1}"},
                                                {"$ref": f"#/$defs/a{i + 1}"}]}
                            for i in range(length)}
    defs[f"a{length}"] = {"type": "integer"}
    return {"$defs": defs, "$ref": "#/$defs/a0"}


@pytest.mark.parametrize("keyword", ["allOf", "anyOf", "oneOf"])
@pytest.mark.parametrize("instance", ["1", '"x"', "[1]"])
def test_metrics_validates_many_paths_to_one_subschema_once(keyword: str, instance: str) -> None:
    """References that meet again (a chain of ``allOf: [{$ref: next}, {$ref: next}]``) are
    followed once per instance node: 2^60 paths take no time, and the answers are
    jsonschema's (checked on a chain of 8, whose 256 paths it walks)."""
    import jsonschema

    short = _ref_chain(8, keyword)
    expected = jsonschema.Draft202012Validator(short).is_valid(json.loads(instance))
    assert metrics.schema_valid(instance, json.dumps(short)) is expected
    assert metrics.schema_valid(instance, json.dumps(_ref_chain(60, keyword))) is expected


def test_metrics_validates_a_member_reached_two_ways_once_per_level() -> None:
    """``properties`` and ``patternProperties`` both apply to ``a`` and both refer to the root:
    two paths per level of a 60-deep instance."""
    schema = {"properties": {"a": {"$ref": "#"}}, "patternProperties": {"^a$": {"$ref": "#"}},
              "type": ["object", "integer"]}
    deep = "1"
    for _ in range(60):
        deep = '{"a":' + deep + "}"
    assert metrics.schema_valid(deep, json.dumps(schema))
    assert not metrics.schema_valid(deep.replace("1", '"one"'), json.dumps(schema))
