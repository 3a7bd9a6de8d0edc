"""Every exception maaza-rt raises. All derive from :class:`MaazaError`.

The native core raises these same classes (``maaza_rt._core`` maps its C++ errors onto them), so
callers catch one hierarchy whatever layer failed.
"""

from __future__ import annotations


class MaazaError(Exception):
    """Base class of all maaza-rt errors."""


class SchemaError(MaazaError, ValueError):
    """A JSON Schema is malformed or uses a feature that cannot be enforced.

    Attributes:
        keyword: the offending schema keyword (``"pattern"``, ``"$ref"``...), or ``""``.
        pointer: JSON pointer of the schema node that holds it (``""`` is the root).
    """

    def __init__(self, message: str, keyword: str = "", pointer: str = "") -> None:
        super().__init__(message)
        self.keyword = keyword
        self.pointer = pointer


class GrammarError(MaazaError, ValueError):
    """A GBNF grammar could not be parsed or used.

    Attributes:
        line: 1-based line of the error in the grammar text (0 if not tied to a position).
        column: 1-based column (0 if not tied to a position).
    """

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class JsonError(MaazaError, ValueError):
    """Malformed JSON text given to the native core.

    Attributes:
        offset: byte offset at which parsing failed.
    """

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.offset = offset


class VocabularyError(MaazaError, ValueError):
    """A token vocabulary could not be read or is unusable (for example, no end-of-text token)."""


class ModelError(MaazaError):
    """A model file is missing, unreadable, not a GGUF file, or failed to load.

    Attributes:
        path: the model path or name involved, if any.
    """

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class InputTooLongError(MaazaError, ValueError):
    """The prompt does not fit the context window. Nothing is truncated silently.

    Attributes:
        n_prompt_tokens: tokens in the prompt.
        n_ctx: the context window.
        excess: tokens over the limit (including room reserved for the output).
    """

    def __init__(self, message: str, n_prompt_tokens: int = 0, n_ctx: int = 0, excess: int = 0):
        super().__init__(message)
        self.n_prompt_tokens = n_prompt_tokens
        self.n_ctx = n_ctx
        self.excess = excess


class GenerationLimitError(MaazaError):
    """``max_tokens`` was reached before the JSON value was complete.

    Attributes:
        partial_text: the text generated so far (a valid prefix of a schema-valid value).
        n_tokens: tokens generated.
    """

    def __init__(self, message: str, partial_text: str = "", n_tokens: int = 0) -> None:
        super().__init__(message)
        self.partial_text = partial_text
        self.n_tokens = n_tokens


class InternalError(MaazaError, RuntimeError):
    """A violated internal invariant in the native core: a bug in maaza-rt, please report it."""


__all__ = [
    "MaazaError",
    "SchemaError",
    "GrammarError",
    "JsonError",
    "VocabularyError",
    "ModelError",
    "InputTooLongError",
    "GenerationLimitError",
    "InternalError",
]
