"""The decoder, as parts: drafters propose tokens, choosers pick them, one verify loop checks.

- :mod:`.state`: the output of one generation and its timed grammar calls;
- :mod:`.drafters`: jump-forward, label and prompt-lookup drafters;
- :mod:`.choosers`: greedy or sampling, then the copy and layout biases;
- :mod:`.budget`: closing the value within ``max_tokens``;
- :mod:`.loop`: the chain for a set of options, and the verify loop.
"""

from .loop import (
    BIASES,
    DEFAULT_COPY_BIAS,
    LABEL_BIAS_SCALE,
    Chain,
    Generation,
    build_chain,
    decode,
    generate,
)

__all__ = ["BIASES", "DEFAULT_COPY_BIAS", "LABEL_BIAS_SCALE", "Chain", "Generation", "build_chain",
           "decode", "generate"]
