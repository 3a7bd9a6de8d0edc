"""The HTML report: highlighted values, labels, the leaf table, escaping (html_report)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from maaza_rt.html_report import ReportEntry, render_report, write_report
from maaza_rt.spans import leaf_spans


class Page(HTMLParser):
    """Collects a page's tags, marks (their text and attributes), labels and table cells."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.marks: list[tuple[dict[str, str | None], str]] = []
        self.labels: list[str] = []
        self.cells: list[str] = []
        self.pre = ""
        self._open: list[tuple[str, dict[str, str | None]]] = []
        self._data: list[list[str]] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs
        if tag in ("meta", "br"):
            return
        self._open.append((tag, dict(attrs)))
        self._data.append([])

    def handle_endtag(self, tag: str) -> None:
        name, attrs = self._open.pop()
        assert name == tag, (name, tag)
        text = "".join(self._data.pop())
        if self._data:
            self._data[-1].append(text)
        if tag == "mark":
            self.marks.append((attrs, text))
        elif tag == "span" and attrs.get("class") == "label":
            self.labels.append(text)
        elif tag == "td":
            self.cells.append(text)
        elif tag == "pre":
            self.pre = text

    def handle_data(self, data: str) -> None:
        if self._data:
            self._data[-1].append(data)


def _entry(text: str, value: object, confidence: dict[str, float]) -> ReportEntry:
    return ReportEntry(text, value, leaf_spans(value, text), confidence)


def test_report_highlights_each_value_with_its_field_and_confidence() -> None:
    text = "Invoice for Ada Lovelace,\n  12 Main St. Total $1,240.50."
    value = {"name": "Ada Lovelace", "street": "12 Main St", "total": 1240.5, "paid": False}
    conf = {"/name": 0.9, "/street": 0.25, "/total": 0.5, "/paid": 0.75}
    page = Page(render_report([_entry(text, value, conf)]))
    marks = {attrs["data-pointers"]: (attrs, inner) for attrs, inner in page.marks}
    assert set(marks) == {"/name", "/street", "/total"}
    assert marks["/name"][1] == "Ada Lovelace"
    assert marks["/total"][1] == "1,240.50"
    assert marks["/street"][0]["title"] == "/street: confidence 25.0%"
    assert page.labels == ["/name 90.0%", "/street 25.0%", "/total 50.0%"]
    # the text is shown whole: labels added, nothing dropped
    shown = page.pre
    for label in page.labels:
        shown = shown.replace(label, "", 1)
    assert shown == text
    # the table has every leaf, spanned or not, with its confidence
    assert page.cells[:4] == ["/name", '"Ada Lovelace"', "90.0%", "12-24"]
    assert page.cells[-4:] == ["/paid", "false", "75.0%", "-"]


def test_report_escapes_text_and_values_and_loads_nothing() -> None:
    text = 'Note: <script>alert("x")</script> & <b>bold</b> from Ada'
    value = {"note": '<script>alert("x")</script>', "who": "Ada", "k<y": "&amp;"}
    page_text = render_report([_entry(text, value, {"/note": 0.5, "/who": 1.0})])
    page = Page(page_text)
    assert "script" not in page.tags and "b" not in page.tags
    assert set(page.tags) <= {"html", "head", "meta", "title", "style", "body", "h1", "pre",
                              "span", "mark", "table", "tr", "th", "td"}
    assert not any(name in ("src", "href") for name, _ in page.attrs)
    assert ("<script>" not in page_text) and ("<b>" not in page_text)
    marks = {attrs["data-pointers"]: inner for attrs, inner in page.marks}
    assert marks["/note"] == '<script>alert("x")</script>'
    assert '"&amp;"' in page.cells and "/k<y" in page.cells


def test_report_overlapping_spans_and_several_records(tmp_path: Path) -> None:
    text = "Ada Lovelace"
    entry = ReportEntry(text, {"full": "Ada Lovelace", "first": "Ada"},
                        {"/full": (0, 12), "/first": (0, 3)}, {"/full": 0.8, "/first": 0.4})
    page = Page(render_report([entry, _entry("x 1", [1], {"/0": 1.0})]))
    assert [(a["data-pointers"], inner) for a, inner in page.marks] == [
        ("/full /first", "Ada"), ("/full", " Lovelace"), ("/0", "1")]
    assert "hsl(48, 75%, 82%)" in (page.marks[0][0]["style"] or "")  # the lower confidence
    assert page.tags.count("h2") == 2 and page.tags.count("table") == 2
    out = tmp_path / "r.html"
    write_report(str(out), [entry])
    assert Page(out.read_text(encoding="utf-8")).marks == Page(render_report([entry])).marks
    with pytest.raises(OSError):
        write_report(str(tmp_path / "missing" / "r.html"), [entry])


def test_report_entry_of_an_extraction_dumps_pydantic_values() -> None:
    class Value:
        def model_dump(self, mode: str) -> dict[str, str]:
            return {"name": "Ada"}

    class Extraction:
        value = Value()
        spans = {"/name": (0, 3)}
        confidence = {"/name": 0.5}

    entry = ReportEntry.of("Ada", Extraction())
    assert entry.value == {"name": "Ada"} and entry.spans == {"/name": (0, 3)}
