"""Schema view: how the Python side reads a JSON Schema, with one ``$ref`` resolver.

The grammar compiler (``csrc/schema.cpp``) enforces a schema; the Python side only reads it: the
prompt describes it, the drafts follow its outline. Everything here reads, nothing validates.

- The schema types every module shares: :data:`SchemaValue` (a JSON Schema value),
  :data:`SchemaText` (a value or its JSON text: what the grammar compiler and the scorer take)
  and :data:`SchemaArgument` (what extraction accepts: also a path or a Pydantic model class).
- :func:`resolve_ref`, the one resolver of local ``$ref`` pointers, reading them as the grammar
  compiler does; :func:`resolve_ref_or_none` for readers that describe a schema rather than
  enforce it and pass over a reference that does not resolve (the compiler rejects that schema).
- The outline drafting needs: which property names the schema holds (:func:`property_kinds`,
  keyed by their label words, :func:`label_words`), and what each node holds, nested objects
  and arrays included (:func:`schema_shape`, a :class:`Shape` tree). :func:`open_frames` lays
  that outline over a JSON output prefix: the objects and arrays the output leaves open, each
  with its shape and the keys written so far.
"""

from __future__ import annotations

import os
import re
from typing import Any, Union
from urllib.parse import unquote

from .errors import SchemaError

SchemaValue = Union[dict[str, Any], bool]
"""A JSON Schema value: an object or a boolean."""

SchemaText = Union[SchemaValue, str]
"""A JSON Schema value or its JSON text: what the grammar compiler and the scorer take."""

SchemaArgument = Union[SchemaText, os.PathLike[str], type]
"""What extraction takes as a schema: a value, its JSON text, a path to a ``.json`` file (a
``str`` or a path object) or a Pydantic model class."""


# ---- $ref -------------------------------------------------------------------------------------


def resolve_ref(root: Any, ref: str, holder: str = "") -> Any:
    """The node that the local reference ``ref`` points to inside ``root`` (the whole schema).

    ``ref`` is a URI fragment holding a JSON pointer (RFC 6901), read as the grammar compiler
    reads it: ``#`` is the root; ``#/$defs/item`` and ``#/definitions/item`` name nodes under
    it. The fragment is percent-decoded, split at ``/``, and each token unescaped (``~1`` is
    ``/``, ``~0`` is ``~``); a token made of at most nine decimal digits indexes an array.
    One reference is resolved, not a chain of them: a caller that follows what it finds bounds
    its own depth, so a schema whose references form a cycle cannot recurse forever.

    Args:
        root: the schema the pointer starts from.
        ref: the ``$ref`` value.
        holder: the JSON pointer of the schema node holding the reference, for the error.

    Raises:
        SchemaError: (keyword ``$ref``, ``pointer`` ``holder``) ``ref`` is not a local JSON
            pointer, or names no node of ``root``; the message names ``ref`` and, when it does
            not resolve, the first token that names nothing.
    """
    if not ref.startswith("#") or (len(ref) > 1 and ref[1] != "/"):
        raise SchemaError("only local JSON-pointer references ('#', '#/...') are supported: "
                          f"'{ref}'", "$ref", holder)
    node = root
    walked = "#"
    for token in unquote(ref[1:], errors="replace").split("/")[1:]:
        key = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif (isinstance(node, list) and key.isascii() and key.isdigit() and len(key) < 10
              and int(key) < len(node)):
            node = node[int(key)]
        else:
            raise SchemaError(f"reference '{ref}' does not resolve: '{walked}' has no '{key}'",
                              "$ref", holder)
        walked += "/" + token
    return node


def resolve_ref_or_none(root: Any, ref: str) -> Any:
    """:func:`resolve_ref`, or None where it raises: for readers that describe a schema rather
    than enforce it (the prompt, the drafts), which pass over a reference that does not resolve.
    Such a schema never reaches decoding: the grammar compiler rejects it."""
    try:
        return resolve_ref(root, ref)
    except SchemaError:
        return None


# ---- the outline drafting reads ---------------------------------------------------------------

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def label_words(key: str) -> str:
    """The words of a property name, lowercase: ``transactionId`` and ``transaction_id`` both
    give ``transaction id``."""
    return " ".join(re.split(r"[\s_.\-]+", _CAMEL.sub(" ", key).lower())).strip()


