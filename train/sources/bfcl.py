"""BFCL function calls as extraction rows: the user's request is the text, the called function's
parameters are the schema, and the ground-truth arguments are the expected JSON.

The Berkeley Function Calling Leaderboard (``../shared/corpora/bfcl``, v4, Apache-2.0) pairs
user requests with function definitions and the acceptable arguments of the correct call. Only
the categories whose answer is a single call are used: ``simple_python``, ``simple_java``,
``simple_javascript``, ``multiple``, ``live_simple`` and ``live_multiple`` (for the ``multiple``
ones the schema is the *called* function's, the other offered functions are ignored). The
parallel and irrelevance categories are left out.

Conversion, in short:

- **Schema.** BFCL writes parameters in its own dialect (``"type": "dict"``, ``float``,
  ``tuple``, ``any``, Java/JavaScript names such as ``String``, ``HashMap``, ``long``). They
  become JSON Schema draft 2020-12 types (``any`` has no type). Descriptions are kept (trimmed
  to about 200 characters), ``enum`` is kept, ``default`` is dropped, nested properties recurse,
  and objects with properties get ``"additionalProperties": false``. In the Java/JavaScript
  categories an argument is an expression, often a variable name, so an ``object``/``array``
  parameter there also accepts a string (``anyOf``).
- **Expected.** Every ground-truth parameter maps to a list of acceptable values, where ``""``
  (or ``null``) means "may be left out". A string value must be stated by the text, so the first
  alternative that :func:`~train.sources.in_text` finds is taken; numbers, booleans, lists and
  dicts are normalizations and kept. A parameter with nothing usable is left out when it may be
  (and then also removed from ``required``: BFCL marks some parameters required that the ground
  truth lets the caller omit); when it may not, the row is dropped. Values are coerced to the
  converted type where BFCL disagrees trivially (``"5"`` for an integer, ``True`` for the enum
  member ``"True"``). The expected value is checked with ``jsonschema``; invalid rows are dropped
  and counted (:func:`convert` returns the counts).
- **Split.** By schema, not by row: a function name goes to dev when
  ``zlib.crc32(name) % 5 == 0`` (about 20 %), else to train; except that the functions made
  from SGD services (``Hotels_4_SearchHotel``) follow the service's split in ``sgd.py``, so no
  source trains on a service that another holds out for dev. ``schema_id`` is
  ``bfcl/<function name>``, with a short hash of the schema appended when one name ends up with
  several different schemas (per-row ``required`` adjustments, or BFCL defining a name twice).

Overlap: ``../shared/maskbench/BFCL_*.json`` holds JSON Schemas built from BFCL **v3**, which are
the same items as the non-``live`` categories here (``simple_0`` there is ``simple_python_0``
here). A MaskBench measurement that must stay independent of extraction training should be
compared against a mixture without the non-``live`` BFCL rows.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
import re
import zlib
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from train.sources import check_split, in_text, make_row

__all__ = ["CATEGORIES", "rows", "convert", "convert_schema", "split_of"]

SOURCE = "bfcl"
CATEGORIES = ("simple_python", "simple_java", "simple_javascript", "multiple", "live_simple",
              "live_multiple")
# Categories whose arguments are Java/JavaScript expressions (often variable names).
CODE_CATEGORIES = frozenset({"simple_java", "simple_javascript"})
MAX_TEXT = 1000
MAX_DESCRIPTION = 200
FORMATS = frozenset({"date", "time", "date-time", "email", "uri"})

# BFCL (Python, Java, JavaScript) type names -> JSON Schema types; None means "no type".
_TYPES: dict[str, str | None] = {
    "dict": "object", "object": "object", "HashMap": "object", "Map": "object",
    "float": "number", "double": "number", "number": "number", "Double": "number",
    "Float": "number",
    "tuple": "array", "array": "array", "list": "array", "Array": "array", "ArrayList": "array",
    "List": "array",
    "string": "string", "str": "string", "String": "string", "char": "string",
    "Character": "string",
    "integer": "integer", "int": "integer", "long": "integer", "Long": "integer",
    "Integer": "integer", "short": "integer", "byte": "integer",
    "boolean": "boolean", "bool": "boolean", "Boolean": "boolean",
    "any": None, "": None,
}

# The live categories hold functions made from SGD services (``Hotels_4_SearchHotel``). SGD's
# train services, and the dev services absent from its train (the SGD converter's dev split).
SGD_TRAIN_SERVICES = frozenset({
    "Banks_1", "Buses_1", "Buses_2", "Calendar_1", "Events_1", "Events_2", "Flights_1",
    "Flights_2", "Homes_1", "Hotels_1", "Hotels_2", "Hotels_3", "Media_1", "Movies_1", "Music_1",
    "Music_2", "RentalCars_1", "RentalCars_2", "Restaurants_1", "RideSharing_1", "RideSharing_2",
    "Services_1", "Services_2", "Services_3", "Travel_1", "Weather_1"})
SGD_DEV_SERVICES = frozenset({"Alarm_1", "Banks_2", "Flights_3", "Hotels_4", "Media_2",
                              "Movies_2", "Restaurants_2", "Services_4"})
_SGD_SERVICE_RE = re.compile(r"([A-Z][A-Za-z]*_\d+)_")
_INT_RE = re.compile(r"[+-]?\d+")
_NUMBER_RE = re.compile(r"(?<![A-Za-z_])[-+]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+")
_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty".split())}
_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
               "ninety": 90, "hundred": 100, "thousand": 1000, "dozen": 12})


class _Skip(Exception):
    """A value or row that cannot be converted; ``reason`` names the drop counter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def split_of(name: str) -> str:
    """The split of a function name: ``"dev"`` for about one name in five, else ``"train"``.

    A name built from an SGD service (``Hotels_4_SearchHotel``) follows that service's split in
    the SGD converter, so neither source trains on a schema the other holds out.
    """
    match = _SGD_SERVICE_RE.match(name)
    if match and match.group(1) in SGD_DEV_SERVICES:
        return "dev"
    if match and match.group(1) in SGD_TRAIN_SERVICES:
        return "train"
    return "dev" if zlib.crc32(name.encode("utf-8")) % 5 == 0 else "train"


