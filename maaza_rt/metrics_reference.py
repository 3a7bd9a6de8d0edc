"""The pure-Python reference of the EdgeJSON metrics, to cross-check the native scorer.

These functions mirror :mod:`maaza_rt.metrics` and must agree with it exactly:
``score_reference`` and ``score_pair_reference`` give the results of ``score`` and ``score_pair``
(same layout), ``schema_valid_reference``, ``extract_json_reference`` and
``check_format_reference`` the answers of ``schema_valid``, ``extract_json`` and
``check_format``, and ``parse_reference``, ``equal_reference``, ``field_f1_reference``,
``compliance_reference`` and ``leaf_f1_reference`` compute one step or column each on loaded
values. The metric definitions and their conventions are in the docstring of
:mod:`maaza_rt.metrics`. The reference follows them in plain Python rather than the C++ of
``csrc/metrics.cpp``: strict JSON parsing on top of ``json``, the string formats as regular
expressions, and schema validation with the ``jsonschema`` package (imported lazily: a test/bench
extra). Tests check that the two agree; ``bench/score_speed.py`` times one against the other.
Nothing here uses the native module.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any, Callable

__all__ = [
    "score_reference",
    "score_pair_reference",
    "parse_reference",
    "equal_reference",
    "json_type",
    "field_f1_reference",
    "compliance_reference",
    "leaf_f1_reference",
    "extract_json_reference",
    "schema_valid_reference",
    "check_format_reference",
]

# The per-pair columns of a result, in the order of the native scorer's.
_PAIR_KEYS = ("parsed", "json_exact", "field_f1", "compliance", "schema_valid", "leaf_f1")

_MAX_DEPTH = 512  # the native parser's limit: values nested deeper than this are rejected


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_int(text: str) -> int:
    # int() refuses more than 4300 digits; build large integers from chunks instead.
    if len(text) <= 4000:
        return int(text)
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    value = 0
    for i in range(0, len(digits), 1000):
        chunk = digits[i : i + 1000]
        value = value * 10 ** len(chunk) + int(chunk)
    return -value if negative else value


def _strict(value: Any) -> bool:
    """Rejects what RFC 8259 / the native parser reject and json.loads accepts."""
    stack = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if depth > _MAX_DEPTH:
            return False
        if isinstance(v, str):
            if any("\ud800" <= c <= "\udfff" for c in v):
                return False
        elif isinstance(v, list):
            stack.extend((item, depth + 1) for item in v)
        elif isinstance(v, dict):
            stack.extend((item, depth + 1) for item in v.values())
    return True


def _strict_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Keys of duplicate members are checked too (dict() would drop the earlier ones).
    for k, _ in pairs:
        if any("\ud800" <= c <= "\udfff" for c in k):
            raise ValueError("lone surrogate in key")
    return dict(pairs)


def parse_reference(text: str) -> tuple[bool, Any]:
    """Strict JSON parsing in Python: ``(True, value)`` or ``(False, None)``."""
    try:
        value = json.loads(
            text,
            parse_constant=_no_constant,
            parse_int=_parse_int,
            object_pairs_hook=_strict_pairs,
        )
    except (ValueError, RecursionError):
        return False, None
    if not _strict(value):
        return False, None
    return True, value


def equal_reference(a: Any, b: Any) -> bool:
    """Python equality of loaded JSON values, except that booleans never equal numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return False
        for x, y in zip(a, b):
            if not equal_reference(x, y):
                return False
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return False
        for k in a:
            if not equal_reference(a[k], b[k]):
                return False
        return True
    return False


def _f1(tp: int, n_pred: int, n_expected: int) -> float:
    if tp == 0:
        return 0.0
    precision = tp / n_pred
    recall = tp / n_expected
    return 2 * (precision * recall) / (precision + recall)


def field_f1_reference(prediction: Any, expected: Any) -> float:
    """The paper's top-level field F1 (conventions in :mod:`maaza_rt.metrics`)."""
    if not isinstance(expected, dict):
        return 1.0 if equal_reference(prediction, expected) else 0.0
    if not isinstance(prediction, dict):
        return 0.0
    if not prediction and not expected:
        return 1.0
    if not prediction or not expected:
        return 0.0
    tp = sum(
        1 for k in expected if k in prediction and equal_reference(prediction[k], expected[k])
    )
    return _f1(tp, len(prediction), len(expected))


def json_type(v: Any) -> str:
    """The JSON type of a loaded value: null, boolean, number (int or float), string, array or
    object."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def compliance_reference(prediction: Any, expected: Any) -> bool:
    """The paper's compliance check (conventions in :mod:`maaza_rt.metrics`)."""
    if not isinstance(expected, dict):
        return json_type(prediction) == json_type(expected)
    if not isinstance(prediction, dict) or not prediction:
        return False
    return all(k in prediction and json_type(prediction[k]) == json_type(v)
               for k, v in expected.items())