def property_kinds(schema: object) -> dict[str, tuple[str, str]]:
    """Label words -> (property name, kind) for every property the schema names anywhere.

    The kind is ``string``, ``number`` (numbers and integers) or ``other``; the first property
    with given label words wins.
    """
    kinds: dict[str, tuple[str, str]] = {}
    stack = [schema]
    while stack:
        node = stack.pop(0)
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        props = node.get("properties")
        if isinstance(props, dict):
            for name, sub in props.items():
                kind = "other"
                t = sub.get("type") if isinstance(sub, dict) else None
                if t == "string":
                    kind = "string"
                elif t in ("number", "integer"):
                    kind = "number"
                kinds.setdefault(label_words(str(name)), (str(name), kind))
        for value in node.values():
            if isinstance(value, (dict, list)):
                stack.append(value)
    return kinds


class Shape:
    """What a schema node holds, as far as drafting needs: ``kind`` is ``string``, ``number``,
    ``object`` (with ``props``: name -> Shape, and ``words``: label words -> name), ``array``
    (with ``item``) or ``other``."""

    __slots__ = ("kind", "props", "words", "item")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.props: dict[str, Shape] = {}
        self.words: dict[str, str] = {}
        self.item: Shape | None = None


_OTHER = Shape("other")


def schema_shape(schema: object, root: object = None, depth: int = 0) -> Shape:
    """The :class:`Shape` of a schema node (local ``$ref`` resolved; the properties of
    ``allOf``/``anyOf``/``oneOf`` alternatives merged; at most 16 levels deep)."""
    root = schema if root is None else root
    if depth > 16 or not isinstance(schema, dict):
        return _OTHER
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = resolve_ref_or_none(root, ref)  # the compiler rejects what does not resolve
        return schema_shape(target, root, depth + 1) if target is not None else _OTHER
    t = schema.get("type")
    if t == "string":
        return Shape("string")
    if t in ("number", "integer"):
        return Shape("number")
    if t == "array" or (t is None and "items" in schema):
        shape = Shape("array")
        shape.item = schema_shape(schema.get("items"), root, depth + 1)
        return shape
    parts = [schema] + [sub for key in ("allOf", "anyOf", "oneOf")
                        for sub in (schema.get(key) or []) if isinstance(sub, dict)]
    if t == "object" or any(isinstance(p.get("properties"), dict) for p in parts):
        shape = Shape("object")
        for part in parts:
            props = part.get("properties")
            if not isinstance(props, dict):
                continue
            for name, sub in props.items():
                if str(name) not in shape.props:
                    shape.props[str(name)] = schema_shape(sub, root, depth + 1)
                    shape.words.setdefault(label_words(str(name)), str(name))
        return shape
    return _OTHER


class _Frame:
    """An open object or array of the output: its shape and, for an object, its keys so far."""

    __slots__ = ("shape", "seen", "key")

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.seen: set[str] = set()
        self.key = ""


_JSON_SCAN = re.compile(rb'"(?:[^"\\]|\\.)*"?|[{}\[\],:]')


def open_frames(output: bytes, top: Shape) -> list[_Frame] | None:
    """The objects and arrays a JSON output prefix leaves open, outermost first, each with its
    schema shape (``top`` for the root); None when the output is not such a prefix."""
    frames: list[_Frame] = []
    prev = b""
    for m in _JSON_SCAN.finditer(output):
        tok = m.group()
        c = tok[:1]
        if c == b'"':
            if frames and frames[-1].shape.kind == "object" and prev in (b"{", b","):
                frame = frames[-1]
                frame.key = tok[1:-1].decode("utf-8", "replace") if tok.endswith(b'"') and len(
                    tok) > 1 else ""
                frame.seen.add(frame.key)
        elif c in b"{[":
            if not frames:
                shape = top
            elif frames[-1].shape.kind == "object":
                shape = frames[-1].shape.props.get(frames[-1].key, _OTHER)
            else:
                shape = frames[-1].shape.item or _OTHER
            if (c == b"{") != (shape.kind == "object") and shape.kind != "other":
                return None
            frames.append(_Frame(shape if shape.kind != "other" else Shape(
                "object" if c == b"{" else "array")))
        elif c in b"}]":
            if not frames:
                return None
            frames.pop()
        prev = c
    return frames