def _trim(description: str) -> str:
    """``description`` cut to about :data:`MAX_DESCRIPTION` characters at a word boundary."""
    text = " ".join(description.split())
    if len(text) <= MAX_DESCRIPTION:
        return text
    cut = text[:MAX_DESCRIPTION].rsplit(" ", 1)[0].rstrip(",;:.")
    return cut + "..."


def convert_schema(node: dict[str, Any], code: bool = False) -> dict[str, Any]:
    """One BFCL schema node (the ``parameters`` object, or a parameter) as JSON Schema.

    ``code`` marks the Java/JavaScript categories, where an object or array *parameter* (a
    property or an item, not the node itself) also accepts a string, an expression such as a
    variable name: it becomes
    ``{"description": ..., "anyOf": [{"type": "object", ...}, {"type": "string"}]}``.
    Unknown type names become "no type" rather than an error.
    """
    out: dict[str, Any] = {}
    raw_type = node.get("type")
    json_type = _TYPES.get(raw_type, None) if isinstance(raw_type, str) else None
    if json_type is not None:
        out["type"] = json_type
    if isinstance(node.get("description"), str) and node["description"].strip():
        out["description"] = _trim(node["description"])
    if isinstance(node.get("enum"), list) and node["enum"]:
        out["enum"] = list(node["enum"])
    if node.get("format") in FORMATS and json_type == "string":
        out["format"] = node["format"]
    for key in ("minimum", "maximum"):
        if isinstance(node.get(key), (int, float)) and not isinstance(node.get(key), bool):
            out[key] = node[key]
    props = node.get("properties")
    if json_type == "object" and isinstance(props, dict) and props:
        out["properties"] = {k: _parameter(v if isinstance(v, dict) else {}, code)
                             for k, v in props.items()}
        required = [r for r in node.get("required", []) if r in props]
        if required:
            out["required"] = required
        out["additionalProperties"] = False
    if json_type == "array" and isinstance(node.get("items"), dict):
        out["items"] = _parameter(node["items"], code)
    if json_type == "array" and "enum" in out:
        # BFCL writes the items' enum on the array itself.
        enum = out.pop("enum")
        items = out.setdefault("items", {})
        if "anyOf" not in items and "enum" not in items:
            items["enum"] = enum
    return out


