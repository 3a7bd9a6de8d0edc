"""The native scorer against the pure-Python reference on one pair: the check the metric tests
share (test_metrics.py, test_metrics_random.py)."""

from __future__ import annotations

from typing import Any

from maaza_rt import metrics
from maaza_rt.metrics_reference import score_pair_reference


def assert_agree(pred: str, exp: str, schema: Any = None, extract: bool = False) -> dict:
    native = metrics.score_pair(pred, exp, schema, extract_json=extract)
    ref = score_pair_reference(pred, exp, schema, extract_json=extract)
    assert native == ref, f"prediction={pred!r}\nexpected={exp!r}\nschema={schema!r}"
    return native