def _flatten(value: Any, path: tuple, out: dict) -> None:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            _flatten(v, (*path, ("key", k)), out)
    elif isinstance(value, list) and value:
        for i, v in enumerate(value):
            _flatten(v, (*path, ("index", i)), out)
    else:
        out[path] = value


def leaf_f1_reference(prediction: Any, expected: Any) -> float:
    """F1 over (path, leaf) pairs present in both with equal leaves."""
    pred: dict = {}
    exp: dict = {}
    _flatten(prediction, (), pred)
    _flatten(expected, (), exp)
    tp = sum(1 for p, v in pred.items() if p in exp and equal_reference(v, exp[p]))
    return _f1(tp, len(pred), len(exp))


_PAPER_PATTERN = re.compile(r"\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}")


def extract_json_reference(text: str) -> tuple[bool, Any]:
    """The paper's fallback: the stripped text, else the first parseable pattern match."""
    ok, value = parse_reference(text.strip())
    if ok:
        return ok, value
    for match in _PAPER_PATTERN.finditer(text):
        ok, value = parse_reference(match.group())
        if ok:
            return ok, value
    return False, None


# Format checks, written independently of the native ones from the same definitions.
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|[+-]([0-9]{2}):([0-9]{2}))?")
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}")
_EMAIL_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_OCTET = re.compile(r"0|[1-9][0-9]{0,2}")
_URI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*:(?:[!#$&'()*+,\-./0-9:;=?@A-Z\[\]_a-z~]|%[0-9A-Fa-f]{2})+"
)


def _date_ok(s: str) -> bool:
    m = _DATE.fullmatch(s)
    if not m:
        return False
    y, mo, d = (int(g) for g in m.groups())
    if not 1 <= mo <= 12:
        return False
    leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]
    return 1 <= d <= days


def _time_ok(s: str) -> bool:
    m = _TIME.fullmatch(s)
    if not m:
        return False
    h, mi, sec = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if h > 23 or mi > 59 or sec > 59:
        return False
    if m.group(6) is not None:
        return int(m.group(6)) <= 23 and int(m.group(7)) <= 59
    return True


def _email_ok(s: str) -> bool:
    local, at, domain = s.partition("@")
    if not at or not _EMAIL_LOCAL.fullmatch(local):
        return False
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    labels = domain.split(".")
    return (
        0 < len(domain) <= 253
        and len(labels) >= 2
        and all(_EMAIL_LABEL.fullmatch(label) for label in labels)
    )


def _ipv4_ok(s: str) -> bool:
    parts = s.split(".")
    return len(parts) == 4 and all(_OCTET.fullmatch(p) and int(p) <= 255 for p in parts)


_FORMATS: dict[str, Callable[[str], bool]] = {
    "date": _date_ok,
    "time": _time_ok,
    "date-time": lambda s: len(s) > 10 and s[10] in "Tt" and _date_ok(s[:10]) and _time_ok(s[11:]),
    "email": _email_ok,
    "uuid": lambda s: _UUID.fullmatch(s) is not None,
    "ipv4": _ipv4_ok,
    "uri": lambda s: _URI.fullmatch(s) is not None,
}


def check_format_reference(fmt: str, value: str) -> bool:
    """The reference check for a string ``format`` (unknown formats pass)."""
    check = _FORMATS.get(fmt)
    return True if check is None else bool(check(value))


_validator_cache: dict[str, Any] = {}


# A control escape: \c and a letter after an even run of backslashes (group 1 keeps the run).
_CONTROL_ESCAPE = re.compile(r"((?<!\\)(?:\\\\)*)\\c([A-Za-z])")


def _reference_validator(schema: Any) -> Any:
    text = json.dumps(schema, sort_keys=True)
    cached = _validator_cache.get(text)
    if cached is not None:
        return cached
    import jsonschema  # a test/bench extra: imported only when the reference runs
    from jsonschema import validators

    checker = jsonschema.FormatChecker(formats=())
    for name, fn in _FORMATS.items():
        # Formats apply to strings only.
        checker.checks(name)(lambda v, fn=fn: not isinstance(v, str) or fn(v))

    def pattern(validator: Any, patrn: str, instance: Any, _schema: Any) -> Iterator[Any]:
        # ECMAScript classes (\d, \w, \s) are ASCII; Python's are Unicode unless re.ASCII.
        # ECMAScript's control escapes (\cA: U+0001) are \xHH to Python.
        patrn = _CONTROL_ESCAPE.sub(lambda m: m.group(1) + f"\\x{ord(m.group(2)) % 32:02X}",
                                    patrn)
        if validator.is_type(instance, "string") and not re.search(patrn, instance, re.ASCII):
            yield jsonschema.ValidationError(f"{instance!r} does not match {patrn!r}")

    dialect = schema.get("$schema", "") if isinstance(schema, dict) else ""
    dialect = dialect if isinstance(dialect, str) else ""
    if "draft-04" in dialect:
        base: Any = validators.Draft4Validator
    elif "draft-06" in dialect:
        base = validators.Draft6Validator
    elif "draft-07" in dialect:
        base = validators.Draft7Validator
    elif "2019-09" in dialect:
        base = validators.Draft201909Validator
    else:
        base = validators.Draft202012Validator
    cls = validators.extend(base, {"pattern": pattern})
    validator = cls(schema, format_checker=checker)
    _validator_cache[text] = validator
    return validator