def _parameter(node: dict[str, Any], code: bool) -> dict[str, Any]:
    """A parameter's schema: :func:`convert_schema`, widened with a string branch for the
    object and array parameters of the Java/JavaScript categories."""
    out = convert_schema(node, code)
    if not code or out.get("type") not in ("object", "array"):
        return out
    branch = {k: v for k, v in out.items() if k != "description"}
    wrapped: dict[str, Any] = {}
    if "description" in out:
        wrapped["description"] = out["description"]
    wrapped["anyOf"] = [branch, {"type": "string"}]
    return wrapped


def _branch(node: dict[str, Any], value: Any) -> dict[str, Any]:
    """The branch of a (possibly ``anyOf``-widened) node that fits the Python type of ``value``."""
    if "anyOf" not in node:
        return node
    want = "string" if isinstance(value, str) else (
        "object" if isinstance(value, dict) else "array" if isinstance(value, list) else None)
    for option in node["anyOf"]:
        if option.get("type") == want:
            return option
    return node["anyOf"][0]


def _enum_member(value: Any, enum: list[Any]) -> Any:
    """The member of ``enum`` that ``value`` denotes (exactly, or as text ignoring case)."""
    for member in enum:
        if member == value and type(member) is type(value):
            return member
    text = str(value).strip().lower()
    for member in enum:
        if str(member).strip().lower() == text:
            return member
    raise _Skip("not_in_enum")


def _scalar(value: Any, node: dict[str, Any], text: str) -> Any:
    """``value`` coerced to ``node``'s type; strings outside an enum must occur in ``text``.

    Raises:
        _Skip: when the value cannot be coerced or is a string the text does not state.
    """
    kind = node.get("type")
    enum = node.get("enum")
    if kind == "integer":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        elif isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
            value = int(value.strip())
        if not isinstance(value, int) or isinstance(value, bool):
            raise _Skip("uncoercible")
    elif kind == "number":
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError as err:
                raise _Skip("uncoercible") from err
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise _Skip("uncoercible")
    elif kind == "boolean":
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            value = value.strip().lower() == "true"
        if not isinstance(value, bool):
            raise _Skip("uncoercible")
    elif kind == "string" and not isinstance(value, str):
        if enum is None or not isinstance(value, (bool, int, float)):
            raise _Skip("uncoercible")
    if enum is not None:
        return _enum_member(value, enum)
    if isinstance(value, str) and not in_text(value, text):
        raise _Skip("not_in_text")
    return value


def _resolve(alternatives: Any, node: dict[str, Any], text: str) -> tuple[bool, Any]:
    """The first usable alternative for one parameter: ``(True, value)``, or ``(False, None)``
    when the parameter is to be left out.

    Raises:
        _Skip: when no alternative is usable and the ground truth does not allow omission.
    """
    if not isinstance(alternatives, list):
        alternatives = [alternatives]
    optional = any(_is_omission(a) for a in alternatives)
    primary = bool(alternatives) and not _is_omission(alternatives[0])
    reason = "no_alternative"
    for candidate in alternatives:
        if _is_omission(candidate):
            continue
        if optional and candidate in ([], {}):
            continue  # "nothing" is stated by omission, as for ""
        try:
            branch = _branch(node, candidate)
            value = _value(candidate, branch, text)
            if optional and not _stated(value, branch, text, primary):
                raise _Skip("unstated_default")
            return True, value
        except _Skip as skip:
            reason = skip.reason
    if optional:
        return False, None
    raise _Skip(reason)


