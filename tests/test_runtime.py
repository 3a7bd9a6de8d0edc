"""The decoding loop over llama.cpp: exact jump-forward and prompt lookup, prefix reuse, limits,
schema loading.

Loop tests drive the real default model with ``ChoiceMatcher`` (a pure-Python matcher over a
fixed set of strings), so they exercise llama.cpp batching, logits and KV truncation on their own.
The biases and drafters are tested exactly on scripted logits (``scripted_model``): which copy
wins, within which margin. Tests with the real model assert only what holds for any reasonable
model (valid output, the name a four-way choice must take, a value not run on into the next
one), never which near-ties the current model and merge meet.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import numpy as np
import pytest

from maaza_rt import GenerationLimitError, InputTooLongError, ModelError, SchemaError
from maaza_rt import runtime as rt
from maaza_rt.lookup import JsonScan

sys.path.insert(0, str(Path(__file__).parent))
from choice_matcher import ChoiceMatcher  # noqa: E402

CHOICES = [
    '{"name":"Ada Lovelace","email":"ada@example.com","phone":"+44 20 7946 0000"}',
    '{"name":"Charles Babbage","email":"charles@example.com","phone":"+44 20 7946 0001"}',
    '{"name":"Ada Byron","email":"ada@byron.org","phone":"+44 20 7946 0000"}',
    '{"name":"Grace Hopper","email":"grace@navy.mil"}',
]
SCHEMA = {"type": "object", "properties": {"name": {"type": "string"},
                                           "email": {"type": "string"},
                                           "phone": {"type": "string"}},
          "required": ["name", "email"]}
TEXTS = [
    "Reach Ada Lovelace at ada@example.com or +44 20 7946 0000.",
    "Charles Babbage (charles@example.com, tel +44 20 7946 0001) called.",
    "Grace Hopper, grace@navy.mil",
    "",
]


@pytest.fixture(scope="module")
def model() -> rt.LlamaModel:
    return rt.load_model()


@pytest.fixture()
def session(model: rt.LlamaModel) -> rt.Session:
    s = rt.Session(model, n_threads=rt.physical_cores(), n_ctx_limit=None)
    yield s
    s.close()


# llama.cpp computes a token's logits slightly differently inside a batch than alone (up to
# about 0.8 logits; docs/runtime.md, "Exactness"), so speculative and step-by-step decoding of a
# real model may part where step-by-step decoding had a near-tie, and only there. Exact identity
# is tested with scripted logits (test_runtime_drafts_never_change_the_output_without_a_bias).
TIE_MARGIN = 1.0


class MarginMatcher(ChoiceMatcher):
    """A ChoiceMatcher that records, for every greedy choice, the gap between the best and the
    second-best allowed logit."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.margins: list[float] = []

    def select_greedy(self, logits: np.ndarray) -> int:
        top = np.sort(logits[np.asarray(self.allowed(), dtype=np.int64)])[-2:]
        self.margins.append(float(top[1] - top[0]) if top.size == 2 else float("inf"))
        return super().select_greedy(logits)


def _run(session: rt.Session, text: str, **kw: object) -> tuple[rt.Generation, int]:
    model = session.model
    tokens = model.prompt_tokens(model.build_prompt(text, SCHEMA))
    matcher = kw.pop("matcher", None) or ChoiceMatcher(model.pieces, model.eog_ids, CHOICES)
    gen, reused, _ = rt.generate(session, matcher, tokens,  # type: ignore[arg-type]
                                 **{"max_tokens": 100, **kw})  # type: ignore[arg-type]
    return gen, reused


def _stepwise(session: rt.Session, text: str) -> tuple[rt.Generation, list[float]]:
    """Plain step-by-step decoding of ``text`` and the margin of each of its choices."""
    model = session.model
    matcher = MarginMatcher(model.pieces, model.eog_ids, CHOICES)
    plain, _ = _run(session, text, jump_forward=False, prompt_lookup=False, matcher=matcher)
    return plain, matcher.margins


