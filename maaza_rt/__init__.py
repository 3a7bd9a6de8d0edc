"""maaza-rt: on-device text-to-JSON extraction that always validates against a JSON Schema.

The grammar engine (``Grammar``, ``Vocabulary``, ``GrammarMatcher``) compiles a JSON Schema into a
grammar and masks every decoding step of a llama.cpp model, so outputs cannot be invalid.
"""

from __future__ import annotations

from . import _core
from .errors import (
    GenerationLimitError,
    GrammarError,
    InputTooLongError,
    InternalError,
    JsonError,
    MaazaError,
    ModelError,
    SchemaError,
    VocabularyError,
)
from .grammar import Grammar, GrammarMatcher, Vocabulary

__version__: str = _core.__version__

__all__ = [
    "__version__",
    "GenerationLimitError",
    "Grammar",
    "GrammarError",
    "GrammarMatcher",
    "InputTooLongError",
    "InternalError",
    "JsonError",
    "MaazaError",
    "ModelError",
    "SchemaError",
    "Vocabulary",
    "VocabularyError",
]