def schema_valid_reference(value: Any, schema: Any) -> bool:
    """Validation with the ``jsonschema`` package and the reference format checks."""
    return bool(_reference_validator(schema).is_valid(value))


def score_pair_reference(
    prediction_json: str, expected_json: str, schema: Any = None, extract_json: bool = False
) -> dict[str, Any]:
    """The reference of :func:`maaza_rt.metrics.score_pair`; ``schema`` may be a dict, bool or
    JSON text.

    Raises:
        ValueError: ``expected_json`` is not valid JSON.
    """
    ok, expected = parse_reference(expected_json)
    if not ok:
        raise ValueError("expected value is not valid JSON")
    if isinstance(schema, str):
        schema = json.loads(schema)
    if extract_json:
        parsed, pred = extract_json_reference(prediction_json)
    else:
        parsed, pred = parse_reference(prediction_json)
    if not parsed:
        return {
            "parsed": False,
            "json_exact": False,
            "field_f1": 0.0,
            "compliance": False,
            "schema_valid": None if schema is None else False,
            "leaf_f1": 0.0,
        }
    return {
        "parsed": True,
        "json_exact": equal_reference(pred, expected),
        "field_f1": field_f1_reference(pred, expected),
        "compliance": compliance_reference(pred, expected),
        "schema_valid": None if schema is None else schema_valid_reference(pred, schema),
        "leaf_f1": leaf_f1_reference(pred, expected),
    }


def _totals_reference(scores: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(scores)
    denom = n if n else 1
    with_schema = [s["schema_valid"] for s in scores if s["schema_valid"] is not None]
    sums = {k: 0.0 for k in ("json_exact", "field_f1", "compliance", "leaf_f1")}
    valid = 0.0
    for s in scores:
        sums["json_exact"] += 1.0 if s["json_exact"] else 0.0
        sums["field_f1"] += s["field_f1"]
        sums["compliance"] += 1.0 if s["compliance"] else 0.0
        sums["leaf_f1"] += s["leaf_f1"]
    for v in with_schema:
        valid += 1.0 if v else 0.0
    n_parsed = sum(1 for s in scores if s["parsed"])
    return {
        "n": n,
        "n_parsed": n_parsed,
        "n_unparsed": n - n_parsed,
        "n_with_schema": len(with_schema),
        "json_exact": sums["json_exact"] / denom,
        "field_f1": sums["field_f1"] / denom,
        "compliance": sums["compliance"] / denom,
        "leaf_f1": sums["leaf_f1"] / denom,
        "schema_valid": valid / len(with_schema) if with_schema else None,
    }


def score_reference(
    predictions: Sequence[str],
    expected: Sequence[str],
    schemas: Any = None,
    groups: Sequence[Any] | None = None,
    extract_json: bool = False,
    return_pairs: bool = False,
) -> dict[str, Any]:
    """The reference of :func:`maaza_rt.metrics.score`, with the same result layout.

    Raises:
        ValueError: an expected text is not JSON, or the lists differ in length.
    """
    n = len(predictions)
    if len(expected) != n:
        raise ValueError(f"{n} predictions for {len(expected)} expected values")
    if schemas is None or isinstance(schemas, (dict, str, bool)):
        per_pair: list[Any] = [schemas] * n
    else:
        per_pair = list(schemas)
    scores = [
        score_pair_reference(p, e, s, extract_json)
        for p, e, s in zip(predictions, expected, per_pair)
    ]
    out: dict[str, Any] = {"overall": _totals_reference(scores), "groups": {}}
    if groups is not None:
        by_label: dict[Any, list[dict[str, Any]]] = {}
        for g, s in zip(groups, scores):
            by_label.setdefault(g, []).append(s)
        out["groups"] = {g: _totals_reference(v) for g, v in by_label.items()}
    if return_pairs:
        out["pairs"] = {k: [s[k] for s in scores] for k in _PAIR_KEYS}
    return out
