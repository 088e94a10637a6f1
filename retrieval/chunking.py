"""Split documents into sections by headings, then into overlapping windows.

Headings are the natural answer boundaries of help articles; windows of about
`chunk_chars` characters keep each chunk inside the model's 256-token window, and the
overlap keeps a sentence that straddles a boundary findable from both sides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n{2,}")


@dataclass(frozen=True)
class Section:
    """A heading path ("Install > On Linux") and the text under it."""

    heading: str
    text: str


def markdown_sections(text: str) -> tuple[str, list[Section]]:
    """Return (first H1 or "", sections split at ATX headings, with heading paths)."""
    title, path, body, out = "", [], [], []
    in_code = False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
        match = None if in_code else MD_HEADING.match(line)
        if not match:
            body.append(line)
            continue
        _flush(out, path, body)
        level, heading = len(match.group(1)), match.group(2).strip()
        if level == 1 and not title:
            title = heading
        path = [*path[: level - 1], heading]
    _flush(out, path, body)
    return title, out


def _flush(out: list[Section], path: list[str], body: list[str]) -> None:
    text = "\n".join(body).strip()
    if text:
        out.append(Section(" > ".join(p for p in path if p), text))
    body.clear()


def text_sections(text: str) -> list[Section]:
    """Plain text has no headings: one section, windows do the rest."""
    return [Section("", text.strip())] if text.strip() else []


class _HtmlSections(HTMLParser):
    SKIP = {"script", "style", "noscript", "nav", "footer"}
    HEADINGS = {f"h{i}": i for i in range(1, 7)}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title, self.meta = "", {}
        self.sections: list[Section] = []
        self._path: list[str] = []
        self._body: list[str] = []
        self._heading: list[str] | None = None
        self._level, self._skip, self._in_title = 0, 0, False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "meta":
            a = dict(attrs)
            if a.get("name") and a.get("content"):
                self.meta[a["name"].lower()] = a["content"]
        elif tag in self.HEADINGS:
            _flush(self.sections, self._path, self._body)
            self._heading, self._level = [], self.HEADINGS[tag]
        elif tag in ("p", "br", "li", "div", "tr"):
            self._body.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in self.HEADINGS and self._heading is not None:
            heading = " ".join("".join(self._heading).split())
            self._path = [*self._path[: self._level - 1], heading]
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title += data.strip()
        elif self._heading is not None:
            self._heading.append(data)
        else:
            self._body.append(data)


def html_sections(html: str) -> tuple[str, dict[str, str], list[Section]]:
    """Return (<title>, <meta name=... content=...> values, sections split at <h1>-<h6>)."""
    parser = _HtmlSections()
    parser.feed(html)
    parser.close()
    _flush(parser.sections, parser._path, parser._body)
    sections = [Section(s.heading, re.sub(r"[ \t]+", " ", s.text)) for s in parser.sections]
    title = parser.title or (sections[0].heading.split(" > ")[0] if sections else "")
    return title, parser.meta, sections


def windows(text: str, size: int, overlap: int) -> list[str]:
    """Split text into pieces of at most ~size characters, cutting at sentence ends.

    Each piece after the first starts with up to `overlap` characters of the previous one.
    """
    text = text.strip()
    if len(text) <= size:
        return [text] if text else []
    pieces, start = [], 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            cut = _last_boundary(text, start + size // 2, end)
            end = cut if cut > start else end
        pieces.append(text[start:end].strip())
        if end >= len(text):
            break
        start = max(end - overlap, start + 1)
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < end else start
    return [p for p in pieces if p]


def _last_boundary(text: str, lo: int, hi: int) -> int:
    best = -1
    for match in SENTENCE_END.finditer(text, lo, hi):
        best = match.end()
    if best < 0:
        space = text.rfind(" ", lo, hi)
        best = space if space > 0 else hi
    return best
