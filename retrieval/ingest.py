"""Turn files (Markdown, HTML, text, CSV FAQs) and CRM articles into chunks with metadata.

One bad file never stops the rest: every problem becomes an `IngestError` naming the file
(and the CSV row), and the caller reports it. Metadata comes from Markdown front matter
(`key: value` lines between `---`), HTML `<meta name=...>` tags or CSV columns; a path with a
folder named `internal` defaults to the `internal` audience.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from retrieval.chunking import Section, html_sections, markdown_sections, text_sections, windows
from retrieval.config import RetrievalSettings
from retrieval.types import Audience, Chunk

TEXT_SUFFIXES = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
    ".csv": "csv",
}
MAX_FILE_BYTES = 20 * 1024 * 1024
META_KEYS = ("title", "url", "audience", "language", "product", "updated_at")


@dataclass(frozen=True)
class IngestError:
    """A problem with one file (and row), reported instead of raised."""

    source: str
    message: str
    row: int | None = None

    def __str__(self) -> str:
        where = f"{self.source}, row {self.row}" if self.row else self.source
        return f"{where}: {self.message}"


@dataclass
class SourceDoc:
    """All chunks of one source plus the hash of its raw content."""

    source: str
    source_hash: str
    chunks: list[Chunk] = field(default_factory=list)


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """Yield supported files under the given files/folders, sorted, hidden files skipped."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                hidden = any(p.startswith(".") for p in child.relative_to(path).parts)
                if child.is_file() and not hidden and child.suffix.lower() in TEXT_SUFFIXES:
                    yield child
        else:
            yield path


def load_file(
    path: Path, settings: RetrievalSettings, errors: list[IngestError]
) -> SourceDoc | None:
    """Read and chunk one file; on failure append an IngestError and return None.

    The source key is the resolved path, so `docs/a.md` and `./docs/a.md` are one source.
    """
    path = path.resolve()
    source = str(path)
    kind = TEXT_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        errors.append(IngestError(source, f"unsupported file type {path.suffix or '(none)'}"))
        return None
    try:
        raw = path.read_bytes()
    except OSError as exc:
        errors.append(IngestError(source, f"cannot read file ({exc.strerror or exc})"))
        return None
    text = _decode(raw, source, errors)
    if text is None:
        return None
    doc = SourceDoc(source, hashlib.sha256(raw).hexdigest())
    defaults = _path_defaults(path)
    if kind == "csv":
        doc.chunks = _csv_chunks(text, source, defaults, errors)
    else:
        doc.chunks = _document_chunks(kind, text, source, defaults, settings)
    if not doc.chunks and not any(e.source == source for e in errors):
        errors.append(IngestError(source, "no text found"))
    return doc


def _decode(raw: bytes, source: str, errors: list[IngestError]) -> str | None:
    if len(raw) > MAX_FILE_BYTES:
        errors.append(IngestError(source, f"file too large ({len(raw)} bytes > {MAX_FILE_BYTES})"))
        return None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if b"\x00" in raw[:8192]:
        errors.append(IngestError(source, "binary file (contains NUL bytes), skipped"))
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        errors.append(
            IngestError(
                source,
                f"unreadable encoding: not UTF-8 ({exc.reason} at byte {exc.start}); "
                "re-save the file as UTF-8",
            )
        )
        return None


def _path_defaults(path: Path) -> dict[str, str]:
    internal = any(p.lower() == "internal" for p in path.parts[:-1])
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()
    return {
        "audience": "internal" if internal else "public",
        "url": str(path),
        "updated_at": mtime,
        "title": path.stem.replace("_", " ").replace("-", " "),
    }


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---", 4)
    if end < 0:
        return {}, text
    meta = {}
    for line in text[4:end].splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in META_KEYS:
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return meta, text[end + 4 :].lstrip("-\n")


def _document_chunks(
    kind: str, text: str, source: str, defaults: dict[str, str], settings: RetrievalSettings
) -> list[Chunk]:
    meta = dict(defaults)
    if kind == "markdown":
        front, text = _front_matter(text)
        title, sections = markdown_sections(text)
        meta |= {"title": title} if title else {}
        meta |= front
    elif kind == "html":
        title, html_meta, sections = html_sections(text)
        meta |= {"title": title} if title else {}
        meta |= {k: v for k, v in html_meta.items() if k in META_KEYS}
    else:
        sections = text_sections(text)
        first = text.strip().splitlines()[0] if text.strip() else ""
        meta |= {"title": first[:120]} if 0 < len(first) <= 120 else {}
    return sections_to_chunks(sections, source, meta, settings)


