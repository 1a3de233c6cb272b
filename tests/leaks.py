"""Template artefacts in rendered pages: what a reader must never see.

A page's reading text (inside <main>, without scripts, styles, code and tables marked
``c2c-analyst``) is scanned for "(s)", "None", "nan", braces and numbers with more than three
decimals: signs that a sentence was assembled without its data or formatting.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

LEAK = re.compile(r"\(s\)|\bNone\b|\bnan\b|\bNaN\b|[{}]|(?<![\w.])\d+\.\d{4,}\b")
#: Elements whose text is not prose: code, machine data, and tables meant for analysts.
_SKIPPED = {"script", "style", "pre", "code", "svg"}


class _ReadingText(HTMLParser):
    """Collects the text inside <main> that is not in a skipped element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = {"main": 0, "skip": 0}
        self.stack: list[str] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "img", "input", "meta", "link", "hr", "wbr"):
            return
        skip = tag in _SKIPPED or "c2c-analyst" in (dict(attrs).get("class") or "")
        self.stack.append("skip" if skip else ("main" if tag == "main" else ""))
        if self.stack[-1]:
            self.depth[self.stack[-1]] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("br", "img", "input", "meta", "link", "hr", "wbr") or not self.stack:
            return
        kind = self.stack.pop()
        if kind:
            self.depth[kind] -= 1

    def handle_data(self, data: str) -> None:
        if self.depth["main"] and not self.depth["skip"]:
            self.parts.append(data)


def reading_text(html: str) -> str:
    """The text a reader reads in a page's <main>, as one string."""
    parser = _ReadingText()
    parser.feed(html)
    return " ".join(parser.parts)


def leaks(site: Path) -> list[str]:
    """``"<page>: <leak>"`` for every template artefact in the site's pages, in page order."""
    found = []
    for page in sorted(site.glob("*.html")):
        text = reading_text(page.read_text(encoding="utf-8"))
        found += [f"{page.name}: {m.group(0)}" for m in LEAK.finditer(text)]
    return found
