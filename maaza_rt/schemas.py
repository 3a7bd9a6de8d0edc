"""Schema arguments: a JSON Schema from what a caller passes, and its compiled grammar.

:func:`load_schema` accepts a dict or bool, JSON text, a path to a ``.json`` file or a Pydantic
model class; :func:`compile_schema` compiles a schema value into the grammar engine's
:class:`~maaza_rt.grammar.Grammar`, cached per process (thread-safe).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from .schema_view import SchemaArgument, SchemaValue


def _is_pydantic_class(schema: Any) -> bool:
    return isinstance(schema, type) and callable(getattr(schema, "model_json_schema", None))


def load_schema(schema: SchemaArgument) -> tuple[SchemaValue, Any]:
    """Normalises a schema argument to a JSON Schema value and, for Pydantic, the model class.

    Accepts a dict or bool, JSON text, a path to a ``.json`` file (str or Path), or a Pydantic
    model class (``pydantic`` is imported only then, by the class itself).

    Raises:
        SchemaError: unreadable file, invalid JSON, or a value that is not a schema.
    """
    from .errors import SchemaError

    if _is_pydantic_class(schema):
        return schema.model_json_schema(), schema
    if isinstance(schema, (dict, bool)):
        return schema, None
    if isinstance(schema, str) and (schema.lstrip()[:1] in ("{", "[")
                                    or schema.strip() in ("true", "false")):
        try:
            value = json.loads(schema)
        except ValueError as e:
            raise SchemaError(f"schema is not valid JSON: {e}") from e
        source = "schema text"
    elif isinstance(schema, (str, os.PathLike)):
        path = Path(schema)
        try:
            raw = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise SchemaError(f"cannot read schema file {path}: {e}") from e
        try:
            value = json.loads(raw)
        except ValueError as e:
            raise SchemaError(f"schema file {path} is not valid JSON: {e}") from e
        source = f"schema file {path}"
    else:
        raise SchemaError(f"unsupported schema argument of type {type(schema).__name__}: give a "
                          "dict, JSON text, a path to a .json file or a Pydantic model class")
    if not isinstance(value, (dict, bool)):
        raise SchemaError(f"{source} must hold a JSON object or boolean, "
                          f"not {type(value).__name__}")
    return value, None


_grammar_cache: dict[tuple[str, bool, bool, bool], Any] = {}
_grammar_lock = threading.Lock()
_GRAMMAR_CACHE_SIZE = 128


def compile_schema(schema: SchemaValue, *, lenient: bool = False,
                   optional_timezone: bool = False, grounded: bool = False) -> Any:
    """The compiled grammar for a schema (compact whitespace), cached per (schema, options).

    ``lenient``, ``optional_timezone`` and ``grounded`` are :meth:`Grammar.from_json_schema`'s
    options.

    Raises:
        SchemaError: the schema is malformed or cannot be enforced.
    """
    from .grammar import Grammar

    key = (json.dumps(schema, sort_keys=True, ensure_ascii=False), lenient, optional_timezone,
           grounded)
    with _grammar_lock:
        grammar = _grammar_cache.get(key)
    if grammar is None:
        grammar = Grammar.from_json_schema(schema, whitespace="compact", lenient=lenient,
                                           optional_timezone=optional_timezone,
                                           grounded=grounded)
        with _grammar_lock:
            if len(_grammar_cache) >= _GRAMMAR_CACHE_SIZE:
                _grammar_cache.pop(next(iter(_grammar_cache)))
            _grammar_cache[key] = grammar
    return grammar

