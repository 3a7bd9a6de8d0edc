"""Prompt lookup: draft tokens for the decoding loop by copying them from the prompt.

Extraction copies most of its values from the input text, so the tokens that follow the output
so far can often be read off the prompt: find where the output's last tokens occur in the prompt
and propose what follows them there. The decoding loop feeds the proposal in one batch and keeps
each token only while it is the model's own constrained choice, so a draft never changes the
output; a good one saves forward passes, a bad one costs a little batch work.

A single-byte token (a digit, a punctuation mark) is too common to anchor a copy alone: it
needs at least one more matching token before it. A copy stops before a *barrier* token (for
JSON output: a token with a raw control byte such as a newline, which a JSON string cannot
hold), so a value copied from a line of text is not followed by a guess at the next line.

One :class:`PromptLookup` serves one generation. It is built from the prompt's token ids in
O(prompt length) and answers a proposal by looking only at the prompt positions that hold the
output's last token. Label drafts, which start a value right after its key, are
:mod:`maaza_rt.label_lookup`'s.
"""

from __future__ import annotations

MAX_MATCH = 4  # the longest suffix of the output compared against the prompt
MAX_CANDIDATES = 64  # prompt positions examined per proposal (the last ones in the prompt)


class PromptLookup:
    """Proposes continuations of an output by matching its last tokens in the prompt.

    Copies tend to follow the text's order, so among equally long matches the first one at or
    after the end of the previous accepted copy (the cursor) wins, then the latest before it.
    """

    def __init__(self, prompt_tokens: list[int], barriers: frozenset[int] = frozenset(),
                 weak: frozenset[int] = frozenset()) -> None:
        self.prompt = list(prompt_tokens)
        self.weak = weak
        self.positions: dict[int, list[int]] = {}
        # run_end[i]: the first barrier at or after prompt index i (or the prompt's length).
        self.run_end = [len(self.prompt)] * (len(self.prompt) + 1)
        for i in range(len(self.prompt) - 1, -1, -1):
            self.run_end[i] = i if self.prompt[i] in barriers else self.run_end[i + 1]
        for i, t in enumerate(self.prompt[:-1]):
            if self.run_end[i + 1] > i + 1:  # something copyable follows
                self.positions.setdefault(t, []).append(i)
        self.cursor = 0
        self._proposed_at = -1  # prompt index of the last proposal's first token

    def propose(self, history: list[int], n: int) -> list[int]:
        """Up to ``n`` prompt tokens that would follow ``history`` (the output so far), or []."""
        if n <= 0 or not history:
            return []
        candidates = self.positions.get(history[-1])
        if not candidates:
            return []
        prompt = self.prompt
        best_key: tuple[int, int, int] | None = None
        best = -1
        for pos in candidates[-MAX_CANDIDATES:]:
            length = 1
            while (length < MAX_MATCH and length < len(history) and pos - length >= 0
                   and prompt[pos - length] == history[-1 - length]):
                length += 1
            after = pos + 1 >= self.cursor
            key = (length, after, -pos if after else pos)
            if best_key is None or key > best_key:
                best_key, best = key, pos
        if best_key is not None and best_key[0] == 1 and history[-1] in self.weak:
            return []
        self._proposed_at = best + 1
        return prompt[best + 1: min(best + 1 + n, self.run_end[best + 1])]

    def accepted(self, n_accepted: int) -> None:
        """Records that the first ``n_accepted`` tokens of the last proposal were kept."""
        if n_accepted > 0 and self._proposed_at >= 0:
            self.cursor = self._proposed_at + n_accepted
