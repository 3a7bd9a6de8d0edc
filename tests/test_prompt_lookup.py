"""Prompt lookup: which prompt tokens are proposed as the continuation of an output."""

from __future__ import annotations

from maaza_rt.prompt_lookup import PromptLookup

NL = 0  # a barrier (a newline)
WEAK = frozenset({1, 2, 3})  # single-byte tokens: digits, say


def test_lookup_proposes_what_follows_the_last_token() -> None:
    lookup = PromptLookup([10, 11, 12, 13, 14])
    assert lookup.propose([99, 11], 2) == [12, 13]
    assert lookup.propose([99, 11], 10) == [12, 13, 14]
    assert lookup.propose([99, 14], 3) == []  # the prompt ends there
    assert lookup.propose([99, 42], 3) == []  # not in the prompt
    assert lookup.propose([], 3) == [] and lookup.propose([11], 0) == []


def test_lookup_prefers_the_longest_match() -> None:
    # 20 occurs twice; only the second occurrence is preceded by 31 as in the output.
    lookup = PromptLookup([30, 20, 40, 31, 20, 41, 42])
    assert lookup.propose([31, 20], 2) == [41, 42]
    assert lookup.propose([30, 20], 2) == [40, 31]


def test_lookup_stops_at_barriers() -> None:
    lookup = PromptLookup([10, 11, 12, NL, 13, 14], barriers=frozenset({NL}))
    assert lookup.propose([10], 5) == [11, 12]
    assert lookup.propose([12], 5) == []  # only a barrier follows: nothing to copy
    assert lookup.propose([13], 5) == [14]


def test_lookup_needs_two_matching_tokens_for_a_weak_one() -> None:
    lookup = PromptLookup([50, 1, 2, 60, 3, 1, 70], weak=WEAK)
    assert lookup.propose([99, 1], 2) == []  # "1" alone anchors nothing
    assert lookup.propose([50, 1], 2) == [2, 60]
    assert lookup.propose([3, 1], 1) == [70]


def test_lookup_follows_the_text_order_after_an_accepted_copy() -> None:
    # Two lines start with token 7; after copying the first one, the next copy of 7 comes from
    # the second line, not the first again.
    lookup = PromptLookup([7, 21, 22, NL, 7, 23, 24, NL], barriers=frozenset({NL}))
    assert lookup.propose([7], 5) == [21, 22]
    lookup.accepted(2)
    assert lookup.propose([7], 5) == [23, 24]
    lookup.accepted(0)  # a rejected proposal moves nothing
    assert lookup.propose([7], 5) == [23, 24]