def _is_omission(alternative: Any) -> bool:
    """Whether a ground-truth alternative means "leave the parameter out" (``""`` or null)."""
    return alternative is None or (isinstance(alternative, str) and alternative == "")


def _stated(value: Any, node: dict[str, Any], text: str, primary: bool) -> bool:
    """Whether an *optional* parameter's value is backed by the text, rather than being the
    function's default that the ground truth merely tolerates (``gravity: [9.81, ""]``).

    Strings outside an enum were already checked with ``in_text``. A number must occur in the
    text; an enum member must occur in it or be the ground truth's first answer (listed before
    ``""``); a boolean must be the first answer (the text cannot be checked for one).
    """
    if "enum" in node:
        return primary or in_text(str(value), text)
    if isinstance(value, bool):
        return primary
    if isinstance(value, (int, float)):
        return any(math.isclose(value, n, rel_tol=1e-9, abs_tol=1e-12)
                   for n in _numbers(text))
    return True


def _numbers(text: str) -> list[float]:
    """The numbers written in ``text``: digits (with thousands separators, decimals,
    exponents) and the number words from zero to twenty, the tens and hundred/thousand."""
    found = [float(m.replace(",", "")) for m in _NUMBER_RE.findall(text)]
    found += [float(_WORDS[w]) for w in re.findall(r"[a-z]+", text.lower()) if w in _WORDS]
    return found


def _is_alternatives(value: Any) -> bool:
    """Whether ``value`` is a ground-truth object: a dict mapping each key to alternatives."""
    return isinstance(value, dict) and bool(value) and all(
        isinstance(v, list) for v in value.values())


def _value(candidate: Any, node: dict[str, Any], text: str) -> Any:
    """One alternative as a JSON value; nested dicts of alternative lists are resolved and the
    node's ``required`` list is pruned of keys the ground truth lets the caller omit."""
    if isinstance(candidate, dict):
        if node.get("type") not in (None, "object"):
            raise _Skip("uncoercible")
        if not _is_alternatives(candidate):
            return candidate  # a literal mapping, not a dict of alternatives
        return _object(candidate, node, text)
    if isinstance(candidate, list):
        if node.get("type") not in (None, "array"):
            raise _Skip("uncoercible")
        items = node.get("items", {})
        return [_object(item, copy.deepcopy(_branch(items, item)), text)
                if _is_alternatives(item) else item for item in candidate]
    return _scalar(candidate, node, text)


def _object(ground: dict[str, Any], node: dict[str, Any], text: str) -> dict[str, Any]:
    """The resolved arguments of one object; edits ``node["required"]`` in place.

    Raises:
        _Skip: for a parameter the schema does not have (``param_not_in_schema``) or a required
            one with no usable alternative.
    """
    props = node.get("properties", {})
    if node.get("additionalProperties") is False and any(k not in props for k in ground):
        raise _Skip("param_not_in_schema")
    result: dict[str, Any] = {}
    omitted: set[str] = set()
    for name, alternatives in ground.items():
        present, value = _resolve(alternatives, props.get(name, {}), text)
        if present:
            result[name] = value
        else:
            omitted.add(name)
    if "required" in node:
        required = [r for r in node["required"] if r not in omitted]
        if required:
            node["required"] = required
        else:
            del node["required"]
    return result


def _text(question: list[list[dict[str, Any]]]) -> str:
    """The user messages of a BFCL question, joined with newlines (system messages skipped)."""
    return "\n".join(m["content"].strip() for turn in question for m in turn
                     if m.get("role") == "user" and isinstance(m.get("content"), str)
                     and m["content"].strip())


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The objects of a JSON Lines file."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@functools.lru_cache(maxsize=4096)
def _valid_schema(canonical: str) -> bool:
    """Whether a schema (as canonical JSON) is valid draft 2020-12; cached, as many rows share
    one function's schema and the check is slow."""
    try:
        Draft202012Validator.check_schema(json.loads(canonical))
    except SchemaError:
        return False
    return True


