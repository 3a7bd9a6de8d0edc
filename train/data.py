"""Training examples: prompt + completion token ids with the prompt masked out of the loss.

An example is the prompt's ids (``tokenize(prefix) + tokenize(suffix)``, the model input at run
time, special tokens parsed) followed by ``tokenize(completion) + [eos]``; labels are -100 on
the prompt, so the loss covers the completion and the end-of-sequence token only. Tokenization
goes through llama.cpp's own tokenizer for the base GGUF, so training sees exactly the ids the
runtime feeds the model (the tokenizer transformers rebuilds from a GGUF differs on some
whitespace runs).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

IGNORE = -100  # label value that the cross-entropy loss skips


class Tokenizer(Protocol):
    """What training needs from a tokenizer."""

    eos_id: int
    pad_id: int

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``, special-token text parsed, no BOS added."""
        ...

    def token_text(self, token: int) -> str:
        """The text of a (special) token, e.g. ``<|im_end|>``."""
        ...


class GGUFTokenizer:
    """llama.cpp's tokenizer for a GGUF file (vocabulary only, no weights loaded).

    Raises (constructor):
        ConvertError: the file cannot be loaded by llama.cpp.
    """

    def __init__(self, path: str | Path) -> None:
        from .base_model import open_llama

        self.path = Path(path)
        self._llm = open_llama(path, vocab_only=True)
        self.eos_id: int = int(self._llm.token_eos())
        self.bos_id: int = int(self._llm.token_bos())
        self.add_bos: bool = bool(self._llm._model.add_bos_token())
        self.pad_id: int = self.eos_id
        self.vocab_size: int = int(self._llm.n_vocab())
        self.chat_template: str | None = self._llm.metadata.get("tokenizer.chat_template")

    def encode(self, text: str) -> list[int]:
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def token_text(self, token: int) -> str:
        return str(self._llm._model.token_get_text(token))


@dataclass(frozen=True)
class Example:
    """One training sequence; ``labels[i]`` is the target at position ``i`` (transformers shifts
    labels by one inside the loss) or ``IGNORE``."""

    input_ids: list[int]
    labels: list[int]

    @property
    def n_target(self) -> int:
        return sum(1 for t in self.labels if t != IGNORE)


def encode_example(tok: Tokenizer, prompt_ids: Sequence[int], completion: str) -> Example:
    """One ``Example`` from the prompt's token ids and the completion text (prompt masked,
    completion and EOS learned)."""
    prompt = list(prompt_ids)
    target = tok.encode(completion) + [tok.eos_id]
    return Example(prompt + target, [IGNORE] * len(prompt) + target)


def collate(batch: Sequence[Example], pad_id: int) -> dict[str, Any]:
    """Right-pad a batch to its longest example (dynamic padding) as torch tensors."""
    import torch

    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for i, e in enumerate(batch):
        n = len(e.input_ids)
        ids[i, :n] = torch.tensor(e.input_ids)
        labels[i, :n] = torch.tensor(e.labels)
        mask[i, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def epoch_batches(n: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Shuffled example indices for one epoch, cut into batches; the same for the same seed and
    epoch, which is what makes resuming mid-epoch exact."""
    order = list(range(n))
    random.Random(seed * 1_000_003 + epoch).shuffle(order)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


class PromptEncoder:
    """The runtime's prompt (``maaza_rt.prompt``) for a text and a schema, as token ids of
    ``tok``: the model's chat template (or ``chat_template``), its BOS rule and special tokens."""

    def __init__(self, tok: GGUFTokenizer, chat_template: str | None = None) -> None:
        self.tok = tok
        self.bos = tok.token_text(tok.bos_id) if tok.bos_id >= 0 else ""
        self.eos = tok.token_text(tok.eos_id)
        self.template = chat_template if chat_template is not None else tok.chat_template

    def _tokenize(self, text: str, add_bos: bool) -> list[int]:
        return ([self.tok.bos_id] if add_bos else []) + self.tok.encode(text)

    def prompt_ids(self, text: str, schema: Any) -> list[int]:
        from maaza_rt import prompt as maaza_prompt

        prompt = maaza_prompt.build_prompt(text, schema, self.template, bos_token=self.bos,
                                           eos_token=self.eos)
        return maaza_prompt.encode_prompt(prompt, self._tokenize, add_bos=self.tok.add_bos,
                                          bos_token=self.bos)

    def example(self, text: str, schema: Any, expected: Any) -> Example:
        from maaza_rt import prompt as maaza_prompt

        return encode_example(self.tok, self.prompt_ids(text, schema),
                              maaza_prompt.completion_text(expected, schema))


def edgejson_examples(rows: Sequence[dict[str, Any]], schemas: dict[str, Any],
                      tok: GGUFTokenizer, chat_template: str | None = None) -> list[Example]:
    """Examples for EdgeJSON rows with the runtime's prompt (``maaza_rt.prompt``).

    Raises:
        KeyError: a row names a schema that is not in ``schemas``.
    """
    encoder = PromptEncoder(tok, chat_template)
    return [encoder.example(row["prompt"], schemas[row["schema_id"]], row["expected_output"])
            for row in rows]


def mixture_examples(rows: Sequence[dict[str, Any]], tok: GGUFTokenizer,
                     chat_template: str | None = None) -> list[Example]:
    """Examples for mixture rows (``train/sources``: ``schema``, ``text`` and ``expected``
    inline) with the runtime's prompt.

    Raises:
        KeyError: a row lacks one of those fields.
    """
    encoder = PromptEncoder(tok, chat_template)
    return [encoder.example(row["text"], row["schema"], row["expected"]) for row in rows]
