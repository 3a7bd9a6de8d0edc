"""maaza-rt: on-device text-to-JSON extraction that always validates against a JSON Schema.

The grammar engine (``Grammar``, ``Vocabulary``, ``GrammarMatcher``) compiles a JSON Schema into a
grammar and masks every decoding step of a llama.cpp model, so outputs cannot be invalid.

Extraction::

    import maaza_rt
    value = maaza_rt.extract("Reach Ada at ada@example.com", {"type": "object", ...})

``extract`` keeps one :class:`Extractor` per model and settings; create an ``Extractor`` yourself
to choose threads or context size, or to get an :class:`Extraction` with token counts and timings
(``return_details=True``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from .extractor import Extraction, Extractor, extract

__version__: str = _core.__version__

__all__ = [
    "__version__",
    "Extraction",
    "Extractor",
    "extract",
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


_RUNTIME_NAMES = ("Extraction", "Extractor", "extract")


def __getattr__(name: str) -> Any:
    # The runtime loads llama.cpp; import it only when used, so the grammar engine and the
    # prompt template stay light to import.
    if name in _RUNTIME_NAMES:
        from . import extractor

        return getattr(extractor, name)
    raise AttributeError(f"module 'maaza_rt' has no attribute {name!r}")
