"""One llama.cpp context: prefix reuse, the cache's token list, and the context's size.

The tests drive the default model through the decoder over ``ChoiceMatcher`` (a pure-Python
matcher over a fixed set of strings), so they exercise llama.cpp batching, logits and KV
truncation on their own.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from maaza_rt import InputTooLongError
from maaza_rt.decoding import generate
from maaza_rt.llama_model import LlamaModel
from maaza_rt.session import Session

sys.path.insert(0, str(Path(__file__).parent))
from choice_matcher import CHOICES, SCHEMA, TEXTS, ChoiceMatcher, run_choices  # noqa: E402


@pytest.mark.model
def test_prefix_cache_is_reused_across_texts(session: Session) -> None:
    model = session.model
    prefix_len = len(model.tokenize(model.build_prompt("x", SCHEMA).prefix, model.add_bos))
    _, first = run_choices(session, TEXTS[0])
    _, second = run_choices(session, TEXTS[1])
    assert first == 0
    assert second >= prefix_len - 1
    # The same prompt again reuses everything but the last token.
    tokens = model.prompt_tokens(model.build_prompt(TEXTS[1], SCHEMA))
    _, third = run_choices(session, TEXTS[1])
    assert third == len(tokens) - 1


@pytest.mark.model
def test_kv_tokens_track_the_cache(session: Session) -> None:
    gen, _ = run_choices(session, TEXTS[0], jump_forward=True)
    model = session.model
    prompt = model.prompt_tokens(model.build_prompt(TEXTS[0], SCHEMA))
    # Everything fed is in the cache; the last output token is never fed.
    assert session.tokens == prompt + gen.tokens[:-1]


@pytest.mark.model
def test_input_too_long_says_by_how_much(model: LlamaModel) -> None:
    small = Session(model, n_threads=1, n_ctx_limit=64)
    try:
        tokens = model.prompt_tokens(model.build_prompt(TEXTS[0], SCHEMA))
        with pytest.raises(InputTooLongError) as info:
            generate(small, ChoiceMatcher(model.pieces, model.eog_ids, CHOICES), tokens,
                     max_tokens=10)
        excess = len(tokens) + 10 + 1 - 64
        assert info.value.excess == excess and info.value.n_ctx == 64
        assert f"{excess} tokens over" in str(info.value)
    finally:
        small.close()


@pytest.mark.model
def test_context_grows_for_long_prompts(session: Session) -> None:
    gen, _ = run_choices(session, "Ada Lovelace. " * 200)
    assert gen.text in CHOICES
    assert session.n_ctx >= len(session.tokens)
