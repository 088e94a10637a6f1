"""Small result types that cross the service boundary (actions and the CLI read these)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Audience(StrEnum):
    """Who may read a chunk: customers see only `public`; staff see both."""

    public = "public"
    internal = "internal"


@dataclass
class Chunk:
    """One searchable piece of a document, with the metadata the answer cites.

    Attributes:
        source: stable key of the document (file path, `crm:article/<id>`, CSV path#row).
        ordinal: position of the chunk inside its document.
        group: chunks of one group are scored together (one article, one FAQ thread).
        title: document title (FAQ: the question); heading: the section heading path.
        questions: extra phrasings that should find this chunk (FAQ paraphrases).
        content_hash: SHA-256 of title + heading + text, used for de-duplication.
    """

    source: str
    ordinal: int
    group: str
    title: str
    text: str
    heading: str = ""
    url: str = ""
    audience: Audience = Audience.public
    language: str = "en"
    product: str = ""
    updated_at: datetime | None = None
    questions: list[str] = field(default_factory=list)
    content_hash: str = ""
    id: int | None = None

    def body(self) -> str:
        """Text embedded for the body view: title, heading and text together."""
        head = " — ".join(p for p in (self.title, self.heading) if p)
        return f"{head}\n{self.text}" if head else self.text

    def keys(self) -> list[str]:
        """Texts embedded for the question view: the title/heading plus known phrasings."""
        head = " — ".join(p for p in (self.title, self.heading) if p)
        return [head or self.text[:200], *self.questions]


@dataclass(frozen=True)
class Hit:
    """A cited search result: the best chunk of a matching group."""

    chunk_id: int
    score: float
    title: str
    url: str
    text: str
    group: str = ""
    audience: str = "public"


@dataclass(frozen=True)
class Answer:
    """What the bot says: the reply text, how sure we are, and the sources.

    Attributes:
        confidence: calibrated probability in [0, 1] that the top citation answers the query.
        abstained: True when confidence is under the threshold; `text` then says so politely
            and `citations` may still list the closest (unconfirmed) matches for staff.
    """

    text: str
    confidence: float
    abstained: bool
    citations: list[Hit] = field(default_factory=list)
