"""The HTML report of extractions: each value highlighted where the input text writes it.

:func:`render_report` makes one self-contained page (inline style, no script, no external
asset) for one or more extractions made with ``return_details=True``. For each one it shows the
input text with every spanned leaf (``Extraction.spans``) highlighted, labelled with its JSON
pointer and confidence (``Extraction.confidence``; also in the highlight's tooltip) and coloured
from red (unlikely) to green (certain), then a table of every leaf: pointer, value, confidence,
span. Overlapping spans (the same value used twice) split the text into segments that name
every leaf covering them. All text from the input and the values is HTML-escaped.
``maaza-rt extract --html FILE`` writes it.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .spans import leaves

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
pre.text { white-space: pre-wrap; line-height: 2.2; background: #fafafa; padding: 1em;
           border: 1px solid #ddd; }
mark { padding: 0.1em 0; border-radius: 3px; }
span.label { font-size: 0.7em; background: #333; color: #fff; border-radius: 3px;
             padding: 0 0.3em; margin-right: 0.2em; vertical-align: super; }
table { border-collapse: collapse; margin-top: 1em; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; vertical-align: top; }
td.value { font-family: monospace; white-space: pre-wrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
""".strip()


@dataclass(frozen=True)
class ReportEntry:
    """One extraction as the report shows it.

    Attributes:
        text: the input text.
        value: the extracted JSON value (loaded).
        spans: leaf pointer -> (start, end) character offsets in ``text``.
        confidence: leaf pointer -> probability.
    """

    text: str
    value: Any
    spans: Mapping[str, tuple[int, int]]
    confidence: Mapping[str, float]

    @classmethod
    def of(cls, text: str, extraction: Any) -> ReportEntry:
        """The entry of an ``Extraction`` (its value dumped to JSON data when it is a Pydantic
        model) for input ``text``."""
        value = extraction.value
        if hasattr(value, "model_dump"):
            value = value.model_dump(mode="json")
        return cls(text, value, extraction.spans, extraction.confidence)


def _colour(p: float) -> str:
    """Red at 0, yellow at 0.5, green at 1."""
    return f"hsl({round(120 * min(max(p, 0.0), 1.0))}, 75%, 82%)"


def _percent(p: float | None) -> str:
    return "-" if p is None else f"{100 * p:.1f}%"


def _highlighted(entry: ReportEntry) -> str:
    """The input text as HTML, each spanned leaf in a ``<mark>`` with its label."""
    text = entry.text
    spans = {p: (s, e) for p, (s, e) in entry.spans.items() if 0 <= s < e <= len(text)}
    cuts = sorted({0, len(text), *(s for s, _ in spans.values()), *(e for _, e in spans.values())})
    out: list[str] = []
    for a, b in zip(cuts, cuts[1:]):
        segment = html.escape(text[a:b])
        covering = [p for p, (s, e) in spans.items() if s <= a and b <= e]
        if not covering:
            out.append(segment)
            continue
        for p in covering:
            if spans[p][0] == a:
                out.append(f'<span class="label">{html.escape(p)} '
                           f'{_percent(entry.confidence.get(p))}</span>')
        known = [entry.confidence[p] for p in covering if p in entry.confidence]
        title = "; ".join(f"{p}: confidence {_percent(entry.confidence.get(p))}"
                          for p in covering)
        colour = _colour(min(known)) if known else "#ddd"
        out.append(f'<mark data-pointers="{html.escape(" ".join(covering))}" '
                   f'title="{html.escape(title)}" style="background: {colour}">'
                   f"{segment}</mark>")
    return "".join(out)


def _table(entry: ReportEntry) -> str:
    rows = ["<table>", "<tr><th>field</th><th>value</th><th>confidence</th><th>span</th></tr>"]
    for pointer, leaf in leaves(entry.value):
        p = entry.confidence.get(pointer)
        span = entry.spans.get(pointer)
        style = f' style="background: {_colour(p)}"' if p is not None else ""
        rows.append(
            f"<tr><td>{html.escape(pointer or '(root)')}</td>"
            f'<td class="value">{html.escape(json.dumps(leaf, ensure_ascii=False))}</td>'
            f'<td class="num"{style}>{_percent(p)}</td>'
            f"<td>{'-' if span is None else f'{span[0]}-{span[1]}'}</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def render_report(entries: Sequence[ReportEntry], title: str = "maaza-rt extraction") -> str:
    """One self-contained HTML page showing each entry's highlighted text and leaf table."""
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             f"<title>{html.escape(title)}</title>", f"<style>\n{_STYLE}\n</style>", "</head>",
             "<body>", f"<h1>{html.escape(title)}</h1>"]
    for k, entry in enumerate(entries):
        if len(entries) > 1:
            parts.append(f"<h2>Record {k + 1}</h2>")
        parts += [f'<pre class="text">{_highlighted(entry)}</pre>', _table(entry)]
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def write_report(path: str, entries: Sequence[ReportEntry],
                 title: str = "maaza-rt extraction") -> None:
    """Writes :func:`render_report` to ``path`` (UTF-8).

    Raises:
        OSError: the file cannot be written.
    """
    with open(path, "w", encoding="utf-8") as f:
        f.write(render_report(entries, title))


__all__ = ["ReportEntry", "render_report", "write_report"]