def _same_up_to_a_near_tie(fast: rt.Generation, plain: rt.Generation,
                           margins: list[float]) -> bool:
    """The same tokens, or the same up to a choice where step-by-step decoding had a
    near-tie."""
    if fast.tokens == plain.tokens:
        return True
    i = 0
    while i < min(len(fast.tokens), len(plain.tokens)) and fast.tokens[i] == plain.tokens[i]:
        i += 1
    return i < len(margins) and margins[i] < TIE_MARGIN


@pytest.mark.model
def test_runtime_jump_forward_and_lookup_output_identical_to_stepwise(
        session: rt.Session) -> None:
    n_forced = n_drafted = 0
    for text in TEXTS:
        plain, margins = _stepwise(session, text)
        assert plain.text in CHOICES
        assert plain.n_forced == plain.n_drafted == 0
        for jump, lookup in ((True, False), (False, True), (True, True)):
            fast, _ = _run(session, text, jump_forward=jump, prompt_lookup=lookup)
            assert fast.text in CHOICES
            assert _same_up_to_a_near_tie(fast, plain, margins), (text, jump, lookup, margins)
            assert jump or fast.n_forced == 0
            assert lookup or fast.n_drafted == 0
            n_forced += fast.n_forced
            n_drafted += fast.n_drafted
    # Both kinds of speculation happened.
    assert n_forced > 0 and n_drafted > 0


LABELLED = "Contact\nName: Ada Byron\nEmail: ada@byron.org\nPhone: +44 20 7946 0000\n"


@pytest.mark.model
def test_runtime_label_drafts_output_identical_to_stepwise(
        session: rt.Session, monkeypatch: pytest.MonkeyPatch) -> None:
    kept: list[int] = []
    accepted = rt.LabelLookup.accepted

    def count(self: rt.LabelLookup, n: int) -> None:
        kept.append(n)
        accepted(self, n)

    monkeypatch.setattr(rt.LabelLookup, "accepted", count)
    plain, margins = _stepwise(session, LABELLED)
    assert plain.text in CHOICES
    fast, _ = _run(session, LABELLED, labels=session.model.label_lookup(LABELLED, SCHEMA))
    assert _same_up_to_a_near_tie(fast, plain, margins), margins
    assert sum(kept) > 0  # values were drafted from their labels and kept
    n_calls = len(kept)
    without, _ = _run(session, LABELLED)  # no source text: no label drafts
    assert _same_up_to_a_near_tie(without, plain, margins) and len(kept) == n_calls


@pytest.mark.model
def test_runtime_greedy_follows_the_text(session: rt.Session) -> None:
    gen, _ = _run(session, TEXTS[1])
    assert json.loads(gen.text)["name"] == "Charles Babbage"


@pytest.mark.model
def test_runtime_prefix_cache_is_reused_across_texts(session: rt.Session) -> None:
    model = session.model
    prefix_len = len(model.tokenize(model.build_prompt("x", SCHEMA).prefix, model.add_bos))
    _, first = _run(session, TEXTS[0])
    _, second = _run(session, TEXTS[1])
    assert first == 0
    assert second >= prefix_len - 1
    # The same prompt again reuses everything but the last token.
    tokens = model.prompt_tokens(model.build_prompt(TEXTS[1], SCHEMA))
    _, third = _run(session, TEXTS[1])
    assert third == len(tokens) - 1


@pytest.mark.model
def test_runtime_kv_tokens_track_the_cache(session: rt.Session) -> None:
    gen, _ = _run(session, TEXTS[0], jump_forward=True)
    model = session.model
    prompt = model.prompt_tokens(model.build_prompt(TEXTS[0], SCHEMA))
    # Everything fed is in the cache; the last output token is never fed.
    assert session.tokens == prompt + gen.tokens[:-1]


@pytest.mark.model
def test_runtime_generation_limit_carries_partial_text(session: rt.Session) -> None:
    for jump in (False, True):
        with pytest.raises(GenerationLimitError) as info:
            _run(session, TEXTS[0], max_tokens=5, jump_forward=jump, prompt_lookup=jump)
        assert info.value.n_tokens == 5
        assert any(c.startswith(info.value.partial_text) for c in CHOICES)
        assert info.value.partial_text.startswith("{")


