"""The error hierarchy and its mapping from the native core."""

from __future__ import annotations

import pytest

import maaza_rt
from maaza_rt import _core
from maaza_rt.errors import JsonError, MaazaError


def test_errors_all_derive_from_maaza_error() -> None:
    for name in maaza_rt.errors.__all__:
        assert issubclass(getattr(maaza_rt.errors, name), MaazaError)


def test_errors_core_json_error_maps_to_python_class_with_offset() -> None:
    with pytest.raises(JsonError) as info:
        _core.json_compact('{"a": [1, 2,]}')
    assert info.value.offset == 12
    assert isinstance(info.value, ValueError)


def test_errors_core_json_compact_roundtrip() -> None:
    assert _core.json_compact('{ "k" : [1, 2.50, "\\u00e9"] }') == '{"k":[1,2.50,"\u00e9"]}'


def test_errors_version_matches_pyproject() -> None:
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    version = re.search(r'^version = "([^"]+)"', text, re.M).group(1)
    assert maaza_rt.__version__ == version
