"""Reading the report's files back as a browser and a spreadsheet would."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

VOID = {"meta", "br", "hr", "img", "input", "link", "source", "wbr", "col", "area", "base"}


@dataclass
class Element:
    """A start tag and where it was opened."""

    tag: str
    attrs: dict[str, str | None]
    parents: tuple[str, ...]


@dataclass
class Page(HTMLParser):
    """The page's elements and text; every element must be closed in order (the SVG's
    self-closing elements included)."""

    elements: list[Element] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    open: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, dict(attrs), tuple(self.open)))
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, dict(attrs), tuple(self.open)))

    def handle_endtag(self, tag: str) -> None:
        assert self.open, f"</{tag}> closes nothing"
        assert self.open[-1] == tag, f"</{tag}> closes <{self.open[-1]}>"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if "style" not in self.open[-1:]:
            self.text.append(data)

    def all(self, tag: str) -> list[Element]:
        """Every element of a tag."""
        return [e for e in self.elements if e.tag == tag]

    @property
    def words(self) -> str:
        """The text a reader sees, on one line."""
        return " ".join(" ".join(self.text).split())


def parse(html: str) -> Page:
    """The page, checked to be well formed (every element closed, in order)."""
    page = Page()
    page.feed(html)
    page.close()
    assert page.open == [], f"left open: {page.open}"
    return page


def read_csv(path: Path) -> list[list[str]]:
    """A CSV file of the report, as a French spreadsheet opens it."""
    assert path.read_bytes().startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte order mark"
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file, delimiter=";"))


def svg_root(svg: str) -> ET.Element:
    """An inline chart as XML (it must be well formed on its own)."""
    return ET.fromstring(svg)  # noqa: S314 (the report's own output, not untrusted input)