@pytest.mark.model
def test_runtime_input_too_long_says_by_how_much(model: rt.LlamaModel) -> None:
    small = rt.Session(model, n_threads=1, n_ctx_limit=64)
    try:
        tokens = model.prompt_tokens(model.build_prompt(TEXTS[0], SCHEMA))
        with pytest.raises(InputTooLongError) as info:
            rt.generate(small, ChoiceMatcher(model.pieces, model.eog_ids, CHOICES), tokens,
                        max_tokens=10)
        excess = len(tokens) + 10 + 1 - 64
        assert info.value.excess == excess and info.value.n_ctx == 64
        assert f"{excess} tokens over" in str(info.value)
    finally:
        small.close()


@pytest.mark.model
def test_runtime_sampling_is_seeded_and_stays_in_grammar(session: rt.Session) -> None:
    a, _ = _run(session, TEXTS[2], temperature=1.5, seed=7)
    b, _ = _run(session, TEXTS[2], temperature=1.5, seed=7, jump_forward=False,
                prompt_lookup=False)
    assert a.text in CHOICES and a.text == b.text
    c, _ = _run(session, TEXTS[2], temperature=0.8, top_p=0.5, seed=1)
    assert c.text in CHOICES


@pytest.mark.model
def test_runtime_context_grows_for_long_prompts(session: rt.Session) -> None:
    gen, _ = _run(session, "Ada Lovelace. " * 200)
    assert gen.text in CHOICES
    assert session.n_ctx >= len(session.tokens)


def test_runtime_bad_gguf_raises_model_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x07" * 100)
    with pytest.raises(ModelError, match="could not load") as info:
        rt.load_model(bad)
    assert info.value.path == str(bad)


def test_runtime_load_schema_accepts_dict_text_and_paths(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(SCHEMA))
    assert rt.load_schema(SCHEMA) == (SCHEMA, None)
    assert rt.load_schema(json.dumps(SCHEMA)) == (SCHEMA, None)
    assert rt.load_schema(str(path)) == (SCHEMA, None)
    assert rt.load_schema(path) == (SCHEMA, None)
    assert rt.load_schema(True) == (True, None)


