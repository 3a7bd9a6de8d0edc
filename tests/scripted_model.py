"""A model with scripted logits, to test the decoding loop's biases and drafters exactly.

``ScriptedModel`` stands in for ``llama_model.LlamaModel`` and ``ScriptedSession`` for
``session.Session``, so ``decoding.generate`` runs unchanged over them with the real grammar
engine. The vocabulary is every byte, an end-of-generation token and a few JSON punctuation
pieces (``","``, ``"},{"``...) that real BPE vocabularies hold as single tokens; it spells
text by longest match.

The "model" knows a few complete outputs, each with a score. After an output prefix, a token
that continues some known output (the prefix plus its piece starts that output) gets the best
such score, plus 1/64 per byte of its piece so that the longest spelling wins as a tokenizer's
would; the end-of-generation token gets the score of an output the prefix completes; every
other token gets ``OTHER``. So where two outputs part, their scores are the gap between the
model's choice and the alternative, exactly, whatever the batching: a test chooses which side
of a bias margin a copy is on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from maaza_rt import GrammarMatcher, Vocabulary
from maaza_rt.decoding import Generation, generate
from maaza_rt.label_lookup import LabelLookup
from maaza_rt.schema_view import property_kinds, schema_shape
from maaza_rt.schemas import compile_schema

PIECES = [b'{"', b'":"', b'":', b'","', b',"', b'"}', b'"},{"', b'"}]', b"}]", b'":[{"',
          b'":[']
EOG = 256
OTHER = -30.0  # the logit of every token that continues no known output
LENGTH_BONUS = 1 / 64  # per byte of a piece: the longest spelling wins (exact in float32)


class ScriptedModel:
    """The parts of ``LlamaModel`` that ``decoding.generate`` uses, over scripted logits.

    ``outputs`` maps each complete output the model knows to its score (see the module)."""

    def __init__(self, outputs: Mapping[str, float]) -> None:
        self.outputs = [(text.encode("utf-8"), float(score)) for text, score in outputs.items()]
        self.pieces = [bytes([b]) for b in range(256)] + [b""] + PIECES
        self.n_vocab = len(self.pieces)
        self.eog_ids = frozenset({EOG})
        self.control_tokens = frozenset(
            i for i, p in enumerate(self.pieces) if not p or any(b < 0x20 for b in p))
        self.closing_tokens = frozenset(
            i for i, p in enumerate(self.pieces) if any(b in b'",}]' for b in p))
        self.short_tokens = frozenset(i for i, p in enumerate(self.pieces) if len(p) <= 1)
        self.byte_tokens = {b: b for b in range(256)}
        self.piece_ids = {p: t for t, p in reversed(list(enumerate(self.pieces))) if p}
        self._by_length = sorted(range(self.n_vocab), key=lambda t: -len(self.pieces[t]))

    def tokenize(self, text: str | bytes, add_special: bool = False,
                 parse_special: bool = False) -> list[int]:
        data = text.encode("utf-8") if isinstance(text, str) else text
        out, i = [], 0
        while i < len(data):
            t = next(t for t in self._by_length if self.pieces[t]
                     and data.startswith(self.pieces[t], i))
            out.append(t)
            i += len(self.pieces[t])
        return out

    def logits_after(self, output: bytes) -> np.ndarray:
        logits = np.full(self.n_vocab, OTHER, dtype=np.float32)
        for t, piece in enumerate(self.pieces):
            if not piece:
                continue
            longer = output + piece
            scores = [s for text, s in self.outputs if text.startswith(longer)]
            if scores:
                logits[t] = max(scores) + LENGTH_BONUS * len(piece)
        complete = [s for text, s in self.outputs if text == output]
        if complete:
            logits[EOG] = max(complete)
        return logits

    def vocabulary(self) -> Vocabulary:
        return Vocabulary(self.pieces, eos_ids=[EOG])

    def label_lookup(self, text: str, schema: dict) -> LabelLookup:
        """As ``llama_model.LlamaModel.label_lookup``."""
        return LabelLookup(text.encode("utf-8"), lambda data: self.tokenize(data),
                           property_kinds(schema), self.pieces, schema_shape(schema))


class ScriptedSession:
    """The parts of ``session.Session`` that ``decoding.generate`` uses: every batch position's
    logits are the scripted model's after the output up to that position."""

    def __init__(self, model: ScriptedModel) -> None:
        self.model = model
        self.tokens: list[int] = []
        self.n_batches = 0
        self._n_prompt = 0
        self._batch: tuple[list[int], int] = ([], 0)  # the context fed so far, the batch start

    def reserve(self, n_prompt: int, max_tokens: int) -> None:
        pass

    def eval_prompt(self, tokens: list[int]) -> int:
        self.tokens = list(tokens)
        self._n_prompt = len(tokens)
        self._batch = (list(self.tokens), len(self.tokens) - 1)
        return 0

    def feed(self, tokens: list[int], all_logits: bool) -> None:
        start = len(self.tokens)
        self.tokens.extend(tokens)
        self._batch = (list(self.tokens), start)
        self.n_batches += 1

    def truncate(self, n_keep: int) -> None:
        del self.tokens[n_keep:]

    def logits(self, index: int) -> np.ndarray:
        context, start = self._batch
        end = len(context) if index < 0 else start + index + 1
        if not start < end <= len(context):
            raise IndexError(f"no logits at batch position {index}")
        pieces = self.model.pieces
        return self.model.logits_after(b"".join(pieces[t] for t in context[self._n_prompt:end]))


def run(outputs: Mapping[str, float], text: str, schema: dict, *, labels: bool = True,
        max_tokens: int = 200, **options: object) -> Generation:
    """``decoding.generate`` over the scripted model for ``text`` (the prompt is the text after
    a line of its own, so that copies come from the text) with ``schema``'s grammar; label
    drafts from ``text`` unless ``labels`` is false. ``options`` go to ``generate``."""
    model = ScriptedModel(outputs)
    session = ScriptedSession(model)
    matcher = GrammarMatcher(compile_schema(schema), model.vocabulary())
    prompt = model.tokenize("Extract JSON.\n" + text + "\n")
    gen, _, _ = generate(
        session, matcher, prompt, max_tokens=max_tokens,  # type: ignore[arg-type]
        labels=model.label_lookup(text, schema) if labels else None, **options)  # type: ignore[arg-type]
    return gen


def decodings(copy_bias: float) -> Iterable[dict[str, object]]:
    """The option sets of every decoding mode a greedy copy bias applies in (prompt lookup on,
    jump-forward on or off), and plain step-by-step decoding when ``copy_bias`` is 0."""
    yield {"copy_bias": copy_bias, "jump_forward": True, "prompt_lookup": True}
    yield {"copy_bias": copy_bias, "jump_forward": False, "prompt_lookup": True}
    if copy_bias == 0.0:
        yield {"copy_bias": 0.0, "jump_forward": False, "prompt_lookup": False}
