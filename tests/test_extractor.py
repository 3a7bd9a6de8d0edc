"""The public extraction API with the default model: :class:`Extractor`, :func:`extract`, their
details, errors and options, and closing a value within ``max_tokens``.

Tests with the real model assert only what holds for any reasonable model (valid output, a value
not run on into the next one, a value closed within its budget), never which near-ties the
current model and merge meet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import jsonschema
import pytest

import maaza_rt
from maaza_rt.confidence import leaf_byte_ranges
from maaza_rt.llama_model import grammar_vocabulary
from maaza_rt.schemas import compile_schema

CONTACT = json.loads((Path(__file__).parent.parent / "examples" / "contact.json").read_text())


@pytest.fixture(scope="module")
def extractor() -> maaza_rt.Extractor:
    ex = maaza_rt.Extractor()
    yield ex
    ex.close()


@pytest.mark.model
def test_extract_returns_value_and_details(extractor: maaza_rt.Extractor) -> None:
    text = "Reach Ada Lovelace at ada@example.com or +44 20 7946 0000."
    value = extractor.extract(text, CONTACT)
    jsonschema.validate(value, CONTACT)
    details = extractor.extract(text, CONTACT, return_details=True)
    assert isinstance(details, maaza_rt.Extraction)
    assert details.value == value
    assert details.text == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    # Some tokens came from batches (forced or drafted), not all.
    assert 0 < details.n_forced_tokens + details.n_drafted_tokens < details.n_output_tokens
    assert details.n_prompt_tokens_reused == details.n_prompt_tokens - 1
    assert details.total_ms >= details.prompt_ms + details.decode_ms > 0
    assert details.grammar_ms > 0
    assert not details.budget_closed and details.n_closing_tokens == 0 and details.closed == []
    # The default model ships a calibration map: confidence is the probability mapped by it.
    assert details.calibrated and set(details.confidence) == set(details.probability)
    assert details.confidence == extractor.calibration.apply(
        details.value, details.probability, details.spans, [])
    assert all(0 < p <= 1 for p in details.probability.values())


@pytest.mark.model
def test_clear_cache_makes_the_next_prompt_evaluate_whole(
        extractor: maaza_rt.Extractor) -> None:
    text = "Grace Hopper, grace@navy.mil"
    warm = extractor.extract(text, CONTACT, return_details=True)
    again = extractor.extract(text, CONTACT, return_details=True)
    assert again.n_prompt_tokens_reused == again.n_prompt_tokens - 1
    extractor.clear_cache()
    cold = extractor.extract(text, CONTACT, return_details=True)
    assert cold.n_prompt_tokens_reused == 0
    assert cold.value == warm.value and cold.text == warm.text
    extractor.clear_cache()
    extractor.clear_cache()  # twice in a row is fine
    extractor.close()
    extractor.clear_cache()  # and so is a closed context
    assert extractor.extract(text, CONTACT) == warm.value


@pytest.mark.model
def test_extract_accepts_empty_text_and_schema_forms(extractor: maaza_rt.Extractor,
                                                             tmp_path: Path) -> None:
    jsonschema.validate(extractor.extract("", CONTACT), CONTACT)
    path = tmp_path / "contact.json"
    path.write_text(json.dumps(CONTACT))
    text = "Grace Hopper, grace@navy.mil"
    expected = extractor.extract(text, CONTACT)
    assert extractor.extract(text, str(path)) == expected
    assert extractor.extract(text, path) == expected
    assert extractor.extract(text, json.dumps(CONTACT)) == expected
    assert extractor.extract_many([text, text], CONTACT) == [expected, expected]


@pytest.mark.model
def test_extract_pydantic_class_returns_instance(extractor: maaza_rt.Extractor) -> None:
    pydantic = pytest.importorskip("pydantic")

    class Contact(pydantic.BaseModel):
        name: str
        age: Optional[int] = None  # noqa: UP045 (evaluated at run time on Python 3.9)

    result = extractor.extract("Ada Lovelace is 36 years old.", Contact)
    assert isinstance(result, Contact)
    jsonschema.validate(result.model_dump(), Contact.model_json_schema())


@pytest.mark.model
def test_module_extract_reuses_one_extractor() -> None:
    a = maaza_rt.extract("Ada, ada@example.com", CONTACT, return_details=True)
    b = maaza_rt.extract("Bob, bob@example.com", CONTACT, return_details=True)
    jsonschema.validate(a.value, CONTACT)
    assert b.n_prompt_tokens_reused > b.n_prompt_tokens // 2


@pytest.mark.model
def test_extract_errors_through_api(extractor: maaza_rt.Extractor,
                                            tmp_path: Path) -> None:
    with pytest.raises(maaza_rt.SchemaError) as info:
        extractor.extract("x", {"not": {"type": "string"}})
    assert info.value.keyword == "not"
    with pytest.raises(maaza_rt.GenerationLimitError) as limit:
        extractor.extract("Ada, ada@example.com", CONTACT, max_tokens=3)
    assert limit.value.partial_text.startswith("{") and limit.value.n_tokens == 3
    small = maaza_rt.Extractor(n_ctx=64)
    with pytest.raises(maaza_rt.InputTooLongError, match="tokens over the context window of 64"):
        small.extract("Ada, ada@example.com", CONTACT, max_tokens=16)
    bad = tmp_path / "bad.gguf"
    bad.write_text("not a model")
    with pytest.raises(maaza_rt.ModelError, match="not a GGUF"):
        maaza_rt.extract("x", CONTACT, model=bad)
    with pytest.raises(TypeError):
        extractor.extract(b"bytes", CONTACT)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        extractor.extract("x", CONTACT, max_tokens=0)
    for bad_options in ({"copy_bias": -1.0}, {"copy_bias": float("nan")},
                        {"copy_bias": 1.0, "prompt_lookup": False},
                        {"copy_bias": 1.0, "temperature": 0.5}):
        with pytest.raises(ValueError, match="copy_bias"):
            extractor.extract("x", CONTACT, **bad_options)
    for bad_bias in (-1.0, float("nan")):
        with pytest.raises(ValueError, match="absent_bias"):
            extractor.extract("x", CONTACT, absent_bias=bad_bias)
    # The default bias switches itself off where it cannot apply.
    assert extractor.extract("x", CONTACT, prompt_lookup=False, max_tokens=64) is not None
    assert extractor.extract("x", CONTACT, temperature=0.5, seed=1, max_tokens=64) is not None


COPY_TEXT = "Name: Zorbulon Quaxwell-Trimbledon; city: Flurbingham Heights."
PLACE = {"type": "object", "properties": {"name": {"type": "string"}, "city": {"type": "string"}},
         "required": ["name", "city"]}


@pytest.mark.model
def test_copy_bias_never_runs_past_the_value(extractor: maaza_rt.Extractor) -> None:
    """Where the text goes on after the name ("; city: ..."), so would the copy; the model
    decides where a value ends, so however strong the bias the name does not take in the city
    (a bias applied to closing tokens too ran the name on to the end of the line). The rule
    itself is tested with scripted logits (test_copy_bias_never_moves_where_a_value_ends in
    test_decoding_loop.py, CopyBias in test_decoding_choosers.py); this holds for any model
    that ends the name where the text labels the city."""
    for bias in (0.0, None, 2.0, 1e9):
        d = extractor.extract(COPY_TEXT, PLACE, copy_bias=bias, return_details=True)
        jsonschema.validate(d.value, PLACE)
        name = d.value["name"]
        assert ";" not in name and "city" not in name.lower(), (bias, d.text)
        assert d.n_drafted_tokens > 0, bias


# ---- budget closing --------------------------------------------------------------------------

REPORT = {
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string", "minLength": 2}, "minItems": 2},
        "year": {"type": "integer", "minimum": 1900},
    },
    "required": ["summary", "tags", "year"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def one_thread() -> maaza_rt.Extractor:
    """An Extractor on one thread: llama.cpp's threads spin while waiting, so where the cores are
    busy one thread is much faster than two (the budget tests decode the most tokens)."""
    ex = maaza_rt.Extractor(n_threads=1)
    yield ex
    ex.close()


LONG_TEXT = ("The committee met on Tuesday to review the harbour renovation, the new ferry "
             "timetable, the budget for the school library, street lighting on the east side, "
             "and the plans for the summer festival, which will run for three weeks in July.")


@pytest.mark.model
def test_budget_closing_returns_valid_value(one_thread: maaza_rt.Extractor) -> None:
    extractor = one_thread
    vocab = grammar_vocabulary(extractor.model)
    matcher = maaza_rt.GrammarMatcher(compile_schema(REPORT), vocab)
    completion = matcher.shortest_completion()
    assert completion == b'{"summary":"","tags":["  ","  "],"year":1900}'
    # Budgets from the fewest tokens of a valid value up to below the model's own length in
    # both modes (copy_bias 0: the same greedy choices in both; the bias is a decoding choice
    # of its own), so the value must close whatever the model writes, as long as it writes
    # more than the shortest value (a word of summary does).
    modes = (True, False)
    own = min(extractor.extract(LONG_TEXT, REPORT, jump_forward=jump, prompt_lookup=jump,
                                copy_bias=0.0, return_details=True).n_output_tokens
              for jump in modes)
    fewest = len(extractor.model.tokenize(completion, False, False))
    budgets = [b for b in (fewest, fewest + 10) if b < own]
    assert budgets and budgets[0] == fewest, (fewest, own)
    for max_tokens in budgets:
        outputs = []
        for jump in modes:
            d = extractor.extract(LONG_TEXT, REPORT, max_tokens=max_tokens, jump_forward=jump,
                                  prompt_lookup=jump, copy_bias=0.0, return_details=True)
            jsonschema.validate(d.value, REPORT)
            assert d.n_output_tokens <= max_tokens
            assert d.budget_closed and 0 < d.n_closing_tokens <= d.n_output_tokens, d.text
            # Closing wrote the last leaf at least (the text it cut, or the values it added).
            assert d.closed and set(d.closed) <= set(d.confidence) == set(d.probability)
            assert list(leaf_byte_ranges(d.text))[-1] in d.closed
            outputs.append(d.text)
        assert outputs[0] == outputs[1], max_tokens


@pytest.mark.model
def test_budget_closing_not_needed_with_room(one_thread: maaza_rt.Extractor) -> None:
    d = one_thread.extract("Grace Hopper, grace@navy.mil", CONTACT, max_tokens=200,
                          return_details=True)
    assert not d.budget_closed and d.n_closing_tokens == 0
    jsonschema.validate(d.value, CONTACT)


@pytest.mark.model
def test_generation_limit_below_the_shortest_value(one_thread: maaza_rt.Extractor) -> None:
    """Under the size of the smallest valid value, closing cannot help: the limit error stays."""
    with pytest.raises(maaza_rt.GenerationLimitError) as info:
        one_thread.extract(LONG_TEXT, REPORT, max_tokens=8)
    assert info.value.n_tokens == 8 and info.value.partial_text.startswith('{"summary":"')


@pytest.mark.model
def test_details_spans_and_confidence_of_every_leaf(extractor: maaza_rt.Extractor) -> None:
    """Every leaf has a probability; every span holds its value (whitespace runs as one
    space); without details nothing is recorded, and the value is the same."""
    from maaza_rt.grounding_text import collapse_whitespace
    from maaza_rt.spans import leaves

    schema = {"type": "object", "properties": {
        "name": {"type": "string", "description": "Full name"},
        "address": {"type": "string", "description": "Postal address"},
        "total": {"type": "number"}, "paid": {"type": "boolean"}},
        "required": ["name", "address", "total", "paid"]}
    text = "Invoice for Ada Lovelace,\n  12 Main St,\n  Springfield. Total due: $1,240.50."
    r = extractor.extract(text, schema, return_details=True)
    assert r.value == extractor.extract(text, schema)
    assert set(r.confidence) == {p for p, _ in leaves(r.value)}
    assert all(0.0 < p <= 1.0 for p in r.confidence.values())
    values = dict(leaves(r.value))
    for pointer, (start, end) in r.spans.items():
        if isinstance(values[pointer], str):
            assert collapse_whitespace(text[start:end]) == collapse_whitespace(values[pointer])
        else:
            assert json.loads(text[start:end].replace(",", "")) == values[pointer]
    assert "/paid" not in r.spans
    assert maaza_rt.Extraction(value=1, text="1", n_prompt_tokens=1, n_prompt_tokens_reused=0,
                               n_output_tokens=1, n_forced_tokens=0, prompt_ms=0.0,
                               decode_ms=0.0, grammar_ms=0.0, total_ms=0.0).spans == {}


@pytest.mark.model
def test_readme_shows_what_the_default_model_prints(extractor: maaza_rt.Extractor) -> None:
    """The README's two examples (the command line on examples/contact.json, the Python API on
    its inline schema) print what it says they print, with grounding on and off."""
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    cli = extractor.extract("Reach Ada Lovelace at ada@example.com or +44 20 7946 0000.", CONTACT)
    assert f"`{json.dumps(cli, ensure_ascii=False)}`" in readme
    schema = {"type": "object", "properties": {
        "name": {"type": "string", "description": "Full name of the person"},
        "email": {"type": "string", "format": "email"}}, "required": ["name", "email"]}
    text = "Reach Ada Lovelace at ada@example.com."
    assert f"# {extractor.extract(text, schema)!r}  (what the default model prints)" in readme
    ungrounded = repr(extractor.extract(text, schema, grounded=False))
    assert ungrounded in " ".join(readme.split())