def test_runtime_load_schema_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="cannot read schema file .*absent.json"):
        rt.load_schema(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(SchemaError, match="broken.json is not valid JSON"):
        rt.load_schema(broken)
    with pytest.raises(SchemaError, match="not valid JSON"):
        rt.load_schema('{"type": ')
    with pytest.raises(SchemaError, match="object or boolean"):
        rt.load_schema("[1, 2]")
    with pytest.raises(SchemaError, match="unsupported schema argument"):
        rt.load_schema(42)


def test_runtime_physical_cores_is_positive() -> None:
    assert rt.physical_cores() >= 1


# ---- the public API with the grammar engine -------------------------------------------------

import jsonschema  # noqa: E402

import maaza_rt  # noqa: E402

CONTACT = json.loads((Path(__file__).parent.parent / "examples" / "contact.json").read_text())


@pytest.fixture(scope="module")
def extractor() -> maaza_rt.Extractor:
    ex = maaza_rt.Extractor()
    yield ex
    ex.close()


@pytest.mark.model
def test_runtime_extract_returns_value_and_details(extractor: maaza_rt.Extractor) -> None:
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
    assert not details.budget_closed and details.n_closing_tokens == 0


@pytest.mark.model
def test_runtime_clear_cache_makes_the_next_prompt_evaluate_whole(
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
def test_runtime_extract_accepts_empty_text_and_schema_forms(extractor: maaza_rt.Extractor,
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
def test_runtime_extract_pydantic_class_returns_instance(extractor: maaza_rt.Extractor) -> None:
    pydantic = pytest.importorskip("pydantic")

    class Contact(pydantic.BaseModel):
        name: str
        age: Optional[int] = None  # noqa: UP045 (evaluated at run time on Python 3.9)

    result = extractor.extract("Ada Lovelace is 36 years old.", Contact)
    assert isinstance(result, Contact)
    jsonschema.validate(result.model_dump(), Contact.model_json_schema())


@pytest.mark.model
def test_runtime_module_extract_reuses_one_extractor() -> None:
    a = maaza_rt.extract("Ada, ada@example.com", CONTACT, return_details=True)
    b = maaza_rt.extract("Bob, bob@example.com", CONTACT, return_details=True)
    jsonschema.validate(a.value, CONTACT)
    assert b.n_prompt_tokens_reused > b.n_prompt_tokens // 2


@pytest.mark.model
def test_runtime_extract_errors_through_api(extractor: maaza_rt.Extractor,
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
    # The default bias switches itself off where it cannot apply.
    assert extractor.extract("x", CONTACT, prompt_lookup=False, max_tokens=64) is not None
    assert extractor.extract("x", CONTACT, temperature=0.5, seed=1, max_tokens=64) is not None


COPY_TEXT = "Name: Zorbulon Quaxwell-Trimbledon; city: Flurbingham Heights."
PLACE = {"type": "object", "properties": {"name": {"type": "string"}, "city": {"type": "string"}},
         "required": ["name", "city"]}


@pytest.mark.model
def test_runtime_copy_bias_never_runs_past_the_value(extractor: maaza_rt.Extractor) -> None:
    """Where the text goes on after the name ("; city: ..."), so would the copy; the model
    decides where a value ends, so however strong the bias the name does not take in the city
    (a bias applied to closing tokens too ran the name on to the end of the line). The rule
    itself is tested with scripted logits (test_runtime_copy_bias_never_moves_where_a_value_
    ends); this holds for any model that ends the name where the text labels the city."""
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
def test_runtime_budget_closing_returns_valid_value(one_thread: maaza_rt.Extractor) -> None:
    extractor = one_thread
    vocab = rt.grammar_vocabulary(extractor.model)
    matcher = maaza_rt.GrammarMatcher(rt.compile_schema(REPORT), vocab)
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
            outputs.append(d.text)
        assert outputs[0] == outputs[1], max_tokens


@pytest.mark.model
def test_runtime_budget_closing_not_needed_with_room(one_thread: maaza_rt.Extractor) -> None:
    d = one_thread.extract("Grace Hopper, grace@navy.mil", CONTACT, max_tokens=200,
                          return_details=True)
    assert not d.budget_closed and d.n_closing_tokens == 0
    jsonschema.validate(d.value, CONTACT)


@pytest.mark.model
def test_runtime_generation_limit_below_the_shortest_value(one_thread: maaza_rt.Extractor) -> None:
    """Under the size of the smallest valid value, closing cannot help: the limit error stays."""
    with pytest.raises(maaza_rt.GenerationLimitError) as info:
        one_thread.extract(LONG_TEXT, REPORT, max_tokens=8)
    assert info.value.n_tokens == 8 and info.value.partial_text.startswith('{"summary":"')


def scan_of(output: bytes) -> JsonScan:
    scan = JsonScan()
    scan.feed(output)
    return scan


IN = scan_of(b'{"name":"Ada')  # the output is inside a string
OUT = scan_of(b'{"n":12')  # ... after a number


def test_runtime_layout_bias_compares_only_tokens_that_end_the_value() -> None:
    # In a string only the closing quote ends it: a comma there is text.
    assert rt._ends_alike(b'","', b'"},{"', IN)
    assert not rt._ends_alike(b'",', b",", IN) and not rt._ends_alike(b",", b'"}', IN)
    # After a number (or a closed value) a comma or a bracket does.
    assert rt._ends_alike(b',"', b"},{", OUT) and rt._ends_alike(b"}]", b",", OUT)
    assert not rt._ends_alike(b"5", b",", OUT) and not rt._ends_alike(b'"', b",", OUT)
    # The same text first, then the ending: still alike; other text first: not.
    assert rt._ends_alike(b'.",', b'."', IN) and rt._ends_alike(b"5,", b"5}", OUT)
    assert not rt._ends_alike(b'.",', b'!"', IN) and not rt._ends_alike(b'a"', b'"', IN)
    assert not rt._ends_alike(b'\\",', b'"', IN)  # an escaped quote ends nothing


def test_runtime_goes_on_bias_compares_a_closing_quote_with_more_of_the_string() -> None:
    assert rt._ends_early(b'.",', b".", IN) and rt._ends_early(b'"', b" Including", IN)
    assert not rt._ends_early(b'.",', b".", OUT)  # not in a string
    assert not rt._ends_early(b'\\"', b"x", IN)  # an escaped quote is text
    assert not rt._ends_early(b'"', b'"}', IN) and not rt._ends_early(b'"', b"\\n", IN)
    assert not rt._ends_early(b" a", b" b", IN)  # the choice does not close the string


def test_runtime_closing_tokens_spell_the_completion() -> None:
    class Model:
        pieces = [b"a", b"b", b"ab", b'"', b"}", b'"}', b"\xc3", b"\xa9"]
        byte_tokens = {p[0]: i for i, p in enumerate(pieces) if len(p) == 1}

        def tokenize(self, text: bytes, add_special: bool, parse_special: bool) -> list[int]:
            # Longest match first, like a merge-everything tokenizer.
            out, i = [], 0
            while i < len(text):
                best = max((j for j, p in enumerate(self.pieces) if text.startswith(p, i)),
                           key=lambda j: len(self.pieces[j]))
                out.append(best)
                i += len(self.pieces[best])
            return out

    model = Model()
    assert rt._closing_tokens(model, None, b'ab"}', 4) == [2, 5]  # type: ignore[arg-type]
    assert rt._closing_tokens(model, 0, b'b"}', 4) == [1, 5]  # type: ignore[arg-type]
    # Too many tokens for the budget, and no shorter spelling: None.
    assert rt._closing_tokens(model, None, b"abab", 1) is None  # type: ignore[arg-type]
    # After a token that ends inside a character, the split of its piece + completion is used.
    assert rt._closing_tokens(model, 6, b'\xa9"}', 3) == [7, 5]  # type: ignore[arg-type]

    class Broken(Model):
        def tokenize(self, text: bytes, add_special: bool, parse_special: bool) -> list[int]:
            return []  # a split that does not reproduce the bytes

    broken = Broken()
    assert rt._closing_tokens(broken, None, b'a"}', 3) == [0, 3, 4]  # type: ignore[arg-type]
    assert rt._closing_tokens(broken, None, b'a"}', 2) is None  # type: ignore[arg-type]


# ---- biases and drafters with scripted logits -------------------------------------------------
# The logits come from tests/scripted_model.py: where the model's preferred output and another
# part, the gap between their scores is the gap between the model's choice and the other token,
# whatever the batching. Each test puts a copy just inside a bias margin and just outside it, so
# it tests the rule, not which near-ties one build of one model happens to meet.

from scripted_model import decodings, run  # noqa: E402

TICKET = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}


@pytest.mark.parametrize("text, right", [
    ("Ticket ab7d-93f1 was opened.", "ab7d-93f1"),  # the copy comes in a fed draft
    ("Ticket ab7d\nOpened today.", "ab7d"),  # the line ends: the copy is checked step by step
])
@pytest.mark.parametrize("gap", [1.5, 2.0, 2.5])
def test_runtime_copy_bias_takes_a_copy_within_its_margin(text: str, right: str,
                                                          gap: float) -> None:
    """The model miscopies one character (``f`` for ``d``); the copy from the text wins when
    its logit is at most ``copy_bias`` below the model's choice, in every decoding mode."""
    wrong = right.replace("d", "f", 1)
    outputs = {json.dumps({"id": wrong}, separators=(",", ":")): 10.0,
               json.dumps({"id": right}, separators=(",", ":")): 10.0 - gap}
    for options in decodings(0.0):
        assert json.loads(run(outputs, text, TICKET, **options).text)["id"] == wrong, options
    for options in decodings(2.0):
        got = json.loads(run(outputs, text, TICKET, **options).text)["id"]
        assert got == (right if gap <= 2.0 else wrong), options


NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


@pytest.mark.parametrize("text, outputs, expected", [
    # The model ends the name where the text goes on: no bias carries the copy on.
    ("Contact Ada Lovelace today.",
     {'{"name":"Ada"}': 10.0, '{"name":"Ada Lovelace"}': 9.9}, "Ada"),
    # The model goes on where the copy would end the name (a quote): no bias cuts it.
    ('Call "Ada" now, or Ada Lovelace.',
     {'{"name":"Ada Lovelace"}': 10.0, '{"name":"Ada"}': 9.9}, "Ada Lovelace"),
])
def test_runtime_copy_bias_never_moves_where_a_value_ends(text: str, outputs: dict[str, float],
                                                          expected: str) -> None:
    """Where the model's choice or the copy holds ``",}]``, the model's choice stands, however
    large the bias."""
    for bias in (0.0, 2.0, 1e9):
        for options in decodings(bias):
            gen = run(outputs, text, NAME, **options)
            assert json.loads(gen.text) == {"name": expected}, (bias, options)


SITE = {"type": "object", "properties": {"city": {"type": "string"}, "cite": {"type": "string"}}}


def test_runtime_copy_bias_leaves_keys_to_the_model() -> None:
    """Which property to write is the model's call: inside a key a copy from the text (``cite``
    where the model writes ``city``) does not win, however near."""
    outputs = {'{"city":"Paris"}': 10.0, '{"cite":"Paris"}': 9.9}
    for bias in (2.0, 1e9):
        for options in decodings(bias):
            assert run(outputs, "We cite Paris.", SITE, **options).text == '{"city":"Paris"}'


PAYMENT = {"type": "object", "properties": {"transaction_id": {"type": "string"}},
           "required": ["transaction_id"]}
PAYMENT_TEXT = "Order 5c1f-02 shipped.\nTransaction ID: 4a9e-77\n"


@pytest.mark.parametrize("gap, copy_bias, labelled", [
    (3.0, 2.0, True), (3.0, 1.0, False), (5.0, 2.0, False), (1.0, 0.0, False)])
def test_runtime_label_copy_takes_twice_the_margin(gap: float, copy_bias: float,
                                                   labelled: bool) -> None:
    """The model takes the id from the wrong line; the value the text labels with the key wins
    when its logit is at most ``LABEL_BIAS_SCALE`` times the copy bias lower."""
    assert rt.LABEL_BIAS_SCALE == 2.0
    outputs = {'{"transaction_id":"5c1f-02"}': 10.0, '{"transaction_id":"4a9e-77"}': 10.0 - gap}
    gen = run(outputs, PAYMENT_TEXT, PAYMENT, copy_bias=copy_bias)
    assert json.loads(gen.text)["transaction_id"] == ("4a9e-77" if labelled else "5c1f-02")
    # Without label drafts nothing proposes the labelled value's first token.
    gen = run(outputs, PAYMENT_TEXT, PAYMENT, copy_bias=copy_bias, labels=False)
    assert json.loads(gen.text)["transaction_id"] == "5c1f-02"


NOTE = {"type": "object", "properties": {"note": {"type": "string"}}, "required": ["note"]}


@pytest.mark.parametrize("gap, copy_bias, goes_on", [
    (3.0, 2.0, True), (3.0, 1.0, False), (4.5, 2.0, False)])
def test_runtime_layout_bias_ends_a_labelled_sentence_with_its_line(
        gap: float, copy_bias: float, goes_on: bool) -> None:
    """The model closes a labelled note one sentence early; within the label margin the note
    goes on to the end of its line, and not onto the next line (which the label's value takes
    in, as an address would)."""
    outputs = {'{"note":"Call back."}': 10.0, '{"note":"Call back. Ask for Bo."}': 10.0 - gap,
               '{"note":"Call back. Ask for Bo.\\nThen lunch."}': 10.0 - gap}
    gen = run(outputs, "Note: Call back. Ask for Bo.\nThen lunch.\n", NOTE, copy_bias=copy_bias)
    assert json.loads(gen.text)["note"] == ("Call back. Ask for Bo." if goes_on else "Call back.")


ORDER = {"type": "object", "properties": {"items": {"type": "array", "items": {
    "type": "object", "properties": {"name": {"type": "string"}, "qty": {"type": "integer"}},
    "required": ["name"]}}}, "required": ["items"]}
ORDER_TEXT = "Items:\nName: Pen\nName: Ink\nQty: 3\n"


@pytest.mark.parametrize("gap, copy_bias, follows_layout", [
    (3.0, 2.0, True), (3.0, 1.0, False), (4.5, 2.0, False)])
def test_runtime_layout_bias_starts_the_next_item_as_the_text_does(
        gap: float, copy_bias: float, follows_layout: bool) -> None:
    """The model gives the first item the second item's quantity; where the text's next line
    labels a name again, the label draft's way of ending the item (``"},{"``) wins over the
    model's (``","``) within the label margin."""
    merged = '{"items":[{"name":"Pen","qty":3},{"name":"Ink"}]}'
    laid_out = '{"items":[{"name":"Pen"},{"name":"Ink","qty":3}]}'
    gen = run({merged: 10.0, laid_out: 10.0 - gap}, ORDER_TEXT, ORDER, copy_bias=copy_bias)
    assert gen.text == (laid_out if follows_layout else merged)


DATED = {"type": "object", "properties": {"name": {"type": "string"}, "date": {"type": "string"}},
         "required": ["name"]}
DATED_TEXT = "Name: Ada\n\nSigned on the second.\nDate: 2024-01-02\n"


@pytest.mark.parametrize("gap, goes_on", [(1.5, True), (2.5, False)])
def test_runtime_presence_bias_writes_a_labelled_root_property(gap: float, goes_on: bool) -> None:
    """The model closes the object before a property the text labels on its last line; within
    the copy margin the output goes on to it."""
    short, full = '{"name":"Ada"}', '{"name":"Ada","date":"2024-01-02"}'
    gen = run({short: 10.0, full: 10.0 - gap}, DATED_TEXT, DATED, copy_bias=2.0)
    assert gen.text == (full if goes_on else short)
    assert run({short: 10.0, full: 10.0 - gap}, DATED_TEXT, DATED, copy_bias=0.0).text == short


@pytest.mark.parametrize("text, schema, outputs", [
    (PAYMENT_TEXT, PAYMENT, {'{"transaction_id":"5c1f-02"}': 10.0,
                             '{"transaction_id":"4a9e-77"}': 9.0}),
    (ORDER_TEXT, ORDER, {'{"items":[{"name":"Pen","qty":3},{"name":"Ink"}]}': 10.0,
                         '{"items":[{"name":"Pen"},{"name":"Ink","qty":3}]}': 9.0}),
    (ORDER_TEXT, ORDER, {'{"items":[{"name":"Pen"},{"name":"Ink","qty":3}]}': 10.0}),
])
def test_runtime_drafts_never_change_the_output_without_a_bias(
        text: str, schema: dict, outputs: dict[str, float]) -> None:
    """Forced tokens, prompt-lookup and label drafts, right or wrong, give exactly the tokens of
    step-by-step decoding when the copy bias is 0."""
    plain = run(outputs, text, schema, jump_forward=False, prompt_lookup=False)
    assert plain.text == max(outputs, key=lambda k: outputs[k])
    assert plain.n_forced == plain.n_drafted == 0
    fast = run(outputs, text, schema, copy_bias=0.0)
    assert fast.tokens == plain.tokens
    assert fast.n_forced > 0 and fast.n_drafted > 0
    for options in decodings(0.0):
        assert run(outputs, text, schema, **options).tokens == plain.tokens, options
