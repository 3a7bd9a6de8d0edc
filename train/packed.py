"""Training examples tokenized once and saved: a packed file trains on a machine that has no
tokenizer (no llama.cpp), and a long run does not tokenize again when it resumes.

``python -m train.lora ... --pack FILE`` writes one (the rows and tokenizer of that configuration,
examples over ``--max-len`` left out) and exits; ``python -m train.lora --examples FILE`` trains
on it. The file is a NumPy ``.npz`` archive (compressed, no pickled objects):

- ``tokens``: every example's token ids, one after another (uint32);
- ``lengths``: each example's number of tokens;
- ``prompt_lengths``: each example's number of prompt tokens (masked out of the loss; every
  later token is a target);
- ``meta``: a JSON object: ``format`` (``PACKED_FORMAT``), ``pad_id``, ``eos_id``, ``tokenizer``
  (file name), ``vocab_size``, ``source`` and ``max_len``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from .config import ConfigError
from .data import IGNORE, Example

__all__ = ["PACKED_FORMAT", "load_example_files", "load_examples", "save_examples"]

logger = logging.getLogger("maaza_rt.train")

PACKED_FORMAT = "maaza-rt-examples-1"
_ARRAYS = ("tokens", "lengths", "prompt_lengths", "meta")


def _prompt_length(example: Example) -> int:
    """The number of masked (prompt) tokens; every token after them must be its own target.

    Raises:
        ConfigError: the labels are not a masked prompt followed by the input ids.
    """
    n_prompt = next((i for i, t in enumerate(example.labels) if t != IGNORE),
                    len(example.labels))
    if (len(example.labels) != len(example.input_ids)
            or example.labels[n_prompt:] != example.input_ids[n_prompt:]):
        raise ConfigError("an example's labels are not a masked prompt followed by its own "
                          "tokens; it cannot be packed")
    return n_prompt


def save_examples(path: Path, examples: list[Example], meta: dict[str, Any]) -> None:
    """Write ``examples`` and ``meta`` (``pad_id`` required) to ``path``.

    Raises:
        ConfigError: no examples, no ``pad_id`` in ``meta``, a negative token id, or labels
            that are not a masked prompt followed by the example's tokens.
    """
    import numpy as np

    if not examples:
        raise ConfigError("no examples to pack")
    if not isinstance(meta.get("pad_id"), int):
        raise ConfigError("packed examples need an integer pad_id")
    prompt_lengths = [_prompt_length(e) for e in examples]
    flat = [t for e in examples for t in e.input_ids]
    if min(flat) < 0 or max(flat) >= 2**32:
        raise ConfigError("token ids must fit in 0 .. 2^32 - 1")
    record = {"format": PACKED_FORMAT, **meta}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:  # np.savez_compressed adds ".npz" to a str path, not to a file
        np.savez_compressed(
            f, tokens=np.asarray(flat, dtype=np.uint32),
            lengths=np.asarray([len(e.input_ids) for e in examples], dtype=np.uint32),
            prompt_lengths=np.asarray(prompt_lengths, dtype=np.uint32),
            meta=np.asarray(json.dumps(record, sort_keys=True)))


def load_examples(path: Path) -> tuple[list[Example], dict[str, Any]]:
    """The examples and metadata of a file written by :func:`save_examples`.

    Raises:
        ConfigError: the file is missing, not such an archive, of another format, or its arrays
            disagree (lengths that do not add up, a prompt longer than its example).
    """
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [name for name in _ARRAYS if name not in archive.files]
            if missing:
                raise ConfigError(f"{path}: not a packed examples file (no "
                                  f"{', '.join(missing)})")
            arrays = {name: archive[name] for name in _ARRAYS}
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such packed examples file") from None
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path}: not a packed examples file ({e})") from None
    try:
        meta = json.loads(str(arrays["meta"]))
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: its meta is not JSON ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != PACKED_FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise ConfigError(f"{path}: format {found!r}, expected {PACKED_FORMAT!r}")
    tokens = arrays["tokens"].astype(np.int64).tolist()
    lengths = arrays["lengths"].astype(np.int64).tolist()
    prompts = arrays["prompt_lengths"].astype(np.int64).tolist()
    if len(lengths) != len(prompts) or sum(lengths) != len(tokens):
        raise ConfigError(f"{path}: {len(lengths)} lengths and {len(prompts)} prompt lengths "
                          f"for {len(tokens)} tokens do not agree")
    examples, start = [], 0
    for n, n_prompt in zip(lengths, prompts):
        if n_prompt > n:
            raise ConfigError(f"{path}: a prompt of {n_prompt} tokens in an example of {n}")
        ids = tokens[start:start + n]
        examples.append(Example(ids, [IGNORE] * n_prompt + ids[n_prompt:]))
        start += n
    return examples, meta


def load_example_files(spec: str) -> tuple[list[Example], dict[str, Any]]:
    """The examples of comma-separated packed files, one file after another (a file named twice
    comes twice), and the first file's metadata.

    Raises:
        ConfigError: no file named, a file that cannot be read, or files that disagree on the
            pad id or the tokenizer.
    """
    examples: list[Example] = []
    first: dict[str, Any] = {}
    for name in (part.strip() for part in spec.split(",")):
        if not name:
            continue
        part, meta = load_examples(Path(name))
        first = first or meta
        for key in ("pad_id", "tokenizer"):
            if meta.get(key) != first.get(key):
                raise ConfigError(f"{name}: {key} {meta.get(key)!r} differs from the first "
                                  f"file's {first.get(key)!r}")
        logger.info("%d packed examples from %s (%s, tokenizer %s)", len(part), name,
                    meta.get("source", "?"), meta.get("tokenizer", "?"))
        examples += part
    if not first:
        raise ConfigError("examples: no file named")
    return examples, first
