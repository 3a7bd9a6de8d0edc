"""Conformance of the schema compiler with JSON Schema, on tables of our own
(``tests/data/conformance/draft*.json``, drafts 2020-12 and 07): every keyword and format that
docs/schema_support.md lists, each with instances valid and invalid per the specification.

Three checks:

- every label agrees with ``jsonschema`` (the draft's validator with its format checker), except
  where a case documents a known disagreement (``oracle_disagrees``, checked to still hold) and
  for formats this ``jsonschema`` installation cannot check (its optional format packages:
  ``pip install "jsonschema[format-nongpl]"``), which are counted and reported;
- soundness: no invalid instance is accepted by the grammar compiled with the default options (a
  schema refused with SchemaError accepts nothing and is listed);
- completeness (valid instances accepted / valid instances) and the refused cases match
  ``baseline.json``: a refusal that appears, or fewer valid instances accepted, fails; an
  improvement asks for the baseline to be updated (``MAAZA_UPDATE_CONFORMANCE=1``).

Instances are fed compactly serialised (``json.dumps(..., separators=(",", ":"))``) to a
byte-level matcher.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from maaza_rt import SchemaError
from maaza_rt.grammar import Grammar, GrammarMatcher, Vocabulary

DATA = Path(__file__).parent / "data" / "conformance"
BASELINE = DATA / "baseline.json"
BYTE_VOCAB = Vocabulary([bytes([b]) for b in range(256)] + [b""], [256])
DRAFTS: dict[str, tuple[Any, str]] = {
    "2020-12": (jsonschema.Draft202012Validator, "https://json-schema.org/draft/2020-12/schema"),
    "07": (jsonschema.Draft7Validator, "http://json-schema.org/draft-07/schema#"),
}


@dataclass
class Case:
    draft: str
    keyword: str
    description: str
    schema: Any
    valid: list[Any]
    invalid: list[Any]
    oracle_disagrees: list[Any] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.draft} {self.keyword}: {self.description}"

    def full_schema(self) -> Any:
        if isinstance(self.schema, dict) and "$schema" not in self.schema:
            return {"$schema": DRAFTS[self.draft][1], **self.schema}
        return self.schema


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(DATA.glob("draft*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for c in doc["cases"]:
            cases.append(Case(doc["draft"], c["keyword"], c["description"], c["schema"],
                              c["valid"], c["invalid"],
                              c.get("oracle_disagrees", {}).get("instances", [])))
    return cases


CASES = load_cases()


def compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def accepts(grammar: Grammar, value: Any) -> bool:
    m = GrammarMatcher(grammar, BYTE_VOCAB)
    return m.accept_bytes(compact(value)) and m.is_complete()


def formats_in(schema: Any) -> set[str]:
    """The `format` values a schema uses (outside enum/const data)."""
    out: set[str] = set()
    if isinstance(schema, dict):
        for k, v in schema.items():
            if k == "format" and isinstance(v, str):
                out.add(v)
            elif k not in ("enum", "const", "default", "examples"):
                out |= formats_in(v)
    elif isinstance(schema, list):
        for v in schema:
            out |= formats_in(v)
    return out


def unchecked_formats(case: Case) -> set[str]:
    """Formats of the case that this jsonschema cannot check although the draft defines them
    (a format the draft does not define is valid for any string, which jsonschema knows)."""
    cls = DRAFTS[case.draft][0]
    defined = {"date", "time", "date-time", "email", "ipv4", "ipv6", "uri", "uri-reference",
               "hostname", "json-pointer"} | ({"uuid"} if case.draft == "2020-12" else set())
    return {f for f in formats_in(case.schema) if f in defined} - set(cls.FORMAT_CHECKER.checkers)


def compile_case(case: Case) -> Grammar | SchemaError:
    try:
        return Grammar.from_json_schema(case.full_schema())
    except SchemaError as e:
        return e


def reproduction(case: Case, value: Any) -> str:
    return (f"{case.id}\n  Grammar.from_json_schema({json.dumps(case.full_schema())!r}) "
            f"accepts {compact(value).decode()!r}")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_conformance_labels_agree_with_jsonschema(case: Case) -> None:
    cls = DRAFTS[case.draft][0]
    cls.check_schema(case.full_schema())
    # Without its optional packages (jsonschema[format-nongpl]) jsonschema treats some formats
    # as annotations: it then accepts every string there, so it still confirms the valid
    # labels, and an invalid label it accepts is one it cannot judge (the table's word stands).
    unchecked = unchecked_formats(case)
    validator = cls(case.full_schema(), format_checker=cls.FORMAT_CHECKER)
    for label, values in ((True, case.valid), (False, case.invalid)):
        for value in values:
            verdict = validator.is_valid(value)
            if unchecked and not label and verdict:
                continue
            if value in case.oracle_disagrees:
                assert verdict != label, f"jsonschema now agrees on {value!r}: drop the note"
            else:
                assert verdict == label, f"table label {label} for {value!r}, jsonschema {verdict}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_conformance_no_invalid_instance_accepted(case: Case) -> None:
    grammar = compile_case(case)
    if isinstance(grammar, SchemaError):
        return  # refused: accepts nothing (listed by the completeness test)
    accepted = [v for v in case.invalid if accepts(grammar, v)]
    assert not accepted, "\n".join(reproduction(case, v) for v in accepted)


def measure() -> dict[str, Any]:
    refused: list[str] = []
    n_valid = n_accepted = n_valid_compiled = 0
    for case in CASES:
        grammar = compile_case(case)
        n_valid += len(case.valid)
        if isinstance(grammar, SchemaError):
            refused.append(f"{case.id} [{grammar.keyword} at {grammar.pointer or '#'}]")
            continue
        n_valid_compiled += len(case.valid)
        n_accepted += sum(accepts(grammar, v) for v in case.valid)
    return {"cases": len(CASES), "refused": refused, "valid": n_valid,
            "valid_in_compiled": n_valid_compiled, "valid_accepted": n_accepted}


def test_conformance_completeness_and_refusals_match_baseline() -> None:
    result = measure()
    share = result["valid_accepted"] / result["valid"]
    share_compiled = result["valid_accepted"] / result["valid_in_compiled"]
    print(f"\nconformance: {result['cases']} cases, {len(result['refused'])} refused; "
          f"valid accepted {result['valid_accepted']}/{result['valid']} ({share:.1%}), "
          f"{share_compiled:.1%} of the valid instances of compiled schemas")
    for r in result["refused"]:
        print(f"  refused: {r}")
    if os.environ.get("MAAZA_UPDATE_CONFORMANCE"):
        BASELINE.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n",
                            encoding="utf-8")
        return
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    new = sorted(set(result["refused"]) - set(baseline["refused"]))
    assert not new, f"newly refused: {new}"
    assert result["valid_accepted"] >= baseline["valid_accepted"], (
        f"completeness fell: {result['valid_accepted']} < {baseline['valid_accepted']}")
    assert result == baseline, (
        "conformance improved: update tests/data/conformance/baseline.json "
        "(MAAZA_UPDATE_CONFORMANCE=1 pytest tests/test_conformance.py) and the figures in "
        "docs/schema_support.md")