def sections_to_chunks(
    sections: list[Section], source: str, meta: dict[str, str], settings: RetrievalSettings
) -> list[Chunk]:
    """Window every section and attach the document metadata to each piece."""
    chunks: list[Chunk] = []
    for section in sections:
        for piece in windows(section.text, settings.chunk_chars, settings.chunk_overlap):
            chunks.append(make_chunk(source, len(chunks), source, meta, piece, section.heading))
    return chunks


def make_chunk(
    source: str, ordinal: int, group: str, meta: dict[str, str], text: str, heading: str = ""
) -> Chunk:
    """Build a chunk, normalising audience and dates and computing the content hash."""
    audience = meta.get("audience", "public").strip().lower()
    title = meta.get("title", "").strip()
    digest = hashlib.sha256(" ".join(f"{title}\n{heading}\n{text}".split()).lower().encode())
    return Chunk(
        source=source,
        ordinal=ordinal,
        group=group,
        title=title,
        text=text,
        heading=heading,
        url=meta.get("url", ""),
        audience=Audience.internal if audience == "internal" else Audience.public,
        language=meta.get("language", "en") or "en",
        product=meta.get("product", ""),
        updated_at=_parse_date(meta.get("updated_at", "")),
        content_hash=digest.hexdigest(),
    )


def _parse_date(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _csv_chunks(
    text: str, source: str, defaults: dict[str, str], errors: list[IngestError]
) -> list[Chunk]:
    """CSV FAQ: columns `question`, `answer`; optional group/url/audience/... per row."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "question" not in header or "answer" not in header:
        errors.append(IngestError(source, "CSV FAQ needs `question` and `answer` columns"))
        return []
    reader.fieldnames = header
    chunks: list[Chunk] = []
    try:
        for row in reader:
            line = reader.line_num
            if None in row or any(v is None for v in row.values()):
                errors.append(IngestError(source, "wrong number of fields", row=line))
                continue
            question, answer = row["question"].strip(), row["answer"].strip()
            if not question or not answer:
                errors.append(IngestError(source, "empty question or answer", row=line))
                continue
            meta = defaults | {k: row[k] for k in META_KEYS if row.get(k)} | {"title": question}
            group = f"{source}#{row.get('group') or question}"
            chunk = make_chunk(source, len(chunks), group, meta, answer)
            chunk.questions = [
                q.strip() for q in (row.get("paraphrases") or "").split("|") if q.strip()
            ]
            chunks.append(chunk)
    except csv.Error as exc:
        errors.append(IngestError(source, f"malformed CSV: {exc}", row=reader.line_num))
    return chunks


def article_chunks(
    article_id: int, title: str, body: str, meta: dict[str, str], settings: RetrievalSettings
) -> SourceDoc:
    """Chunk one CRM knowledge article (Markdown body) under source `crm:article/<id>`."""
    source = f"crm:article/{article_id}"
    _, sections = markdown_sections(body)
    raw = f"{title}\n{sorted(meta.items())}\n{body}".encode()
    doc = SourceDoc(source, hashlib.sha256(raw).hexdigest())
    doc.chunks = sections_to_chunks(sections, source, {**meta, "title": title}, settings)
    return doc


def deduplicate(docs: list[SourceDoc], known: dict[str, str]) -> list[str]:
    """Drop chunks whose content hash was already seen (in `known` or earlier in docs).

    Args:
        known: content_hash -> source of chunks already stored (from untouched sources).

    Returns:
        One message per dropped chunk, naming both sources.
    """
    seen = dict(known)
    notes = []
    for doc in docs:
        kept = []
        for chunk in doc.chunks:
            if chunk.content_hash in seen:
                notes.append(
                    f"{doc.source}: chunk {chunk.ordinal} duplicates {seen[chunk.content_hash]}"
                )
                continue
            seen[chunk.content_hash] = doc.source
            kept.append(chunk)
        doc.chunks = kept
    return notes
