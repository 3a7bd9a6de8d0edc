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
        from convert.common import open_llama

        self.path = Path(path)
        self._llm = open_llama(path, vocab_only=True)
        self.eos_id: int = int(self._llm.token_eos())
        self.bos_id: int = int(self._llm.token_bos())
        self.add_bos: bool = bool(self._llm._model.add_bos_token())
        self.pad_id: int = self.eos_id
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


def edgejson_examples(rows: Sequence[dict[str, Any]], schemas: dict[str, Any],
                      tok: GGUFTokenizer, chat_template: str | None = None) -> list[Example]:
    """Examples for EdgeJSON rows with the runtime's prompt (``maaza_rt.prompt``).

    Raises:
        KeyError: a row names a schema that is not in ``schemas``.
    """
    from maaza_rt import prompt as maaza_prompt

    bos = tok.token_text(tok.bos_id) if tok.bos_id >= 0 else ""
    eos = tok.token_text(tok.eos_id)
    template = chat_template if chat_template is not None else tok.chat_template

    def tokenize(text: str, add_bos: bool) -> list[int]:
        return ([tok.bos_id] if add_bos else []) + tok.encode(text)

    out = []
    for row in rows:
        schema = schemas[row["schema_id"]]
        prompt = maaza_prompt.build_prompt(row["prompt"], schema, template, bos_token=bos,
                                           eos_token=eos)
        encode = getattr(maaza_prompt, "encode_prompt", None)
        if encode is not None:  # the runtime's own rule for BOS placement
            ids = encode(prompt, tokenize, add_bos=tok.add_bos, bos_token=bos)
        else:
            ids = tok.encode(prompt.prefix) + tok.encode(prompt.suffix)
        out.append(encode_example(tok, ids,
                                  maaza_prompt.completion_text(row["expected_output"], schema)))
    return out