def _canonical(schema: dict[str, Any]) -> str:
    """The schema as canonical JSON (sorted keys, no spaces)."""
    return json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _called(answer: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """``(function name, arguments)`` of an answer with exactly one call, else None."""
    truth = answer.get("ground_truth")
    if not isinstance(truth, list) or len(truth) != 1 or not isinstance(truth[0], dict) \
            or len(truth[0]) != 1:
        return None
    (name, ground), = truth[0].items()
    return (name, ground) if isinstance(ground, dict) else None


def _row(question: dict[str, Any], name: str, ground: dict[str, Any], code: bool
         ) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """``(schema, text, expected)`` for one question and the arguments of its one call.

    Raises:
        _Skip: when the row cannot be converted (the reason is the drop counter's name).
    """
    functions = [f for f in question["function"] if f.get("name") == name]
    if len(functions) != 1:
        raise _Skip("function_not_offered")
    text = _text(question["question"])
    if not text:
        raise _Skip("no_text")
    if len(text) > MAX_TEXT:
        raise _Skip("long_text")
    params = copy.deepcopy(functions[0].get("parameters") or {"type": "dict"})
    params["type"] = "dict"
    schema = convert_schema(params, code)
    schema.pop("description", None)
    schema.setdefault("properties", {})
    schema["additionalProperties"] = False
    if not _valid_schema(_canonical(schema)):
        raise _Skip("bad_schema")
    expected = _object(ground, schema, text)
    if not Draft202012Validator(schema).is_valid(expected):
        raise _Skip("invalid")
    return schema, text, expected


def convert(root: Path, split: str) -> tuple[list[dict[str, Any]], Counter[str]]:
    """The mixture rows of one split and the number of dropped rows (of that split) per reason.

    Raises:
        ValueError: for an unknown split.
        FileNotFoundError: when a category file is missing under ``root``.
    """
    check_split(split)
    root = Path(root)
    drops: Counter[str] = Counter()
    converted: list[tuple[str, str, dict[str, Any], str, dict[str, Any]]] = []
    for category in CATEGORIES:
        path = root / "question" / f"BFCL_v4_{category}.json"
        questions = {q["id"]: q for q in _read_jsonl(path)}
        for answer in _read_jsonl(root / "possible_answer" / f"BFCL_v4_{category}.json"):
            called = _called(answer)
            if called is None:
                drops["not_one_call"] += 1
                continue
            name, ground = called
            if split_of(name) != split:
                continue
            question = questions.get(answer["id"])
            if question is None:
                drops["no_question"] += 1
                continue
            try:
                schema, text, expected = _row(question, name, ground,
                                              category in CODE_CATEGORIES)
            except _Skip as skip:
                drops[skip.reason] += 1
                continue
            converted.append((answer["id"], name, schema, text, expected))
    shapes: dict[str, set[str]] = defaultdict(set)
    for _, name, schema, _, _ in converted:
        shapes[name].add(_canonical(schema))
    out = []
    for key, name, schema, text, expected in converted:
        schema_name = name
        if len(shapes[name]) > 1:
            digest = hashlib.sha1(_canonical(schema).encode("utf-8")).hexdigest()[:8]
            schema_name = f"{name}@{digest}"
        out.append(make_row(SOURCE, key, schema_name, schema, text, expected))
    return out, drops


def rows(root: Path, split: str) -> list[dict[str, Any]]:
    """The mixture rows of BFCL for ``split`` (``"train"`` or ``"dev"``), split by function name.

    Raises:
        ValueError: for an unknown split.
        FileNotFoundError: when a category file is missing under ``root``.
    """
    return convert(root, split)[0]
